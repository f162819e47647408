/**
 * The distribution-protocol half of a push: blob existence (HEAD), cross-repository
 * mounts, monolithic and streamed (or, on request, chunked) uploads, and the manifest PUT, with the
 * token/basic auth dance asking for push scope. Hand-written over Node's fetch
 * for the same reasons as client.ts; kept apart from the pull Repository
 * because a push needs other scopes and methods with bodies that cannot be
 * replayed after a 401 (the session is authorized before any body is sent).
 * (Read alongside moby distribution/push_v2.go and the distribution spec; nothing copied.)
 */
import { invalidArgument, unavailable } from '../../errors/index.js'
import { isDigest, MediaType, sha256, type Descriptor, type Reference } from '../../oci/index.js'
import { basicAuthorization, parseChallenges, type Challenge, type RegistryAuth } from './auth.js'
import { fetchBearerToken, RegistryUnreachable, type Endpoint, type RegistryClientOptions } from './client.js'
import { errorFromResponse, redact, RegistryError } from './errors.js'

/**
 * Blobs up to this size go in one PUT (POST, PUT ?digest=); larger ones as
 * one streamed PATCH, then an empty PUT ?digest=, as docker pushes.
 */
export const CHUNK_SIZE = 16 << 20

/** A Docker schema2 image manifest, serialized as docker does (MarshalIndent with three spaces), so sizes match docker's. */
export function schema2Manifest(config: Descriptor, layers: readonly Descriptor[]): Buffer {
  const desc = (d: Descriptor) => ({ mediaType: d.mediaType, size: d.size, digest: d.digest })
  return Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.dockerManifest,
    config: desc(config),
    layers: layers.map(desc),
  }, null, 3))
}

/** The scopes a push asks the token server for: push on the target, pull on every mount source. */
export function pushScopes(path: string, mountFrom: readonly string[] = []): string[] {
  return [`repository:${path}:pull,push`, ...[...new Set(mountFrom)].filter((p) => p !== path).map((p) => `repository:${p}:pull`)]
}

export interface UploadOptions {
  /** Bytes sent so far; called per chunk of the source. */
  onProgress?: (current: number) => void
  /**
   * Send blobs larger than this as PATCH chunks of this size (tests, or a
   * registry that caps request bodies); by default a large blob is one PATCH.
   */
  chunkSize?: number
  signal?: AbortSignal
}

interface SendOptions {
  method: string
  headers?: Record<string, string>
  body?: Buffer | AsyncIterable<Uint8Array>
  signal?: AbortSignal
}

/**
 * One push session against one repository. Its Authorization, once
 * obtained, is reused by every later request of the push.
 */
export class PushRepository {
  private authorization: string | undefined
  private readonly scopes: string[]

  constructor(
    readonly endpoint: Endpoint,
    readonly ref: Reference,
    private readonly auth: RegistryAuth | undefined,
    private readonly opts: RegistryClientOptions = {},
    /** Other repositories of the same registry that blobs may be mounted from. */
    mountFrom: readonly string[] = [],
  ) {
    this.scopes = pushScopes(ref.path, mountFrom)
    if (auth?.registryToken) this.authorization = `Bearer ${auth.registryToken}`
  }

  private url(p: string): string {
    return `${this.endpoint.base}/v2/${this.ref.path}/${p}`
  }

  /** HEAD the blob in this repository: its size when present, undefined when not. */
  async blobSize(digest: string, signal?: AbortSignal): Promise<number | undefined> {
    const url = this.url(`blobs/${digest}`)
    const res = await this.request(url, { method: 'HEAD', signal })
    if (res.status === 404) return undefined
    if (!res.ok) throw this.fail('HEAD', url, res, '')
    const len = res.headers.get('content-length')
    return len === null ? 0 : Number(len)
  }

  /**
   * Try a cross-repository mount. True when the registry linked the blob;
   * otherwise the upload session it opened instead (spec: a refused mount is
   * an ordinary upload).
   */
  async mount(digest: string, from: string, signal?: AbortSignal): Promise<true | string> {
    const url = this.url(`blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`)
    const res = await this.request(url, { method: 'POST', signal })
    await res.body?.cancel()
    if (res.status === 201) return true
    return this.location(res, 'POST', url)
  }

  /** Open an upload session; returns its URL. */
  async startUpload(signal?: AbortSignal): Promise<string> {
    const url = this.url('blobs/uploads/')
    const res = await this.request(url, { method: 'POST', signal })
    await res.body?.cancel()
    return this.location(res, 'POST', url)
  }

  /**
   * Send a blob of `size` bytes from `source` into the session at `location`:
   * one PUT up to CHUNK_SIZE; above it one PATCH streaming the whole blob
   * (or PATCHes of o.chunkSize each), then an empty PUT with the digest.
   * Bodies stream from the source as fetch pulls them, so memory stays at a
   * few read buffers per upload whatever the blob's size. Every PATCH says
   * its Content-Range and Content-Length, which makes even the single one a
   * valid OCI chunk; distribution and berth's server also take docker's bare
   * streamed PATCH. The registry verifies the digest; its answer is checked too.
   */
  async upload(location: string, digest: string, size: number, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, o: UploadOptions = {}): Promise<void> {
    let sent = 0
    const add = (n: number) => {
      sent += n
      o.onProgress?.(sent)
    }
    if (size <= (o.chunkSize ?? CHUNK_SIZE)) {
      const url = withDigest(location, digest)
      const res = await this.request(url, {
        method: 'PUT', body: counting(source, add), signal: o.signal,
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      })
      return this.finished(res, url, digest)
    }
    const part = o.chunkSize ?? size
    const src = new Parts(source)
    try {
      return await this.uploadParts(location, digest, size, part, src, add, o.signal)
    } finally {
      await src.close()
    }
  }

  private async uploadParts(location: string, digest: string, size: number, part: number, src: Parts, add: (n: number) => void, signal?: AbortSignal): Promise<void> {
    let loc = location
    for (let start = 0; start < size; start += part) {
      const len = Math.min(part, size - start)
      let res: Response
      try {
        res = await this.request(loc, {
          method: 'PATCH', body: counting(src.take(len), add), signal,
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(len), 'content-range': `${start}-${start + len - 1}` },
        })
      } catch (err) {
        if (src.short) throw invalidArgument(`blob ${digest}: read ${src.read} bytes, expected ${size}`)
        throw err
      }
      if (res.status !== 202) throw this.fail('PATCH', loc, res, await res.text().catch(() => ''))
      await res.body?.cancel()
      loc = this.location(res, 'PATCH', loc)
    }
    if (!(await src.atEnd())) throw invalidArgument(`blob ${digest}: source holds more than ${size} bytes`)
    const url = withDigest(loc, digest)
    const res = await this.request(url, { method: 'PUT', signal, headers: { 'content-length': '0' }, body: Buffer.alloc(0) })
    return this.finished(res, url, digest)
  }

  /** PUT the manifest under a tag; returns its digest (checked against the registry's). */
  async putManifest(tag: string, mediaType: string, raw: Buffer, signal?: AbortSignal): Promise<string> {
    const url = this.url(`manifests/${tag}`)
    const res = await this.request(url, { method: 'PUT', body: raw, signal, headers: { 'content-type': mediaType } })
    const body = await res.text().catch(() => '')
    if (res.status !== 201 && res.status !== 200) throw this.fail('PUT', url, res, body)
    const digest = sha256(raw)
    const theirs = res.headers.get('docker-content-digest')
    if (theirs && theirs !== digest) throw unavailable(`registry stored manifest ${tag} as ${theirs}, expected ${digest}`)
    return digest
  }

  private async finished(res: Response, url: string, digest: string): Promise<void> {
    const body = await res.text().catch(() => '')
    if (res.status !== 201 && res.status !== 204) throw this.fail('PUT', url, res, body)
    const theirs = res.headers.get('docker-content-digest')
    if (theirs && theirs !== digest) throw unavailable(`registry stored blob ${digest} as ${theirs}`)
  }

  private location(res: Response, method: string, url: string): string {
    if (res.status !== 202) throw this.fail(method, url, res, '')
    const loc = res.headers.get('location')
    if (!loc) throw unavailable(`${method} ${redact(url)}: upload session without a Location`)
    return new URL(loc, url).href
  }

  /** A registry error in docker's push words: a denied push names the repository. */
  private fail(method: string, url: string, res: Response, body: string): RegistryError {
    const err = errorFromResponse(method, url, res.status, res.statusText, body)
    if (err.code === 'DENIED' || res.status === 401 || res.status === 403) {
      return new RegistryError(res.status === 403 ? 'forbidden' : 'unauthorized', `denied: requested access to the resource is denied: ${err.message}`, err.status, err.code, { cause: err })
    }
    return err
  }

  /**
   * One request with auth: a 401 is answered once from its challenge. A
   * streamed body cannot be sent twice, so it only goes out once a session
   * (the POST before it) has settled the Authorization.
   */
  private async request(url: string, o: SendOptions): Promise<Response> {
    const res = await this.send(url, o)
    if (res.status !== 401) return res
    const replayable = o.body === undefined || Buffer.isBuffer(o.body)
    if (!replayable) return res
    const header = res.headers.get('www-authenticate') ?? ''
    await res.body?.cancel()
    const authorization = await this.authorize(parseChallenges(header), o.signal)
    if (authorization === undefined || authorization === this.authorization) return this.send(url, o)
    this.authorization = authorization
    return this.send(url, o)
  }

  private async send(url: string, o: SendOptions): Promise<Response> {
    const headers: Record<string, string> = { 'user-agent': this.opts.userAgent ?? 'berth', ...o.headers }
    // Authorization goes only to the registry's own origin (a session URL could point elsewhere).
    if (this.authorization && new URL(url).origin === new URL(this.endpoint.base).origin) headers.authorization = this.authorization
    const init: RequestInit & { duplex?: 'half' } = { method: o.method, headers, redirect: 'manual', signal: o.signal }
    if (o.body !== undefined) {
      init.body = Buffer.isBuffer(o.body) ? o.body : (streamBody(o.body) as unknown as RequestInit['body'])
      if (!Buffer.isBuffer(o.body)) init.duplex = 'half'
    }
    try {
      try {
        return await fetch(url, init)
      } catch (err) {
        // A kept-alive connection the server closed meanwhile: send a replayable request once more, as Go's transport does.
        const code = (err as { cause?: { code?: string } }).cause?.code
        const replayable = o.body === undefined || Buffer.isBuffer(o.body)
        if (!replayable || o.signal?.aborted || (code !== 'ECONNRESET' && code !== 'UND_ERR_SOCKET')) throw err
        return await fetch(url, init)
      }
    } catch (err) {
      if (o.signal?.aborted) throw err
      const cause = (err as { cause?: { message?: string } }).cause
      throw new RegistryUnreachable(`${o.method[0]}${o.method.slice(1).toLowerCase()} "${redact(url)}": ${cause?.message ?? (err as Error).message}`, err)
    }
  }

  private async authorize(challenges: Challenge[], signal?: AbortSignal): Promise<string | undefined> {
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm)
    if (bearer) return `Bearer ${await this.fetchToken(bearer, signal)}`
    if (challenges.some((c) => c.scheme === 'basic')) return basicAuthorization(this.auth)
    return undefined
  }

  /** The token flow with this push's own scopes rather than the challenge's (which names one request's). */
  private fetchToken(ch: Challenge, signal?: AbortSignal): Promise<string> {
    return fetchBearerToken({
      challenge: ch,
      scopes: this.scopes,
      auth: this.auth,
      endpoint: this.endpoint,
      userAgent: this.opts.userAgent ?? 'berth',
      ...(signal ? { signal } : {}),
      unauthorized: (m) => `unauthorized: ${m}`,
    })
  }
}

/** A session URL with `digest=` added, keeping the registry's own query (its upload state). */
export function withDigest(location: string, digest: string): string {
  if (!isDigest(digest)) throw invalidArgument(`invalid blob digest ${digest}`)
  const u = new URL(location)
  u.searchParams.set('digest', digest)
  return u.href
}

/**
 * A source cut into consecutive parts of given lengths without copying:
 * a chunk that spans two parts is split into two views.
 */
export class Parts {
  /** Bytes handed out so far. */
  read = 0
  /** The source ended before a part was complete. */
  short = false
  private readonly it: AsyncIterator<Uint8Array> | Iterator<Uint8Array>
  private rest: Uint8Array | undefined

  constructor(src: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
    this.it = Symbol.asyncIterator in src ? src[Symbol.asyncIterator]() : src[Symbol.iterator]()
  }

  /** The next len bytes; throws if the source ends first. */
  async *take(len: number): AsyncGenerator<Uint8Array> {
    let left = len
    while (left > 0) {
      let c = this.rest
      this.rest = undefined
      if (c === undefined) {
        const r = await this.it.next()
        if (r.done) {
          this.short = true
          throw new Error(`source ended ${left} bytes before the end of the part`)
        }
        c = r.value
      }
      if (c.length > left) {
        this.rest = c.subarray(left)
        c = c.subarray(0, left)
      }
      left -= c.length
      this.read += c.length
      if (c.length > 0) yield c
    }
  }

  /** Stop the source early (a failed upload): a file stream closes its descriptor. */
  async close(): Promise<void> {
    await this.it.return?.()
  }

  /** Whether nothing is left (reads one more chunk to know). */
  async atEnd(): Promise<boolean> {
    if (this.rest !== undefined && this.rest.length > 0) return false
    for (;;) {
      const r = await this.it.next()
      if (r.done) return true
      if (r.value.length > 0) return false
    }
  }
}

async function* counting(src: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, add: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const c of src) {
    add(c.length)
    yield c
  }
}

/** fetch wants a web ReadableStream for a streamed body. */
function streamBody(src: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const it = src[Symbol.asyncIterator]()
  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      const r = await it.next()
      if (r.done) ctl.close()
      else ctl.enqueue(r.value)
    },
    async cancel() {
      await it.return?.()
    },
  })
}
