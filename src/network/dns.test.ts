import dgram from 'node:dgram'
import net from 'node:net'
import { promises as dnsp } from 'node:dns'
import { afterEach, describe, expect, it } from 'vitest'
import dnsPacket, { type Answer, type DecodedPacket, type Packet } from 'dns-packet'
import { isKind, messageOf } from '../errors/index.js'
import { nullLogger } from '../lib/index.js'
import { DNS_TTL, type DnsAnswer, type DnsQuestion, type DnsResolver, EmbeddedDns, type EmbeddedDnsOptions } from './dns.js'

// Each role gets its own loopback address, so the client address the resolver sees and the
// "not to ourselves" rule are both real; ports are ephemeral.
const SERVER = '127.0.53.1'
const UPSTREAM = '127.0.53.2'
const UPSTREAM2 = '127.0.53.3'
const CLIENT = '127.0.53.4'

const cleanup: Array<() => Promise<unknown> | void> = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

/** A network with web (v4 + v6), db (v4 only) and an alias "cache" on two containers. */
const networkResolver = (seen: DnsQuestion[] = [], upstreams: string[] = []): DnsResolver => ({
  resolve(q) {
    seen.push(q)
    const names: Record<string, string[]> = {
      web: ['172.18.0.2', 'fd00::2'],
      db: ['172.18.0.3'],
      cache: ['172.18.0.4', '172.18.0.5'],
    }
    if (q.type === 'PTR') {
      if (q.name === '2.0.18.172.in-addr.arpa') return { kind: 'answer', ptr: ['web.mynet'] }
      return { kind: 'forward', upstreams }
    }
    const bare = q.name.replace(/\.mynet$/, '')
    const hit = names[bare]
    if (!hit) return { kind: 'forward', upstreams }
    if (q.type === 'MX') return { kind: 'nodata' }
    return { kind: 'answer', addresses: hit }
  },
})

async function serve(resolver: DnsResolver, opts: Partial<EmbeddedDnsOptions> = {}): Promise<EmbeddedDns> {
  const s = await EmbeddedDns.listen({ address: SERVER, port: 0, resolver, logger: nullLogger, ...opts })
  cleanup.push(() => s.close())
  return s
}

function nodeResolver(s: EmbeddedDns): dnsp.Resolver {
  const r = new dnsp.Resolver({ timeout: 3000, tries: 1 })
  r.setLocalAddress(CLIENT)
  r.setServers([`${s.address}:${s.port}`])
  return r
}

const query = (name: string, type: string, extra: Partial<Packet> = {}): Packet => ({
  type: 'query',
  id: Math.floor(Math.random() * 0x10000),
  flags: dnsPacket.RECURSION_DESIRED,
  questions: [{ name, type: type as 'A' }],
  ...extra,
})
/** dns-packet decodes rcode and opcode; its typings omit them. */
type Reply = DecodedPacket & { rcode: string; opcode: string }
const decode = (b: Buffer | undefined): Reply => dnsPacket.decode(b ?? Buffer.alloc(0)) as Reply

const edns = (size: number): Answer => ({ type: 'OPT', name: '.', udpPayloadSize: size, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] })

/** Send raw bytes over UDP from CLIENT; the reply, or undefined if none came within `waitMs`. */
function udpRaw(port: number, msg: Buffer, waitMs = 3000, address = SERVER): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4')
    const timer = setTimeout(() => done(undefined), waitMs)
    const done = (r: Buffer | undefined) => {
      clearTimeout(timer)
      sock.close()
      resolve(r)
    }
    sock.on('error', reject)
    sock.on('message', (m) => done(m))
    sock.bind(0, CLIENT, () => sock.send(msg, port, address))
  })
}

async function udp(s: EmbeddedDns, p: Packet): Promise<Reply> {
  const r = await udpRaw(s.port, dnsPacket.encode(p))
  if (!r) throw new Error('no reply')
  return decode(r)
}

/** A TCP connection that sends framed messages and collects framed replies. */
async function tcpConn(port: number) {
  const sock = net.connect({ host: SERVER, port, localAddress: CLIENT })
  await new Promise<void>((r, j) => sock.once('connect', r).once('error', j))
  cleanup.push(() => void sock.destroy())
  const replies: Buffer[] = []
  const waiters: Array<() => void> = []
  let pending = Buffer.alloc(0)
  let closed = false
  sock.on('data', (c: Buffer) => {
    pending = Buffer.concat([pending, c])
    while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
      replies.push(pending.subarray(2, 2 + pending.readUInt16BE(0)))
      pending = pending.subarray(2 + pending.readUInt16BE(0))
    }
    waiters.splice(0).forEach((w) => w())
  })
  sock.on('error', () => {})
  sock.on('close', () => {
    closed = true
    waiters.splice(0).forEach((w) => w())
  })
  const until = async (cond: () => boolean) => {
    while (!cond()) {
      if (closed) return
      await new Promise<void>((r) => waiters.push(r))
    }
  }
  return {
    send: (msg: Buffer) => {
      const len = Buffer.alloc(2)
      len.writeUInt16BE(msg.length)
      sock.write(Buffer.concat([len, msg]))
    },
    raw: (b: Buffer) => sock.write(b),
    replies: async (n: number) => {
      await until(() => replies.length >= n)
      return replies.slice(0, n).map((r) => decode(r))
    },
    closed: async () => {
      await until(() => false)
      return closed
    },
  }
}

type UpstreamReply = Packet | 'drop' | ((q: DecodedPacket) => Packet | 'drop')

/** A fake upstream resolver on UDP and TCP of one port; `reply` decides per transport. */
async function fakeUpstream(address: string, replies: { udp?: UpstreamReply; tcp?: UpstreamReply }) {
  const seen: Array<{ proto: string; q: DecodedPacket }> = []
  const answer = (q: DecodedPacket, how: UpstreamReply | undefined): Buffer | undefined => {
    const r = typeof how === 'function' ? how(q) : (how ?? 'drop')
    if (r === 'drop') return undefined
    return dnsPacket.encode({ id: q.id, type: 'response', questions: q.questions, ...r })
  }
  const sock = dgram.createSocket('udp4')
  await new Promise<void>((r) => sock.bind(0, address, r))
  const port = sock.address().port
  sock.on('message', (m, rinfo) => {
    const q = dnsPacket.decode(m)
    seen.push({ proto: 'udp', q })
    const out = answer(q, replies.udp)
    if (out) sock.send(out, rinfo.port, rinfo.address)
  })
  const server = net.createServer((c) => {
    c.on('error', () => {})
    c.on('data', (d: Buffer) => {
      const q = dnsPacket.decode(d.subarray(2))
      seen.push({ proto: 'tcp', q })
      const out = answer(q, replies.tcp)
      if (!out) return
      const len = Buffer.alloc(2)
      len.writeUInt16BE(out.length)
      c.write(Buffer.concat([len, out]))
    })
  })
  await new Promise<void>((r) => server.listen(port, address, r))
  cleanup.push(
    () =>
      new Promise<void>((r) => {
        sock.close()
        server.close(() => r())
      }),
  )
  return { upstream: `${address}:${port}`, seen }
}

const aRecords = (name: string, n: number): Answer[] =>
  Array.from({ length: n }, (_, i) => ({ type: 'A', name, ttl: 60, data: `10.0.${i >> 8}.${i & 255}` }))

describe('EmbeddedDns: names the network owns', () => {
  it('answers A, AAAA and PTR to a real resolver client over UDP, TTL 600', async () => {
    const seen: DnsQuestion[] = []
    const s = await serve(networkResolver(seen))
    const r = nodeResolver(s)
    expect(await r.resolve4('web', { ttl: true })).toEqual([{ address: '172.18.0.2', ttl: DNS_TTL }])
    expect(await r.resolve6('web')).toEqual(['fd00::2'])
    expect(await r.resolve4('db.mynet')).toEqual(['172.18.0.3'])
    expect((await r.resolve4('cache')).sort()).toEqual(['172.18.0.4', '172.18.0.5'])
    expect(await r.reverse('172.18.0.2')).toEqual(['web.mynet'])
    expect(seen[0]).toEqual({ name: 'web', type: 'A', client: CLIENT })
    expect(seen.map((q) => q.type)).toEqual(['A', 'AAAA', 'A', 'A', 'PTR'])
  })

  it('answers a known name without that record type with NOERROR and no records, as docker does', async () => {
    const s = await serve(networkResolver())
    const aaaa = await udp(s, query('db', 'AAAA'))
    expect(aaaa.rcode).toBe('NOERROR')
    expect(aaaa.answers).toEqual([])
    expect(aaaa.flag_ra).toBe(true)
    const mx = await udp(s, query('db', 'MX'))
    expect([mx.rcode, mx.answers]).toEqual(['NOERROR', []])
    await expect(nodeResolver(s).resolve6('db')).rejects.toMatchObject({ code: 'ENODATA' })
  })

  it('matches names case-insensitively and echoes the question as asked', async () => {
    const seen: DnsQuestion[] = []
    const s = await serve(networkResolver(seen))
    const res = await udp(s, query('WeB.MyNet.', 'A'))
    expect(seen[0]?.name).toBe('web.mynet')
    expect(res.questions?.[0]?.name).toBe('WeB.MyNet')
    expect(res.answers?.[0]).toMatchObject({ name: 'WeB.MyNet', type: 'A', data: '172.18.0.2', ttl: 600 })
  })

  it('replies like docker: ID, RD and CD copied, RA set, not authoritative', async () => {
    const s = await serve(networkResolver())
    const p = query('web', 'A', { id: 4242, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.CHECKING_DISABLED })
    const res = await udp(s, p)
    expect(res).toMatchObject({ id: 4242, type: 'response', flag_rd: true, flag_cd: true, flag_ra: true, flag_aa: false, rcode: 'NOERROR' })
    const noRd = await udp(s, query('web', 'A', { flags: 0 }))
    expect(noRd.flag_rd).toBe(false)
  })

  it('answers over TCP, several pipelined queries on one connection', async () => {
    const s = await serve(networkResolver())
    const c = await tcpConn(s.port)
    const qs = [query('web', 'A'), query('web', 'AAAA'), query('2.0.18.172.in-addr.arpa', 'PTR'), query('db', 'AAAA')]
    for (const q of qs) c.send(dnsPacket.encode(q))
    const replies = await c.replies(qs.length)
    const byId = new Map(replies.map((r) => [r.id, r]))
    expect(byId.get(qs[0]?.id ?? -1)?.answers?.[0]).toMatchObject({ type: 'A', data: '172.18.0.2' })
    expect(byId.get(qs[1]?.id ?? -1)?.answers?.[0]).toMatchObject({ type: 'AAAA', data: 'fd00::2' })
    expect(byId.get(qs[2]?.id ?? -1)?.answers?.[0]).toMatchObject({ type: 'PTR', data: 'web.mynet' })
    expect(byId.get(qs[3]?.id ?? -1)?.answers).toEqual([])
  })

  it('truncates a large UDP answer to the client limit with TC set; the client gets all of it over TCP', async () => {
    const many = Array.from({ length: 100 }, (_, i) => `172.20.${i >> 8}.${i & 255}`)
    const s = await serve({ resolve: () => ({ kind: 'answer', addresses: many }) })
    const plain = await udpRaw(s.port, dnsPacket.encode(query('svc', 'A')))
    expect(plain?.length).toBeLessThanOrEqual(512)
    const small = decode(plain)
    expect(small.flag_tc).toBe(true)
    expect(small.answers?.length).toBeGreaterThan(20) // the owner name is compressed
    expect(small.answers?.length).toBeLessThan(100)
    const big = await udp(s, query('svc', 'A', { additionals: [edns(4096)] }))
    expect([big.flag_tc, big.answers?.length]).toEqual([false, 100])
    // c-ares retries over TCP on TC, as glibc does.
    expect((await nodeResolver(s).resolve4('svc')).length).toBe(100)
  })

  it('accepts queries with EDNS options (as dig sends) and answers without an OPT record, as docker does', async () => {
    const s = await serve(networkResolver())
    // A client COOKIE option; the typings know only a few option codes.
    const cookie = { code: 10, data: Buffer.from('0123456789abcdef', 'hex') }
    const opt = { ...edns(1232), options: [cookie] } as unknown as Answer
    const res = await udp(s, query('web', 'A', { additionals: [opt] }))
    expect(res.answers?.[0]).toMatchObject({ data: '172.18.0.2' })
    expect(res.additionals).toEqual([])
  })

  it('REFUSED, SERVFAIL and NOERROR for refused, failing and nodata resolver answers', async () => {
    const answers: Record<string, DnsAnswer | Error> = {
      refused: { kind: 'refused' },
      nodata: { kind: 'nodata' },
      boom: new Error('resolver bug'),
      v6only: { kind: 'answer', addresses: ['fd00::9'] },
      noupstream: { kind: 'forward', upstreams: [] },
      badupstream: { kind: 'forward', upstreams: ['not-an-ip', '1.2.3.4:99999'] },
      // A resolver bug that returns nothing.
      nothing: undefined as unknown as DnsAnswer,
    }
    const s = await serve({
      resolve: (q) => {
        const a = answers[q.name]
        if (a instanceof Error) throw a
        return q.name in answers ? (a as DnsAnswer) : { kind: 'nodata' }
      },
    })
    const rc = async (name: string) => {
      const r = await udp(s, query(name, 'A'))
      return [r.rcode, r.answers?.length]
    }
    expect(await rc('refused')).toEqual(['REFUSED', 0])
    expect(await rc('nodata')).toEqual(['NOERROR', 0])
    expect(await rc('boom')).toEqual(['SERVFAIL', 0])
    expect(await rc('v6only')).toEqual(['NOERROR', 0])
    expect(await rc('noupstream')).toEqual(['SERVFAIL', 0])
    expect(await rc('badupstream')).toEqual(['SERVFAIL', 0])
    expect(await rc('nothing')).toEqual(['SERVFAIL', 0])
  })
})

describe('EmbeddedDns: forwarding', () => {
  it('relays other names to the upstream and returns its answer with the client ID', async () => {
    const up = await fakeUpstream(UPSTREAM, { udp: { answers: aRecords('example.com', 1), flags: dnsPacket.RECURSION_AVAILABLE } })
    const s = await serve(networkResolver([], [up.upstream]))
    const res = await udp(s, query('example.com', 'A', { id: 777 }))
    expect(res).toMatchObject({ id: 777, rcode: 'NOERROR' })
    expect(res.answers?.[0]).toMatchObject({ name: 'example.com', data: '10.0.0.0', ttl: 60 })
    expect(up.seen).toHaveLength(1)
    expect(up.seen[0]?.q.questions?.[0]).toMatchObject({ name: 'example.com', type: 'A' })
    expect(await nodeResolver(s).resolve4('example.com')).toEqual(['10.0.0.0'])
  })

  it('forwards PTR of addresses it does not own, and every other type', async () => {
    const up = await fakeUpstream(UPSTREAM, {
      udp: (q) => ({ answers: [{ type: 'TXT', name: q.questions?.[0]?.name ?? '', data: 'hello' }] }),
    })
    const s = await serve(networkResolver([], [up.upstream]))
    expect((await udp(s, query('9.9.9.9.in-addr.arpa', 'PTR'))).rcode).toBe('NOERROR')
    const txt = await udp(s, query('example.com', 'TXT'))
    expect(txt.answers?.[0]).toMatchObject({ type: 'TXT' })
    expect(up.seen.map((x) => x.q.questions?.[0]?.type)).toEqual(['PTR', 'TXT'])
  })

  it('retries a truncated UDP answer over TCP and passes the full one on if it fits the client', async () => {
    const up = await fakeUpstream(UPSTREAM, {
      udp: { flags: dnsPacket.TRUNCATED_RESPONSE, answers: [] },
      tcp: { answers: aRecords('big.example', 40) },
    })
    const s = await serve(networkResolver([], [up.upstream]))
    const res = await udp(s, query('big.example', 'A', { additionals: [edns(1232)] }))
    expect([res.flag_tc, res.answers?.length]).toEqual([false, 40])
    expect(up.seen.map((x) => x.proto)).toEqual(['udp', 'tcp'])
    // Without EDNS the full answer (> 512 bytes) doesn't fit: the client gets TC and asks us over TCP.
    const plain = await udp(s, query('big.example', 'A'))
    expect([plain.flag_tc, plain.answers?.length]).toEqual([true, 0])
    expect((await nodeResolver(s).resolve4('big.example')).length).toBe(40)
    expect(up.seen.map((x) => x.proto).slice(-3)).toEqual(['udp', 'tcp', 'tcp'])
  })

  it('forwards TCP queries over TCP', async () => {
    const up = await fakeUpstream(UPSTREAM, { tcp: { answers: aRecords('example.com', 1) } })
    const s = await serve(networkResolver([], [up.upstream]))
    const c = await tcpConn(s.port)
    const q = query('example.com', 'A')
    c.send(dnsPacket.encode(q))
    const [res] = await c.replies(1)
    expect(res).toMatchObject({ id: q.id, rcode: 'NOERROR' })
    expect(up.seen.map((x) => x.proto)).toEqual(['tcp'])
  })

  it('moves to the next upstream after a timeout, SERVFAIL or REFUSED; SERVFAIL when none answers', async () => {
    const silent = await fakeUpstream(UPSTREAM, { udp: 'drop' })
    const failing = await fakeUpstream(UPSTREAM2, { udp: (q) => (q.questions?.[0]?.name === 'refuse.example' ? { flags: 5 } : { flags: 2 }) })
    const good = await fakeUpstream('127.0.53.5', { udp: { answers: aRecords('x.example', 1) } })
    let upstreams: string[] = []
    const s = await serve({ resolve: () => ({ kind: 'forward', upstreams }) }, { forwardTimeoutMs: 200 })
    upstreams = [silent.upstream, failing.upstream, good.upstream]
    const ok = await udp(s, query('x.example', 'A'))
    expect(ok.answers?.[0]).toMatchObject({ data: '10.0.0.0' })
    upstreams = [failing.upstream, good.upstream]
    expect((await udp(s, query('refuse.example', 'A'))).rcode).toBe('NOERROR')
    upstreams = [silent.upstream, failing.upstream]
    const fail = await udp(s, query('x.example', 'A', { id: 31337 }))
    expect(fail).toMatchObject({ id: 31337, rcode: 'SERVFAIL', answers: [] })
    expect(fail.questions?.[0]?.name).toBe('x.example')
    expect(silent.seen.length).toBe(2)
  })

  it('tries at most three upstreams, as docker does', async () => {
    const ups = await Promise.all(['127.0.53.11', '127.0.53.12', '127.0.53.13', '127.0.53.14'].map((a) => fakeUpstream(a, { udp: { flags: 2 } })))
    const s = await serve({ resolve: () => ({ kind: 'forward', upstreams: ups.map((u) => u.upstream) }) })
    expect((await udp(s, query('x.example', 'A'))).rcode).toBe('SERVFAIL')
    expect(ups.map((u) => u.seen.length)).toEqual([1, 1, 1, 0])
  })

  it('SERVFAIL at once for an upstream port nobody listens on', async () => {
    const s = await serve({ resolve: () => ({ kind: 'forward', upstreams: [`${UPSTREAM}:9`] }) }, { forwardTimeoutMs: 60_000 })
    expect((await udp(s, query('x.example', 'A'))).rcode).toBe('SERVFAIL')
  })

  it('skips upstreams it cannot reach or even connect to, over UDP and TCP', async () => {
    const good = await fakeUpstream(UPSTREAM, { udp: { answers: aRecords('x.example', 1) }, tcp: { answers: aRecords('x.example', 1) } })
    // A link-local address without a zone fails to connect (EINVAL) before anything is sent.
    const upstreams = ['[fe80::1]:53', `${UPSTREAM2}:9`, good.upstream]
    const s = await serve({ resolve: () => ({ kind: 'forward', upstreams }) }, { forwardTimeoutMs: 60_000 })
    expect((await udp(s, query('x.example', 'A'))).answers?.[0]).toMatchObject({ data: '10.0.0.0' })
    const c = await tcpConn(s.port)
    c.send(dnsPacket.encode(query('x.example', 'A')))
    expect((await c.replies(1))[0]?.answers?.[0]).toMatchObject({ data: '10.0.0.0' })
  })

  it('never forwards to its own address', async () => {
    let calls = 0
    let self = ''
    const s = await serve({
      resolve: () => {
        calls++
        return { kind: 'forward', upstreams: [self] }
      },
    })
    self = `${s.address}:${s.port}`
    expect((await udp(s, query('loop.example', 'A'))).rcode).toBe('SERVFAIL')
    expect(calls).toBe(1)
  })

  it('ignores upstream replies with another ID or question, and replies sent to its own port', async () => {
    const wrongId = await fakeUpstream(UPSTREAM, { udp: (q) => ({ id: ((q.id ?? 0) + 1) & 0xffff, answers: aRecords('x.example', 1) }) })
    const wrongQ = await fakeUpstream(UPSTREAM2, {
      udp: () => ({ questions: [{ name: 'other.example', type: 'A' }], answers: aRecords('other.example', 1) }),
    })
    const s = await serve({ resolve: () => ({ kind: 'forward', upstreams: [wrongId.upstream, wrongQ.upstream] }) }, { forwardTimeoutMs: 200 })
    expect((await udp(s, query('x.example', 'A'))).rcode).toBe('SERVFAIL')
    expect([wrongId.seen.length, wrongQ.seen.length]).toEqual([1, 1])
    const forged = dnsPacket.encode({ type: 'response', id: 1, questions: [{ name: 'x.example', type: 'A' }], answers: aRecords('x.example', 1) })
    expect(await udpRaw(s.port, forged, 200)).toBeUndefined()
  })

  it('refuses forwards past the concurrency cap and keeps answering its own names', async () => {
    const up = await fakeUpstream(UPSTREAM, { udp: 'drop' })
    const s = await serve(networkResolver([], [up.upstream]), { maxForwards: 2, forwardTimeoutMs: 1500 })
    const slow = [1, 2, 3, 4].map((i) => udp(s, query(`slow${i}.example`, 'A')))
    // Let the first forwards take their slots before asking for local names.
    while (up.seen.length < 2) await new Promise((r) => setTimeout(r, 10))
    expect((await udp(s, query('web', 'A'))).answers?.[0]).toMatchObject({ data: '172.18.0.2' })
    const rcodes = (await Promise.all(slow)).map((r) => r.rcode).sort()
    expect(rcodes).toEqual(['REFUSED', 'REFUSED', 'SERVFAIL', 'SERVFAIL'])
  })
})

describe('EmbeddedDns: hostile input', () => {
  it('drops garbage and replies on UDP; FORMERR/NOTIMP like miekg/dns; keeps serving', async () => {
    const s = await serve(networkResolver())
    expect(await udpRaw(s.port, Buffer.from([1, 2, 3]), 200)).toBeUndefined()
    const asResponse = dnsPacket.encode({ ...query('web', 'A'), type: 'response' })
    expect(await udpRaw(s.port, asResponse, 200)).toBeUndefined()

    const header = (id: number, flags: number, counts: number[]) => {
      const b = Buffer.alloc(12)
      b.writeUInt16BE(id, 0)
      b.writeUInt16BE(flags, 2)
      counts.forEach((c, i) => b.writeUInt16BE(c, 4 + 2 * i))
      return b
    }
    // A name that runs off the end of the message.
    const truncated = Buffer.concat([header(7, 0x0100, [1, 0, 0, 0]), Buffer.from([10, 0x61, 0x62])])
    const formerr = decode(await udpRaw(s.port, truncated))
    expect(formerr).toMatchObject({ id: 7, rcode: 'FORMERR', flag_qr: true, flag_rd: true, questions: [] })
    // Two questions: docker's server rejects anything but exactly one.
    const two = dnsPacket.encode({ ...query('web', 'A', { id: 8 }), questions: [{ name: 'web', type: 'A' }, { name: 'db', type: 'A' }] })
    expect(decode(await udpRaw(s.port, two))).toMatchObject({ id: 8, rcode: 'FORMERR' })
    // A dynamic UPDATE (opcode 5).
    const update = Buffer.concat([header(9, 5 << 11, [1, 0, 0, 0]), dnsPacket.encode(query('web', 'A')).subarray(12)])
    expect(decode(await udpRaw(s.port, update))).toMatchObject({ id: 9, opcode: 'UPDATE', rcode: 'NOTIMP' })
    // A compression pointer loop in the question.
    const loop = Buffer.concat([header(10, 0, [1, 0, 0, 0]), Buffer.from([0xc0, 12, 0, 1, 0, 1])])
    expect(decode(await udpRaw(s.port, loop)).rcode).toBe('FORMERR')

    for (let i = 0; i < 200; i++) {
      const junk = Buffer.alloc(12 + (i % 40))
      for (let j = 0; j < junk.length; j++) junk[j] = (i * 31 + j * 17) & 0xff
      junk[2] = (junk[2] ?? 0) & 0x7f // a query, so the header checks are passed often enough
      await udpRaw(s.port, junk, 5)
    }
    expect((await udp(s, query('web', 'A'))).answers?.[0]).toMatchObject({ data: '172.18.0.2' })
  })

  it('closes a TCP connection that sends garbage or an empty frame; others are unaffected', async () => {
    const s = await serve(networkResolver())
    const bad = await tcpConn(s.port)
    bad.raw(Buffer.from([0, 3, 1, 2, 3]))
    expect(await bad.closed()).toBe(true)
    const empty = await tcpConn(s.port)
    empty.raw(Buffer.from([0, 0]))
    expect(await empty.closed()).toBe(true)
    const good = await tcpConn(s.port)
    good.send(dnsPacket.encode(query('web', 'A')))
    expect((await good.replies(1))[0]?.answers?.[0]).toMatchObject({ data: '172.18.0.2' })
  })

  it('closes idle TCP connections', async () => {
    const s = await serve(networkResolver(), { tcpIdleTimeoutMs: 100 })
    const c = await tcpConn(s.port)
    c.send(dnsPacket.encode(query('web', 'A')))
    await c.replies(1)
    expect(await c.closed()).toBe(true)
  })

  it('answers many concurrent queries, local and forwarded, over UDP and TCP', async () => {
    const up = await fakeUpstream(UPSTREAM, {
      udp: (q) => ({ answers: aRecords(q.questions?.[0]?.name ?? '', 1) }),
      tcp: (q) => ({ answers: aRecords(q.questions?.[0]?.name ?? '', 1) }),
    })
    const s = await serve(networkResolver([], [up.upstream]))
    const viaUdp = Array.from({ length: 150 }, (_, i) =>
      udp(s, query(i % 2 ? 'web' : `n${i}.example`, 'A')).then((r) => r.answers?.[0]?.type === 'A' && r.answers.length === 1),
    )
    const c = await tcpConn(s.port)
    for (let i = 0; i < 50; i++) c.send(dnsPacket.encode(query(i % 2 ? 'db' : `t${i}.example`, 'A', { id: i })))
    const tcpReplies = await c.replies(50)
    expect(new Set(tcpReplies.map((r) => r.id)).size).toBe(50)
    expect(tcpReplies.every((r) => r.answers?.length === 1)).toBe(true)
    expect((await Promise.all(viaUdp)).every(Boolean)).toBe(true)
  })
})

describe('EmbeddedDns: listening', () => {
  it('rejects with an error naming the address when it is taken', async () => {
    const taken = dgram.createSocket('udp4')
    await new Promise<void>((r) => taken.bind(0, '127.0.53.20', r))
    cleanup.push(() => void taken.close())
    const err = await EmbeddedDns.listen({ address: '127.0.53.20', port: taken.address().port, resolver: networkResolver(), logger: nullLogger }).catch((e: unknown) => e)
    expect(isKind(err, 'unavailable')).toBe(true)
    expect(messageOf(err)).toContain(`127.0.53.20:${taken.address().port}/udp: address already in use`)
  })

  it('rejects a host DNS server holding the wildcard address, and an invalid address', async () => {
    const wildcard = net.createServer()
    await new Promise<void>((r) => wildcard.listen(0, '0.0.0.0', r))
    cleanup.push(() => new Promise<void>((r) => wildcard.close(() => r())))
    const port = (wildcard.address() as net.AddressInfo).port
    const err = await EmbeddedDns.listen({ address: '127.0.53.21', port, resolver: networkResolver(), logger: nullLogger }).catch((e: unknown) => e)
    expect(messageOf(err)).toMatch(/127\.0\.53\.21:\d+\/tcp: address already in use/)
    // The UDP socket it bound before failing on TCP was released.
    const again = dgram.createSocket('udp4')
    await new Promise<void>((r, j) => again.once('error', j).bind(port, '127.0.53.21', r))
    again.close()
    const bad = await EmbeddedDns.listen({ address: 'gateway', resolver: networkResolver(), logger: nullLogger }).catch((e: unknown) => e)
    expect(isKind(bad, 'invalid-argument')).toBe(true)
  })

  it('close() stops serving, abandons forwards in flight and can be called twice', async () => {
    const up = await fakeUpstream(UPSTREAM, { udp: 'drop' })
    const s = await EmbeddedDns.listen({ address: SERVER, port: 0, resolver: networkResolver([], [up.upstream]), logger: nullLogger, forwardTimeoutMs: 60_000 })
    const inflight = udpRaw(s.port, dnsPacket.encode(query('slow.example', 'A')), 500)
    while (up.seen.length < 1) await new Promise((r) => setTimeout(r, 10))
    await s.close()
    await s.close()
    expect(await inflight).toBeUndefined()
    expect(await udpRaw(s.port, dnsPacket.encode(query('web', 'A')), 200)).toBeUndefined()
  })
})
