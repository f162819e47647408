// The bridge firewall against the real iptables and kernel: chains and jumps
// converge whatever was left, and real packets between network namespaces the
// test creates show isolation, icc and published ports (loopback, another
// bridge, hairpin). Everything is named after this process, so the berthd the
// suite runs (and its BERTH chains) is never touched.
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { nullLogger, run } from '../../../src/lib/index.js'
import { Firewall, jumpChanges, renderRules, type FirewallState, type PortRule } from '../../../src/network/firewall.js'
import { freePort, missing, waitFor } from '../../helpers.js'

const why =
  missing('root') ??
  (await (async () => {
    if (process.getuid?.() !== 0) return undefined
    const d = await Firewall.detect()
    if (d.ok) return undefined
    console.warn(`skipping: ${d.reason}`)
    return d.reason
  })())

const pid = process.pid
const P = `BT${pid}`
const brA = `btfw${pid}a`
const brB = `btfw${pid}b`
// 198.18.0.0/15 is for benchmarking networks: nothing real lives there.
const octet = pid % 250
const netA = { gw: `198.18.${octet}.1`, subnet: `198.18.${octet}.0/24`, a1: `198.18.${octet}.2`, a2: `198.18.${octet}.3` }
const netB = { gw: `198.19.${octet}.1`, subnet: `198.19.${octet}.0/24`, b1: `198.19.${octet}.2` }
const ns = { a1: `btfw${pid}-a1`, a2: `btfw${pid}-a2`, b1: `btfw${pid}-b1` }
const LISTEN = 8080

const sh = async (cmd: string, ...args: string[]) => (await run(cmd, args)).stdout
const quiet = (cmd: string, ...args: string[]) => run(cmd, args, { check: false })

/** Lines of `iptables -S` (or -t table) that mention our prefix. */
async function ours(table: string, v6 = false): Promise<string[]> {
  const out = await sh(v6 ? 'ip6tables' : 'iptables', '-w', '-t', table, '-S')
  return out.split('\n').filter((l) => l.includes(P))
}
const count = (lines: string[], line: string) => lines.filter((l) => l === line).length

async function assertConverged(state: FirewallState, family: 4 | 6 = 4): Promise<void> {
  const saved = await sh(family === 4 ? 'iptables-save' : 'ip6tables-save')
  // Jump specs are compared with iptables-save's text: a second render must change nothing.
  expect(jumpChanges(renderRules(state, P, family, saved))).toEqual([])
}

const port = (o: Partial<PortRule> & Pick<PortRule, 'hostIp' | 'hostPort'>): PortRule => ({
  proto: 'tcp',
  containerIp: netA.a1,
  containerPort: LISTEN,
  bridge: brA,
  ...o,
})

describe.skipIf(why)('bridge firewall (iptables)', () => {
  const fw = new Firewall({ prefix: P, logger: nullLogger })
  let hostPort = 0
  let gwPort = 0
  let listener: ChildProcess | undefined
  const state = (o: { icc?: boolean; internalA?: boolean; ports?: PortRule[]; v6?: boolean } = {}): FirewallState => ({
    bridges: [
      {
        bridge: brA,
        subnets4: [netA.subnet],
        subnets6: o.v6 ? ['fd42:b7:1::/64'] : [],
        icc: o.icc ?? true,
        masquerade: true,
        internal: o.internalA ?? false,
      },
      { bridge: brB, subnets4: [netB.subnet], subnets6: [], icc: true, masquerade: true, internal: false },
    ],
    ports: o.ports ?? [
      port({ hostIp: '127.0.0.1', hostPort }),
      // Published on brA's gateway address: reachable from brB only this way, and hairpin from brA.
      port({ hostIp: netA.gw, hostPort: gwPort }),
    ],
  })

  async function cleanup(): Promise<void> {
    listener?.kill('SIGKILL')
    await fw.teardown()
    for (const n of Object.values(ns)) await quiet('ip', 'netns', 'del', n)
    for (const b of [brA, brB]) await quiet('ip', 'link', 'del', b)
    for (const [i, o] of [[brA, brB], [brB, brA]]) {
      while ((await quiet('iptables', '-w', '-D', 'FORWARD', '-i', i, '-o', o, '-j', 'ACCEPT')).code === 0);
    }
  }

  beforeAll(async () => {
    await cleanup()
    hostPort = await freePort()
    gwPort = await freePort()
    for (const [b, net] of [[brA, netA], [brB, netB]] as const) {
      await sh('ip', 'link', 'add', b, 'type', 'bridge')
      await sh('ip', 'addr', 'add', `${net.gw}/24`, 'dev', b)
      await sh('ip', 'link', 'set', b, 'up')
    }
    const join = async (name: string, bridge: string, addr: string, gw: string, veth: string) => {
      await sh('ip', 'netns', 'add', name)
      await sh('ip', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name)
      await sh('ip', 'link', 'set', veth, 'master', bridge, 'up')
      await sh('ip', 'netns', 'exec', name, 'ip', 'addr', 'add', `${addr}/24`, 'dev', 'eth0')
      await sh('ip', 'netns', 'exec', name, 'ip', 'link', 'set', 'eth0', 'up')
      await sh('ip', 'netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up')
      await sh('ip', 'netns', 'exec', name, 'ip', 'route', 'add', 'default', 'via', gw)
    }
    await join(ns.a1, brA, netA.a1, netA.gw, `vfw${pid}a1`)
    await join(ns.a2, brA, netA.a2, netA.gw, `vfw${pid}a2`)
    await join(ns.b1, brB, netB.b1, netB.gw, `vfw${pid}b1`)
    // Anything that reaches these accepts was not dropped by berth's chain (the
    // jump sits above them): they make the isolation checks independent of
    // whatever policy FORWARD happens to have on this machine.
    await sh('iptables', '-w', '-A', 'FORWARD', '-i', brA, '-o', brB, '-j', 'ACCEPT')
    await sh('iptables', '-w', '-A', 'FORWARD', '-i', brB, '-o', brA, '-j', 'ACCEPT')

    const script = `require('net').createServer((s) => s.end('hello from a1\\n')).listen(${LISTEN}, '0.0.0.0', () => console.log('ready'))`
    listener = spawn('ip', ['netns', 'exec', ns.a1, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    listener.stdout?.on('data', (b: Buffer) => (out += b.toString()))
    await waitFor(() => out.includes('ready') || undefined, 10_000, 'the listener in the namespace')
  })

  afterAll(cleanup)

  /** Connect from a namespace (or the host) and return what the server said, or undefined on timeout/refusal. */
  async function fetchFrom(where: string | undefined, host: string, p: number): Promise<string | undefined> {
    const script = `const s = require('net').connect(${p}, '${host}'); let d = ''; s.setTimeout(1500, () => process.exit(1));
      s.on('data', (b) => (d += b)); s.on('end', () => { process.stdout.write(d); process.exit(0) }); s.on('error', () => process.exit(1))`
    const argv = where ? ['netns', 'exec', where, process.execPath, '-e', script] : ['-e', script]
    const r = await run(where ? 'ip' : process.execPath, argv, { check: false })
    return r.code === 0 ? r.stdout : undefined
  }
  const ping = async (where: string, addr: string) =>
    (await quiet('ip', 'netns', 'exec', where, 'busybox', 'ping', '-c', '1', '-W', '1', addr)).code === 0

  test('sync creates the chains and one jump each, twice in a row', async () => {
    await fw.sync(state())
    await fw.sync(state())
    const filter = await ours('filter')
    expect(count(filter, `-N ${P}-FORWARD`)).toBe(1)
    expect(count(filter, `-A FORWARD -j ${P}-FORWARD`)).toBe(1)
    const firstForward = (await sh('iptables', '-w', '-S', 'FORWARD')).split('\n')[1]
    expect(firstForward).toBe(`-A FORWARD -j ${P}-FORWARD`)
    const nat = await ours('nat')
    expect(count(nat, `-A PREROUTING -m addrtype --dst-type LOCAL -j ${P}-DNAT`)).toBe(1)
    expect(count(nat, `-A OUTPUT -m addrtype --dst-type LOCAL -j ${P}-DNAT`)).toBe(1)
    expect(count(nat, `-A POSTROUTING -j ${P}-POSTROUTING`)).toBe(1)
    expect(nat).toContain(`-A ${P}-DNAT -d 127.0.0.1/32 -p tcp -m tcp --dport ${hostPort} -j DNAT --to-destination ${netA.a1}:${LISTEN}`)
    expect(count(await ours('raw'), `-A PREROUTING -j ${P}-PREROUTING`)).toBe(1)
    expect(readFileSync(`/proc/sys/net/ipv4/conf/${brA}/route_localnet`, 'utf8').trim()).toBe('1')
    await assertConverged(state())
  })

  test('after a crash left a jump missing, one doubled and a stray rule, sync restores exactly the state', async () => {
    await sh('iptables', '-w', '-D', 'FORWARD', '-j', `${P}-FORWARD`)
    await sh('iptables', '-w', '-t', 'nat', '-A', 'OUTPUT', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', `${P}-DNAT`)
    await sh('iptables', '-w', '-A', `${P}-FORWARD`, '-s', '203.0.113.7/32', '-j', 'ACCEPT')
    await sh('iptables', '-w', '-N', `${P}-OLD`)
    await sh('iptables', '-w', '-I', 'INPUT', '-j', `${P}-OLD`)
    await fw.sync(state())
    const filter = await ours('filter')
    expect(count(filter, `-A FORWARD -j ${P}-FORWARD`)).toBe(1)
    expect(filter.join('\n')).not.toContain('203.0.113.7')
    expect(filter.join('\n')).not.toContain(`${P}-OLD`)
    expect(count(await ours('nat'), `-A OUTPUT -m addrtype --dst-type LOCAL -j ${P}-DNAT`)).toBe(1)
    await assertConverged(state())
  })

  test('same bridge talks, different bridges do not', async () => {
    await fw.sync(state())
    expect(await ping(ns.a1, netA.a2)).toBe(true)
    expect(await ping(ns.a1, netB.b1)).toBe(false)
    expect(await ping(ns.b1, netA.a1)).toBe(false)
    expect(await fetchFrom(ns.b1, netA.a1, LISTEN)).toBeUndefined()
  })

  test('a port published on 127.0.0.1 is reached from the host', async () => {
    expect(await fetchFrom(undefined, '127.0.0.1', hostPort)).toBe('hello from a1\n')
  })

  test('a published port is the one way in from another bridge, and works hairpin', async () => {
    const forwarding = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() === '1'
    if (!forwarding) console.warn('skipping the routed part: net.ipv4.ip_forward is 0 on this host')
    else expect(await fetchFrom(ns.b1, netA.gw, gwPort)).toBe('hello from a1\n')
    expect(await fetchFrom(ns.a2, netA.gw, gwPort)).toBe('hello from a1\n')
  })

  test('icc=false drops traffic within the bridge', async () => {
    await fw.sync(state({ icc: false }))
    expect(await ping(ns.a1, netA.a2)).toBe(false)
    expect(await ours('filter')).toContain(`-A ${P}-FORWARD -i ${brA} -o ${brA} -j DROP`)
    await fw.sync(state())
    expect(await ping(ns.a1, netA.a2)).toBe(true)
  })

  test('rules follow the state: ports and networks come and go', async () => {
    await fw.sync(state({ ports: [] }))
    const nat = await ours('nat')
    expect(nat.filter((l) => l.startsWith(`-A ${P}-DNAT`))).toEqual([])
    expect(await fetchFrom(undefined, '127.0.0.1', hostPort)).toBeUndefined()

    await fw.sync({ bridges: state().bridges.slice(0, 1), ports: [] })
    expect((await ours('filter')).join('\n')).not.toContain(brB)
    expect((await ours('nat')).join('\n')).not.toContain(brB)

    await fw.sync(state({ internalA: true }))
    const filter = await ours('filter')
    expect(filter).toContain(`-A ${P}-FORWARD -i ${brA} ! -o ${brA} -j DROP`)
    expect(filter).not.toContain(`-A ${P}-FORWARD -i ${brA} -j ACCEPT`)
    expect((await ours('nat')).filter((l) => l.includes(brA))).toEqual([])
    expect(await fetchFrom(undefined, '127.0.0.1', hostPort)).toBeUndefined()
    expect(await ping(ns.a1, netA.a2)).toBe(true)
    await fw.sync(state())
    expect(await fetchFrom(undefined, '127.0.0.1', hostPort)).toBe('hello from a1\n')
  })

  test('IPv6 chains exist only while something has IPv6', async () => {
    const has6 = (await quiet('ip6tables', '-w', '-S')).code === 0
    if (!has6) {
      console.warn('skipping: ip6tables is not usable here')
      return
    }
    await fw.sync(state({ v6: true }))
    const nat6 = await ours('nat', true)
    expect(count(nat6, `-A OUTPUT ! -d ::1/128 -m addrtype --dst-type LOCAL -j ${P}-DNAT`)).toBe(1)
    expect(nat6).toContain(`-A ${P}-POSTROUTING -s fd42:b7:1::/64 ! -o ${brA} -j MASQUERADE`)
    expect(count(await ours('filter', true), `-A FORWARD -j ${P}-FORWARD`)).toBe(1)
    await assertConverged(state({ v6: true }), 6)
    await fw.sync(state())
    expect(await ours('filter', true)).toEqual([])
    expect(await ours('nat', true)).toEqual([])
  })

  test('teardown leaves nothing with the prefix, and is idempotent', async () => {
    await fw.sync(state({ v6: true }))
    await fw.teardown()
    await fw.teardown()
    expect((await sh('iptables-save')).includes(P)).toBe(false)
    expect((await quiet('ip6tables-save')).stdout.includes(P)).toBe(false)
  })
})
