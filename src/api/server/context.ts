import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { Readable } from 'node:stream'
import { invalidArgument } from '../../errors/index.js'

export const MAX_JSON_BODY = 16 * 1024 * 1024

/** How a handler takes over the connection for attach/exec streams. */
export interface Hijacked {
  socket: Duplex
  /** Bytes the client sent after the request body (early stdin). */
  rest: Buffer
}

/**
 * Everything a handler sees of one request. Handlers throw EngineErrors; the
 * server turns them into docker's `{"message": ...}` bodies.
 */
export class Ctx {
  readonly query: URLSearchParams
  private hijacked = false

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse | undefined,
    readonly params: Record<string, string>,
    query: URLSearchParams,
    /** Minor API version of the request: 50 for v1.50 (every supported version is 1.x). */
    readonly version: number,
    /** For upgrade requests: the socket and the bytes Node read past the headers. */
    private readonly upgrade?: { socket: Duplex; head: Buffer },
    serverHeaders: Record<string, string> = {},
  ) {
    this.query = query
    this.headers = { ...serverHeaders }
  }

  /** Headers of this response: the server's, and any a route sets. */
  private readonly headers: Record<string, string>

  /** Add a header to the response this route will send (cp's X-Docker-Container-Path-Stat). */
  setHeader(name: string, value: string): void {
    this.headers[name] = value
  }

  /** True when the client asked for a connection upgrade (hijack). */
  get isUpgrade(): boolean {
    return this.upgrade !== undefined
  }

  get isHijacked(): boolean {
    return this.hijacked
  }

  /** Query flag as docker reads it: 1, true, True are true. */
  bool(name: string, dflt = false): boolean {
    const v = this.query.get(name)
    if (v === null || v === '') return dflt
    return !(v === '0' || v.toLowerCase() === 'false')
  }

  int(name: string, dflt?: number): number | undefined {
    const v = this.query.get(name)
    if (v === null || v === '') return dflt
    // strconv.Atoi: decimal digits with an optional sign, nothing else (no 1.5, 1e3 or 0x10).
    const n = /^[+-]?\d+$/.test(v) ? Number(v) : NaN
    if (!Number.isSafeInteger(n)) throw invalidArgument(`invalid value for ${name}: strconv.Atoi: parsing ${JSON.stringify(v)}: ${Number.isNaN(n) ? 'invalid syntax' : 'value out of range'}`)
    return n
  }

  /** docker's JSON filter map form: {"key":{"value":true}} (or the old {"key":["value"]}). */
  filters(): Map<string, string[]> {
    const raw = this.query.get('filters')
    const out = new Map<string, string[]>()
    if (!raw) return out
    let parsed: unknown
    try {
      parsed = JSON.parse(raw)
    } catch {
      throw invalidArgument(`invalid filter: ${raw}`)
    }
    // Go unmarshals `null` into a map as no filters at all.
    if (parsed === null) return out
    if (typeof parsed !== 'object' || Array.isArray(parsed)) throw invalidArgument(`invalid filter: ${raw}`)
    // As docker's filters.FromJSON: {"key": {"value": bool}} or {"key": ["value"]}, nothing else
    // (an element that is not a string, such as {"toString": 1}, is a 400, not a TypeError).
    for (const [k, v] of Object.entries(parsed)) {
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out.set(k, v)
      else if (v && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'boolean')) {
        out.set(k, Object.keys(v).filter((x) => (v as Record<string, boolean>)[x]))
      } else throw invalidArgument(`invalid filter: ${raw}`)
    }
    return out
  }

  private bodyStream?: Readable
  private releaseBody?: () => void

  /**
   * The request body as a stream (tar uploads). Not the request itself: a
   * consumer that gives up and destroys it (a refused archive) must not take
   * the connection down with it, since the error still has to go out on it.
   * Destroying it only stops reading; drainBody() takes the rest.
   */
  body(): Readable {
    if (this.upgrade) return Readable.from((async function* (ctx: Ctx) { yield await ctx.upgradeBody() })(this))
    if (this.bodyStream) return this.bodyStream
    const req = this.req
    const onData = (c: Buffer) => {
      if (!out.push(c)) req.pause()
    }
    const onEnd = () => out.push(null)
    const onError = (e: Error) => out.destroy(e)
    // A client gone before the end of its body: the consumer sees an error, not a stream that never ends.
    const onClose = () => {
      if (!req.complete && !out.destroyed) out.destroy(new Error('the client closed the connection before the end of the request body'))
    }
    const release = () => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('close', onClose)
      req.pause()
    }
    const out = new Readable({
      // Node's request chunks are up to 64 KiB: room for several before the request is paused.
      highWaterMark: 1 << 20,
      read: () => {
        req.resume()
      },
      destroy: (err, cb) => {
        release()
        cb(err)
      },
    })
    req.on('data', onData)
    req.once('end', onEnd)
    req.once('error', onError)
    req.once('close', onClose)
    req.pause()
    this.bodyStream = out
    this.releaseBody = release
    return out
  }

  /**
   * Read and drop what is left of the request body, for at most 5 s or 1 GiB:
   * a client still uploading then reads the answer rather than a reset.
   */
  drainBody(): Promise<void> {
    this.releaseBody?.()
    if (this.upgrade || !hasUnreadBody(this.req)) return Promise.resolve()
    return drain(this.req)
  }

  /** Parse a JSON body; empty → undefined. Malformed or oversized bodies are 400s. */
  async json<T = unknown>(): Promise<T | undefined> {
    let buf: Buffer
    if (this.upgrade) buf = await this.upgradeBody()
    else {
      // Refused before a byte is read when the length says so, and as soon as a
      // chunked body passes the limit: the rest is never read, let alone kept.
      const declared = Number(this.req.headers['content-length'] ?? 0)
      if (declared > MAX_JSON_BODY) throw this.tooLarge()
      const chunks: Buffer[] = []
      let size = 0
      for await (const c of this.body() as AsyncIterable<Buffer>) {
        size += c.length
        if (size > MAX_JSON_BODY) throw this.tooLarge()
        chunks.push(c)
      }
      buf = Buffer.concat(chunks)
    }
    const text = buf.toString('utf8').trim()
    if (text === '') return undefined
    try {
      return JSON.parse(text) as T
    } catch (err) {
      throw invalidArgument(`invalid JSON: ${(err as Error).message}`)
    }
  }

  /** True once the body was refused unread: the server answers at once and closes the connection. */
  bodyRefused = false

  private tooLarge(): Error {
    this.bodyRefused = true
    return invalidArgument(`request body is too large (more than ${MAX_JSON_BODY} bytes)`)
  }

  private upgradeBuf?: Buffer
  private afterBody: Buffer = Buffer.alloc(0)

  /**
   * An upgrade request's body (exec start's JSON): Content-Length bytes, from
   * what Node read past the headers and, when that is short, from the socket.
   * Whatever follows is the client's first stdin, kept for hijack(). The
   * socket is left paused; the hijacker resumes it.
   */
  private async upgradeBody(): Promise<Buffer> {
    if (this.upgradeBuf) return this.upgradeBuf
    const up = this.upgrade
    if (!up) return Buffer.alloc(0)
    const n = Number(this.req.headers['content-length'] ?? 0)
    const len = Number.isFinite(n) && n > 0 ? Math.min(n, MAX_JSON_BODY) : 0
    let buf = up.head
    while (buf.length < len) {
      const chunk = await new Promise<Buffer | undefined>((resolve) => {
        const onData = (c: Buffer) => {
          cleanup()
          up.socket.pause()
          resolve(c)
        }
        const onEnd = () => {
          cleanup()
          resolve(undefined)
        }
        const cleanup = () => {
          up.socket.off('data', onData)
          up.socket.off('end', onEnd)
          up.socket.off('close', onEnd)
        }
        up.socket.on('data', onData)
        up.socket.once('end', onEnd)
        up.socket.once('close', onEnd)
        up.socket.resume()
      })
      if (!chunk) break
      buf = Buffer.concat([buf, chunk])
    }
    this.upgradeBuf = buf.subarray(0, len)
    this.afterBody = buf.subarray(len)
    return this.upgradeBuf
  }

  send(status: number, body?: unknown): void {
    const res = this.mustRes()
    this.closeIfUnread(res)
    if (body === undefined || status === 204 || status === 304) {
      res.writeHead(status, this.headers)
      this.end(res)
      return
    }
    const text = JSON.stringify(body) + '\n'
    res.writeHead(status, { ...this.headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
    this.end(res, text)
  }

  sendText(status: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
    const res = this.mustRes()
    this.closeIfUnread(res)
    res.writeHead(status, { ...this.headers, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) })
    this.end(res, this.req.method === 'HEAD' ? undefined : text)
  }

  /** An answer sent before the body was read ends the connection (set before the headers go out). */
  private closeIfUnread(res: ServerResponse): void {
    if (!this.upgrade && hasUnreadBody(this.req)) res.shouldKeepAlive = false
  }

  /**
   * End the response; when the handler answered before reading the whole
   * body (a refused upload), the answer is written first and the connection
   * ends only after the rest is drained, so the client reads it.
   */
  private end(res: ServerResponse, last?: string): void {
    if (this.upgrade || !hasUnreadBody(this.req)) {
      res.end(last)
      return
    }
    if (last !== undefined) res.write(last)
    void this.drainBody().then(() => res.end())
  }

  /** Start a streamed response and flush the headers at once (wait, logs -f, events). */
  stream(status: number, contentType: string): ServerResponse {
    const res = this.mustRes()
    res.writeHead(status, { ...this.headers, 'Content-Type': contentType })
    res.flushHeaders()
    return res
  }

  /** A newline-delimited JSON message stream (progress of load, pull, import). */
  jsonStream(): { write(msg: unknown): void; end(): void } {
    const res = this.stream(200, 'application/json')
    return {
      write: (msg) => {
        if (!res.writableEnded) res.write(JSON.stringify(msg) + '\r\n')
      },
      end: () => this.end(res),
    }
  }

  /**
   * Take over the connection for a raw bidirectional stream, as docker does for
   * attach and exec start: 101 when the client asked to upgrade, else a 200 that
   * is hijacked anyway. The socket may be paused: attach listeners, then
   * resume() it, so no early stdin is dropped.
   */
  hijack(contentType: string): Hijacked {
    this.hijacked = true
    const extra = Object.entries(this.headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')
    if (this.upgrade) {
      const { socket, head } = this.upgrade
      socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n${extra}\r\n`)
      // A handler that never read the body (attach) leaves all of head as early stdin.
      return { socket, rest: this.upgradeBuf ? this.afterBody : head }
    }
    const socket = this.req.socket
    const res = this.mustRes()
    // Detach the socket from Node's HTTP machinery: from here on it is raw bytes.
    res.detachSocket(socket)
    socket.removeAllListeners('timeout')
    socket.setTimeout(0)
    socket.write(`HTTP/1.1 200 OK\r\nContent-Type: ${contentType}\r\n${extra}\r\n`)
    return { socket, rest: Buffer.alloc(0) }
  }

  private mustRes(): ServerResponse {
    if (!this.res) throw new Error('this request was upgraded: only hijack() can answer it')
    return this.res
  }
}

/**
 * True while a request that has a body (a length or chunked) is still
 * sending it. A request without one is never "unread", though Node marks it
 * complete only once its end is read.
 */
export function hasUnreadBody(req: IncomingMessage): boolean {
  if (req.complete || req.destroyed) return false
  const h = req.headers
  return h['transfer-encoding'] !== undefined || Number(h['content-length'] ?? 0) > 0
}

/** Read and drop what is left of a request body, for at most 5 s or 1 GiB. */
export function drain(req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0
    const done = () => {
      clearTimeout(timer)
      req.off('data', count)
      resolve()
    }
    const count = (c: Buffer) => {
      seen += c.length
      if (seen > 1 << 30) done()
    }
    const timer = setTimeout(done, 5000)
    req.on('data', count)
    req.once('end', done)
    req.once('error', done)
    req.once('close', done)
    req.resume()
  })
}
