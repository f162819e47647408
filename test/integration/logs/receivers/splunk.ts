/**
 * A Splunk HTTP Event Collector for tests: /services/collector/event/1.0
 * over http or https, `Authorization: Splunk <token>` checked with HEC's
 * answers (401 no token, 403 invalid token), gzip bodies decoded, and the
 * back-to-back event objects of a batch split apart. OPTIONS answers 200,
 * as the health check dockerd's splunk-verify-connection makes expects.
 */
import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'

export const HEC_PATH = '/services/collector/event/1.0'

export interface HecEvent {
  event: unknown
  time: string
  host: string
  source?: string
  sourcetype?: string
  index?: string
}

export interface HecRequest {
  method: string
  url: string
  headers: http.IncomingHttpHeaders
  /** The decoded body (gunzipped when Content-Encoding says so). */
  body: string
  status: number
}

export interface SplunkReceiverOptions {
  token: string
  port?: number
  /** Serve https with this key and certificate (PEM). */
  tls?: { key: string | Buffer; cert: string | Buffer }
}

export class SplunkReceiver {
  readonly events: HecEvent[] = []
  readonly requests: HecRequest[] = []
  /** Answer every POST with this status (e.g. 503) instead of the normal rules, while set. */
  failWith: number | undefined
  token: string

  private constructor(
    private readonly server: http.Server,
    readonly port: number,
    readonly scheme: 'http' | 'https',
    o: SplunkReceiverOptions,
  ) {
    this.token = o.token
  }

  /** The splunk-url for this receiver. */
  get url(): string {
    return `${this.scheme}://127.0.0.1:${this.port}`
  }

  static async listen(o: SplunkReceiverOptions): Promise<SplunkReceiver> {
    const server = o.tls ? https.createServer({ key: o.tls.key, cert: o.tls.cert }) : http.createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(o.port ?? 0, '127.0.0.1', resolve)
    })
    const r = new SplunkReceiver(server, (server.address() as AddressInfo).port, o.tls ? 'https' : 'http', o)
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => void r.serve(req, res))
    return r
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    let raw = Buffer.concat(chunks)
    const answer = (status: number, text: string, code: number) => {
      res.writeHead(status, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify({ text, code }))
      this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: raw.toString(), status })
    }
    if (req.url !== HEC_PATH) return answer(404, 'The requested URL was not found on this server.', 404)
    if (req.method === 'OPTIONS') return answer(200, 'Success', 0)
    if (req.method !== 'POST') return answer(405, 'Method not allowed', 405)
    if (this.failWith !== undefined) return answer(this.failWith, 'Server is busy', 9)
    const auth = req.headers.authorization
    if (!auth) return answer(401, 'Token is required', 2)
    if (auth !== `Splunk ${this.token}`) return answer(403, 'Invalid token', 4)
    if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw)
    let events: HecEvent[]
    try {
      events = splitEvents(raw.toString()).map((t) => JSON.parse(t) as HecEvent)
    } catch {
      return answer(400, 'Invalid data format', 6)
    }
    this.events.push(...events)
    answer(200, 'Success', 0)
  }

  /** The events once there are at least n, within ms. */
  async waitFor(n: number, ms = 20_000): Promise<HecEvent[]> {
    const end = Date.now() + ms
    while (this.events.length < n) {
      if (Date.now() > end) throw new Error(`splunk receiver: ${this.events.length} of ${n} events after ${ms}ms`)
      await new Promise((r) => setTimeout(r, 25))
    }
    return this.events
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}

/** The top-level JSON objects of a body written back to back, as HEC reads a batch. */
export function splitEvents(body: string): string[] {
  const out: string[] = []
  let depth = 0
  let start = -1
  let inString = false
  for (let i = 0; i < body.length; i++) {
    const c = body[i]
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
      continue
    }
    if (c === '"') inString = true
    else if (c === '{') {
      if (depth++ === 0) start = i
    } else if (c === '}') {
      if (--depth === 0) out.push(body.slice(start, i + 1))
    } else if (depth === 0 && c.trim() !== '') throw new Error(`unexpected ${c} between events`)
  }
  if (depth !== 0) throw new Error('truncated event')
  return out
}
