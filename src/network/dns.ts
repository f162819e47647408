/**
 * The embedded DNS server of user-defined networks. berthd serves it on each
 * network's gateway address (held by the Linux bridge in the host namespace),
 * port 53 over UDP and TCP; containers get `nameserver <gateway>`. Names the
 * network owns (container names, aliases, link aliases, PTR of container
 * addresses) are answered here from a DnsResolver; everything else is relayed
 * to upstream resolvers. The answers mirror what users see from docker's
 * resolver (moby libnetwork/resolver.go, miekg/dns's server defaults): TTL 600,
 * RA set, NOERROR with no records for a known name without that record type,
 * FORMERR/NOTIMP for messages it won't serve, SERVFAIL when no upstream
 * answers, REFUSED past the forwarding cap.
 *
 * dns-packet decodes (and so validates) queries and encodes record data; the
 * server around it is hand-written because none of the npm DNS servers relays
 * raw upstream answers, caps in-flight forwards, or lets us pick the listening
 * address without a second process.
 *
 * Binding (Linux, checked): a host DNS server that holds 0.0.0.0:53 makes
 * binding <gateway>:53 fail with EADDRINUSE for TCP always, and for UDP unless
 * both sockets set SO_REUSEADDR. We don't set SO_REUSEADDR on the UDP socket:
 * with it, a second server on the very same address would bind too and
 * silently take half the queries. (TCP listeners get SO_REUSEADDR from libuv,
 * which only lets a restart reuse a port in TIME_WAIT.) So a host DNS server
 * must bind specific addresses (dnsmasq bind-interfaces / bind-dynamic;
 * systemd-resolved's 127.0.0.53 is fine); `listen` rejects naming the address.
 */
import dgram from 'node:dgram'
import net from 'node:net'
import { randomInt } from 'node:crypto'
import dnsPacket from 'dns-packet'
import { invalidArgument, unavailable } from '../errors/index.js'
import type { Logger } from '../lib/index.js'

export interface DnsQuestion {
  /** Lowercase (ASCII), no trailing dot; '' for the root. */
  name: string
  /** 'A', 'AAAA', 'PTR', 'MX', ... as dns-packet names it ('UNKNOWN_65' for types it doesn't know). */
  type: string
  /** Source address of the query. */
  client: string
}

/**
 * What the resolver decides for one question. The resolver sees every query
 * type; only A, AAAA and PTR carry records here, so an 'answer' to any other
 * type is NOERROR without records (docker does that for MX of a known name).
 */
export type DnsAnswer =
  /** Ours. A gets the IPv4 `addresses`, AAAA the IPv6 ones (shuffled), PTR gets `ptr`; TTL defaults to 600. Nothing of the asked type: NOERROR, no records. */
  | { kind: 'answer'; addresses?: string[]; ptr?: string[]; ttl?: number }
  /** Ours, but no records of this type (docker: NOERROR, empty answer; never NXDOMAIN). */
  | { kind: 'nodata' }
  /** Not ours: relay to these upstreams in order ("ip", "ip:port", "[v6]:port"); at most 3 are tried; none answering is SERVFAIL. */
  | { kind: 'forward'; upstreams: string[] }
  /** Not for this client (e.g. a source that is no container on the network): REFUSED. */
  | { kind: 'refused' }

/** Called once per query, synchronously, so a flood can't pile up pending lookups. Throwing answers SERVFAIL. */
export interface DnsResolver {
  resolve(q: DnsQuestion): DnsAnswer
}

export interface EmbeddedDnsOptions {
  /** The address to serve on (the network's gateway); IPv4 or IPv6. */
  address: string
  /** 53 unless given; 0 picks a free port (the same one for UDP and TCP), for tests. */
  port?: number
  resolver: DnsResolver
  logger: Logger
  /** Per upstream attempt (UDP, and again for a TCP retry). */
  forwardTimeoutMs?: number
  /** Queries being forwarded at once; past it the server answers REFUSED (docker's resolver does too). */
  maxForwards?: number
  /** A TCP connection with nothing in flight is closed after this long without traffic. */
  tcpIdleTimeoutMs?: number
  maxTcpConnections?: number
}

/** docker's respTTL. */
export const DNS_TTL = 600
/** docker's maxExtDNS; glibc also reads at most three nameservers. */
const MAX_UPSTREAMS = 3
const DEFAULTS = { forwardTimeoutMs: 2000, maxForwards: 512, tcpIdleTimeoutMs: 10_000, maxTcpConnections: 256 }
/** Queries of one TCP connection answered concurrently before it stops reading (RFC 7766 pipelining). */
const TCP_PIPELINE = 16
/** A TCP client that reads nothing while we owe it this much is dropped. */
const TCP_MAX_UNREAD = 256 * 1024

const QR = 0x8000
const AA = 0x0400
const TC = 0x0200
const RD = 0x0100
const RA = 0x0080
const Z = 0x0040
const CD = 0x0010
const OPCODE_QUERY = 0
const OPCODE_NOTIFY = 4
const RCODE = { noError: 0, formErr: 1, servFail: 2, notImp: 4, refused: 5 } as const
/** An answer's owner name is the question's, which always starts at offset 12. */
const QNAME_POINTER = Buffer.from([0xc0, 0x0c])

interface Query {
  raw: Buffer
  id: number
  flags: number
  opcode: number
  /** Offset just past the question section: header + question are echoed verbatim. */
  questionEnd: number
  question: DnsQuestion
  /** Largest UDP reply the client takes: 512, or its EDNS payload size. */
  udpLimit: number
}

interface Upstream {
  host: string
  port: number
  family: 4 | 6
}

export class EmbeddedDns {
  private readonly cancels = new Set<() => void>()
  private readonly conns = new Set<net.Socket>()
  private forwards = 0
  private lastCapWarning = 0
  private closing: Promise<void> | undefined

  private constructor(
    readonly address: string,
    readonly port: number,
    private readonly udp: dgram.Socket,
    private readonly tcp: net.Server,
    private readonly o: Required<Omit<EmbeddedDnsOptions, 'port'>>,
  ) {
    udp.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo))
    udp.on('error', (err) => this.o.logger.warn('dns udp socket error', { err }))
    tcp.on('connection', (sock) => this.onConnection(sock))
    tcp.on('error', (err) => this.o.logger.warn('dns tcp listener error', { err }))
    tcp.maxConnections = o.maxTcpConnections
  }

  /** Bind UDP and TCP on address:port; rejects (unavailable) naming the address if either can't be bound. */
  static async listen(opts: EmbeddedDnsOptions): Promise<EmbeddedDns> {
    const family = net.isIP(opts.address)
    if (family === 0) throw invalidArgument(`embedded DNS: invalid listen address "${opts.address}"`)
    const o = {
      address: opts.address,
      resolver: opts.resolver,
      logger: opts.logger.child({ dns: opts.address }),
      forwardTimeoutMs: opts.forwardTimeoutMs ?? DEFAULTS.forwardTimeoutMs,
      maxForwards: opts.maxForwards ?? DEFAULTS.maxForwards,
      tcpIdleTimeoutMs: opts.tcpIdleTimeoutMs ?? DEFAULTS.tcpIdleTimeoutMs,
      maxTcpConnections: opts.maxTcpConnections ?? DEFAULTS.maxTcpConnections,
    }
    const want = opts.port ?? 53
    // Port 0: the free UDP port may be taken for TCP; try a few.
    for (let attempt = 0; ; attempt++) {
      const udp = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: family === 6 })
      await bindUdp(udp, opts.address, want)
      const port = udp.address().port
      const tcp = net.createServer({ allowHalfOpen: true })
      try {
        await listenTcp(tcp, opts.address, port)
      } catch (err) {
        udp.close()
        if (want === 0 && attempt < 5 && errCode(err) === 'EADDRINUSE') continue
        throw err
      }
      o.logger.debug('embedded DNS listening', { port })
      return new EmbeddedDns(opts.address, port, udp, tcp, o)
    }
  }

  /** Stop listening, drop TCP connections and abandon forwards in flight. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const cancel of [...this.cancels]) cancel()
      for (const s of this.conns) s.destroy()
      await Promise.all([
        new Promise<void>((r) => this.udp.close(() => r())),
        new Promise<void>((r) => this.tcp.close(() => r())),
      ])
    })()
    return this.closing
  }

  // ---- transports -------------------------------------------------------------

  private onDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    this.handle(msg, 'udp', rinfo.address).then(
      (reply) => {
        if (!reply || this.closing) return
        this.udp.send(reply, rinfo.port, rinfo.address, (err) => {
          if (err) this.o.logger.debug('dns reply not sent', { client: rinfo.address, err })
        })
      },
      (err: unknown) => this.o.logger.error('dns query failed', { err }),
    )
  }

  private onConnection(sock: net.Socket): void {
    if (this.closing) return void sock.destroy()
    this.conns.add(sock)
    const client = sock.remoteAddress ?? ''
    let pending: Buffer = Buffer.alloc(0)
    let inflight = 0
    let ended = false
    sock.setTimeout(this.o.tcpIdleTimeoutMs)
    // Writing a reply counts as traffic, so a connection whose forwards outlive the timeout is re-armed, not cut.
    sock.on('timeout', () => {
      if (inflight === 0) sock.destroy()
    })
    sock.on('error', () => sock.destroy())
    sock.on('close', () => this.conns.delete(sock))
    sock.on('end', () => {
      ended = true
      finishIfDone()
    })
    const finishIfDone = () => {
      if (ended && inflight === 0 && !sock.destroyed) sock.end()
    }
    const pump = () => {
      while (!sock.destroyed && inflight < TCP_PIPELINE && pending.length >= 2) {
        const len = pending.readUInt16BE(0)
        if (len === 0) return void sock.destroy()
        if (pending.length < 2 + len) break
        const msg = Buffer.from(pending.subarray(2, 2 + len))
        pending = pending.subarray(2 + len)
        inflight++
        this.handle(msg, 'tcp', client)
          .then(
            (reply) => {
              if (sock.destroyed) return
              // Nothing to say means garbage: framing may still be intact, but the peer isn't speaking DNS.
              if (!reply) return void sock.destroy()
              if (sock.writableLength > TCP_MAX_UNREAD) return void sock.destroy()
              const len = Buffer.alloc(2)
              len.writeUInt16BE(reply.length)
              sock.write(Buffer.concat([len, reply]))
            },
            (err: unknown) => {
              this.o.logger.error('dns query failed', { err })
              sock.destroy()
            },
          )
          .finally(() => {
            inflight--
            pump()
            if (!sock.destroyed && inflight < TCP_PIPELINE) sock.resume()
            finishIfDone()
          })
      }
      if (inflight >= TCP_PIPELINE) sock.pause()
    }
    sock.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk
      pump()
    })
  }

  // ---- queries ----------------------------------------------------------------

  /** The reply to send, or undefined to say nothing. Never throws for any input. */
  private async handle(msg: Buffer, proto: 'udp' | 'tcp', client: string): Promise<Buffer | undefined> {
    // Like miekg/dns: no reply to what isn't a query (a reply could be used to amplify or loop).
    if (msg.length < 12) return undefined
    const flags = msg.readUInt16BE(2)
    if (flags & QR) return undefined
    const opcode = (flags >> 11) & 0xf
    if (opcode !== OPCODE_QUERY && opcode !== OPCODE_NOTIFY) return headerReply(msg, RCODE.notImp, opcode)
    const [qd, an, ns, ar] = [4, 6, 8, 10].map((off) => msg.readUInt16BE(off))
    if (qd !== 1 || (an ?? 0) > 1 || (ns ?? 0) > 1 || (ar ?? 0) > 2) return headerReply(msg, RCODE.formErr, OPCODE_QUERY)
    const q = parseQuery(msg, client)
    if (!q) return headerReply(msg, RCODE.formErr, OPCODE_QUERY)

    let answer: DnsAnswer
    try {
      answer = this.o.resolver.resolve(q.question)
    } catch (err) {
      this.o.logger.error('dns resolver failed', { name: q.question.name, type: q.question.type, err })
      return reply(q, RCODE.servFail, [], false, Infinity)
    }
    const limit = proto === 'tcp' ? 0xffff : q.udpLimit
    switch (answer?.kind) {
      case 'answer':
        return reply(q, RCODE.noError, this.records(q, answer), true, limit)
      case 'nodata':
        return reply(q, RCODE.noError, [], true, limit)
      case 'refused':
        return reply(q, RCODE.refused, [], false, limit)
      case 'forward':
        return this.forward(q, proto, Array.isArray(answer.upstreams) ? answer.upstreams : [])
    }
    this.o.logger.error('dns resolver returned no answer', { name: q.question.name, type: q.question.type })
    return reply(q, RCODE.servFail, [], false, Infinity)
  }

  private records(q: Query, a: Extract<DnsAnswer, { kind: 'answer' }>): Buffer[] {
    const ttl = Math.max(0, Math.min(a.ttl ?? DNS_TTL, 0x7fffffff))
    switch (q.question.type) {
      case 'A':
        return shuffle((a.addresses ?? []).filter((x) => net.isIPv4(x))).map((x) => record('A', ttl, x))
      case 'AAAA':
        return shuffle((a.addresses ?? []).filter((x) => net.isIPv6(x))).map((x) => record('AAAA', ttl, x))
      case 'PTR':
        return (a.ptr ?? []).filter(encodableName).map((x) => record('PTR', ttl, x))
      default:
        return []
    }
  }

  // ---- forwarding ---------------------------------------------------------------

  private async forward(q: Query, proto: 'udp' | 'tcp', upstreams: string[]): Promise<Buffer> {
    const targets: Upstream[] = []
    for (const s of upstreams) {
      const u = parseUpstream(s)
      if (!u) this.o.logger.debug('dns: ignoring unusable upstream', { upstream: s })
      // Never to ourselves: that would loop until every forward slot is taken.
      else if (!(u.port === this.port && sameAddress(u.host, this.address))) targets.push(u)
    }
    if (targets.length === 0 || this.closing) return reply(q, RCODE.servFail, [], false, Infinity)
    if (this.forwards >= this.o.maxForwards) {
      const now = Date.now()
      if (now - this.lastCapWarning > 2000) {
        this.lastCapWarning = now
        this.o.logger.warn(`embedded DNS: more than ${this.o.maxForwards} concurrent forwarded queries, refusing`)
      }
      return reply(q, RCODE.refused, [], false, Infinity)
    }
    this.forwards++
    try {
      // A fresh random ID per upstream query: the client's ID is the client's choice, not a secret.
      const out = Buffer.from(q.raw)
      for (const u of targets.slice(0, MAX_UPSTREAMS)) {
        if (this.closing) break
        out.writeUInt16BE(randomInt(0x10000), 0)
        let resp = proto === 'tcp' ? await this.exchangeTcp(out, q, u) : await this.exchangeUdp(out, q, u)
        if (resp && proto === 'udp' && resp.readUInt16BE(2) & TC) {
          // The upstream's UDP limit may be below the client's: fetch the whole answer over TCP and
          // pass it on if it fits; if not, the truncated one tells the client to ask us over TCP.
          out.writeUInt16BE(randomInt(0x10000), 0)
          const full = await this.exchangeTcp(out, q, u)
          if (full && full.length <= q.udpLimit) resp = full
        }
        if (!resp) continue
        const rcode = resp.readUInt16BE(2) & 0xf
        // docker moves on after SERVFAIL and REFUSED (the latter may be transient).
        if (rcode === RCODE.servFail || rcode === RCODE.refused) {
          this.o.logger.debug('dns upstream failed', { upstream: u.host, rcode })
          continue
        }
        resp.writeUInt16BE(q.id, 0)
        return resp
      }
    } finally {
      this.forwards--
    }
    return reply(q, RCODE.servFail, [], false, Infinity)
  }

  /** One UDP exchange on a connected socket of its own (random source port; the kernel drops other senders). */
  private exchangeUdp(out: Buffer, q: Query, u: Upstream): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const sock = dgram.createSocket(u.family === 6 ? 'udp6' : 'udp4')
      const finish = this.once(this.o.forwardTimeoutMs, (r: Buffer | undefined) => {
        try {
          sock.close()
        } catch {
          // already closed
        }
        resolve(r)
      })
      // ICMP port unreachable arrives as ECONNREFUSED on a connected socket: next upstream at once.
      sock.on('error', (err) => {
        this.o.logger.debug('dns upstream unreachable', { upstream: u.host, proto: 'udp', err })
        finish(undefined)
      })
      sock.on('message', (m) => {
        if (isReplyTo(m, out, q)) finish(m)
      })
      // A literal address can still fail to connect (a link-local IPv6 without a zone: EINVAL).
      sock.connect(u.port, u.host, (err?: Error) => {
        if (err) return finish(undefined)
        try {
          sock.send(out, (sendErr) => sendErr && finish(undefined))
        } catch {
          finish(undefined)
        }
      })
    })
  }

  private exchangeTcp(out: Buffer, q: Query, u: Upstream): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      const sock = net.connect({ host: u.host, port: u.port })
      const finish = this.once(this.o.forwardTimeoutMs, (r: Buffer | undefined) => {
        sock.destroy()
        resolve(r)
      })
      let pending: Buffer = Buffer.alloc(0)
      sock.on('error', (err) => {
        this.o.logger.debug('dns upstream unreachable', { upstream: u.host, proto: 'tcp', err })
        finish(undefined)
      })
      sock.on('close', () => finish(undefined))
      sock.on('connect', () => {
        const len = Buffer.alloc(2)
        len.writeUInt16BE(out.length)
        sock.write(Buffer.concat([len, out]))
      })
      sock.on('data', (chunk: Buffer) => {
        pending = pending.length ? Buffer.concat([pending, chunk]) : chunk
        while (pending.length >= 2) {
          const len = pending.readUInt16BE(0)
          if (pending.length < 2 + len) return
          const m = Buffer.from(pending.subarray(2, 2 + len))
          pending = pending.subarray(2 + len)
          if (isReplyTo(m, out, q)) return finish(m)
        }
      })
    })
  }

  /** A settle-once callback that also fires (with undefined) on timeout or close(). */
  private once<T>(timeoutMs: number, done: (r: T | undefined) => void): (r: T | undefined) => void {
    let settled = false
    const finish = (r: T | undefined) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      this.cancels.delete(cancel)
      done(r)
    }
    const cancel = () => finish(undefined)
    const timer = setTimeout(cancel, timeoutMs)
    this.cancels.add(cancel)
    return finish
  }
}

// ---- wire format ------------------------------------------------------------------

/** Header, validation and question of a query whose header already passed; undefined if malformed. */
function parseQuery(msg: Buffer, client: string): Query | undefined {
  let decoded: ReturnType<typeof dnsPacket.decode>
  try {
    decoded = dnsPacket.decode(msg)
  } catch {
    return undefined
  }
  const question = decoded.questions?.[0]
  const questionEnd = skipName(msg, 12)
  if (!question || questionEnd === undefined || questionEnd + 4 > msg.length) return undefined
  const opt = decoded.additionals?.find((a) => a.type === 'OPT')
  const ednsSize = opt && 'udpPayloadSize' in opt ? opt.udpPayloadSize : 0
  const name = question.name === '.' ? '' : question.name.replace(/\.$/, '').replace(/[A-Z]+/g, (s) => s.toLowerCase())
  const flags = msg.readUInt16BE(2)
  return {
    raw: msg,
    id: msg.readUInt16BE(0),
    flags,
    opcode: (flags >> 11) & 0xf,
    questionEnd: questionEnd + 4,
    question: { name, type: String(question.type), client },
    udpLimit: Math.min(Math.max(512, ednsSize), 0xffff),
  }
}

/** Offset after the name at `off`, or undefined if it runs off the end or is not a name. */
function skipName(buf: Buffer, off: number): number | undefined {
  for (let total = 0; off < buf.length; ) {
    const len = buf[off] ?? 0
    if (len === 0) return off + 1
    if ((len & 0xc0) === 0xc0) return off + 2 <= buf.length ? off + 2 : undefined
    if (len & 0xc0) return undefined
    total += len + 1
    if (total > 255) return undefined
    off += len + 1
  }
  return undefined
}

/**
 * A reply with the query's question: docker's SetReply (ID, opcode, RD and CD
 * of a QUERY), RA only on answers it owns. Records past `limit` bytes are
 * dropped and TC set, as miekg's Truncate does.
 */
function reply(q: Query, rcode: number, records: Buffer[], ra: boolean, limit: number): Buffer {
  let flags = QR | (q.opcode << 11) | rcode
  if (q.opcode === OPCODE_QUERY) flags |= q.flags & (RD | CD)
  if (ra) flags |= RA
  const question = q.raw.subarray(12, q.questionEnd)
  let size = 12 + question.length
  let n = 0
  for (const r of records) {
    if (size + r.length > limit) {
      flags |= TC
      break
    }
    size += r.length
    n++
  }
  const header = Buffer.alloc(12)
  header.writeUInt16BE(q.id, 0)
  header.writeUInt16BE(flags, 2)
  header.writeUInt16BE(1, 4)
  header.writeUInt16BE(n, 6)
  return Buffer.concat([header, question, ...records.slice(0, n)])
}

/** miekg/dns's answer to a message it rejects unread: the header only, QR set, AA and Z cleared. */
function headerReply(msg: Buffer, rcode: number, opcode: number): Buffer {
  const flags = msg.readUInt16BE(2)
  const out = Buffer.alloc(12)
  out.writeUInt16BE(msg.readUInt16BE(0), 0)
  out.writeUInt16BE(((flags | QR) & ~(AA | Z | 0x7800 | 0xf)) | (opcode << 11) | rcode, 2)
  return out
}

/** One resource record owned by the question name (a compression pointer, as docker compresses when it must truncate). */
function record(type: 'A' | 'AAAA' | 'PTR', ttl: number, data: string): Buffer {
  // dns-packet encodes type, class, TTL and RDATA after a root owner name (header 12 bytes + 1).
  const packet = dnsPacket.encode({ answers: [{ type, name: '.', ttl, data }] })
  return Buffer.concat([QNAME_POINTER, packet.subarray(13)])
}

function encodableName(name: string): boolean {
  const labels = name.replace(/\.$/, '').split('.')
  return Buffer.byteLength(name) <= 253 && labels.every((l) => l.length > 0 && Buffer.byteLength(l) <= 63)
}

/** Our ID, a response, and the same question (ASCII case aside); error replies may omit the question. */
function isReplyTo(m: Buffer, out: Buffer, q: Query): boolean {
  if (m.length < 12 || m.readUInt16BE(0) !== out.readUInt16BE(0) || !(m.readUInt16BE(2) & QR)) return false
  if (m.readUInt16BE(4) === 0) return (m.readUInt16BE(2) & 0xf) !== RCODE.noError
  if (m.length < q.questionEnd) return false
  for (let i = 12; i < q.questionEnd; i++) {
    if (lower(m[i] ?? 0) !== lower(out[i] ?? 0)) return false
  }
  return true
}

function lower(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b | 0x20 : b
}

// ---- addresses ------------------------------------------------------------------

/** "ip", "ip:port", "[v6]:port" or a bare IPv6 address; port 53 unless given. */
function parseUpstream(s: string): Upstream | undefined {
  let host = s.trim()
  let port = 53
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(host)
  if (bracketed) {
    host = bracketed[1] ?? ''
    if (bracketed[2]) port = Number(bracketed[2])
  } else if (!net.isIPv6(host)) {
    const m = /^([^:]+):(\d+)$/.exec(host)
    if (m) {
      host = m[1] ?? ''
      port = Number(m[2])
    }
  }
  const family = net.isIP(host)
  if (family === 0 || !Number.isInteger(port) || port < 1 || port > 0xffff) return undefined
  return { host, port, family: family === 6 ? 6 : 4 }
}

function sameAddress(a: string, b: string): boolean {
  if (a === b) return true
  const fa = net.isIP(a)
  if (fa !== net.isIP(b) || fa !== 6) return false
  try {
    const norm = (x: string) => new net.SocketAddress({ address: x, family: 'ipv6' }).address
    return norm(a) === norm(b)
  } catch {
    return false
  }
}

function shuffle<T>(xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const t = xs[i] as T
    xs[i] = xs[j] as T
    xs[j] = t
  }
  return xs
}

// ---- listening --------------------------------------------------------------------

function bindUdp(sock: dgram.Socket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let bound = false
    // Stays attached: until the server's own listener is on (after TCP listens), an error must not go unheard.
    sock.on('error', (err) => {
      if (bound) return
      try {
        sock.close()
      } catch {
        // never bound
      }
      reject(bindError(address, port, 'udp', err))
    })
    sock.bind({ address, port, exclusive: true }, () => {
      bound = true
      resolve()
    })
  })
}

function listenTcp(server: net.Server, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(bindError(address, port, 'tcp', err))
    server.once('error', onError)
    server.listen({ host: address, port, exclusive: true, ipv6Only: net.isIPv6(address) }, () => {
      server.off('error', onError)
      resolve()
    })
  })
}

function bindError(address: string, port: number, proto: string, err: Error) {
  const where = `${address.includes(':') ? `[${address}]` : address}:${port}/${proto}`
  const hint: Record<string, string> = {
    EADDRINUSE: 'address already in use (is another DNS server listening on this address or on 0.0.0.0? make it bind only its own interfaces)',
    EADDRNOTAVAIL: 'address not available (is it assigned to an interface?)',
    EACCES: 'permission denied (port 53 needs root or CAP_NET_BIND_SERVICE)',
  }
  const code = errCode(err)
  return unavailable(`embedded DNS cannot listen on ${where}: ${hint[code] ?? err.message}`, err)
}

function errCode(err: unknown): string {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as NodeJS.ErrnoException).code
    if (code) return code
  }
  return ''
}
