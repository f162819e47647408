/**
 * Request paths of the distribution API, parsed by hand: repository names
 * have any number of `/`-separated components, so the name is matched
 * greedily and the route is told by what follows it (spec.md, "Endpoints").
 */
import { regError } from './errors.js'

/** spec.md: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*` */
const NAME_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/
const DIGEST_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/
/** distribution's limit; a longer name would not fit a path component budget either. */
export const MAX_NAME_LENGTH = 255

export function isRepositoryName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME_RE.test(name)
}

export function isTag(ref: string): boolean {
  return TAG_RE.test(ref)
}

/** Any digest shape the spec allows; the server stores only sha256 ones. */
export function looksLikeDigest(ref: string): boolean {
  return DIGEST_RE.test(ref)
}

export type Route =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'tags'; name: string }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'uploads'; name: string }
  | { kind: 'upload'; name: string; uuid: string }
  | { kind: 'referrers'; name: string; digest: string }

const REPO_ROUTE_RE =
  /^\/v2\/(.+)\/(?:(tags\/list)|manifests\/([^/]+)|blobs\/uploads\/([^/]*)|blobs\/([^/]+)|referrers\/([^/]+))$/

/**
 * The route of a path (without query), or null if it is none of the API's.
 * Throws NAME_INVALID when the shape matches but the name is not a valid
 * repository name, so a client learns why rather than getting a 404.
 */
export function parseRoute(pathname: string): Route | null {
  if (pathname === '/v2/' || pathname === '/v2') return { kind: 'base' }
  if (pathname === '/v2/_catalog') return { kind: 'catalog' }
  const m = REPO_ROUTE_RE.exec(pathname)
  if (!m) return null
  let name: string
  try {
    name = decodeURIComponent(m[1]!)
  } catch {
    throw regError('NAME_INVALID', 'invalid repository name', { name: m[1] })
  }
  if (!isRepositoryName(name)) throw regError('NAME_INVALID', 'invalid repository name', { name })
  if (m[2] !== undefined) return { kind: 'tags', name }
  if (m[3] !== undefined) return { kind: 'manifest', name, reference: decodeURIComponent(m[3]) }
  if (m[4] !== undefined) return m[4] === '' ? { kind: 'uploads', name } : { kind: 'upload', name, uuid: m[4] }
  if (m[5] !== undefined) return { kind: 'blob', name, digest: decodeURIComponent(m[5]) }
  return { kind: 'referrers', name, digest: decodeURIComponent(m[6]!) }
}
