export { decodeRegistryAuth, registryConfigAuth, parseChallenges, basicAuthorization, type Challenge, type RegistryAuth } from './auth.js'
export { RegistryError, errorFromResponse, parseErrorBody } from './errors.js'
export { formatPlatform, parsePlatform, platformMatches, selectManifest } from './platform.js'
export {
  checkPlatform, isInsecure, RegistryUnreachable, MAX_CONFIG_SIZE, MAX_MANIFEST_SIZE, RegistryClient, Repository, resolveEndpoint, mirrorEndpoint, validateMirror,
  type BlobStream, type Endpoint, type FetchedManifest, type RegistryClientOptions, type ResolvedImage,
} from './client.js'
export { login, loginDomain, tokenErrorDetail, type LoginOptions, type LoginResult } from './login.js'
export { CHUNK_SIZE, PushRepository, pushScopes, schema2Manifest, withDigest, type UploadOptions } from './push.js'
export {
  catalogMatches, filterResults, nextLink, parseSearchFilters, parseSearchTerm, parseV1Results, queryEscape, searchLimit, searchRegistry,
  CATALOG_PAGE_SIZE, DEFAULT_SEARCH_LIMIT, MAX_CATALOG_PAGES, MAX_SEARCH_LIMIT, SEARCH_REQUEST_TIMEOUT_MS,
  type SearchFilters, type SearchOptions, type SearchResult, type SearchTerm,
} from './search.js'
