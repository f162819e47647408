import { describe, expect, test } from 'vitest'
import { kindOf } from '../errors/index.js'
import { nullLogger, type RunOptions, type RunResult } from '../lib/index.js'
import { Firewall, jumpChanges, parseSave, renderRules, renderTeardown, type BridgeRules, type FirewallState } from './firewall.js'

const br = (bridge: string, o: Partial<BridgeRules> = {}): BridgeRules => ({
  bridge,
  subnets4: [],
  subnets6: [],
  icc: true,
  masquerade: true,
  internal: false,
  ...o,
})

const two: FirewallState = {
  bridges: [br('br-a', { subnets4: ['172.20.0.0/16'] }), br('br-b', { subnets4: ['172.21.0.0/16'], icc: false })],
  ports: [
    { proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, containerIp: '172.20.0.2', containerPort: 80, bridge: 'br-a' },
    { proto: 'udp', hostIp: '127.0.0.1', hostPort: 5353, containerIp: '172.21.0.3', containerPort: 53, bridge: 'br-b' },
  ],
}

/** The `-A <chain>` rules of one table section of restore text. */
function rulesOf(text: string, table: string, chain: string): string[] {
  const sec = text.split(/^COMMIT$/m).find((s) => s.includes(`*${table}\n`)) ?? ''
  return sec
    .split('\n')
    .filter((l) => l.startsWith(`-A ${chain} `))
    .map((l) => l.slice(`-A ${chain} `.length))
}

describe('renderRules', () => {
  test('declares the chains and inserts each jump when nothing is there', () => {
    const t = renderRules(two, 'BT', 4)
    expect(t).toMatch(/^\*raw\n:BT-PREROUTING - \[0:0\]\n-I PREROUTING 1 -j BT-PREROUTING\n/)
    expect(t).toContain('*filter\n:BT-FORWARD - [0:0]\n-I FORWARD 1 -j BT-FORWARD\n')
    expect(t).toContain(
      [
        '*nat',
        ':BT-DNAT - [0:0]',
        ':BT-POSTROUTING - [0:0]',
        '-I PREROUTING 1 -m addrtype --dst-type LOCAL -j BT-DNAT',
        '-I OUTPUT 1 -m addrtype --dst-type LOCAL -j BT-DNAT',
        '-I POSTROUTING 1 -j BT-POSTROUTING',
      ].join('\n'),
    )
    expect(t.match(/^COMMIT$/gm)).toHaveLength(3)
    expect(t.endsWith('COMMIT\n')).toBe(true)
  })

  test('filter: replies and published ports enter, icc decides inside, everything else entering a bridge drops before egress', () => {
    expect(rulesOf(renderRules(two, 'BT', 4), 'filter', 'BT-FORWARD')).toEqual([
      '-o br-a -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-o br-b -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
      '-d 172.20.0.2/32 ! -i br-a -o br-a -p tcp -m tcp --dport 80 -m conntrack --ctstate DNAT -j ACCEPT',
      '-d 172.21.0.3/32 ! -i br-b -o br-b -p udp -m udp --dport 53 -m conntrack --ctstate DNAT -j ACCEPT',
      '-i br-a -o br-a -j ACCEPT',
      '-i br-b -o br-b -j DROP',
      '-o br-a -j DROP',
      '-o br-b -j DROP',
      '-i br-a -j ACCEPT',
      '-i br-b -j ACCEPT',
    ])
  })

  test('nat: DNAT per port, masquerade out, host and hairpin masquerade for bridges with ports', () => {
    const t = renderRules(two, 'BT', 4)
    expect(rulesOf(t, 'nat', 'BT-DNAT')).toEqual([
      '-p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.20.0.2:80',
      '-d 127.0.0.1/32 -p udp -m udp --dport 5353 -j DNAT --to-destination 172.21.0.3:53',
    ])
    expect(rulesOf(t, 'nat', 'BT-POSTROUTING')).toEqual([
      '-s 172.20.0.0/16 ! -o br-a -j MASQUERADE',
      '-s 172.21.0.0/16 ! -o br-b -j MASQUERADE',
      '-o br-a -m addrtype --src-type LOCAL -m conntrack --ctstate DNAT -j MASQUERADE',
      '-s 172.20.0.0/16 -o br-a -m conntrack --ctstate DNAT -j MASQUERADE',
      '-o br-b -m addrtype --src-type LOCAL -m conntrack --ctstate DNAT -j MASQUERADE',
      '-s 172.21.0.0/16 -o br-b -m conntrack --ctstate DNAT -j MASQUERADE',
    ])
    expect(rulesOf(t, 'raw', 'BT-PREROUTING')).toEqual(['-d 127.0.0.0/8 -i br-a -j DROP', '-d 127.0.0.0/8 -i br-b -j DROP'])
  })

  test('an internal bridge is sealed first, gets no egress, no NAT and no published ports', () => {
    const s: FirewallState = {
      bridges: [br('br-a', { subnets4: ['172.20.0.0/16'] }), br('br-int', { subnets4: ['172.22.0.0/16'], internal: true })],
      ports: [{ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 9000, containerIp: '172.22.0.2', containerPort: 80, bridge: 'br-int' }],
    }
    const t = renderRules(s, 'BT', 4)
    const fwd = rulesOf(t, 'filter', 'BT-FORWARD')
    expect(fwd.slice(0, 2)).toEqual(['-i br-int ! -o br-int -j DROP', '! -i br-int -o br-int -j DROP'])
    expect(fwd).toContain('-i br-int -o br-int -j ACCEPT')
    expect(fwd.filter((r) => r.includes('br-int'))).toHaveLength(3)
    expect(rulesOf(t, 'nat', 'BT-DNAT')).toEqual([])
    expect(rulesOf(t, 'nat', 'BT-POSTROUTING')).toEqual(['-s 172.20.0.0/16 ! -o br-a -j MASQUERADE'])
  })

  test('masquerade off leaves outgoing sources alone', () => {
    const t = renderRules({ bridges: [br('br-a', { subnets4: ['10.1.0.0/24'], masquerade: false })], ports: [] }, 'BT', 4)
    expect(rulesOf(t, 'nat', 'BT-POSTROUTING')).toEqual([])
    expect(rulesOf(t, 'filter', 'BT-FORWARD')).toContain('-i br-a -j ACCEPT')
  })

  test('IPv6: no raw table, ::1 not DNATed, bracketed destination, v6 subnets only', () => {
    const s: FirewallState = {
      bridges: [br('br-a', { subnets4: ['172.20.0.0/16'], subnets6: ['fd00:1::/64'] })],
      ports: [
        { proto: 'tcp', hostIp: '::', hostPort: 8080, containerIp: 'fd00:1::2', containerPort: 80, bridge: 'br-a' },
        { proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, containerIp: '172.20.0.2', containerPort: 80, bridge: 'br-a' },
      ],
    }
    const t = renderRules(s, 'BT', 6)
    expect(t).not.toContain('*raw')
    expect(t).toContain('-I OUTPUT 1 ! -d ::1/128 -m addrtype --dst-type LOCAL -j BT-DNAT')
    expect(rulesOf(t, 'nat', 'BT-DNAT')).toEqual(['-p tcp -m tcp --dport 8080 -j DNAT --to-destination [fd00:1::2]:80'])
    expect(rulesOf(t, 'nat', 'BT-POSTROUTING')).toEqual([
      '-s fd00:1::/64 ! -o br-a -j MASQUERADE',
      '-o br-a -m addrtype --src-type LOCAL -m conntrack --ctstate DNAT -j MASQUERADE',
      '-s fd00:1::/64 -o br-a -m conntrack --ctstate DNAT -j MASQUERADE',
    ])
    expect(rulesOf(t, 'filter', 'BT-FORWARD')).toContain(
      '-d fd00:1::2/128 ! -i br-a -o br-a -p tcp -m tcp --dport 80 -m conntrack --ctstate DNAT -j ACCEPT',
    )
  })

  test('both wildcards for one IPv4 container publish once', () => {
    const p = { proto: 'tcp', hostPort: 8080, containerIp: '172.20.0.2', containerPort: 80, bridge: 'br-a' } as const
    const t = renderRules({ bridges: [br('br-a')], ports: [{ ...p, hostIp: '0.0.0.0' }, { ...p, hostIp: '::' }] }, 'BT', 4)
    expect(rulesOf(t, 'nat', 'BT-DNAT')).toHaveLength(1)
  })

  test.each<[string, FirewallState | undefined, string?]>([
    ['bridge name with a wildcard', { bridges: [br('br+')], ports: [] }],
    ['bridge name too long', { bridges: [br('a234567890123456')], ports: [] }],
    ['bridge listed twice', { bridges: [br('br-a'), br('br-a')], ports: [] }],
    ['IPv6 subnet among IPv4', { bridges: [br('br-a', { subnets4: ['fd00::/64'] })], ports: [] }],
    ['subnet without a prefix', { bridges: [br('br-a', { subnets4: ['10.0.0.0'] })], ports: [] }],
    ['port on an unknown bridge', { bridges: [br('br-a')], ports: [{ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 1, containerIp: '10.0.0.2', containerPort: 1, bridge: 'br-x' }] }],
    ['host port 0', { bridges: [br('br-a')], ports: [{ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 0, containerIp: '10.0.0.2', containerPort: 1, bridge: 'br-a' }] }],
    ['mixed families', { bridges: [br('br-a')], ports: [{ proto: 'tcp', hostIp: '::1', hostPort: 1, containerIp: '10.0.0.2', containerPort: 1, bridge: 'br-a' }] }],
    ['bad prefix', undefined, 'B T'],
    ['prefix too long for iptables chain names', undefined, 'BERTH-ABCDEFGHIJK'],
  ])('rejects %s', (_what, state, prefix = 'BT') => {
    const err = (() => {
      try {
        renderRules(state ?? { bridges: [], ports: [] }, prefix, 4)
      } catch (e) {
        return e
      }
    })()
    expect(kindOf(err)).toBe('invalid-argument')
  })
})

const savedOk = `# Generated by iptables-save
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:BT-PREROUTING - [0:0]
-A PREROUTING -j BT-PREROUTING
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:BT-FORWARD - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j BT-FORWARD
-A FORWARD -j DOCKER-USER
-A BT-FORWARD -o br-a -j DROP
-A DOCKER-USER -j RETURN
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:BT-DNAT - [0:0]
:BT-POSTROUTING - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j BT-DNAT
-A OUTPUT -m addrtype --dst-type LOCAL -j BT-DNAT
-A POSTROUTING -j BT-POSTROUTING
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
COMMIT
`

describe('reconciling jumps', () => {
  test('nothing to change when each jump is there once', () => {
    const t = renderRules(two, 'BT', 4, savedOk)
    expect(jumpChanges(t)).toEqual([])
    // The chains are still declared and refilled: that is what makes the contents exact.
    expect(t).toContain(':BT-FORWARD - [0:0]')
    expect(rulesOf(t, 'filter', 'BT-FORWARD')).toHaveLength(10)
  })

  test('a duplicate jump is deleted, a missing one inserted, a changed one replaced', () => {
    const saved = savedOk
      .replace('-A FORWARD -j DOCKER-USER', '-A FORWARD -j DOCKER-USER\n-A FORWARD -j BT-FORWARD')
      .replace('-A OUTPUT -m addrtype --dst-type LOCAL -j BT-DNAT\n', '')
      .replace('-A POSTROUTING -j BT-POSTROUTING', '-A POSTROUTING -o eth0 -j BT-POSTROUTING')
    expect(jumpChanges(renderRules(two, 'BT', 4, saved))).toEqual([
      '-D FORWARD -j BT-FORWARD',
      '-D POSTROUTING -o eth0 -j BT-POSTROUTING',
      '-I OUTPUT 1 -m addrtype --dst-type LOCAL -j BT-DNAT',
      '-I POSTROUTING 1 -j BT-POSTROUTING',
    ])
  })

  test('stale chains of ours are emptied and removed, with the jumps to them, in any table', () => {
    const saved =
      savedOk.replace(':BT-FORWARD - [0:0]', ':BT-FORWARD - [0:0]\n:BT-OLD - [0:0]\n-A FORWARD -j BT-OLD\n-A BT-OLD -j DROP') +
      '*mangle\n:PREROUTING ACCEPT [0:0]\n:BT-MARK - [0:0]\n-A PREROUTING -j BT-MARK\nCOMMIT\n'
    const t = renderRules(two, 'BT', 4, saved)
    expect(t).toContain(':BT-OLD - [0:0]\n-D FORWARD -j BT-OLD\n-X BT-OLD\n')
    expect(t).toContain('*mangle\n:BT-MARK - [0:0]\n-D PREROUTING -j BT-MARK\n-X BT-MARK\nCOMMIT\n')
  })

  test("others' chains that share a prefix start are not ours", () => {
    const saved = savedOk.replace(
      ':DOCKER-USER - [0:0]',
      ':DOCKER-USER - [0:0]\n:BTX-FORWARD - [0:0]\n:BT-BR1-FORWARD - [0:0]\n-A FORWARD -j BTX-FORWARD\n-A FORWARD -j BT-BR1-FORWARD',
    )
    const t = renderRules(two, 'BT', 4, saved)
    expect(t).not.toContain('BTX')
    expect(t).not.toContain('BT-BR1')
    // ... and the daemon with the longer prefix leaves BT's alone.
    expect(renderTeardown('BT-BR1', savedOk)).toBe('')
    expect(jumpChanges(renderRules(two, 'BT-BR1', 4, savedOk))).toEqual([
      '-I PREROUTING 1 -j BT-BR1-PREROUTING',
      '-I FORWARD 1 -j BT-BR1-FORWARD',
      '-I PREROUTING 1 -m addrtype --dst-type LOCAL -j BT-BR1-DNAT',
      '-I OUTPUT 1 -m addrtype --dst-type LOCAL -j BT-BR1-DNAT',
      '-I POSTROUTING 1 -j BT-BR1-POSTROUTING',
    ])
  })
})

describe('renderTeardown', () => {
  test('removes jumps and chains, leaves everything else', () => {
    const t = renderTeardown('BT', savedOk)
    expect(t).toBe(
      [
        '*raw',
        ':BT-PREROUTING - [0:0]',
        '-D PREROUTING -j BT-PREROUTING',
        '-X BT-PREROUTING',
        'COMMIT',
        '*filter',
        ':BT-FORWARD - [0:0]',
        '-D FORWARD -j BT-FORWARD',
        '-X BT-FORWARD',
        'COMMIT',
        '*nat',
        ':BT-DNAT - [0:0]',
        ':BT-POSTROUTING - [0:0]',
        '-D PREROUTING -m addrtype --dst-type LOCAL -j BT-DNAT',
        '-D OUTPUT -m addrtype --dst-type LOCAL -j BT-DNAT',
        '-D POSTROUTING -j BT-POSTROUTING',
        '-X BT-DNAT',
        '-X BT-POSTROUTING',
        'COMMIT',
        '',
      ].join('\n'),
    )
  })

  test('is empty when nothing of ours is there', () => {
    expect(renderTeardown('OTHER', savedOk)).toBe('')
  })
})

test('parseSave reads tables, chains and rules', () => {
  const t = parseSave(savedOk).get('filter')
  expect(t?.chains).toEqual(['INPUT', 'FORWARD', 'OUTPUT', 'BT-FORWARD', 'DOCKER-USER'])
  expect(t?.rules[0]).toEqual({ chain: 'FORWARD', line: '-A FORWARD -j BT-FORWARD' })
})

/** A fake iptables: save prints `saved[family]`; restore answers from `restoreResults`, recording its input. */
function fakeExec(o: { saved?: Partial<Record<4 | 6, string>>; missing?: string[]; restoreResults?: RunResult[] }) {
  const calls: Array<{ cmd: string; input?: string }> = []
  const exec = async (cmd: string, _args: readonly string[], opts: RunOptions = {}): Promise<RunResult> => {
    calls.push({ cmd, input: typeof opts.input === 'string' ? opts.input : undefined })
    if (o.missing?.includes(cmd)) throw Object.assign(new Error(`spawn ${cmd} ENOENT`), { code: 'ENOENT' })
    if (cmd.endsWith('-save')) return { code: 0, stdout: o.saved?.[cmd.startsWith('ip6') ? 6 : 4] ?? '', stderr: '' }
    return o.restoreResults?.shift() ?? { code: 0, stdout: '', stderr: '' }
  }
  return { exec, calls }
}

describe('Firewall', () => {
  const v4only: FirewallState = { bridges: [br('br-a', { subnets4: ['10.5.0.0/24'] })], ports: [] }

  test('sync restores IPv4 and skips IPv6 when nothing of ours is there', async () => {
    const f = fakeExec({})
    await new Firewall({ prefix: 'BT', logger: nullLogger, exec: f.exec }).sync(v4only)
    expect(f.calls.map((c) => c.cmd)).toEqual(['iptables-save', 'iptables-restore', 'ip6tables-save'])
    expect(f.calls[1].input).toContain('-A BT-FORWARD -i br-a -j ACCEPT')
  })

  test('a failing restore is retried once, then names the stderr and the input line', async () => {
    const bad = { code: 2, stdout: '', stderr: 'iptables-restore v1.8.9 (nf_tables): \nline 4: RULE_APPEND failed (Invalid argument)\n' }
    const f = fakeExec({ restoreResults: [bad, bad] })
    const err = await new Firewall({ prefix: 'BT', logger: nullLogger, exec: f.exec }).sync(v4only).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(Error)
    expect((err as Error).message).toBe(
      'iptables-restore failed: iptables-restore v1.8.9 (nf_tables): line 4: RULE_APPEND failed (Invalid argument) (input line 4: -A BT-PREROUTING -d 127.0.0.0/8 -i br-a -j DROP)',
    )
    expect(f.calls.filter((c) => c.cmd === 'iptables-restore')).toHaveLength(2)
  })

  test('missing iptables is unavailable with the fix; missing ip6tables only skips IPv6', async () => {
    const none = fakeExec({ missing: ['iptables-save'] })
    const err = await new Firewall({ logger: nullLogger, exec: none.exec }).sync(v4only).catch((e: unknown) => e)
    expect(kindOf(err)).toBe('unavailable')
    expect((err as Error).message).toContain('apt-get install -y iptables')

    const no6 = fakeExec({ missing: ['ip6tables-save'] })
    const dual = { bridges: [br('br-a', { subnets6: ['fd00:5::/64'] })], ports: [] }
    await new Firewall({ logger: nullLogger, exec: no6.exec }).sync(dual)
    expect(no6.calls.map((c) => c.cmd)).toEqual(['iptables-save', 'iptables-restore', 'ip6tables-save'])
  })

  test('detect explains a missing tool', async () => {
    const f = fakeExec({ missing: ['iptables'] })
    const r = await Firewall.detect(f.exec)
    expect(r).toEqual({ ok: false, reason: 'iptables is not installed; install it with: apt-get install -y iptables' })
  })

  test('calls are serialised: a second sync starts after the first finished', async () => {
    const f = fakeExec({})
    const fw = new Firewall({ prefix: 'BT', logger: nullLogger, exec: f.exec })
    await Promise.all([fw.sync(v4only), fw.teardown()])
    expect(f.calls.map((c) => c.cmd)).toEqual(['iptables-save', 'iptables-restore', 'ip6tables-save', 'iptables-save', 'ip6tables-save'])
  })
})
