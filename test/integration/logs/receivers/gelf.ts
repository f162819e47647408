/**
 * A GELF receiver for tests: UDP on 127.0.0.1 reassembling chunked
 * messages and undoing gzip or zlib, and TCP splitting on NUL bytes. Each
 * message is kept with how it came (compression, chunk count).
 */
import dgram from 'node:dgram'
import net from 'node:net'
import { gunzipSync, inflateSync } from 'node:zlib'

export interface GelfRecord {
  transport: 'udp' | 'tcp'
  compression: 'gzip' | 'zlib' | 'none'
  chunks: number
  doc: Record<string, unknown> & { short_message: string; level: number; host: string; timestamp: number }
}

function decode(payload: Buffer): { compression: GelfRecord['compression']; json: string } {
  if (payload[0] === 0x1f && payload[1] === 0x8b) return { compression: 'gzip', json: gunzipSync(payload).toString() }
  if (payload[0] === 0x78) return { compression: 'zlib', json: inflateSync(payload).toString() }
  return { compression: 'none', json: payload.toString() }
}

export class GelfReceiver {
  readonly records: GelfRecord[] = []
  /** Documents that failed to decode, with the error. */
  readonly errors: string[] = []
  port = 0
  private readonly closers: Array<() => Promise<void>> = []
  private readonly waiters = new Set<() => void>()
  private readonly partial = new Map<string, { n: number; parts: Map<number, Buffer> }>()

  /** Listens on UDP or TCP; `port` 0 picks one (a fixed one brings a receiver up where a sender already points). */
  static async start(transport: 'udp' | 'tcp', port = 0): Promise<GelfReceiver> {
    const r = new GelfReceiver()
    if (transport === 'udp') await r.listenUDP(port)
    else await r.listenTCP(port)
    return r
  }

  private add(rec: Omit<GelfRecord, 'doc'> & { json: string }): void {
    try {
      const { json, ...rest } = rec
      this.records.push({ ...rest, doc: JSON.parse(json) as GelfRecord['doc'] })
    } catch (err) {
      this.errors.push(`${(err as Error).message}: ${rec.json}`)
    }
    for (const w of this.waiters) w()
  }

  private onDatagram(buf: Buffer): void {
    if (buf[0] === 0x1e && buf[1] === 0x0f) {
      const id = buf.subarray(2, 10).toString('hex')
      const seq = buf[10]!
      const n = buf[11]!
      const entry = this.partial.get(id) ?? { n, parts: new Map<number, Buffer>() }
      entry.parts.set(seq, buf.subarray(12))
      this.partial.set(id, entry)
      if (entry.parts.size < n) return
      this.partial.delete(id)
      const payload = Buffer.concat(Array.from({ length: n }, (_, i) => entry.parts.get(i) ?? Buffer.alloc(0)))
      this.add({ transport: 'udp', chunks: n, ...decode(payload) })
      return
    }
    this.add({ transport: 'udp', chunks: 1, ...decode(buf) })
  }

  private async listenUDP(port: number): Promise<void> {
    const s = dgram.createSocket('udp4')
    s.on('message', (buf) => this.onDatagram(buf))
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject)
      s.bind(port, '127.0.0.1', () => resolve())
    })
    this.port = s.address().port
    this.closers.push(() => new Promise<void>((resolve) => s.close(() => resolve())))
  }

  private async listenTCP(port: number): Promise<void> {
    const socks = new Set<net.Socket>()
    const server = net.createServer((sock) => {
      socks.add(sock)
      let buf: Buffer = Buffer.alloc(0)
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d])
        for (let nul = buf.indexOf(0); nul >= 0; nul = buf.indexOf(0)) {
          this.add({ transport: 'tcp', chunks: 1, compression: 'none', json: buf.subarray(0, nul).toString() })
          buf = buf.subarray(nul + 1)
        }
      })
      sock.on('error', () => {})
      sock.on('close', () => socks.delete(sock))
    })
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()))
    this.port = (server.address() as net.AddressInfo).port
    this.closers.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of socks) s.destroy()
          server.close(() => resolve())
        }),
    )
  }

  /** Resolves with the records once `pred` holds for them (by default: at least n of them). */
  async wait(pred: number | ((recs: GelfRecord[]) => boolean), ms = 15_000): Promise<GelfRecord[]> {
    const ok = typeof pred === 'number' ? (r: GelfRecord[]) => r.length >= pred : pred
    if (ok(this.records)) return this.records
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check)
        reject(new Error(`gelf receiver: timed out; got ${JSON.stringify(this.records.map((r) => r.doc.short_message))}`))
      }, ms)
      const check = () => {
        if (!ok(this.records)) return
        clearTimeout(timer)
        this.waiters.delete(check)
        resolve()
      }
      this.waiters.add(check)
    })
    return this.records
  }

  async close(): Promise<void> {
    for (const c of this.closers.splice(0)) await c()
  }
}
