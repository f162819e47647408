// Published ports end to end: busybox httpd in a container reached from the
// host on loopback, the host's own address and [::1]; `port` and the ps PORTS
// column exactly as docker prints them; loopback-only, random, -P, UDP and
// range bindings; hairpin from containers; docker's errors for a taken port
// with nothing left half-made; and the NAT rules following the container.
import net from 'node:net'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { berth, docker, missing, ok, uniq, waitFor } from '../../helpers.js'
import { berthRules, chains, freeHostPort, freePortPair, hasIpv6, hostAddr4, httpdScript, httpGet, ipOf, sh, tcpConnects, udpAsk, udpEchoIn, waitHttp } from './net.js'

const skip = missing('root', 'daemon')
const noDocker = missing('docker-cli')

/** `80/tcp -> 0.0.0.0:N` and, when the host has IPv6, `80/tcp -> [::]:N`: what docker 28 prints. */
function portLines(spec: string, port: number, v6: boolean): string {
  return `${spec} -> 0.0.0.0:${port}\n` + (v6 ? `${spec} -> [::]:${port}\n` : '')
}

async function dnatRules(): Promise<string[]> {
  return (await sh('iptables', '-w', '-t', 'nat', '-S', `${chains()}-DNAT`)).split('\n').filter((l) => l.startsWith('-A '))
}
const forPort = (rules: string[], port: number) => rules.filter((l) => l.includes(`--dport ${port} `))

describe.skipIf(skip)('published ports', () => {
  const made: string[] = []
  const name = (p: string) => {
    const n = uniq(p)
    made.push(n)
    return n
  }
  const web = name('pt-web')
  const v6 = hasIpv6()
  // The host's kernel may refuse IPv6 for [::] listeners even when /proc says it has some: checked once.
  let port = 0
  let other: string | undefined
  let gateway = ''

  beforeAll(async () => {
    other = await hostAddr4()
    if (!other) console.warn('skipping the host-address checks: this host has no global IPv4 address besides bridges')
    gateway = ok(await berth(['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Gateway}}{{end}}', 'bridge'])).stdout.trim()
    port = await freeHostPort()
    ok(await berth(['run', '-d', '--name', web, '-p', `${port}:80`, 'busybox', 'sh', '-c', httpdScript('hello-web', 80)]))
    await waitHttp('127.0.0.1', port, 'hello-web')
  })

  afterAll(async () => {
    if (made.length) await berth(['rm', '-f', ...made])
  })

  test('-p N:80 is reached from the host on 127.0.0.1, the host\'s other address and [::1]', async () => {
    expect((await httpGet('127.0.0.1', port))?.trim()).toBe('hello-web')
    if (other) expect((await httpGet(other, port))?.trim()).toBe('hello-web')
    if (v6) expect((await httpGet('::1', port))?.trim()).toBe('hello-web')
    else console.warn('skipping [::1]: the host has no IPv6 loopback')
    // And kernel NAT carries IPv4: the rule is there.
    expect(forPort(await dnatRules(), port)).toEqual([`-A ${chains()}-DNAT -p tcp -m tcp --dport ${port} -j DNAT --to-destination ${await ipOf(web)}:80`])
  })

  test('port prints what docker prints (berth and docker CLI)', async () => {
    expect(ok(await berth(['port', web])).stdout).toBe(portLines('80/tcp', port, v6))
    expect(ok(await berth(['port', web, '80'])).stdout).toBe(`0.0.0.0:${port}\n` + (v6 ? `[::]:${port}\n` : ''))
    expect(ok(await berth(['port', web, '80/tcp'])).stdout).toBe(`0.0.0.0:${port}\n` + (v6 ? `[::]:${port}\n` : ''))
    const none = await berth(['port', web, '81'])
    expect(none.code).not.toBe(0)
    expect(none.stderr).toContain(`Error: No public port '81' published for ${web}`)
    if (!noDocker) {
      expect(ok(await docker(['port', web])).stdout).toBe(portLines('80/tcp', port, v6))
      expect(ok(await docker(['port', web, '80'])).stdout).toBe(`0.0.0.0:${port}\n` + (v6 ? `[::]:${port}\n` : ''))
    }
  })

  test('ps PORTS column as docker 28 prints it (berth and docker CLI)', async () => {
    const want = `0.0.0.0:${port}->80/tcp` + (v6 ? `, [::]:${port}->80/tcp` : '')
    expect(ok(await berth(['ps', '--filter', `name=${web}`, '--format', '{{.Ports}}'])).stdout.trim()).toBe(want)
    const table = ok(await berth(['ps', '--filter', `name=${web}`])).stdout
    expect(table).toMatch(new RegExp(`\\s${want.replace(/[.[\]]/g, '\\$&')}\\s+${web}$`, 'm'))
    if (!noDocker) {
      expect(ok(await docker(['ps', '--filter', `name=${web}`, '--format', '{{.Ports}}'])).stdout.trim()).toBe(want)
      expect(ok(await docker(['ps', '--filter', `name=${web}`])).stdout).toMatch(new RegExp(`\\s${want.replace(/[.[\]]/g, '\\$&')}\\s+${web}$`, 'm'))
    }
  })

  test('-p 127.0.0.1:N:80 binds only loopback (docker CLI where available)', async () => {
    const p = await freeHostPort()
    const lo = name('pt-lo')
    const cli = noDocker ? berth : docker
    ok(await cli(['run', '-d', '--name', lo, '-p', `127.0.0.1:${p}:80`, 'busybox', 'sh', '-c', httpdScript('hello-lo', 80)]))
    await waitHttp('127.0.0.1', p, 'hello-lo')
    expect(ok(await berth(['port', lo])).stdout).toBe(`80/tcp -> 127.0.0.1:${p}\n`)
    expect(ok(await berth(['ps', '--filter', `name=${lo}`, '--format', '{{.Ports}}'])).stdout.trim()).toBe(`127.0.0.1:${p}->80/tcp`)
    if (other) expect(await tcpConnects(other, p)).toBe(false)
    if (v6) expect(await tcpConnects('::1', p)).toBe(false)
    expect(forPort(await dnatRules(), p)).toEqual([`-A ${chains()}-DNAT -d 127.0.0.1/32 -p tcp -m tcp --dport ${p} -j DNAT --to-destination ${await ipOf(lo)}:80`])
  })

  test('-p 80 and -P with --expose get random host ports that work', async () => {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number) as [number, number]
    const r1 = name('pt-rand')
    ok(await berth(['run', '-d', '--name', r1, '-p', '80', 'busybox', 'sh', '-c', httpdScript('hello-rand', 80)]))
    const out1 = ok(await berth(['port', r1, '80'])).stdout
    const p1 = Number(/^0\.0\.0\.0:(\d+)$/m.exec(out1)?.[1])
    expect(p1).toBeGreaterThanOrEqual(lo)
    expect(p1).toBeLessThanOrEqual(hi)
    if (v6) expect(out1).toContain(`[::]:${p1}`)
    await waitHttp('127.0.0.1', p1, 'hello-rand')

    const r2 = name('pt-all')
    const cli = noDocker ? berth : docker
    ok(await cli(['run', '-d', '--name', r2, '-P', '--expose', '80', '--expose', '8080/udp', 'busybox', 'sh', '-c', httpdScript('hello-all', 80)]))
    const out2 = ok(await berth(['port', r2])).stdout
    const p2 = Number(/^80\/tcp -> 0\.0\.0\.0:(\d+)$/m.exec(out2)?.[1])
    expect(p2).toBeGreaterThanOrEqual(lo)
    expect(p2).not.toBe(p1)
    expect(out2).toMatch(/^8080\/udp -> 0\.0\.0\.0:\d+$/m)
    await waitHttp('127.0.0.1', p2, 'hello-all')
    expect(ok(await berth(['inspect', '-f', '{{.HostConfig.PublishAllPorts}}', r2])).stdout.trim()).toBe('true')
  })

  test('udp: -p N:53/udp reaches a UDP server in the container', async () => {
    const p = await freeHostPort()
    const u = name('pt-udp')
    ok(await berth(['run', '-d', '--name', u, '-p', `${p}:53/udp`, 'busybox', 'sleep', '1d']))
    expect(ok(await berth(['port', u])).stdout).toBe(portLines('53/udp', p, v6))
    const echo = await udpEchoIn(u, 53, 'echo:')
    try {
      expect(await waitFor(() => udpAsk('127.0.0.1', p, 'one'), 5000, 'a UDP reply on 127.0.0.1')).toBe('echo:one')
      if (other) expect(await udpAsk(other, p, 'two')).toBe('echo:two')
      if (v6) expect(await udpAsk('::1', p, 'three')).toBe('echo:three')
      expect(forPort(await dnatRules(), p)).toEqual([`-A ${chains()}-DNAT -p udp -m udp --dport ${p} -j DNAT --to-destination ${await ipOf(u)}:53`])
    } finally {
      echo.kill('SIGKILL')
    }
  })

  test('a range -p A-B:80-81 maps port to port', async () => {
    const a = await freePortPair()
    const rg = name('pt-range')
    const script = 'mkdir -p /a /b && echo eighty > /a/index.html && echo eighty-one > /b/index.html && httpd -p 80 -h /a && httpd -f -p 81 -h /b'
    ok(await berth(['run', '-d', '--name', rg, '-p', `${a}-${a + 1}:80-81`, 'busybox', 'sh', '-c', script]))
    await waitHttp('127.0.0.1', a, 'eighty')
    await waitHttp('127.0.0.1', a + 1, 'eighty-one')
    expect(ok(await berth(['port', rg])).stdout).toBe(portLines('80/tcp', a, v6) + portLines('81/tcp', a + 1, v6))
    if (!noDocker) expect(ok(await docker(['port', rg, '81'])).stdout).toBe(`0.0.0.0:${a + 1}\n` + (v6 ? `[::]:${a + 1}\n` : ''))
  })

  test('hairpin: containers reach a published port through the gateway and the host\'s address', async () => {
    const get = (from: string, host: string) => berth(['exec', from, 'timeout', '5', 'wget', '-q', '-O', '-', `http://${host}:${port}/`])
    const client = name('pt-client')
    ok(await berth(['run', '-d', '--name', client, 'busybox', 'sleep', '1d']))
    expect(ok(await get(client, gateway)).stdout.trim()).toBe('hello-web')
    if (other) expect(ok(await get(client, other)).stdout.trim()).toBe('hello-web')
    // The container to its own published port.
    expect(ok(await get(web, gateway)).stdout.trim()).toBe('hello-web')
    if (other) expect(ok(await get(web, other)).stdout.trim()).toBe('hello-web')
    // A container on a user network (another bridge) too.
    const netName = uniq('pt-net')
    ok(await berth(['network', 'create', netName]))
    try {
      const far = ok(await berth(['run', '--rm', '--network', netName, 'busybox', 'timeout', '5', 'wget', '-q', '-O', '-', `http://${other ?? gateway}:${port}/`]))
      expect(far.stdout.trim()).toBe('hello-web')
    } finally {
      await berth(['network', 'rm', netName])
    }
  })

  test('a port another container holds: docker\'s error, and nothing half-made (berth and docker CLI)', async () => {
    const clis = noDocker ? [berth] : [berth, docker]
    for (const cli of clis) {
      const dup = name('pt-dup')
      const r = await cli(['run', '-d', '--name', dup, '-p', `${port}:80`, 'busybox', 'sleep', '1d'])
      expect(r.code).toBe(125)
      expect(r.stderr).toContain(`Bind for 0.0.0.0:${port} failed: port is already allocated`)
      expect(ok(await berth(['inspect', '-f', '{{.State.Running}} [{{.NetworkSettings.Networks.bridge.IPAddress}}]', dup])).stdout.trim()).toBe('false []')
      ok(await berth(['rm', dup]))
    }
    // The holder is untouched: one rule, still answering.
    expect(forPort(await dnatRules(), port)).toHaveLength(1)
    expect((await httpGet('127.0.0.1', port))?.trim()).toBe('hello-web')
    expect(ok(await berth(['port', web])).stdout).toBe(portLines('80/tcp', port, v6))
  })

  test('a port a host process holds: address already in use, nothing left, and the port works once free', async () => {
    const p = await freeHostPort()
    const holder = net.createServer((s) => s.end('host process\n'))
    await new Promise<void>((resolve, reject) => holder.once('error', reject).listen(p, '0.0.0.0', () => resolve()))
    const c = name('pt-busy')
    try {
      const r = await berth(['run', '-d', '--name', c, '-p', `${p}:80`, 'busybox', 'sh', '-c', httpdScript('hello-busy', 80)])
      expect(r.code).toBe(125)
      expect(r.stderr).toContain(`0.0.0.0:${p}`)
      expect(r.stderr).toContain('address already in use')
      expect(forPort(await dnatRules(), p)).toEqual([])
      expect(ok(await berth(['inspect', '-f', '{{.State.Running}}', c])).stdout.trim()).toBe('false')
      // The host process keeps its port and its traffic.
      expect(await new Promise((resolve) => net.connect(p, '127.0.0.1').on('data', (b) => resolve(b.toString())).on('error', () => resolve('')))).toBe('host process\n')
    } finally {
      await new Promise((resolve) => holder.close(resolve))
    }
    // Nothing held on berth's side: the same container starts and serves on the port.
    ok(await berth(['start', c]))
    await waitHttp('127.0.0.1', p, 'hello-busy')
  })

  test('ps -a shows no PORTS for a stopped container (docker clears NetworkSettings.Ports at release)', async () => {
    const p = await freeHostPort()
    const c = name('pt-psa')
    ok(await berth(['run', '-d', '--name', c, '-p', `${p}:80`, 'busybox', 'sleep', '1d']))
    ok(await berth(['stop', '-t', '0', c]))
    expect(ok(await berth(['ps', '-a', '--filter', `name=${c}`, '--format', '[{{.Ports}}]'])).stdout.trim()).toBe('[]')
  })

  test('a stopped container\'s port can be published by another, and back again', async () => {
    const p = await freeHostPort()
    const c = name('pt-again')
    ok(await berth(['run', '-d', '--name', c, '-p', `${p}:80`, 'busybox', 'sh', '-c', httpdScript('hello-first', 80)]))
    await waitHttp('127.0.0.1', p, 'hello-first')
    ok(await berth(['stop', '-t', '1', c]))
    const c2 = name('pt-again2')
    ok(await berth(['run', '-d', '--name', c2, '-p', `${p}:80`, 'busybox', 'sh', '-c', httpdScript('hello-second', 80)]))
    await waitHttp('127.0.0.1', p, 'hello-second')
    ok(await berth(['rm', '-f', c2]))
    ok(await berth(['start', c]))
    await waitHttp('127.0.0.1', p, 'hello-first')
    expect(forPort(await dnatRules(), p)).toHaveLength(1)
  })

  test('the NAT rules of a port are gone once stop returns', async () => {
    const p = await freeHostPort()
    const c = name('pt-stop')
    ok(await berth(['run', '-d', '--name', c, '-p', `${p}:80`, 'busybox', 'sh', '-c', httpdScript('hello-stop', 80)]))
    await waitHttp('127.0.0.1', p, 'hello-stop')
    const ip = await ipOf(c)
    expect(forPort(await dnatRules(), p)).toHaveLength(1)
    expect((await berthRules('filter')).filter((l) => l.includes(`-d ${ip}/32`))).toHaveLength(1)
    ok(await berth(['stop', '-t', '1', c]))
    // docker releases the network before the container counts as stopped (releaseNetwork, then SetStopped).
    expect(forPort(await dnatRules(), p)).toEqual([])
    expect((await berthRules('filter')).filter((l) => l.includes(`-d ${ip}/32`))).toEqual([])
    expect(await tcpConnects('127.0.0.1', p)).toBe(false)
    expect(ok(await berth(['port', c])).stdout).toBe('')
  })
})
