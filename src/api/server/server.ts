import http from 'node:http'
import https from 'node:https'
import type { Duplex } from 'node:stream'
import { promises as fsp } from 'node:fs'
import path from 'node:path'
import { EngineError, kindOf, messageOf } from '../../errors/index.js'
import type { Logger } from '../../lib/index.js'
import { Ctx, drain, hasUnreadBody } from './context.js'
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
  /**
   * How long a client may take to send a request's headers before the
   * connection is closed with 408 (slow senders); default 60 s. Bodies have
   * no such bound: uploads (load, import, build contexts) take as long as
   * they take, as with dockerd.
   */
  headersTimeoutMs?: number
  /** Called as each request arrives (the daemon's idle memory collection keys off it). */
  onActivity?: () => void
}

/** PEM material of a TLS listener. */
export interface TlsOptions {
  cert: Buffer
  key: Buffer
  /** Client CA; used only with verify. */
  ca?: Buffer
  /** Require and verify a client certificate signed by `ca`. */
  verify: boolean
}

/**
 * The Engine API over HTTP/1.1: version prefixes, docker's headers, errors as
 * `{"message": ...}`, and connection upgrades for attach/exec.
 */
export class ApiServer {
  private readonly servers: http.Server[] = []
  private readonly sockets = new Set<Duplex>()

  constructor(private readonly opts: ServerOptions) {}

  /**
   * Listen on a unix socket, root:`gid` mode 0660 (go-connections
   * NewUnixSocket, as dockerd): whoever can open it is root on this host.
   * The socket is made under umask 0777, so it is never open to anyone
   * before its mode and group are set.
   */
  async listenUnix(socketPath: string, gid = 0): Promise<void> {
    await fsp.mkdir(path.dirname(socketPath), { recursive: true })
    await fsp.rm(socketPath, { force: true })
    const srv = this.makeServer()
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject)
      // Node binds a path synchronously inside listen(): the umask covers the bind and nothing else.
      const old = process.umask(0o777)
      try {
        srv.listen(socketPath, () => {
          srv.off('error', reject)
          resolve()
        })
      } finally {
        process.umask(old)
      }
    })
    // Only root may give a file away; a server run by a user (tests) keeps its own.
    if (process.getuid?.() === 0) await fsp.chown(socketPath, 0, gid)
    await fsp.chmod(socketPath, 0o660)
    this.servers.push(srv)
  }

  /**
   * Listen on TCP, with TLS when `tls` is given (dockerd's tlsconfig.Server:
   * only `tls.ca` is trusted for client certificates, and with `verify` a
   * client without one signed by it is refused in the handshake).
   */
  async listenTcp(host: string, port: number, tls?: TlsOptions): Promise<void> {
    const srv = this.makeServer(tls)
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject)
      srv.listen(port, host, () => {
        srv.off('error', reject)
        resolve()
      })
    })
    this.servers.push(srv)
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))))
  }

  private makeServer(tls?: TlsOptions): http.Server {
    const headersTimeout = this.opts.headersTimeoutMs ?? 60_000
    // Node checks for expired headers every connectionsCheckingInterval (30 s by default): often enough that the bound holds.
    const httpOpts = { requestTimeout: 0, headersTimeout, keepAliveTimeout: 5_000, connectionsCheckingInterval: Math.min(headersTimeout, 5_000) }
    const srv: http.Server = tls
      ? https.createServer({
        ...httpOpts,
        cert: tls.cert,
        key: tls.key,
        ...(tls.verify ? { ca: tls.ca, requestCert: true, rejectUnauthorized: true } : {}),
        // As Go's crypto/tls default floor for servers.
        minVersion: 'TLSv1.2',
        // As http.Server's sockets: a hijacked client that half-closes (close_notify) still reads the output.
        allowHalfOpen: true,
      })
      : http.createServer(httpOpts)
    if (tls) {
      srv.on('tlsClientError', (err: Error) => this.opts.logger.debug('TLS handshake refused', { reason: err.message }))
    }
    srv.on('request', (req, res) => {
      this.opts.onActivity?.()
      void this.dispatch(req, res, undefined)
    })
    srv.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      this.opts.onActivity?.()
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
      socket.on('error', () => {})
      void this.dispatch(req, undefined, { socket, head })
    })
    srv.on('connection', (s: Duplex) => {
      this.sockets.add(s)
      s.on('close', () => this.sockets.delete(s))
    })
    srv.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      // What Node's own handler would say: slow headers are a 408, oversized ones a 431, the rest a 400.
      const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400
      if (socket.writable) socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nConnection: close\r\n\r\n`)
      else socket.destroy()
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
      // dockerd answers a known path with another method as it answers an unknown
      // path (its MethodNotAllowedHandler is the not-found one): 404 page not found.
      if ('allowed' in m) throw new EngineError('not-found', 'page not found')
      ctx = new Ctx(req, res, m.params, url.searchParams, minor, upgrade, headers)
      await m.handler(ctx)
    } catch (err) {
      // A client still uploading (a tar for import or load) must read the error,
      // not a reset: take the rest of its body first, within limits. A body refused
      // for its size gets its answer at once and is drained (never kept) after.
      if (!upgrade && res && !res.headersSent && hasUnreadBody(req)) {
        const rest = () => (ctx ? ctx.drainBody() : drain(req))
        if (ctx?.bodyRefused) return this.fail(ctx, req, res, upgrade, headers, err, rest)
        await rest()
      }
      this.fail(ctx, req, res, upgrade, headers, err)
    }
  }

  private fail(ctx: Ctx | undefined, req: http.IncomingMessage, res: http.ServerResponse | undefined, upgrade: { socket: Duplex } | undefined, headers: Record<string, string>, err: unknown, linger?: () => Promise<void>): void {
    const status = statusOf[kindOf(err)]
    // A URL the client gave (import fromSrc, build remote) may carry user:password: never echoed, never logged.
    const message = redactCredentials(diskFull(err) ? `no space left on device (berth.db: ${messageOf(err)})` : messageOf(err))
    const url = redactQuery(req.url ?? '')
    if (status >= 500) this.opts.logger.error('request failed', { method: req.method, url, err: redactCredentials(errorText(err)) })
    else this.opts.logger.debug('request refused', { method: req.method, url, status, message })
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
      if (!res.writableEnded) {
        res.write(JSON.stringify({ errorDetail: { message }, error: message }) + '\n')
        // The connection ends only once the client is done sending, so it reads the message.
        void (ctx ? ctx.drainBody() : Promise.resolve()).then(() => res.end())
      }
      return
    }
    if (hasUnreadBody(req)) res.shouldKeepAlive = false
    if (status === 304) {
      res.writeHead(304, headers)
      res.end()
      return
    }
    res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) })
    if (!linger) {
      res.end(body)
      return
    }
    // The whole answer is on the wire (its length is declared); the connection ends after linger.
    res.write(body)
    void linger().then(() => res.end())
  }
}

/** `scheme://user:password@` in free text becomes `scheme://user:xxxxx@`. */
export function redactCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]*):([^\s/@]*)@/gi, '$1$2:xxxxx@')
}

/** A request URL for the log: query values with credentials redacted (they arrive percent-encoded). */
export function redactQuery(url: string): string {
  const q = url.indexOf('?')
  if (q < 0) return url
  let params: URLSearchParams
  try {
    params = new URLSearchParams(url.slice(q + 1))
  } catch {
    return url.slice(0, q)
  }
  let changed = false
  for (const [k, v] of [...params]) {
    const r = redactCredentials(v)
    if (r !== v) {
      params.set(k, r)
      changed = true
    }
  }
  return changed ? `${url.slice(0, q)}?${params.toString()}` : url
}

/** An error with its causes and stack, as text the log can carry once redacted. */
function errorText(err: unknown): string {
  const parts: string[] = []
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 8; depth++) {
    if (e instanceof Error) {
      parts.push(e.stack ?? e.message)
      e = e.cause
    } else {
      parts.push(String(e))
      break
    }
  }
  return parts.join('\ncaused by: ')
}

/** SQLite's "database or disk is full" anywhere on the cause chain: the user must read docker's words for a full disk. */
function diskFull(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) if ((e as NodeJS.ErrnoException).code === 'SQLITE_FULL') return true
  return false
}
