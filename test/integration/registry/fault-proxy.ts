/**
 * An HTTP proxy on 127.0.0.1 in front of a real registry that misbehaves on
 * demand, for pull fault tests: what a broken CDN, a captive portal or a
 * flaky link does to a pull. With no fault set it forwards every request
 * unchanged; it records what it was asked (method, path, Range) either way.
 */
import http from 'node:http'
import type net from 'node:net'

export type Fault =
  /** A proxy's error page: status 500, text/html. */
  | { kind: 'html-500'; on: 'manifest' | 'blob'; digest?: string }
  /** A login or landing page answered 200 for a manifest. */
  | { kind: 'html-200-manifest' }
  /** 302 to the same URL, forever. */
  | { kind: 'redirect-loop'; on: 'manifest' | 'blob'; digest?: string }
  /** 5 MiB of manifest: announced in Content-Length, or chunked with none. */
  | { kind: 'huge-manifest'; contentLength: boolean }
  /** The registry's manifest, changed by `edit` (served with `contentType` when given). */
  | { kind: 'manifest'; edit: (doc: Record<string, unknown>) => void; contentType?: string }
  /**
   * Close the connection after `after` bytes of the blob's body, for the
   * first `times` answers (Infinity: always). `ignoreRange` drops the
   * client's Range header, as a server without range support would.
   */
  | { kind: 'cut'; digest: string; after: number; times: number; ignoreRange?: boolean }
  /** Flip one byte in the middle of the blob. */
  | { kind: 'corrupt'; digest: string }
  /** Send the first half of the blob with a Content-Length saying that is all of it. */
  | { kind: 'short'; digest: string }
  /** Answer for `digest` with the bytes of another blob, `with`. */
  | { kind: 'swap'; digest: string; with: string }

export interface SeenRequest {
  method: string
  path: string
  range: string | undefined
}

const HTML = '<!DOCTYPE html><html><head><title>Service unavailable</title></head><body><h1>Oops</h1><p>The gateway had a problem.</p></body></html>'
const CUT_DELAY_MS = 100
const MANIFEST_RE = /^\/v2\/.+\/manifests\/[^/]+$/
const BLOB_RE = /^\/v2\/.+\/blobs\/(sha256:[a-f0-9]{64})$/

export class FaultProxy {
  /** The fault in force; undefined forwards everything untouched. */
  fault: Fault | undefined
  readonly seen: SeenRequest[] = []
  private cuts = 0

  private constructor(private readonly server: http.Server, readonly host: string, private readonly upstream: string) {}

  /** Listen on a free loopback port in front of `upstream` (`127.0.0.1:5000`). */
  static async start(upstream: string): Promise<FaultProxy> {
    const server = http.createServer()
    await new Promise<void>((resolve, reject) => server.listen(0, '127.0.0.1', resolve).on('error', reject))
    const port = (server.address() as net.AddressInfo).port
    const proxy = new FaultProxy(server, `127.0.0.1:${port}`, upstream)
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      proxy.handle(req, res).catch(() => res.destroy())
    })
    return proxy
  }

  /** Set a fault (or none) and forget what was seen and cut so far. */
  set(fault: Fault | undefined): void {
    this.fault = fault
    this.cuts = 0
    this.seen.length = 0
  }

  /** Requests seen for one blob, in order. */
  blobRequests(digest: string): SeenRequest[] {
    return this.seen.filter((r) => r.method === 'GET' && r.path.endsWith(`/blobs/${digest}`))
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://proxy')
    const range = typeof req.headers.range === 'string' ? req.headers.range : undefined
    this.seen.push({ method: req.method ?? 'GET', path: url.pathname, range })
    res.on('error', () => {})
    const f = this.fault
    const isManifest = req.method === 'GET' && MANIFEST_RE.test(url.pathname)
    const blob = req.method === 'GET' ? BLOB_RE.exec(url.pathname)?.[1] : undefined
    const onBlob = (d?: string) => blob !== undefined && (d === undefined || d === blob)

    if (f?.kind === 'html-500' && ((f.on === 'manifest' && isManifest) || (f.on === 'blob' && onBlob(f.digest)))) {
      res.writeHead(500, 'Internal Server Error', { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(HTML) })
      return void res.end(HTML)
    }
    if (f?.kind === 'html-200-manifest' && isManifest) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(HTML) })
      return void res.end(HTML)
    }
    if (f?.kind === 'redirect-loop' && ((f.on === 'manifest' && isManifest) || (f.on === 'blob' && onBlob(f.digest)))) {
      res.writeHead(302, { location: url.pathname, 'content-length': 0 })
      return void res.end()
    }
    if (f?.kind === 'huge-manifest' && isManifest) return this.huge(res, f.contentLength)
    if (f?.kind === 'manifest' && isManifest) {
      const up = await this.forward(req, url.pathname)
      const raw = await collect(up)
      if (up.statusCode !== 200) {
        res.writeHead(up.statusCode ?? 502, up.headers)
        return void res.end(raw)
      }
      const doc = JSON.parse(raw.toString('utf8')) as Record<string, unknown>
      f.edit(doc)
      const body = Buffer.from(JSON.stringify(doc))
      res.writeHead(200, { 'content-type': f.contentType ?? up.headers['content-type'] ?? 'application/json', 'content-length': body.length })
      return void res.end(body)
    }

    if (f?.kind === 'swap' && onBlob(f.digest)) {
      const up = await this.forward(req, url.pathname.replace(f.digest, f.with))
      return this.relay(up, res)
    }
    const cut = f?.kind === 'cut' && onBlob(f.digest) && this.cuts < f.times ? f : undefined
    const up = await this.forward(req, url.pathname + url.search, cut?.ignoreRange === true)
    if (cut && up.statusCode !== undefined && up.statusCode < 300) {
      this.cuts++
      return this.cutAfter(up, res, cut.after)
    }
    if (f?.kind === 'corrupt' && onBlob(f.digest) && up.statusCode === 200) return this.corrupt(up, res)
    if (f?.kind === 'short' && onBlob(f.digest) && up.statusCode === 200) {
      const whole = await collect(up)
      const half = whole.subarray(0, whole.length >> 1)
      res.writeHead(200, { ...up.headers, 'content-length': half.length })
      return void res.end(half)
    }
    return this.relay(up, res)
  }

  /** The same request to the registry; its answer. */
  private forward(req: http.IncomingMessage, pathAndQuery: string, dropRange = false): Promise<http.IncomingMessage> {
    const [hostname, port] = this.upstream.split(':') as [string, string]
    const headers = { ...req.headers, host: this.upstream }
    if (dropRange) delete headers.range
    return new Promise((resolve, reject) => {
      const out = http.request({ hostname, port: Number(port), method: req.method, path: pathAndQuery, headers }, resolve)
      out.on('error', reject)
      req.pipe(out)
    })
  }

  private relay(up: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(up.statusCode ?? 502, up.statusMessage, up.headers)
    up.pipe(res)
  }

  /**
   * Headers as the registry sent them (the full Content-Length), `after`
   * bytes, then the socket closes. The close waits a moment: fetch drops
   * bytes it received but was not yet asked for when the stream errors, and
   * the tests want the client to have kept some (so its retry is a Range).
   */
  private cutAfter(up: http.IncomingMessage, res: http.ServerResponse, after: number): void {
    res.writeHead(up.statusCode ?? 200, up.statusMessage, up.headers)
    let sent = 0
    up.on('data', (c: Buffer) => {
      if (sent >= after) return
      const part = c.subarray(0, after - sent)
      sent += part.length
      if (sent < after) return void res.write(part)
      up.destroy()
      res.write(part, () => setTimeout(() => res.socket?.destroy(), CUT_DELAY_MS))
    })
    up.on('end', () => res.end())
  }

  private corrupt(up: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(200, up.statusMessage, up.headers)
    const at = Math.floor(Number(up.headers['content-length'] ?? 2) / 2)
    let pos = 0
    up.on('data', (c: Buffer) => {
      const out = Buffer.from(c)
      if (at >= pos && at < pos + out.length) out[at - pos] = (out[at - pos] as number) ^ 0xff
      pos += out.length
      res.write(out)
    })
    up.on('end', () => res.end())
  }

  private huge(res: http.ServerResponse, withLength: boolean): void {
    const total = 5 << 20
    const headers: Record<string, string | number> = { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }
    if (withLength) headers['content-length'] = total
    res.writeHead(200, headers)
    const chunk = Buffer.alloc(64 << 10, 0x20)
    let sent = 0
    const pump = (): void => {
      while (sent < total && !res.destroyed) {
        sent += chunk.length
        if (!res.write(chunk)) return void res.once('drain', pump)
      }
      if (!res.destroyed) res.end()
    }
    pump()
  }
}

function collect(src: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = []
    src.on('data', (c: Buffer) => parts.push(c))
    src.on('end', () => resolve(Buffer.concat(parts)))
    src.on('error', reject)
  })
}
