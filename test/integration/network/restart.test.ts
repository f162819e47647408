// Networking across berthd restarts: the firewall rules come back exactly as
// they were (no duplicate jumps), published ports keep working through the
// kernel's NAT while berthd is down and through berthd once it is back, names
// still resolve, and what died while berthd was killed is cleaned up when it
// returns. Restarts the suite's berthd as containers/restore.test.ts does.
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'
import { berth, missing, ok, uniq } from '../../helpers.js'
import { ensureDaemon, startDaemon, stopDaemon } from './daemon.js'
import { berthRules, chains, freeHostPort, hasIpv6, hostAddr4, httpdScript, httpGet, ipOf, pidOf, tcpConnects, waitHttp } from './net.js'

const skip = missing('root', 'daemon')

/** Every line of the suite berthd's rules (and the jumps to them), per table. */
async function snapshot(): Promise<Record<string, string[]>> {
  return { raw: await berthRules('raw'), filter: await berthRules('filter'), nat: await berthRules('nat') }
}

/** The jumps from built-in chains into ours: each must be there exactly once. */
function jumps(s: Record<string, string[]>): string[] {
  const p = chains()
  return Object.entries(s).flatMap(([t, lines]) => lines.filter((l) => /^-A (PREROUTING|OUTPUT|POSTROUTING|FORWARD|INPUT) /.test(l) && l.includes(`-j ${p}-`)).map((l) => `${t}: ${l}`))
}

describe.skipIf(skip)('networking across berthd restarts', () => {
  const made: string[] = []
  const name = (p: string) => {
    const n = uniq(p)
    made.push(n)
    return n
  }
  const web = name('rs-web')
  const victim = name('rs-victim')
  const r1 = name('rs-r1')
  const r2 = name('rs-r2')
  const net = uniq('rs-net')
  const v6 = hasIpv6()
  let port = 0
  let victimPort = 0
  let other: string | undefined

  beforeAll(async () => {
    other = await hostAddr4()
    port = await freeHostPort()
    victimPort = await freeHostPort()
    ok(await berth(['network', 'create', net]))
    ok(await berth(['run', '-d', '--name', web, '-p', `${port}:80`, 'busybox', 'sh', '-c', httpdScript('hello-restart', 80)]))
    ok(await berth(['run', '-d', '--name', victim, '-p', `${victimPort}:80`, 'busybox', 'sh', '-c', httpdScript('hello-victim', 80)]))
    // --dns to loopback: a lookup that misses must not leave the host.
    ok(await berth(['run', '-d', '--name', r1, '--network', net, '--network-alias', 'r1-alias', '--dns', '127.0.0.1', 'busybox', 'sleep', '1d']))
    ok(await berth(['run', '-d', '--name', r2, '--network', net, '--dns', '127.0.0.1', 'busybox', 'sleep', '1d']))
    await waitHttp('127.0.0.1', port, 'hello-restart')
    await waitHttp('127.0.0.1', victimPort, 'hello-victim')
  })

  afterAll(async () => {
    await ensureDaemon()
    await berth(['rm', '-f', ...made])
    await berth(['network', 'rm', net])
  })

  test('SIGTERM: rules stay while berthd is down, NAT keeps serving, and the same rules come back once', async () => {
    const before = await snapshot()
    expect(before.nat.filter((l) => l.includes(`--dport ${port} `))).toHaveLength(1)
    // One jump per built-in chain berth hooks, no more.
    expect(new Set(jumps(before)).size).toBe(jumps(before).length)

    await stopDaemon('SIGTERM')
    expect(await snapshot()).toEqual(before)
    // The kernel's DNAT carries IPv4 with no berthd at all.
    expect((await httpGet('127.0.0.1', port))?.trim()).toBe('hello-restart')
    if (other) expect((await httpGet(other, port))?.trim()).toBe('hello-restart')

    await startDaemon()
    const after = await snapshot()
    expect(after).toEqual(before)
    expect((await httpGet('127.0.0.1', port))?.trim()).toBe('hello-restart')
    // [::] is relayed by berthd's listener: it is bound again.
    if (v6) await waitHttp('::1', port, 'hello-restart', 5000)
    expect(ok(await berth(['port', web])).stdout).toBe(`80/tcp -> 0.0.0.0:${port}\n` + (v6 ? `80/tcp -> [::]:${port}\n` : ''))
    // The embedded DNS answers again.
    for (const n of [r1, 'r1-alias']) {
      const p = await berth(['exec', r2, 'ping', '-c', '1', '-W', '2', n])
      expect(p.code, p.stdout + p.stderr).toBe(0)
      expect(p.stdout).toContain(`(${await ipOf(r1, net)})`)
    }
    // A second restart changes nothing either.
    await stopDaemon('SIGTERM')
    await startDaemon()
    expect(await snapshot()).toEqual(before)
  })

  test('SIGKILL: a container that dies meanwhile loses its rules, port, address and namespace when berthd returns', async () => {
    const before = await snapshot()
    const victimIp = await ipOf(victim)
    const victimId = ok(await berth(['inspect', '-f', '{{.Id}}', victim])).stdout.trim()
    const vpid = await pidOf(victim)
    await stopDaemon('SIGKILL')
    process.kill(vpid, 'SIGKILL')
    // Nobody cleans up while berthd is away: the rules stay as they were.
    expect(await snapshot()).toEqual(before)
    expect((await httpGet('127.0.0.1', port))?.trim()).toBe('hello-restart')

    await startDaemon()
    expect(ok(await berth(['inspect', '-f', '{{.State.Status}} [{{.NetworkSettings.Networks.bridge.IPAddress}}]', victim])).stdout.trim()).toBe('exited []')
    const after = await snapshot()
    // Exactly the victim's lines went; nothing was added or doubled.
    const victimLines = (t: string) => (before[t] ?? []).filter((l) => l.includes(`--dport ${victimPort} `) || l.includes(`-d ${victimIp}/32`))
    expect(victimLines('nat').length + victimLines('filter').length).toBeGreaterThan(0)
    for (const t of ['raw', 'filter', 'nat']) {
      expect(after[t], t).toEqual((before[t] ?? []).filter((l) => !victimLines(t).includes(l)))
    }
    expect(await tcpConnects('127.0.0.1', victimPort)).toBe(false)
    const [b] = JSON.parse(ok(await berth(['network', 'inspect', 'bridge'])).stdout) as Array<{ Containers: Record<string, unknown> }>
    expect(Object.keys(b?.Containers ?? {})).not.toContain(victimId)
    expect(readdirSync(path.join(inject('berthExecRoot'), 'netns'))).not.toContain(victimId.slice(0, 12))
    // The survivor is untouched.
    expect((await httpGet('127.0.0.1', port))?.trim()).toBe('hello-restart')
    // Its port and address are free for the next container.
    const next = name('rs-next')
    ok(await berth(['run', '-d', '--name', next, '-p', `${victimPort}:80`, 'busybox', 'sh', '-c', httpdScript('hello-next', 80)]))
    const nextIp = await ipOf(next)
    expect(nextIp).toBe(victimIp)
    expect((await berthRules('nat')).filter((l) => l.includes(`--dport ${victimPort} `))).toEqual([`-A ${chains()}-DNAT -p tcp -m tcp --dport ${victimPort} -j DNAT --to-destination ${nextIp}:80`])
    // Same address, new MAC: this also needs the host to stop sending to the victim's MAC (see bridge.test.ts).
    await waitHttp('127.0.0.1', victimPort, 'hello-next')
  })

  test('network create and rm after a restart converge to the same rules', async () => {
    const before = await snapshot()
    const n = uniq('rs-tmp')
    ok(await berth(['network', 'create', n]))
    ok(await berth(['network', 'rm', n]))
    expect(await snapshot()).toEqual(before)
  })
})
