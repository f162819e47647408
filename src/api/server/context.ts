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
    const n = Number(v)
    if (!Number.isFinite(n)) throw invalidArgument(`invalid value for ${name}: ${JSON.stringify(v)}`)
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
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalidArgument(`invalid filter: ${raw}`)
    for (const [k, v] of Object.entries(parsed)) {
      if (Array.isArray(v)) out.set(k, v.map(String))
      else if (v && typeof v === 'object') out.set(k, Object.keys(v).filter((x) => (v as Record<string, unknown>)[x]))
      else throw invalidArgument(`invalid filter: ${raw}`)
    }
    return out
  }

  /** The request body as a stream (tar uploads). */
  body(): Readable {
    if (this.upgrade) return Readable.from((async function* (ctx: Ctx) { yield await ctx.upgradeBody() })(this))
    return this.req
  }

  /** Parse a JSON body; empty → undefined. Malformed or oversized bodies are 400s. */
  async json<T = unknown>(): Promise<T | undefined> {
    let buf: Buffer
    if (this.upgrade) buf = await this.upgradeBody()
    else {
      const chunks: Buffer[] = []
      let size = 0
      for await (const c of this.req as AsyncIterable<Buffer>) {
        size += c.length
        if (size > MAX_JSON_BODY) throw invalidArgument('request body is too large')
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
    if (body === undefined || status === 204 || status === 304) {
      res.writeHead(status, this.headers)
      res.end()
      return
    }
    const text = JSON.stringify(body) + '\n'
    res.writeHead(status, { ...this.headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
    res.end(text)
  }

  sendText(status: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
    const res = this.mustRes()
    res.writeHead(status, { ...this.headers, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) })
    res.end(this.req.method === 'HEAD' ? undefined : text)
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
      end: () => res.end(),
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
