/** Typed Docker Engine API client: berth's CLI and tests talk to berthd through it. */
export {
  EngineClient, DEFAULT_HOST, CLIENT_API_VERSION, parseHost, compareVersions, encodeQuery, encodeFilters,
} from './client.js'
export type {
  EngineClientOptions, ClientTls, Query, RequestOptions, RawResponse, HijackedStream, WaitHandle, LogsOptions,
  AttachOptions, ImportOptions,
} from './client.js'
export { ClientError, ConnectionError, errorMessageFromBody } from './errors.js'
export { StdcopyDemuxer, StdStream, encodeFrame, demuxStream } from './stdcopy.js'
export type { Frame } from './stdcopy.js'
export { readJSONStream, nextValueEnd } from './json-stream.js'
