/**
 * A syslog receiver for tests: a unix datagram socket, a unix stream
 * socket, UDP, TCP and TCP+TLS on 127.0.0.1, each message parsed as RFC 5424,
 * RFC 3164 or srslog's local (hostless) form. Stream input is split on
 * newlines, or by RFC 5425 octet counts when a frame starts with one.
 */
import { existsSync, rmSync } from 'node:fs'
import dgram from 'node:dgram'
import net from 'node:net'
import tls from 'node:tls'
import { DgramSocket } from 'node-unix-socket'

export interface SyslogRecord {
  transport: 'unixgram' | 'unix' | 'udp' | 'tcp' | 'tcp+tls'
  raw: string
  /** Whether the stream frame carried an RFC 5425 length. */
  octetCounted: boolean
  format: 'rfc5424' | 'rfc3164' | 'local' | 'unknown'
  priority: number
  facility: number
  severity: number
  timestamp: string
  hostname?: string
  /** The tag (RFC 3164 / local) or APP-NAME (RFC 5424). */
  tag: string
  pid: number
  msgid?: string
  /** The text, without the trailing newline. */
  message: string
}

const RFC5424 = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|\[.*?\]) ([\s\S]*)$/
const BSD = /^<(\d{1,3})>([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (?:(\S+) )?([^\s[]+)\[(\d+)\]: ([\s\S]*)$/

export function parseSyslog(raw: string, transport: SyslogRecord['transport'], octetCounted = false): SyslogRecord {
  const strip = (s: string) => (s.endsWith('\n') ? s.slice(0, -1) : s)
  const base = { transport, raw, octetCounted }
  let m = RFC5424.exec(raw)
  if (m) {
    const priority = Number(m[1])
    return {
      ...base, format: 'rfc5424', priority, facility: priority >> 3, severity: priority & 7,
      timestamp: m[2]!, hostname: m[3]!, tag: m[4]!, pid: Number(m[5]), msgid: m[6]!, message: strip(m[8]!),
    }
  }
  m = BSD.exec(raw)
  if (m) {
    const priority = Number(m[1])
    return {
      ...base, format: m[3] === undefined ? 'local' : 'rfc3164', priority, facility: priority >> 3, severity: priority & 7,
      timestamp: m[2]!, ...(m[3] !== undefined && { hostname: m[3] }), tag: m[4]!, pid: Number(m[5]), message: strip(m[6]!),
    }
  }
  return { ...base, format: 'unknown', priority: -1, facility: -1, severity: -1, timestamp: '', tag: '', pid: 0, message: strip(raw) }
}

/** Splits a stream's bytes into frames; returns what is left over. */
function splitStream(buf: Buffer, out: (frame: string, counted: boolean) => void): Buffer {
  for (;;) {
    const counted = /^(\d+) </.exec(buf.subarray(0, 16).toString('latin1'))
    if (counted) {
      const start = counted[1]!.length + 1
      const end = start + Number(counted[1])
      if (buf.length < end) return buf
      out(buf.subarray(start, end).toString(), true)
      buf = buf.subarray(end)
      continue
    }
    const nl = buf.indexOf(0x0a)
    if (nl < 0) return buf
    out(buf.subarray(0, nl + 1).toString(), false)
    buf = buf.subarray(nl + 1)
  }
}

export interface SyslogReceiverOptions {
  unixgram?: string
  unix?: string
  udp?: boolean
  tcp?: boolean
  /** PEM server certificate and key for TCP+TLS. */
  tls?: { cert: string | Buffer; key: string | Buffer }
  /** A fixed TCP port (to bring a receiver up where a sender was already pointed). */
  tcpPort?: number
}

export class SyslogReceiver {
  readonly records: SyslogRecord[] = []
  udpPort = 0
  tcpPort = 0
  tlsPort = 0
  private readonly closers: Array<() => Promise<void> | void> = []
  private waiters = new Set<() => void>()

  static async start(o: SyslogReceiverOptions): Promise<SyslogReceiver> {
    const r = new SyslogReceiver()
    try {
      await r.listen(o)
    } catch (err) {
      await r.close()
      throw err
    }
    return r
  }

  private add(rec: SyslogRecord): void {
    this.records.push(rec)
    for (const w of this.waiters) w()
  }

  private async listen(o: SyslogReceiverOptions): Promise<void> {
    if (o.unixgram) {
      const path = o.unixgram
      if (existsSync(path)) rmSync(path)
      const s = new DgramSocket()
      s.on('error', () => {})
      s.on('data', (buf: Buffer) => this.add(parseSyslog(buf.toString(), 'unixgram')))
      s.bind(path)
      this.closers.push(() => {
        s.close()
        rmSync(path, { force: true })
      })
    }
    if (o.udp) {
      const s = dgram.createSocket('udp4')
      s.on('message', (buf) => this.add(parseSyslog(buf.toString(), 'udp')))
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject)
        s.bind(0, '127.0.0.1', () => resolve())
      })
      this.udpPort = s.address().port
      this.closers.push(() => new Promise<void>((resolve) => s.close(() => resolve())))
    }
    const streamServer = (transport: 'unix' | 'tcp' | 'tcp+tls', server: net.Server) => {
      const socks = new Set<net.Socket>()
      server.on(transport === 'tcp+tls' ? 'secureConnection' : 'connection', (sock: net.Socket) => {
        socks.add(sock)
        let buf: Buffer = Buffer.alloc(0)
        sock.on('data', (d: Buffer) => {
          buf = splitStream(Buffer.concat([buf, d]), (frame, counted) => this.add(parseSyslog(frame, transport, counted)))
        })
        sock.on('error', () => {})
        sock.on('close', () => socks.delete(sock))
      })
      this.closers.push(
        () =>
          new Promise<void>((resolve) => {
            for (const s of socks) s.destroy()
            server.close(() => resolve())
          }),
      )
      return server
    }
    if (o.unix) {
      const path = o.unix
      if (existsSync(path)) rmSync(path)
      const server = streamServer('unix', net.createServer())
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, () => resolve()))
    }
    if (o.tcp) {
      const server = streamServer('tcp', net.createServer())
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(o.tcpPort ?? 0, '127.0.0.1', () => resolve()))
      this.tcpPort = (server.address() as net.AddressInfo).port
    }
    if (o.tls) {
      const server = streamServer('tcp+tls', tls.createServer({ cert: o.tls.cert, key: o.tls.key }))
      server.on('tlsClientError', () => {})
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()))
      this.tlsPort = (server.address() as net.AddressInfo).port
    }
  }

  /** Resolves with the records once `pred` holds for them (by default: at least n of them). */
  async wait(pred: number | ((recs: SyslogRecord[]) => boolean), ms = 15_000): Promise<SyslogRecord[]> {
    const ok = typeof pred === 'number' ? (r: SyslogRecord[]) => r.length >= pred : pred
    if (ok(this.records)) return this.records
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check)
        reject(new Error(`syslog receiver: timed out; got ${JSON.stringify(this.records.map((r) => r.raw))}`))
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
