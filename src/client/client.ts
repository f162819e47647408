/**
 * Typed Docker Engine API client over a unix socket (or plain tcp), the way
 * the docker CLI talks to dockerd: ping once, then version-prefixed paths.
 * Hand-written on node:http because the upgrade (hijack) handshake and
 * streaming bodies need the raw socket, which fetch does not expose.
 */
import http from 'node:http'
import https from 'node:https'
import type { Duplex, Readable } from 'node:stream'
import type { AuthConfig, AuthResponse, BuildCachePruneReport, ImageBuildOptions } from '../api/types/index.js'
import type {
  ContainerCreateRequest, ContainerCreateResponse, ContainerInspect, ContainerPruneReport,
  ContainerSummary, ContainerTopResponse, ContainerWaitResponse, ExecConfig, ExecInspect,
  ExecStartConfig, FilterMap, HistoryItem, IdResponse, ImageDeleteResponseItem, ImageInspect,
  ImagePruneReport, ImageSummary, PingInfo, SystemInfo, VersionResponse, WaitCondition,
  ContainerPathStat, DiskUsage, DiskUsageType,
} from '../api/types/index.js'
import type {
  EndpointSettings, NetworkCreateRequest, NetworkCreateResponse, NetworkInspect, NetworkSummary, NetworksPruneResponse,
} from '../api/types/index.js'
import type { Volume, VolumeCreateOptions, VolumeListResponse, VolumesPruneReport } from '../api/types/index.js'
import { ClientError, ConnectionError, errorMessageFromBody } from './errors.js'

export const DEFAULT_HOST = 'unix:///run/berth/berth.sock'
export const CLIENT_API_VERSION = '1.50'
const FALLBACK_API_VERSION = '1.24'

export interface EngineClientOptions {
  /** `unix:///path` or `tcp://host:port`; defaults to $BERTH_HOST, then DEFAULT_HOST. */
  host?: string
  /** Pin an API version instead of negotiating (like DOCKER_API_VERSION). */
  version?: string
  userAgent?: string
  /** TLS for tcp hosts, as the docker CLI's --tls/--tlsverify: the PEM files' contents. */
  tls?: ClientTls
}

/** `verify` checks the daemon's certificate against `ca` (--tlsverify); without it any certificate is taken (--tls). */
export interface ClientTls {
  ca?: Buffer
  cert?: Buffer
  key?: Buffer
  verify: boolean
}

export type Query = Record<string, string | number | boolean | undefined | null>

export interface RequestOptions {
  query?: Query
  /** Objects are sent as JSON; streams are piped as they are. */
  body?: unknown
  headers?: Record<string, string>
  signal?: AbortSignal
}

export interface RawResponse {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
}

export interface HijackedStream {
  socket: Duplex
  /** The Content-Type of the 101 reply: raw-stream or multiplexed-stream. */
  contentType: string
}

/** Whether the daemon responded before the condition fired, and the eventual result. */
export interface WaitHandle {
  /** Resolves once the daemon sent the response headers, so the wait is registered. */
  registered: Promise<void>
  result: Promise<ContainerWaitResponse>
  abort(): void
}

export interface LogsOptions {
  follow?: boolean
  stdout?: boolean
  stderr?: boolean
  since?: string
  until?: string
  timestamps?: boolean
  tail?: string
  details?: boolean
}

export interface AttachOptions {
  stream?: boolean
  stdin?: boolean
  stdout?: boolean
  stderr?: boolean
  logs?: boolean
  detachKeys?: string
}

export interface ImportOptions {
  /** "-" reads the body; otherwise a URL the daemon fetches. */
  source: string
  repo?: string
  tag?: string
  changes?: string[]
  message?: string
  platform?: string
}

interface Target {
  socketPath?: string
  hostname?: string
  port?: number
}

export function parseHost(host: string): Target {
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) }
  if (host.startsWith('tcp://') || host.startsWith('http://')) {
    const u = new URL(host.replace(/^tcp:/, 'http:'))
    return { hostname: u.hostname, port: u.port ? Number(u.port) : 2375 }
  }
  if (host.startsWith('/')) return { socketPath: host }
  throw new Error(`unable to parse docker host \`${host}\``)
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0)
    if (d !== 0) return d < 0 ? -1 : 1
  }
  return 0
}

export function encodeQuery(query: Query | undefined): string {
  if (!query) return ''
  const params = new URLSearchParams()
  for (const key of Object.keys(query).sort()) {
    const v = query[key]
    if (v === undefined || v === null) continue
    params.set(key, typeof v === 'boolean' ? (v ? '1' : '0') : String(v))
  }
  const s = params.toString()
  return s ? `?${s}` : ''
}

/** Encodes filters in the JSON map form, or undefined when there are none. */
export function encodeFilters(filters: FilterMap | undefined): string | undefined {
  if (!filters || Object.keys(filters).length === 0) return undefined
  // Go marshals maps with sorted keys: the same query string as docker's.
  const sorted = <T>(m: Record<string, T>): [string, T][] => Object.entries(m).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
  return JSON.stringify(Object.fromEntries(sorted(filters).map(([k, v]) => [k, Object.fromEntries(sorted(v))])))
}

/** docker's client trims names and IDs and refuses empty ones before any request. */
function trimId(kind: 'network' | 'container' | 'volume', id: string): string {
  const t = id.trim()
  if (t === '') throw new Error(`invalid ${kind} name or ID: value is empty`)
  return t
}

function isReadable(v: unknown): v is Readable {
  return typeof v === 'object' && v !== null && typeof (v as Readable).pipe === 'function'
    && typeof (v as Readable).on === 'function'
}

function readAll(src: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    src.on('data', (c: Buffer) => chunks.push(c))
    src.on('end', () => resolve(Buffer.concat(chunks)))
    src.on('error', reject)
  })
}

export class EngineClient {
  readonly host: string
  private readonly target: Target
  private readonly userAgent: string
  private readonly tls: ClientTls | undefined
  private pinnedVersion: string | undefined
  private negotiated: Promise<string> | undefined
  private pingResult: PingInfo | undefined

  constructor(opts: EngineClientOptions = {}) {
    this.host = opts.host ?? process.env.BERTH_HOST ?? DEFAULT_HOST
    this.target = parseHost(this.host)
    this.userAgent = opts.userAgent ?? 'Berth-Client (linux)'
    // As docker's client: TLS applies to tcp hosts only; a unix socket's permissions guard it.
    this.tls = this.target.socketPath ? undefined : opts.tls
    this.pinnedVersion = opts.version
  }

  /** The negotiated API version: min(daemon, 1.50). */
  async apiVersion(): Promise<string> {
    if (this.pinnedVersion) return this.pinnedVersion
    this.negotiated ??= this.ping().then(
      (p) => (compareVersions(p.ApiVersion, CLIENT_API_VERSION) < 0 ? p.ApiVersion : CLIENT_API_VERSION),
      (err: unknown) => {
        // A failed ping is not final: the real request reports the error.
        this.negotiated = undefined
        if (err instanceof ConnectionError) throw err
        return CLIENT_API_VERSION
      },
    )
    return this.negotiated
  }

  /** HEAD /_ping, falling back to GET as the docker CLI does. */
  async ping(): Promise<PingInfo> {
    if (this.pingResult) return this.pingResult
    let res = await this.rawRequest('HEAD', '/_ping', {})
    if (res.status !== 200 && res.status !== 500) res = await this.rawRequest('GET', '/_ping', {})
    const h = res.headers
    const header = (k: string): string | undefined => {
      const v = h[k]
      return Array.isArray(v) ? v[0] : v
    }
    this.pingResult = {
      ApiVersion: header('api-version') ?? FALLBACK_API_VERSION,
      OSType: header('ostype') ?? '',
      Experimental: header('docker-experimental') === 'true',
      BuilderVersion: header('builder-version'),
      SwarmStatus: header('swarm'),
    }
    return this.pingResult
  }

  private async versioned(path: string): Promise<string> {
    return `/v${await this.apiVersion()}${path}`
  }

  /** Sends a request and returns the response stream unread; 4xx and 5xx become ClientError. */
  async stream(method: string, path: string, opts: RequestOptions = {}): Promise<http.IncomingMessage> {
    const res = await this.send(method, await this.versioned(path), opts)
    const status = res.statusCode ?? 0
    // As docker's client: only 4xx and 5xx are errors (304 "already started" is success).
    if (status < 200 || status >= 400) {
      const body = await readAll(res)
      throw new ClientError(status, errorMessageFromBody(status, body.toString()))
    }
    return res
  }

  /** Sends a request and buffers the body; 4xx and 5xx become ClientError. */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<RawResponse> {
    const res = await this.rawRequest(method, await this.versioned(path), opts)
    if (res.status < 200 || res.status >= 400) {
      throw new ClientError(res.status, errorMessageFromBody(res.status, res.body.toString()))
    }
    return res
  }

  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, opts)
    const text = res.body.toString()
    return (text.trim() ? JSON.parse(text) : null) as T
  }

  private async rawRequest(method: string, path: string, opts: RequestOptions): Promise<RawResponse> {
    const res = await this.send(method, path, opts)
    const body = await readAll(res)
    return { status: res.statusCode ?? 0, headers: res.headers, body }
  }

  private requestOptions(method: string, path: string, opts: RequestOptions): https.RequestOptions {
    const headers: Record<string, string> = { 'User-Agent': this.userAgent, ...opts.headers }
    if (opts.body !== undefined && !isReadable(opts.body) && !Buffer.isBuffer(opts.body)) {
      headers['Content-Type'] ??= 'application/json'
    }
    const t = this.tls
    return {
      ...(t ? { ca: t.ca, cert: t.cert, key: t.key, rejectUnauthorized: t.verify, minVersion: 'TLSv1.2' as const } : {}),
      method,
      path: path + encodeQuery(opts.query),
      headers,
      // The docker CLI sends this Host over unix sockets; some proxies check it.
      host: this.target.socketPath ? 'api.moby.localhost' : this.target.hostname,
      socketPath: this.target.socketPath,
      port: this.target.port,
      signal: opts.signal,
      agent: false,
    }
  }

  private httpRequest(o: https.RequestOptions, cb?: (res: http.IncomingMessage) => void): http.ClientRequest {
    return this.tls ? https.request(o, cb) : http.request(o, cb)
  }

  private writeBody(req: http.ClientRequest, body: unknown): void {
    if (body === undefined) {
      req.end()
    } else if (isReadable(body)) {
      body.on('error', (err) => req.destroy(err))
      body.pipe(req)
    } else if (Buffer.isBuffer(body) || typeof body === 'string') {
      req.end(body)
    } else {
      req.end(JSON.stringify(body) + '\n')
    }
  }

  private send(method: string, path: string, opts: RequestOptions): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      let answered = false
      const req = this.httpRequest(this.requestOptions(method, path, opts), (res) => {
        answered = true
        resolve(res)
      })
      req.on('error', (err: NodeJS.ErrnoException) => {
        // The daemon may refuse an upload (bad import --change) and close before
        // reading the body: its answer can still be on the way, so prefer it.
        if (isReadable(opts.body) && (err.code === 'EPIPE' || err.code === 'ECONNRESET')) {
          setTimeout(() => { if (!answered) reject(this.wrapError(err)) }, 500)
          return
        }
        reject(this.wrapError(err))
      })
      this.writeBody(req, opts.body)
    })
  }

  private wrapError(err: NodeJS.ErrnoException): Error {
    if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'EACCES') {
      return new ConnectionError(this.host, { cause: err })
    }
    if (this.tls) {
      // A daemon refusing the client's certificate hangs up in the handshake (TLS 1.3 says so only after it).
      const why = err.code === 'ECONNRESET' || err.message === 'socket hang up'
        ? 'the daemon closed the TLS connection: is the client certificate (--tlscert, --tlskey) signed by the daemon\'s CA?'
        : err.message
      return new Error(`error during connect: ${this.host}: ${why}`, { cause: err })
    }
    return err
  }

  /**
   * Opens a hijacked connection: `Connection: Upgrade`, `Upgrade: tcp`, expecting
   * 101. Bytes the server sent right after the 101 are put back on the socket.
   */
  async hijack(method: string, path: string, opts: RequestOptions = {}): Promise<HijackedStream> {
    const full = await this.versioned(path)
    const headers: Record<string, string> = {
      Connection: 'Upgrade',
      Upgrade: 'tcp',
      'Content-Type': opts.body === undefined ? 'text/plain' : 'application/json',
      ...opts.headers,
    }
    return new Promise((resolve, reject) => {
      const req = this.httpRequest(this.requestOptions(method, full, { ...opts, headers }))
      req.on('upgrade', (res, socket, head) => {
        // Hold the bytes until the caller reads them: a quick container's whole output may already be here.
        socket.pause()
        if (head.length > 0) socket.unshift(head)
        const ct = res.headers['content-type'] ?? 'application/vnd.docker.raw-stream'
        resolve({ socket, contentType: ct })
      })
      req.on('response', (res) => {
        readAll(res).then((body) => {
          const status = res.statusCode ?? 0
          if (status >= 200 && status < 300) {
            reject(new Error(`unable to upgrade to tcp, received ${status}`))
          } else {
            reject(new ClientError(status, errorMessageFromBody(status, body.toString())))
          }
        }, reject)
      })
      req.on('error', (err: NodeJS.ErrnoException) => reject(this.wrapError(err)))
      this.writeBody(req, opts.body)
    })
  }

  // ---- system ----

  version(): Promise<VersionResponse> {
    return this.json('GET', '/version')
  }

  info(): Promise<SystemInfo> {
    return this.json('GET', '/info')
  }

  /** POST /auth: the daemon checks the credentials with the registry; a refusal is a 401 ClientError. */
  auth(config: AuthConfig): Promise<AuthResponse> {
    return this.json('POST', '/auth', { body: config })
  }

  events(opts: { since?: string; until?: string; filters?: FilterMap; signal?: AbortSignal } = {}): Promise<http.IncomingMessage> {
    return this.stream('GET', '/events', {
      query: { since: opts.since, until: opts.until, filters: encodeFilters(opts.filters) },
      signal: opts.signal,
    })
  }

  // ---- containers ----

  containerList(opts: { all?: boolean; size?: boolean; limit?: number; filters?: FilterMap } = {}): Promise<ContainerSummary[]> {
    return this.json('GET', '/containers/json', {
      query: {
        all: opts.all ? '1' : undefined,
        size: opts.size ? '1' : undefined,
        limit: opts.limit && opts.limit > 0 ? opts.limit : undefined,
        filters: encodeFilters(opts.filters),
      },
    })
  }

  containerCreate(body: ContainerCreateRequest, opts: { name?: string; platform?: string } = {}): Promise<ContainerCreateResponse> {
    return this.json('POST', '/containers/create', {
      query: { name: opts.name || undefined, platform: opts.platform || undefined },
      body,
    })
  }

  containerInspect(id: string, opts: { size?: boolean } = {}): Promise<ContainerInspect> {
    return this.json('GET', `/containers/${encodeURIComponent(id)}/json`, { query: { size: opts.size ? '1' : undefined } })
  }

  async containerStart(id: string, opts: { detachKeys?: string } = {}): Promise<void> {
    await this.request('POST', `/containers/${encodeURIComponent(id)}/start`, { query: { detachKeys: opts.detachKeys } })
  }

  async containerStop(id: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
    await this.request('POST', `/containers/${encodeURIComponent(id)}/stop`, { query: { signal: opts.signal, t: opts.timeout } })
  }

  async containerRestart(id: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
    await this.request('POST', `/containers/${encodeURIComponent(id)}/restart`, { query: { signal: opts.signal, t: opts.timeout } })
  }

  async containerKill(id: string, signal?: string): Promise<void> {
    await this.request('POST', `/containers/${encodeURIComponent(id)}/kill`, { query: { signal: signal || undefined } })
  }

  async containerPause(id: string): Promise<void> {
    await this.request('POST', `/containers/${encodeURIComponent(id)}/pause`)
  }

  async containerUnpause(id: string): Promise<void> {
    await this.request('POST', `/containers/${encodeURIComponent(id)}/unpause`)
  }

  async containerRemove(id: string, opts: { force?: boolean; volumes?: boolean; link?: boolean } = {}): Promise<void> {
    await this.request('DELETE', `/containers/${encodeURIComponent(id)}`, {
      query: { force: opts.force ? '1' : undefined, v: opts.volumes ? '1' : undefined, link: opts.link ? '1' : undefined },
    })
  }

  async containerRename(id: string, name: string): Promise<void> {
    await this.request('POST', `/containers/${encodeURIComponent(id)}/rename`, { query: { name } })
  }

  containerTop(id: string, psArgs?: string): Promise<ContainerTopResponse> {
    return this.json('GET', `/containers/${encodeURIComponent(id)}/top`, { query: { ps_args: psArgs || undefined } })
  }

  async containerResize(id: string, height: number, width: number): Promise<void> {
    await this.request('POST', `/containers/${encodeURIComponent(id)}/resize`, { query: { h: height, w: width } })
  }

  containerPrune(filters?: FilterMap): Promise<ContainerPruneReport> {
    return this.json('POST', '/containers/prune', { query: { filters: encodeFilters(filters) } })
  }

  /** HEAD /containers/{id}/archive: what is at path (404 when nothing is). */
  async containerStatPath(id: string, path: string): Promise<ContainerPathStat> {
    const res = await this.rawRequest('HEAD', await this.versioned(`/containers/${encodeURIComponent(id)}/archive`) + encodeQuery({ path }), {})
    if (res.status < 200 || res.status >= 400) {
      // A HEAD answer has no body: the message is docker's client's.
      throw new ClientError(res.status, res.status === 404 ? `Could not find the file ${path} in container ${id}` : `Error: request returned ${http.STATUS_CODES[res.status] ?? res.status} for API route and version`)
    }
    return decodePathStat(res.headers)
  }

  /** GET /containers/{id}/archive: a tar of path, and what path is. */
  async copyFromContainer(id: string, path: string, signal?: AbortSignal): Promise<{ content: http.IncomingMessage; stat: ContainerPathStat }> {
    const content = await this.stream('GET', `/containers/${encodeURIComponent(id)}/archive`, { query: { path }, signal })
    return { content, stat: decodePathStat(content.headers) }
  }

  /** PUT /containers/{id}/archive: unpack the tar into the directory path. */
  async copyToContainer(id: string, path: string, tar: Readable, opts: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean; signal?: AbortSignal } = {}): Promise<void> {
    await this.request('PUT', `/containers/${encodeURIComponent(id)}/archive`, {
      query: { path, noOverwriteDirNonDir: opts.noOverwriteDirNonDir === false ? undefined : 'true', copyUIDGID: opts.copyUIDGID ? 'true' : undefined },
      body: tar,
      headers: { 'Content-Type': 'application/x-tar' },
      signal: opts.signal,
    })
  }

  /** GET /containers/{id}/export: the container's filesystem as a tar. */
  containerExport(id: string, signal?: AbortSignal): Promise<http.IncomingMessage> {
    return this.stream('GET', `/containers/${encodeURIComponent(id)}/export`, { signal })
  }

  /** GET /system/df for the given parts (all four when none are named). */
  diskUsage(types: readonly DiskUsageType[] = [], opts: { verbose?: boolean } = {}): Promise<DiskUsage> {
    const params = new URLSearchParams()
    for (const t of types) params.append('type', t)
    if (opts.verbose) params.set('verbose', '1')
    const q = params.toString()
    return this.json('GET', `/system/df${q ? `?${q}` : ''}`)
  }

  /** POST /containers/{id}/wait; `registered` resolves when the daemon flushed its headers. */
  wait(id: string, condition: WaitCondition = 'not-running'): WaitHandle {
    const ac = new AbortController()
    let onRegistered: () => void = () => {}
    const registered = new Promise<void>((r) => { onRegistered = r })
    const result = (async (): Promise<ContainerWaitResponse> => {
      const res = await this.stream('POST', `/containers/${encodeURIComponent(id)}/wait`, {
        query: { condition }, signal: ac.signal,
      })
      onRegistered()
      const body = (await readAll(res)).toString()
      if (!body.trim()) throw new Error('error waiting for container: unexpected EOF')
      return JSON.parse(body) as ContainerWaitResponse
    })()
    // A failing wait must also unblock whoever waits for registration; they read `result` for the error.
    result.catch(() => onRegistered())
    return { registered, result, abort: () => ac.abort() }
  }

  logs(id: string, opts: LogsOptions, signal?: AbortSignal): Promise<http.IncomingMessage> {
    return this.stream('GET', `/containers/${encodeURIComponent(id)}/logs`, {
      query: {
        details: opts.details ? '1' : undefined,
        follow: opts.follow ? '1' : undefined,
        since: opts.since || undefined,
        stderr: opts.stderr === false ? undefined : '1',
        stdout: opts.stdout === false ? undefined : '1',
        tail: opts.tail ?? 'all',
        timestamps: opts.timestamps ? '1' : undefined,
        until: opts.until || undefined,
      },
      signal,
    })
  }

  attach(id: string, opts: AttachOptions): Promise<HijackedStream> {
    return this.hijack('POST', `/containers/${encodeURIComponent(id)}/attach`, {
      query: {
        detachKeys: opts.detachKeys || undefined,
        logs: opts.logs ? '1' : undefined,
        stderr: opts.stderr ? '1' : undefined,
        stdin: opts.stdin ? '1' : undefined,
        stdout: opts.stdout ? '1' : undefined,
        stream: opts.stream === false ? undefined : '1',
      },
    })
  }

  // ---- networks ----

  networkList(filters?: FilterMap): Promise<NetworkSummary[]> {
    return this.json('GET', '/networks', { query: { filters: encodeFilters(filters) } })
  }

  /** GET /networks/{id}; `raw` is the daemon's JSON as sent, which docker's inspect prints re-indented. */
  async networkInspectRaw(id: string, opts: { verbose?: boolean; scope?: string } = {}): Promise<{ network: NetworkInspect; raw: Buffer }> {
    const res = await this.request('GET', `/networks/${encodeURIComponent(trimId('network', id))}`, {
      query: { verbose: opts.verbose ? 'true' : undefined, scope: opts.scope || undefined },
    })
    return { network: JSON.parse(res.body.toString()) as NetworkInspect, raw: res.body }
  }

  async networkInspect(id: string, opts: { verbose?: boolean; scope?: string } = {}): Promise<NetworkInspect> {
    return (await this.networkInspectRaw(id, opts)).network
  }

  /** POST /networks/create with the body docker's client sends (Name last; CheckDuplicate only before API 1.44). */
  async networkCreate(name: string, options: Omit<NetworkCreateRequest, 'Name' | 'CheckDuplicate'>): Promise<NetworkCreateResponse> {
    const body: NetworkCreateRequest = { ...options, Name: name }
    if (compareVersions(await this.apiVersion(), '1.44') < 0) body.CheckDuplicate = true
    return this.json('POST', '/networks/create', { body })
  }

  async networkRemove(id: string): Promise<void> {
    await this.request('DELETE', `/networks/${encodeURIComponent(trimId('network', id))}`)
  }

  async networkConnect(network: string, container: string, config?: EndpointSettings | null): Promise<void> {
    const path = `/networks/${encodeURIComponent(trimId('network', network))}/connect`
    const body: { Container: string; EndpointConfig?: EndpointSettings | null } = { Container: trimId('container', container) }
    if (config) body.EndpointConfig = config
    await this.request('POST', path, { body })
  }

  async networkDisconnect(network: string, container: string, force = false): Promise<void> {
    const path = `/networks/${encodeURIComponent(trimId('network', network))}/disconnect`
    await this.request('POST', path, { body: { Container: trimId('container', container), Force: force } })
  }

  networkPrune(filters?: FilterMap): Promise<NetworksPruneResponse> {
    return this.json('POST', '/networks/prune', { query: { filters: encodeFilters(filters) } })
  }

  // ---- volumes ----

  volumeList(filters?: FilterMap): Promise<VolumeListResponse> {
    return this.json('GET', '/volumes', { query: { filters: encodeFilters(filters) } })
  }

  volumeInspect(name: string): Promise<Volume> {
    return this.json('GET', `/volumes/${encodeURIComponent(trimId('volume', name))}`)
  }

  /** POST /volumes/create; the docker CLI leaves empty fields out (omitempty), so should callers. */
  volumeCreate(options: VolumeCreateOptions): Promise<Volume> {
    return this.json('POST', '/volumes/create', { body: options })
  }

  async volumeRemove(name: string, force = false): Promise<void> {
    const path = `/volumes/${encodeURIComponent(trimId('volume', name))}`
    await this.request('DELETE', path, { query: { force: force ? '1' : undefined } })
  }

  volumesPrune(filters?: FilterMap): Promise<VolumesPruneReport> {
    return this.json('POST', '/volumes/prune', { query: { filters: encodeFilters(filters) } })
  }

  // ---- exec ----

  execCreate(container: string, config: ExecConfig): Promise<IdResponse> {
    return this.json('POST', `/containers/${encodeURIComponent(container)}/exec`, { body: config })
  }

  /** Starts an exec attached: the JSON body travels on the upgrade request. */
  execAttach(execId: string, config: ExecStartConfig): Promise<HijackedStream> {
    return this.hijack('POST', `/exec/${encodeURIComponent(execId)}/start`, { body: config })
  }

  /** Starts a detached exec (`Detach: true`); returns once it runs. */
  async execStart(execId: string, config: ExecStartConfig): Promise<void> {
    await this.request('POST', `/exec/${encodeURIComponent(execId)}/start`, { body: config })
  }

  execInspect(execId: string): Promise<ExecInspect> {
    return this.json('GET', `/exec/${encodeURIComponent(execId)}/json`)
  }

  async execResize(execId: string, height: number, width: number): Promise<void> {
    await this.request('POST', `/exec/${encodeURIComponent(execId)}/resize`, { query: { h: height, w: width } })
  }

  // ---- images ----

  imageList(opts: { all?: boolean; digests?: boolean; filters?: FilterMap; sharedSize?: boolean } = {}): Promise<ImageSummary[]> {
    return this.json('GET', '/images/json', {
      query: {
        all: opts.all ? '1' : undefined,
        digests: opts.digests ? '1' : undefined,
        'shared-size': opts.sharedSize ? '1' : undefined,
        filters: encodeFilters(opts.filters),
      },
    })
  }

  /** `platform`: the OCI platform as JSON (API 1.49), as the docker client sends it. */
  imageInspect(name: string, opts: { platform?: { os: string; architecture: string; variant?: string } } = {}): Promise<ImageInspect> {
    const p = opts.platform
    const query = p ? { platform: JSON.stringify({ architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}) }) } : undefined
    return this.json('GET', `/images/${name}/json`, query ? { query } : {})
  }

  imageHistory(name: string): Promise<HistoryItem[]> {
    return this.json('GET', `/images/${name}/history`)
  }

  async imageTag(source: string, repo: string, tag: string): Promise<void> {
    await this.request('POST', `/images/${source}/tag`, { query: { repo, tag: tag || undefined } })
  }

  imageRemove(name: string, opts: { force?: boolean; noPrune?: boolean } = {}): Promise<ImageDeleteResponseItem[]> {
    return this.json('DELETE', `/images/${name}`, {
      query: { force: opts.force ? '1' : undefined, noprune: opts.noPrune ? '1' : undefined },
    })
  }

  imagePrune(filters?: FilterMap): Promise<ImagePruneReport> {
    return this.json('POST', '/images/prune', { query: { filters: encodeFilters(filters) } })
  }

  /** POST /images/load: a JSON progress stream (plain JSON lines even when quiet). */
  imageLoad(tar: Readable, quiet: boolean): Promise<http.IncomingMessage> {
    return this.stream('POST', '/images/load', {
      query: { quiet: quiet ? '1' : '0' },
      body: tar,
      headers: { 'Content-Type': 'application/x-tar' },
    })
  }

  /** GET /images/get: a docker-archive tar of the named images. */
  imageSave(names: string[]): Promise<http.IncomingMessage> {
    const params = new URLSearchParams()
    for (const n of names) params.append('names', n)
    return this.apiVersion().then(async (v) => {
      const res = await this.send('GET', `/v${v}/images/get?${params.toString()}`, {})
      const status = res.statusCode ?? 0
      if (status < 200 || status >= 300) {
        const body = await readAll(res)
        throw new ClientError(status, errorMessageFromBody(status, body.toString()))
      }
      return res
    })
  }

  /** POST /images/create?fromSrc=…: imports a rootfs tarball (the body when source is "-"). */
  importImage(opts: ImportOptions, body?: Readable): Promise<http.IncomingMessage> {
    const params = new URLSearchParams()
    params.set('fromSrc', opts.source)
    if (opts.message) params.set('message', opts.message)
    if (opts.platform) params.set('platform', opts.platform)
    if (opts.repo) params.set('repo', opts.repo)
    if (opts.tag) params.set('tag', opts.tag)
    for (const c of opts.changes ?? []) params.append('changes', c)
    return this.apiVersion().then(async (v) => {
      const res = await this.send('POST', `/v${v}/images/create?${params.toString()}`, {
        body,
        headers: body ? { 'Content-Type': 'application/x-tar' } : {},
      })
      const status = res.statusCode ?? 0
      if (status < 200 || status >= 300) {
        const text = await readAll(res)
        throw new ClientError(status, errorMessageFromBody(status, text.toString()))
      }
      return res
    })
  }

  /** POST /images/create?fromImage=…: a JSON progress stream. */
  pull(fromImage: string, tag: string, opts: { platform?: string; auth?: string } = {}): Promise<http.IncomingMessage> {
    return this.stream('POST', '/images/create', {
      query: { fromImage, tag: tag || undefined, platform: opts.platform || undefined },
      headers: { 'X-Registry-Auth': opts.auth ?? 'e30=' },
    })
  }

  /**
   * POST /build as docker's ImageBuild: the options become its query (keys
   * sorted, `t` and `extrahosts` repeated, JSON for maps and lists) and
   * X-Registry-Config; the context is piped, so it goes up chunked while it
   * is being produced. Returns the JSON message stream.
   */
  async build(context: Readable | undefined, o: ImageBuildOptions, signal?: AbortSignal): Promise<http.IncomingMessage> {
    const q: [string, string][] = []
    const set = (k: string, v: string | number | boolean | undefined | null, when = v !== undefined && v !== null && v !== '' && v !== 0 && v !== false): void => {
      if (when) q.push([k, typeof v === 'boolean' ? '1' : String(v)])
    }
    const json = (k: string, v: unknown, when: boolean): void => { if (when) q.push([k, JSON.stringify(v)]) }
    for (const t of o.Tags ?? []) q.push(['t', t])
    for (const s of o.SecurityOpt ?? []) q.push(['securityopt', s])
    for (const h of o.ExtraHosts ?? []) q.push(['extrahosts', h])
    set('q', o.SuppressOutput)
    set('remote', o.RemoteContext)
    set('nocache', o.NoCache)
    // The daemon removes intermediate containers by default: only opting out is sent.
    if (o.Remove === false) q.push(['rm', '0'])
    set('forcerm', o.ForceRemove)
    set('pull', o.PullParent)
    set('squash', o.Squash)
    set('isolation', o.Isolation, !!o.Isolation && o.Isolation.toLowerCase() !== 'default')
    set('cpusetcpus', o.CPUSetCPUs)
    set('networkmode', o.NetworkMode, !!o.NetworkMode && o.NetworkMode !== 'default')
    set('cpusetmems', o.CPUSetMems)
    set('cpushares', o.CPUShares)
    set('cpuquota', o.CPUQuota)
    set('cpuperiod', o.CPUPeriod)
    set('memory', o.Memory)
    set('memswap', o.MemorySwap)
    set('cgroupparent', o.CgroupParent)
    set('shmsize', o.ShmSize)
    set('dockerfile', o.Dockerfile)
    set('target', o.Target)
    json('ulimits', o.Ulimits, !!o.Ulimits?.length)
    json('buildargs', o.BuildArgs, Object.keys(o.BuildArgs ?? {}).length > 0)
    json('labels', o.Labels, Object.keys(o.Labels ?? {}).length > 0)
    json('cachefrom', o.CacheFrom, !!o.CacheFrom?.length)
    set('session', o.SessionID)
    set('platform', o.Platform?.toLowerCase())
    set('buildid', o.BuildID)
    set('version', o.Version)
    json('outputs', o.Outputs, o.Outputs !== undefined)
    // url.Values.Encode: sorted by key, repeated keys in the order given.
    q.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    const params = new URLSearchParams(q)
    // base64.URLEncoding: url-safe alphabet, padded ("e30=" for {}).
    const registryConfig = Buffer.from(JSON.stringify(o.AuthConfigs ?? {})).toString('base64').replace(/\+/g, '-').replace(/\//g, '_')
    const res = await this.send('POST', `${await this.versioned('/build')}?${params.toString()}`, {
      body: context,
      headers: { 'X-Registry-Config': registryConfig, 'Content-Type': 'application/x-tar' },
      signal,
    })
    const status = res.statusCode ?? 0
    if (status < 200 || status >= 400) {
      const text = await readAll(res)
      throw new ClientError(status, errorMessageFromBody(status, text.toString()))
    }
    return res
  }

  /** POST /build/prune (docker builder prune). */
  buildPrune(opts: { all?: boolean; filters?: FilterMap; keepStorage?: number } = {}): Promise<BuildCachePruneReport> {
    return this.json('POST', '/build/prune', {
      query: { all: opts.all ? '1' : undefined, 'keep-storage': opts.keepStorage || undefined, filters: JSON.stringify(opts.filters ?? {}) },
    })
  }

  /** POST /images/{name}/push?tag=…: a JSON progress stream; an empty tag pushes every tag of the name. */
  imagePush(name: string, tag: string, opts: { platform?: string; auth?: string } = {}): Promise<http.IncomingMessage> {
    return this.stream('POST', `/images/${name}/push`, {
      query: { tag: tag || undefined, platform: opts.platform || undefined },
      headers: { 'X-Registry-Auth': opts.auth ?? 'e30=' },
    })
  }
}

/** The base64 JSON of X-Docker-Container-Path-Stat. */
function decodePathStat(headers: http.IncomingHttpHeaders): ContainerPathStat {
  const raw = headers['x-docker-container-path-stat']
  if (typeof raw !== 'string' || raw === '') throw new Error('unable to decode container path stat header: header missing')
  try {
    return JSON.parse(Buffer.from(raw, 'base64').toString()) as ContainerPathStat
  } catch (err) {
    throw new Error(`unable to decode container path stat header: ${(err as Error).message}`, { cause: err })
  }
}
