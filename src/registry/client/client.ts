/**
 * A distribution-protocol client for pulling: endpoint resolution, the
 * token/basic auth dance, manifests (with list/index platform selection) and
 * blob streams. Hand-written over Node's fetch: the npm registry clients are
 * unmaintained or Hub-only, and berth needs docker's exact errors, its
 * insecure-registry rules and streaming into a verifying content store.
 * (Read alongside moby distribution/pull_v2.go and containerd
 * core/remotes/docker; nothing copied.)
 */
import { unavailable, invalidArgument, notFound, EngineError } from '../../errors/index.js'
import {
  DEFAULT_DOMAIN, familiarName, familiarString, isDigest, MediaType, sha256,
  type Descriptor, type Index, type Manifest, type Platform, type Reference,
} from '../../oci/index.js'
import { basicAuthorization, parseChallenges, type Challenge, type RegistryAuth } from './auth.js'
import { errorFromResponse, formatEntry, redact, RegistryError } from './errors.js'
import { formatPlatform, platformMatches, selectManifest } from './platform.js'
import { resumable } from './resume.js'

/** distribution's limit for manifests it accepts; larger ones are refused before parsing. */
export const MAX_MANIFEST_SIZE = 4 << 20
/** Image configs are JSON too; docker caps them at 8 MiB. */
export const MAX_CONFIG_SIZE = 8 << 20
const MAX_REDIRECTS = 10
/** Pages of a tag list followed before giving up on a registry that never stops paging. */
const MAX_TAG_PAGES = 1000
const MANIFEST_ACCEPT = [MediaType.dockerManifest, MediaType.dockerManifestList, MediaType.ociManifest, MediaType.ociIndex].join(', ')

export interface RegistryClientOptions {
  /** Extra insecure registries: `host[:port]` names or IPv4 CIDRs. Loopback is always insecure, as in docker. */
  insecureRegistries?: readonly string[]
  /** daemon.json registry-mirrors: tried in order before Docker Hub for docker.io images (pulls only). */
  mirrors?: readonly string[]
  userAgent?: string
}

export interface Endpoint {
  /** The reference's domain (`docker.io`, `127.0.0.1:5000`). */
  domain: string
  /** URL origin requests go to: `https://registry-1.docker.io`. */
  base: string
  insecure: boolean
  /** A registry-mirrors entry standing in for Docker Hub: errors there fall back to the next endpoint. */
  mirror?: boolean
}

/** Where a reference's registry answers: https, or plain http for insecure registries. */
export function resolveEndpoint(domain: string, opts: RegistryClientOptions = {}): Endpoint {
  const host = domain === DEFAULT_DOMAIN ? 'registry-1.docker.io' : domain
  const insecure = isInsecure(domain, opts.insecureRegistries ?? [])
  return { domain, base: `${insecure ? 'http' : 'https'}://${host}`, insecure }
}

function hostOf(domain: string): string {
  if (domain.startsWith('[')) return domain.slice(1, domain.indexOf(']'))
  const colon = domain.lastIndexOf(':')
  return colon > -1 ? domain.slice(0, colon) : domain
}

function ipv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s)
  if (!m) return undefined
  const parts = m.slice(1).map(Number)
  if (parts.some((p) => p > 255)) return undefined
  return parts.reduce((n, p) => n * 256 + p, 0)
}

function inCidr(ip: number, cidr: string): boolean {
  const [net, bits] = cidr.split('/')
  const base = ipv4(net ?? '')
  const n = Number(bits)
  if (base === undefined || !Number.isInteger(n) || n < 0 || n > 32) return false
  const size = 2 ** (32 - n)
  return Math.floor(ip / size) === Math.floor(base / size)
}

/** docker's rule: loopback, plus configured names and CIDRs (names resolve via the literal only here). */
export function isInsecure(domain: string, extra: readonly string[]): boolean {
  const host = hostOf(domain)
  if (extra.includes(domain) || extra.includes(host)) return true
  if (host === 'localhost' || host === '::1') return true
  const ip = ipv4(host)
  if (ip === undefined) return false
  return inCidr(ip, '127.0.0.0/8') || extra.some((c) => c.includes('/') && inCidr(ip, c))
}

export interface FetchedManifest {
  mediaType: string
  raw: Buffer
  digest: string
}

/** The image manifest a reference resolves to, for one platform. */
export interface ResolvedImage {
  /** Digest of what the reference names (the list/index for multi-platform images): docker's RepoDigest. */
  digest: string
  /** Digest of the platform's image manifest. */
  manifestDigest: string
  manifest: Manifest
  /** Whether the reference named a list or index. */
  fromIndex: boolean
}

export interface BlobStream {
  body: AsyncIterable<Uint8Array>
  /** Content-Length when the registry sent one. */
  size: number | undefined
}

interface RequestOptions {
  accept?: string
  /** A Range header (a resumed blob download); kept across redirects, as Go's client does. */
  range?: string
  signal?: AbortSignal
}

/**
 * The client for one pull from one repository: it keeps the token it
 * obtained so later requests skip the 401 round trip.
 */
export class Repository {
  private authorization: string | undefined
  private readonly name: string

  constructor(
    readonly endpoint: Endpoint,
    readonly ref: Reference,
    private readonly auth: RegistryAuth | undefined,
    private readonly opts: RegistryClientOptions,
  ) {
    this.name = ref.path
    if (auth?.registryToken) this.authorization = `Bearer ${auth.registryToken}`
  }

  /** Every tag of the repository (pull -a), following the registry's `Link` pages. */
  async listTags(signal?: AbortSignal): Promise<string[]> {
    const tags: string[] = []
    let url: string | undefined = `${this.endpoint.base}/v2/${this.name}/tags/list`
    for (let page = 0; url !== undefined && page < MAX_TAG_PAGES; page++) {
      const res = await this.request(url, { accept: 'application/json', signal })
      if (!res.ok) throw await this.translate(res, url)
      const raw = await readLimited(res, MAX_MANIFEST_SIZE, `tag list of ${familiarName(this.ref)}`)
      let doc: { tags?: unknown }
      try {
        doc = JSON.parse(raw.toString('utf8')) as { tags?: unknown }
      } catch (err) {
        throw invalidArgument(`tag list of ${familiarName(this.ref)} is not valid JSON: ${(err as Error).message}`)
      }
      if (doc.tags !== null && doc.tags !== undefined && !Array.isArray(doc.tags)) throw invalidArgument(`tag list of ${familiarName(this.ref)} is malformed`)
      for (const t of (doc.tags ?? []) as unknown[]) if (typeof t === 'string') tags.push(t)
      const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.get('link') ?? '')?.[1]
      url = next === undefined ? undefined : new URL(next, url).href
    }
    return tags
  }

  /** GET a manifest by tag or digest; verifies the bytes against a digest reference. */
  async getManifest(tagOrDigest: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const url = `${this.endpoint.base}/v2/${this.name}/manifests/${tagOrDigest}`
    const res = await this.request(url, { accept: MANIFEST_ACCEPT, signal })
    if (!res.ok) throw await this.translate(res, url)
    const len = Number(res.headers.get('content-length') ?? NaN)
    if (len > MAX_MANIFEST_SIZE) {
      await res.body?.cancel()
      throw invalidArgument(`manifest for ${familiarString(this.ref)} is too large: ${len} bytes (limit ${MAX_MANIFEST_SIZE})`)
    }
    const raw = await readLimited(res, MAX_MANIFEST_SIZE, `manifest for ${familiarString(this.ref)}`)
    const digest = sha256(raw)
    if (isDigest(tagOrDigest) && digest !== tagOrDigest) {
      throw invalidArgument(`manifest verification failed for digest ${tagOrDigest}: got ${digest}`)
    }
    const header = (res.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? ''
    let mediaType = header
    try {
      const doc = JSON.parse(raw.toString('utf8')) as { mediaType?: unknown; schemaVersion?: unknown; manifests?: unknown }
      if (doc.schemaVersion === 1) {
        throw notFound(`${familiarString(this.ref)}: Docker Image manifest version 2, schema 1 is not supported; the image must be pushed again with a newer client`)
      }
      if (typeof doc.mediaType === 'string' && doc.mediaType !== '') mediaType = doc.mediaType
      else if (![MediaType.dockerManifest, MediaType.dockerManifestList, MediaType.ociManifest, MediaType.ociIndex].includes(mediaType as never)) {
        // An OCI document may omit mediaType and come with a generic content type.
        mediaType = Array.isArray(doc.manifests) ? MediaType.ociIndex : MediaType.ociManifest
      }
    } catch (err) {
      if (err instanceof EngineError) throw err
      throw invalidArgument(`manifest for ${familiarString(this.ref)} is not valid JSON: ${(err as Error).message}`)
    }
    return { mediaType, raw, digest }
  }

  /**
   * Resolve the reference to one image manifest: a list or index is narrowed
   * to the platform; a plain manifest's config is checked by the caller.
   */
  async resolve(platform: Platform, signal?: AbortSignal): Promise<ResolvedImage> {
    const top = await this.getManifest(this.ref.digest ?? this.ref.tag ?? 'latest', signal)
    if (top.mediaType === MediaType.dockerManifestList || top.mediaType === MediaType.ociIndex) {
      const index = JSON.parse(top.raw.toString('utf8')) as Index
      if (!Array.isArray(index.manifests)) throw invalidArgument(`manifest list for ${familiarString(this.ref)} has no manifests`)
      const chosen = selectManifest(index.manifests, platform)
      if (!chosen) throw notFound(`no matching manifest for ${formatPlatform(platform)} in the manifest list entries`)
      if (!isDigest(chosen.digest)) throw invalidArgument(`manifest list for ${familiarString(this.ref)} has an invalid digest ${chosen.digest}`)
      const inner = await this.getManifest(chosen.digest, signal)
      if (inner.mediaType === MediaType.dockerManifestList || inner.mediaType === MediaType.ociIndex) {
        throw invalidArgument(`manifest list for ${familiarString(this.ref)} points at another list (${chosen.digest})`)
      }
      return { digest: top.digest, manifestDigest: inner.digest, manifest: parseManifest(inner, this.ref), fromIndex: true }
    }
    return { digest: top.digest, manifestDigest: top.digest, manifest: parseManifest(top, this.ref), fromIndex: false }
  }

  /** The whole of a small blob (a config), verified against its descriptor. */
  async readBlob(desc: Descriptor, max: number, signal?: AbortSignal): Promise<Buffer> {
    if (desc.size > max) throw invalidArgument(`blob ${desc.digest} is too large: ${desc.size} bytes (limit ${max})`)
    const { body } = await this.openBlob(desc.digest, signal)
    const parts: Buffer[] = []
    let n = 0
    for await (const c of body) {
      n += c.length
      if (n > max) throw invalidArgument(`blob ${desc.digest} is larger than ${max} bytes`)
      parts.push(Buffer.from(c))
    }
    const buf = Buffer.concat(parts)
    const got = sha256(buf)
    if (got !== desc.digest) throw invalidArgument(`filesystem layer verification failed for digest ${desc.digest}: got ${got}`)
    return buf
  }

  /**
   * GET a blob, following redirects (a CDN or object store), as a byte stream
   * the caller must verify. A connection that drops mid-body is resumed with
   * Range requests (resume.ts), up to docker's five attempts in all.
   */
  async openBlob(digest: string, signal?: AbortSignal): Promise<BlobStream> {
    if (!isDigest(digest)) throw invalidArgument(`invalid blob digest ${digest}`)
    const url = `${this.endpoint.base}/v2/${this.name}/blobs/${digest}`
    const res = await this.request(url, { signal })
    if (!res.ok) throw await this.translate(res, url)
    const len = res.headers.get('content-length')
    const body = res.body
    if (!body) throw unavailable(`GET ${redact(url)}: empty response body`)
    const size = len === null ? undefined : Number(len)
    const reopen = async (offset: number): Promise<Response> => {
      const again = await this.request(url, { signal, ...(offset > 0 ? { range: `bytes=${offset}-` } : {}) })
      if (again.status !== 200 && again.status !== 206) throw await this.translate(again, url)
      return again
    }
    const resumed = resumable(body as AsyncIterable<Uint8Array>, {
      what: `blob ${digest}`, reopen, ...(size === undefined ? {} : { size }), ...(signal ? { signal } : {}),
    })
    return { body: resumed, size }
  }

  /** A registry error in docker's pull words (moby distribution/errors.go). */
  private async translate(res: Response, url: string): Promise<EngineError> {
    const body = await res.text().catch(() => '')
    const err = errorFromResponse('GET', url, res.status, res.statusText, body)
    const familiar = familiarName(this.ref)
    const denied = `pull access denied for ${familiar}, repository does not exist or may require 'docker login'`
    if (err.code === 'MANIFEST_UNKNOWN') return new RegistryError('not-found', `manifest for ${familiarString(this.ref)} not found: ${err.message}`, err.status, err.code, { cause: err })
    if (err.code === 'DENIED' || (res.status === 401 && this.endpoint.domain === DEFAULT_DOMAIN)) {
      const cause = err.code ? err.message : formatEntry({ code: 'DENIED', message: 'requested access to the resource is denied' })
      return new RegistryError('not-found', `${denied}: ${cause}`, err.status, err.code, { cause: err })
    }
    if (err.code === 'NAME_UNKNOWN') {
      const msg = this.endpoint.domain === DEFAULT_DOMAIN ? `${denied}: ${err.message}` : `repository ${familiar} not found: ${err.message}`
      return new RegistryError('not-found', msg, err.status, err.code, { cause: err })
    }
    if (res.status === 401) return new RegistryError('unauthorized', `${err.message || 'unauthorized'}: authentication required for ${this.endpoint.domain}`, 401, err.code, { cause: err })
    return err
  }

  /**
   * One GET with auth and redirects: a 401 is answered once by obtaining a
   * token (or Basic credentials) from its challenge; redirects are followed
   * by hand so Authorization never leaves the registry's origin.
   */
  private async request(url: string, o: RequestOptions): Promise<Response> {
    let res = await this.follow(url, o)
    if (res.status === 401) {
      const header = res.headers.get('www-authenticate') ?? ''
      await res.body?.cancel()
      const authorization = await this.authorize(parseChallenges(header), o.signal)
      if (authorization === undefined) return this.follow(url, o)
      this.authorization = authorization
      res = await this.follow(url, o)
    }
    return res
  }

  private follow(start: string, o: RequestOptions): Promise<Response> {
    const origin = new URL(start).origin
    return followRedirects(start, async (url) => {
      const headers: Record<string, string> = { 'user-agent': this.opts.userAgent ?? 'berth' }
      if (o.accept) headers.accept = o.accept
      if (o.range) headers.range = o.range
      if (this.authorization && new URL(url).origin === origin) headers.authorization = this.authorization
      try {
        return await fetch(url, { headers, redirect: 'manual', signal: o.signal })
      } catch (err) {
        if (o.signal?.aborted) throw err
        throw new RegistryUnreachable(`Get "${redact(url)}": ${describeFetchError(err, this.endpoint)}`, err)
      }
    })
  }

  /** The Authorization value a challenge asks for, or undefined when there is nothing to send. */
  private async authorize(challenges: Challenge[], signal?: AbortSignal): Promise<string | undefined> {
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm)
    if (bearer) return `Bearer ${await this.fetchToken(bearer, signal)}`
    if (challenges.some((c) => c.scheme === 'basic')) return basicAuthorization(this.auth)
    return undefined
  }

  private fetchToken(ch: Challenge, signal?: AbortSignal): Promise<string> {
    const manifestUrl = `${this.endpoint.base}/v2/${this.name}/manifests/${this.ref.tag ?? this.ref.digest ?? 'latest'}`
    return fetchBearerToken({
      challenge: ch,
      scopes: [ch.params.scope ?? `repository:${this.name}:pull`],
      auth: this.auth,
      endpoint: this.endpoint,
      userAgent: this.opts.userAgent ?? 'berth',
      ...(signal ? { signal } : {}),
      unauthorized: (m) => `Head "${redact(manifestUrl)}": unauthorized: ${m}`,
    })
  }
}

/**
 * A GET whose redirects (a CDN, an object store) are followed by hand, at
 * most MAX_REDIRECTS: `attempt` makes each request (and decides which
 * headers, such as Authorization, the new URL may get).
 */
export async function followRedirects(start: string, attempt: (url: string) => Promise<Response>): Promise<Response> {
  let url = start
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const res = await attempt(url)
    if (![301, 302, 303, 307, 308].includes(res.status)) return res
    const location = res.headers.get('location')
    await res.body?.cancel()
    if (!location) throw unavailable(`GET ${redact(url)}: redirect without a Location`)
    url = new URL(location, url).href
  }
  throw unavailable(`GET ${redact(start)}: stopped after ${MAX_REDIRECTS} redirects`)
}

export interface TokenRequest {
  challenge: Challenge
  /** The scopes to ask for (a push asks for its own, not the one request's the challenge names). */
  scopes: readonly string[]
  auth: RegistryAuth | undefined
  endpoint: Endpoint
  userAgent: string
  signal?: AbortSignal
  /** How a refused token request is worded for the caller's operation. */
  unauthorized: (message: string) => string
}

/** distribution's token flow (docs/spec/auth/token.md): GET realm?service&scope…, Basic credentials if any. */
export async function fetchBearerToken(r: TokenRequest): Promise<string> {
  const realm = new URL(r.challenge.params.realm as string)
  if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && r.endpoint.insecure)) {
    throw unavailable(`refusing token realm ${redact(realm.href)}: only https realms are used for secure registries`)
  }
  const headers: Record<string, string> = { 'user-agent': r.userAgent }
  let init: RequestInit
  if (r.auth?.identityToken) {
    // An identity token from `docker login` is an OAuth2 refresh token: spend it with a POST (distribution docs/spec/auth/oauth.md).
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: r.auth.identityToken, client_id: 'berth' })
    if (r.challenge.params.service) form.set('service', r.challenge.params.service)
    if (r.scopes.length > 0) form.set('scope', r.scopes.join(' '))
    headers['content-type'] = 'application/x-www-form-urlencoded'
    init = { method: 'POST', headers, body: form.toString() }
  } else {
    if (r.challenge.params.service) realm.searchParams.set('service', r.challenge.params.service)
    for (const s of r.scopes) realm.searchParams.append('scope', s)
    const basic = basicAuthorization(r.auth)
    if (basic) headers.authorization = basic
    init = { headers }
  }
  let res: Response
  try {
    res = await fetch(realm, { ...init, ...(r.signal ? { signal: r.signal } : {}) })
  } catch (err) {
    if (r.signal?.aborted) throw err
    throw new RegistryUnreachable(`Get "${redact(realm.href)}": ${describeFetchError(err, r.endpoint)}`, err)
  }
  const body = await res.text()
  if (!res.ok) {
    const err = errorFromResponse(init.method ?? 'GET', realm.href, res.status, res.statusText, body)
    if (res.status === 401 || res.status === 403) throw new RegistryError('unauthorized', r.unauthorized(err.message), res.status, err.code, { cause: err })
    throw err
  }
  let token: unknown
  try {
    const v = JSON.parse(body) as { token?: unknown; access_token?: unknown }
    token = v.token ?? v.access_token
  } catch {
    token = undefined
  }
  if (typeof token !== 'string' || token === '') throw unavailable(`token server ${redact(realm.href)} answered without a token`)
  return token
}

/** No answer at all (DNS, refused connection, TLS): the caller may fall back to what it has locally. */
export class RegistryUnreachable extends EngineError {
  constructor(message: string, cause: unknown) {
    super('unavailable', message, { cause })
  }
}

/** Creates Repository clients; holds the daemon's registry settings. */
export class RegistryClient {
  constructor(private readonly opts: RegistryClientOptions = {}) {}

  endpoint(domain: string): Endpoint {
    return resolveEndpoint(domain, this.opts)
  }

  repository(ref: Reference, auth?: RegistryAuth): Repository {
    return new Repository(this.endpoint(ref.domain), ref, auth, this.opts)
  }

  /** Where a pull may come from, in order: the mirrors for docker.io names, then the registry itself (moby's LookupPullEndpoints). */
  pullRepositories(ref: Reference, auth?: RegistryAuth): Repository[] {
    const mirrors = ref.domain === DEFAULT_DOMAIN ? (this.opts.mirrors ?? []).map((m) => mirrorEndpoint(m, this.opts)) : []
    return [...mirrors, this.endpoint(ref.domain)].map((ep) => new Repository(ep, ref, auth, this.opts))
  }
}

/**
 * A registry-mirrors entry as an endpoint. docker accepts `scheme://host[:port]`
 * only (checked in daemon/config); a bare host gets https, or plain http when
 * it is an insecure registry (loopback), as berth reaches those.
 */
export function mirrorEndpoint(mirror: string, opts: RegistryClientOptions = {}): Endpoint {
  const url = new URL(/^https?:\/\//.test(mirror) ? mirror : `${isInsecure(mirror, opts.insecureRegistries ?? []) ? 'http' : 'https'}://${mirror}`)
  return { domain: DEFAULT_DOMAIN, base: url.origin, insecure: url.protocol === 'http:' || isInsecure(url.host, opts.insecureRegistries ?? []), mirror: true }
}

/** docker's ValidateMirror: an http(s) URL with nothing after the host but an optional `/`. Returns it without the slash. */
export function validateMirror(mirror: string): string {
  let url: URL
  try {
    url = new URL(mirror)
  } catch {
    throw invalidArgument(`invalid mirror: "${mirror}" is not a valid URI`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidArgument(`invalid mirror: unsupported scheme "${url.protocol.slice(0, -1)}" in "${mirror}"`)
  if (url.username !== '' || url.password !== '') throw invalidArgument(`invalid mirror: username/password not allowed in URI "${mirror}"`)
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw invalidArgument(`invalid mirror: path, query, or fragment at end of the URI "${mirror}"`)
  }
  return url.origin
}

/** Check the shape of an image manifest and that it is pullable. */
function parseManifest(m: FetchedManifest, ref: Reference): Manifest {
  const doc = JSON.parse(m.raw.toString('utf8')) as Partial<Manifest>
  if (m.mediaType !== MediaType.dockerManifest && m.mediaType !== MediaType.ociManifest) {
    throw invalidArgument(`unsupported manifest media type ${JSON.stringify(m.mediaType)} for ${familiarString(ref)}`)
  }
  const okDesc = (d: unknown): d is Descriptor => {
    const o = d as Partial<Descriptor> | null
    return !!o && typeof o.digest === 'string' && isDigest(o.digest) && typeof o.size === 'number' && o.size >= 0 && typeof o.mediaType === 'string'
  }
  if (!okDesc(doc.config) || !Array.isArray(doc.layers) || !doc.layers.every(okDesc)) {
    throw invalidArgument(`invalid manifest for ${familiarString(ref)}: config and layers must be descriptors with sha256 digests`)
  }
  return doc as Manifest
}

/** Whether a single-platform image's config matches what was asked for. */
export function checkPlatform(ref: Reference, want: Platform, have: Platform): void {
  if (!platformMatches(want, have)) {
    throw notFound(`image with reference ${familiarString(ref)} was found but does not match the specified platform: wanted ${formatPlatform(want)}, actual: ${formatPlatform(have)}`)
  }
}

async function readLimited(res: Response, max: number, what: string): Promise<Buffer> {
  const parts: Buffer[] = []
  let n = 0
  if (!res.body) return Buffer.alloc(0)
  for await (const c of res.body as AsyncIterable<Uint8Array>) {
    n += c.length
    if (n > max) throw invalidArgument(`${what} is larger than ${max} bytes`)
    parts.push(Buffer.from(c))
  }
  return Buffer.concat(parts)
}

/** fetch's "fetch failed" hides the reason in cause; docker shows the dial error. */
function describeFetchError(err: unknown, ep: Endpoint): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause
  const base = cause?.message ?? (err as Error).message
  if (!ep.insecure && cause?.code === 'ERR_SSL_WRONG_VERSION_NUMBER') return `http: server gave HTTP response to HTTPS client`
  return base
}
