import http from 'node:http'
import type { Duplex } from 'node:stream'
import { promises as fsp } from 'node:fs'
import path from 'node:path'
import { EngineError, kindOf, messageOf } from '../../errors/index.js'
import type { Logger } from '../../lib/index.js'
import { Ctx } from './context.js'
import { statusOf } from './http-status.js'
import type { Router } from './router.js'

export const API_VERSION = '1.50'
export const MIN_API_VERSION = '1.24'
const MAX_MINOR = 50
const MIN_MINOR = 24

export interface ServerOptions {
  router: Router
  logger: Logger
  /** Value of the Server header, e.g. "berth/0.1.0 (linux)". */
  serverName: string
  /** Extra headers for /_ping (Swarm state and the like), computed per request. */
  pingHeaders?: () => Record<string, string>
}

/**
 * The Engine API over HTTP/1.1: version prefixes, docker's headers, errors as
 * `{"message": ...}`, and connection upgrades for attach/exec.
 */
export class ApiServer {
  private readonly servers: http.Server[] = []
  private readonly sockets = new Set<Duplex>()

  constructor(private readonly opts: ServerOptions) {}

  /** Listen on a unix socket (mode 0660, group root). */
  async listenUnix(socketPath: string): Promise<void> {
    await fsp.mkdir(path.dirname(socketPath), { recursive: true })
    await fsp.rm(socketPath, { force: true })
    const srv = this.makeServer()
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject)
      srv.listen(socketPath, () => {
        srv.off('error', reject)
        resolve()
      })
    })
    await fsp.chmod(socketPath, 0o660)
    this.servers.push(srv)
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))))
  }

  private makeServer(): http.Server {
    const srv = http.createServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 5_000 })
    srv.on('request', (req, res) => {
      void this.dispatch(req, res, undefined)
    })
    srv.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
      socket.on('error', () => {})
      void this.dispatch(req, undefined, { socket, head })
    })
    srv.on('connection', (s: Duplex) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
    srv.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')
    })
    return srv
  }

  private baseHeaders(): Record<string, string> {
    return {
      Server: this.opts.serverName,
      'Api-Version': API_VERSION,
      Ostype: 'linux',
      'Docker-Experimental': 'false',
    }
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse | undefined, upgrade?: { socket: Duplex; head: Buffer }): Promise<void> {
    const headers = this.baseHeaders()
    let ctx: Ctx | undefined
    try {
      const url = new URL(req.url ?? '/', 'http://berth')
      let p = url.pathname
      let minor = MAX_MINOR
      const vm = /^\/v(\d+)\.(\d+)(\/.*)$/.exec(p)
      if (vm) {
        const major = Number(vm[1])
        minor = Number(vm[2])
        p = vm[3] ?? '/'
        if (major > 1 || (major === 1 && minor > MAX_MINOR)) {
          throw new EngineError('invalid-argument', `client version ${vm[1]}.${vm[2]} is too new. Maximum supported API version is ${API_VERSION}`)
        }
        if (major < 1 || minor < MIN_MINOR) {
          throw new EngineError('invalid-argument', `client version ${vm[1]}.${vm[2]} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`)
        }
      }
      if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1)
      if (p === '/_ping') {
        Object.assign(headers, this.opts.pingHeaders?.() ?? {}, { 'Builder-Version': '1', 'Cache-Control': 'no-cache, no-store, must-revalidate', Pragma: 'no-cache' })
      }
      const m = this.opts.router.match(req.method ?? 'GET', p)
      if ('allowed' in m) {
        if (m.allowed.length > 0) {
          ctx = new Ctx(req, res, {}, url.searchParams, minor, upgrade, headers)
          return this.fail(ctx, req, res, upgrade, headers, new EngineError('not-found', `page not found`), 405)
        }
        throw new EngineError('not-found', 'page not found')
      }
      ctx = new Ctx(req, res, m.params, url.searchParams, minor, upgrade, headers)
      await m.handler(ctx)
    } catch (err) {
      // A client still uploading (a tar for import or load) must read the error,
      // not a reset: take the rest of its body first, within limits.
      if (!upgrade && res && !res.headersSent && !req.complete) await drain(req)
      this.fail(ctx, req, res, upgrade, headers, err)
    }
  }

  private fail(ctx: Ctx | undefined, req: http.IncomingMessage, res: http.ServerResponse | undefined, upgrade: { socket: Duplex } | undefined, headers: Record<string, string>, err: unknown, forceStatus?: number): void {
    const status = forceStatus ?? statusOf[kindOf(err)]
    const message = messageOf(err)
    if (status >= 500) this.opts.logger.error('request failed', { method: req.method, url: req.url, err })
    else this.opts.logger.debug('request refused', { method: req.method, url: req.url, status, message })
    if (ctx?.isHijacked) {
      // The stream is already raw: docker sends the error as text on it.
      return
    }
    const body = status === 304 ? '' : JSON.stringify({ message }) + '\n'
    if (upgrade) {
      const s = upgrade.socket
      if (s.writable) {
        s.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
      }
      return
    }
    if (!res) return
    if (res.headersSent) {
      // A streamed response that failed midway: docker ends it with an error message in-band.
      if (!res.writableEnded) res.end(JSON.stringify({ errorDetail: { message }, error: message }) + '\n')
      return
    }
    if (!req.complete) res.shouldKeepAlive = false
    if (status === 304) {
      res.writeHead(304, headers)
      res.end()
      return
    }
    res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) })
    res.end(body)
  }
}

/** Read and drop what is left of a request body, for at most 5 s or 1 GiB. */
function drain(req: http.IncomingMessage): Promise<void> {
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
