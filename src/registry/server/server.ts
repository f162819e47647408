/**
 * berth's registry server: the OCI distribution API over node:http(s).
 * Hand-written because no maintained registry server exists for Node that
 * stores into berth's content-store layout; the protocol is small and the
 * spec (opencontainers/distribution-spec spec.md) is the reference.
 */
import { promises as fsp } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { MediaType, isDigest, sha256, type Digest } from '../../oci/index.js'
import { nullLogger, type Logger } from '../../lib/index.js'
import { BasicAuthorizer, TokenAuthorizer, type Authorizer } from './access.js'
import { HtpasswdAuth } from './auth.js'
import { RegistryError, regError } from './errors.js'
import { parseManifest } from './manifest.js'
import { parseContentRange, parseRange, uploadRange } from './range.js'
import { isTag, looksLikeDigest, parseRoute, isRepositoryName, type Route } from './routes.js'
import { htpasswdPolicy, requiredAccess } from './scope.js'
import { RegistryStorage } from './storage.js'
import { loadSigningKey, TokenIssuer } from './token.js'

export interface RegistryServerOptions {
  /** Storage root; created if missing. */
  root: string
  /** `host:port` to listen on; port 0 picks one. Default 127.0.0.1:5000. */
  addr?: string
  /** htpasswd file (bcrypt entries) turning on auth. */
  htpasswd?: string
  /**
   * How htpasswd users authenticate: `basic` on every request (the default),
   * or `token`: Bearer JWTs this server issues at /auth/token.
   */
  auth?: 'basic' | 'token'
  /** Let clients without credentials pull; pushing, deleting and the catalog still need a user. */
  anonymousPull?: boolean
  /** Token auth: the `service` of challenges, the tokens' audience. Default "berth-registry". */
  tokenService?: string
  /** Token auth: the realm URL of challenges. Default `<scheme>://<Host of the request>/auth/token`. */
  tokenRealm?: string
  /** PEM files turning on TLS. */
  tls?: { cert: string; key: string }
  /** Largest manifest accepted; default 4 MiB, as distribution. */
  maxManifestBytes?: number
  uploadPurgeAgeMs?: number
  logger?: Logger
  /** One line per request in Apache combined format, as distribution's access log. */
  accessLog?: (line: string) => void
}

export interface RegistryServer {
  /** Base URL, e.g. http://127.0.0.1:5000 */
  readonly url: string
  readonly host: string
  readonly port: number
  readonly storage: RegistryStorage
  close(): Promise<void>
}

const API_VERSION_HEADER = 'Docker-Distribution-API-Version'
const DEFAULT_MAX_MANIFEST = 4 << 20

type Req = http.IncomingMessage
type Res = http.ServerResponse

/** Split `host:port`, `[v6]:port` or `:port`. */
export function parseAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr)
  if (!m) throw new Error(`invalid listen address ${JSON.stringify(addr)}: want host:port`)
  const port = Number(m[3])
  if (port > 65535) throw new Error(`invalid port in ${addr}`)
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port }
}

async function readBody(req: Req, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN)
  if (declared > limit) throw regError('TOO_LARGE', `manifest exceeds ${limit} bytes`, { limit })
  const chunks: Buffer[] = []
  let n = 0
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length
    if (n > limit) throw regError('TOO_LARGE', `manifest exceeds ${limit} bytes`, { limit })
    chunks.push(c)
  }
  return Buffer.concat(chunks)
}

async function drain(req: Req): Promise<void> {
  for await (const _ of req as AsyncIterable<Buffer>) {
    // discard
  }
}

function queryDigest(q: URLSearchParams): Digest {
  const d = q.get('digest')
  if (d === null || d === '') throw regError('DIGEST_INVALID', 'digest parameter missing')
  if (!isDigest(d)) {
    throw regError(looksLikeDigest(d) ? 'UNSUPPORTED' : 'DIGEST_INVALID', `unsupported or invalid digest ${d}`, { digest: d })
  }
  return d
}

function pathDigest(d: string, code: 'BLOB_UNKNOWN' | 'MANIFEST_UNKNOWN'): Digest {
  if (isDigest(d)) return d
  if (looksLikeDigest(d)) throw regError(code, `unknown or unsupported digest ${d}`, { digest: d })
  throw regError('DIGEST_INVALID', `invalid digest ${d}`, { digest: d })
}

function pageSize(q: URLSearchParams): number | undefined {
  const n = q.get('n')
  if (n === null || n === '') return undefined
  if (!/^\d+$/.test(n)) throw regError('PAGINATION_NUMBER_INVALID', `invalid number of results requested: ${n}`)
  return Number(n)
}

/** One page of a sorted list, plus the Link for the next one. */
function paginate(all: string[], q: URLSearchParams, base: string): { items: string[]; link?: string } {
  const n = pageSize(q)
  const last = q.get('last')
  const rest = last ? all.filter((x) => x > last) : all
  if (n === undefined || rest.length <= n) return { items: n === undefined ? rest : rest.slice(0, n) }
  const items = rest.slice(0, n)
  if (items.length === 0) return { items }
  const next = `${base}?n=${n}&last=${encodeURIComponent(items[items.length - 1]!)}`
  return { items, link: `<${next}>; rel="next"` }
}

function clf(date: Date): string {
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][date.getUTCMonth()]
  const p = (x: number) => String(x).padStart(2, '0')
  return `${p(date.getUTCDate())}/${mon}/${date.getUTCFullYear()}:${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())} +0000`
}

class Handler {
  constructor(
    private readonly storage: RegistryStorage,
    private readonly opts: { maxManifestBytes: number; auth: Authorizer | null; logger: Logger },
  ) {}

  async handle(req: Req, res: Res): Promise<void> {
    res.setHeader(API_VERSION_HEADER, 'registry/2.0')
    const url = new URL(req.url ?? '/', 'http://registry')
    try {
      const auth = this.opts.auth
      if (auth && (await auth.serve(req, res, url))) return
      let route: Route | null = null
      let invalid: unknown
      try {
        route = parseRoute(url.pathname)
      } catch (err) {
        // An invalid name is reported only to whoever may ask at all.
        invalid = err
      }
      if (auth) await auth.authorize(req, requiredAccess(route, req.method ?? 'GET', url.searchParams))
      if (invalid !== undefined) throw invalid
      if (!route) throw new RegistryError('NAME_UNKNOWN', 'not found', { path: url.pathname }, { status: 404 })
      await this.dispatch(route, req, res, url.searchParams)
    } catch (err) {
      if (!res.headersSent) this.writeError(res, err)
      else res.destroy()
      // The body may still be arriving; the client gets the error either way.
      if (!req.complete) req.resume()
    }
  }

  private writeError(res: Res, err: unknown): void {
    let e: RegistryError
    if (err instanceof RegistryError) e = err
    else {
      this.opts.logger.error('request failed', { err: err instanceof Error ? err : String(err) })
      e = new RegistryError('UNKNOWN', 'unknown error')
    }
    const body = e.body()
    for (const [k, v] of Object.entries(e.headers)) res.setHeader(k, v)
    res.writeHead(e.status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) })
    res.end(body)
  }

  private send(res: Res, status: number, headers: Record<string, string | number>, body?: string | Buffer): void {
    const b = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body
    res.writeHead(status, { ...headers, 'Content-Length': b?.length ?? headers['Content-Length'] ?? 0 })
    res.end(b)
  }

  private json(res: Res, status: number, value: unknown, headers: Record<string, string> = {}, head = false): void {
    const b = Buffer.from(JSON.stringify(value))
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers, 'Content-Length': b.length })
    res.end(head ? undefined : b)
  }

  private unsupported(method: string | undefined): never {
    throw new RegistryError('UNSUPPORTED', `method ${method ?? ''} not allowed here`, undefined, { status: 405 })
  }

  private async dispatch(route: Route, req: Req, res: Res, q: URLSearchParams): Promise<void> {
    const m = req.method
    switch (route.kind) {
      case 'base':
        if (m !== 'GET' && m !== 'HEAD') this.unsupported(m)
        return this.json(res, 200, {}, {}, m === 'HEAD')
      case 'catalog': {
        if (m !== 'GET') this.unsupported(m)
        const page = paginate(await this.storage.listRepositories(), q, '/v2/_catalog')
        return this.json(res, 200, { repositories: page.items }, page.link ? { Link: page.link } : {})
      }
      case 'tags': {
        if (m !== 'GET') this.unsupported(m)
        if (!(await this.storage.repositoryExists(route.name))) {
          throw regError('NAME_UNKNOWN', 'repository name not known to registry', { name: route.name })
        }
        const page = paginate(await this.storage.listTags(route.name), q, `/v2/${route.name}/tags/list`)
        return this.json(res, 200, { name: route.name, tags: page.items }, page.link ? { Link: page.link } : {})
      }
      case 'blob':
        if (m === 'GET' || m === 'HEAD') return this.getBlob(route.name, route.digest, req, res)
        if (m === 'DELETE') return this.deleteBlob(route.name, route.digest, res)
        return this.unsupported(m)
      case 'uploads':
        if (m !== 'POST') this.unsupported(m)
        return this.startUpload(route.name, req, res, q)
      case 'upload':
        if (m === 'GET') return this.uploadStatus(route.name, route.uuid, res, 204)
        if (m === 'PATCH') return this.patchUpload(route.name, route.uuid, req, res)
        if (m === 'PUT') return this.finishUpload(route.name, route.uuid, req, res, q)
        if (m === 'DELETE') {
          await this.storage.cancelUpload(route.name, route.uuid)
          return this.send(res, 204, {})
        }
        return this.unsupported(m)
      case 'manifest':
        if (m === 'GET' || m === 'HEAD') return this.getManifest(route.name, route.reference, res, m === 'HEAD')
        if (m === 'PUT') return this.putManifest(route.name, route.reference, req, res)
        if (m === 'DELETE') return this.deleteManifest(route.name, route.reference, res)
        return this.unsupported(m)
      case 'referrers':
        if (m !== 'GET') this.unsupported(m)
        return this.getReferrers(route.name, route.digest, res, q)
    }
  }

  // ---- blobs ----

  private async getBlob(name: string, ref: string, req: Req, res: Res): Promise<void> {
    const digest = pathDigest(ref, 'BLOB_UNKNOWN')
    const info = await this.storage.statBlob(name, digest)
    if (!info) throw regError('BLOB_UNKNOWN', 'blob unknown to registry', { digest })
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/octet-stream',
      'Docker-Content-Digest': digest,
      ETag: `"${digest}"`,
      'Accept-Ranges': 'bytes',
      'Cache-Control': 'max-age=31536000',
    }
    if (req.method === 'HEAD') return this.send(res, 200, { ...headers, 'Content-Length': info.size })
    const range = parseRange(req.headers.range, info.size)
    if (range === 'unsatisfiable') {
      throw new RegistryError('RANGE_INVALID', 'requested range not satisfiable', undefined, {
        headers: { 'Content-Range': `bytes */${info.size}` },
      })
    }
    if (range) {
      res.writeHead(206, {
        ...headers,
        'Content-Range': `bytes ${range.start}-${range.end}/${info.size}`,
        'Content-Length': range.end - range.start + 1,
      })
    } else {
      res.writeHead(200, { ...headers, 'Content-Length': info.size })
    }
    // An empty blob has no bytes for a read stream to serve.
    if (info.size === 0) return void res.end()
    await pipeline(this.storage.openBlob(digest, range ?? undefined), res)
  }

  private async deleteBlob(name: string, ref: string, res: Res): Promise<void> {
    const digest = pathDigest(ref, 'BLOB_UNKNOWN')
    if (!(await this.storage.unlinkBlob(name, digest))) throw regError('BLOB_UNKNOWN', 'blob unknown to registry', { digest })
    this.send(res, 202, { 'Docker-Content-Digest': digest })
  }

  private blobCreated(res: Res, name: string, digest: Digest): void {
    this.send(res, 201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest })
  }

  // ---- uploads ----

  private async startUpload(name: string, req: Req, res: Res, q: URLSearchParams): Promise<void> {
    const mount = q.get('mount')
    if (mount !== null) {
      const from = q.get('from')
      // An impossible mount is not an error: the client gets a session and uploads instead (spec.md, "Mounting a blob").
      if (isDigest(mount) && from !== null && isRepositoryName(from) && (await this.storage.statBlob(from, mount))) {
        await drain(req)
        await this.storage.linkBlob(name, mount)
        return this.blobCreated(res, name, mount)
      }
    } else if (q.has('digest')) {
      const digest = queryDigest(q)
      const info = await this.storage.putBlob(name, req, digest)
      return this.blobCreated(res, name, info.digest)
    }
    await drain(req)
    const up = await this.storage.startUpload(name)
    this.send(res, 202, {
      Location: `/v2/${name}/blobs/uploads/${up.uuid}`,
      'Docker-Upload-UUID': up.uuid,
      Range: uploadRange(0),
    })
  }

  private async uploadStatus(name: string, uuid: string, res: Res, status: number): Promise<void> {
    const st = await this.storage.uploadState(name, uuid)
    this.send(res, status, {
      Location: `/v2/${name}/blobs/uploads/${uuid}`,
      'Docker-Upload-UUID': uuid,
      Range: uploadRange(st.size),
    })
  }

  private async patchUpload(name: string, uuid: string, req: Req, res: Res): Promise<void> {
    const cr = req.headers['content-range']
    let start: number | undefined
    let expectLen: number | undefined
    if (cr !== undefined) {
      const r = parseContentRange(cr)
      if (!r) {
        const st = await this.storage.uploadState(name, uuid)
        throw new RegistryError('RANGE_INVALID', `invalid Content-Range ${cr}`, undefined, { headers: { Range: uploadRange(st.size) } })
      }
      start = r.start
      expectLen = r.end - r.start + 1
      const cl = req.headers['content-length']
      if (cl !== undefined && Number(cl) !== expectLen) {
        throw regError('SIZE_INVALID', 'Content-Length does not match Content-Range')
      }
    }
    const st = await this.storage.appendUpload(name, uuid, req, start)
    this.send(res, 202, {
      Location: `/v2/${name}/blobs/uploads/${uuid}`,
      'Docker-Upload-UUID': uuid,
      Range: uploadRange(st.size),
    })
  }

  private async finishUpload(name: string, uuid: string, req: Req, res: Res, q: URLSearchParams): Promise<void> {
    const digest = queryDigest(q)
    const info = await this.storage.finishUpload(name, uuid, digest, req)
    this.blobCreated(res, name, info.digest)
  }

  // ---- manifests ----

  private async getManifest(name: string, reference: string, res: Res, head: boolean): Promise<void> {
    if (reference.includes(':')) pathDigest(reference, 'MANIFEST_UNKNOWN')
    else if (!isTag(reference)) throw regError('TAG_INVALID', `invalid tag ${reference}`)
    const m = await this.storage.getManifest(name, reference)
    if (!m) throw regError('MANIFEST_UNKNOWN', 'manifest unknown', { name, reference })
    const headers = {
      'Content-Type': m.mediaType,
      'Docker-Content-Digest': m.digest,
      ETag: `"${m.digest}"`,
      'Content-Length': m.bytes.length,
    }
    if (head) return this.send(res, 200, headers)
    this.send(res, 200, headers, m.bytes)
  }

  private async putManifest(name: string, reference: string, req: Req, res: Res): Promise<void> {
    let tag: string | undefined
    let wantDigest: Digest | undefined
    if (reference.includes(':')) wantDigest = pathDigest(reference, 'MANIFEST_UNKNOWN')
    else if (isTag(reference)) tag = reference
    else throw regError('TAG_INVALID', `invalid tag ${reference}`)
    const bytes = await readBody(req, this.opts.maxManifestBytes)
    const digest = sha256(bytes)
    if (wantDigest !== undefined && wantDigest !== digest) {
      throw regError('DIGEST_INVALID', 'manifest digest did not match the reference', { digest: wantDigest })
    }
    const parsed = parseManifest(bytes, req.headers['content-type'])
    for (const b of parsed.blobs) {
      if (!(await this.storage.useBlob(name, b.digest))) {
        throw regError('MANIFEST_BLOB_UNKNOWN', 'blob unknown to registry', { digest: b.digest })
      }
    }
    for (const c of parsed.manifests) {
      if (!(await this.storage.manifestRecord(name, c.digest))) {
        throw regError('MANIFEST_BLOB_UNKNOWN', 'manifest unknown to registry', { digest: c.digest })
      }
    }
    const rec = await this.storage.putManifest(name, bytes, parsed, tag)
    const headers: Record<string, string> = {
      Location: `/v2/${name}/manifests/${rec.digest}`,
      'Docker-Content-Digest': rec.digest,
    }
    if (parsed.subject) headers['OCI-Subject'] = parsed.subject.digest
    this.send(res, 201, headers)
  }

  private async deleteManifest(name: string, reference: string, res: Res): Promise<void> {
    if (reference.includes(':')) {
      const digest = pathDigest(reference, 'MANIFEST_UNKNOWN')
      if (!(await this.storage.deleteManifest(name, digest))) throw regError('MANIFEST_UNKNOWN', 'manifest unknown', { digest })
    } else {
      if (!isTag(reference)) throw regError('TAG_INVALID', `invalid tag ${reference}`)
      if (!(await this.storage.deleteTag(name, reference))) throw regError('MANIFEST_UNKNOWN', 'manifest unknown', { tag: reference })
    }
    this.send(res, 202, {})
  }

  private async getReferrers(name: string, ref: string, res: Res, q: URLSearchParams): Promise<void> {
    const digest = pathDigest(ref, 'MANIFEST_UNKNOWN')
    let manifests = await this.storage.referrers(name, digest)
    const headers: Record<string, string> = { 'Content-Type': MediaType.ociIndex }
    const artifactType = q.get('artifactType')
    if (artifactType !== null) {
      manifests = manifests.filter((d) => d.artifactType === artifactType)
      headers['OCI-Filters-Applied'] = 'artifactType'
    }
    const b = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }))
    this.send(res, 200, headers, b)
  }
}

/** Open the storage under `opts.root` and start serving; resolves once listening. */
export async function startRegistry(opts: RegistryServerOptions): Promise<RegistryServer> {
  const logger = opts.logger ?? nullLogger
  const storage = await RegistryStorage.open(opts.root, { uploadPurgeAgeMs: opts.uploadPurgeAgeMs })
  const scheme = opts.tls ? 'https' : 'http'
  let listening = ''
  const auth = await makeAuthorizer(opts, scheme, () => listening, logger)
  const handler = new Handler(storage, { maxManifestBytes: opts.maxManifestBytes ?? DEFAULT_MAX_MANIFEST, auth, logger })
  const listener = (req: Req, res: Res) => {
    const started = new Date()
    if (opts.accessLog) {
      const log = opts.accessLog
      res.on('finish', () => {
        const len = res.getHeader('content-length') ?? 0
        const ua = req.headers['user-agent'] ?? ''
        const ref = req.headers.referer ?? ''
        log(
          `${req.socket.remoteAddress ?? '-'} - - [${clf(started)}] "${req.method} ${req.url} HTTP/${req.httpVersion}" ` +
            `${res.statusCode} ${String(len)} "${ref}" "${ua}"`,
        )
      })
    }
    void handler.handle(req, res)
  }
  const server = opts.tls
    ? https.createServer({ cert: await fsp.readFile(opts.tls.cert), key: await fsp.readFile(opts.tls.key) }, listener)
    : http.createServer(listener)
  // Layer uploads can take long; node's default 5-minute request timeout would cut them.
  server.requestTimeout = 0
  const { host, port } = parseAddr(opts.addr ?? '127.0.0.1:5000')
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const a = server.address() as AddressInfo
  const urlHost = a.family === 'IPv6' ? `[${a.address}]` : a.address
  listening = `${urlHost}:${a.port}`
  logger.info(`listening on ${urlHost}:${a.port}`, { scheme, root: opts.root })
  return {
    url: `${scheme}://${urlHost}:${a.port}`,
    host: a.address,
    port: a.port,
    storage,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        server.closeAllConnections()
      }),
  }
}

/** Where token auth keeps its signing key, under the storage root. */
export const SIGNING_KEY_PATH = path.join('_auth', 'signing-key.pem')

async function makeAuthorizer(opts: RegistryServerOptions, scheme: 'http' | 'https', listening: () => string, logger: Logger): Promise<Authorizer | null> {
  if (!opts.htpasswd) {
    if (opts.auth === 'token') throw new Error('token auth needs an htpasswd file to check credentials against')
    if (opts.anonymousPull) throw new Error('anonymous pull needs an htpasswd file: without one every client may pull and push')
    return null
  }
  const htpasswd = await HtpasswdAuth.load(opts.htpasswd)
  if ((opts.auth ?? 'basic') === 'basic') return new BasicAuthorizer(htpasswd, { anonymousPull: opts.anonymousPull ?? false })
  const file = path.join(opts.root, SIGNING_KEY_PATH)
  const { key, created, mode } = await loadSigningKey(file)
  if (mode & 0o077) logger.warn('token signing key is readable by others; anyone who can read it can mint tokens', { file, mode: mode.toString(8) })
  logger.info(created ? 'created token signing key' : 'using token signing key', { file, kid: key.kid })
  const issuer = new TokenIssuer({ key, service: opts.tokenService ?? 'berth-registry', policy: htpasswdPolicy({ anonymousPull: opts.anonymousPull ?? false }) })
  return new TokenAuthorizer(issuer, htpasswd, { scheme, fallbackHost: listening, logger, ...(opts.tokenRealm ? { realm: opts.tokenRealm } : {}) })
}
