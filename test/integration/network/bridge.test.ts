// The default bridge network, host and none, as a user sees them: the
// predefined networks, docker's inspect shape, a container's eth0, route and
// /etc files, container-to-container traffic by address but not by name, and
// addresses handed back when containers go. Traffic stays between the host and
// namespaces berth made.
import net from 'node:net'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest'
import { berth, docker, missing, ok, uniq, waitFor } from '../../helpers.js'
import { bridgeName, httpGet, ipOf, sh, testOctet, type NetworkJson } from './net.js'

const skip = missing('root', 'daemon')
const noDocker = missing('docker-cli')

/** Whether a TCP connect gets an answer (accepted or refused) rather than silence. */
function tcpRefusedOrConnects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port })
    const done = (v: boolean) => {
      s.destroy()
      resolve(v)
    }
    s.setTimeout(1000, () => done(false))
    s.on('connect', () => done(true))
    s.on('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED'))
  })
}

/** Dotted quad → number, and whether an address is inside a CIDR. */
const toNum = (ip: string) => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0)
function inSubnet(ip: string, cidr: string): boolean {
  const [base = '', bits = '32'] = cidr.split('/')
  const size = 2 ** (32 - Number(bits))
  return Math.floor(toNum(ip) / size) === Math.floor(toNum(base) / size)
}

describe.skipIf(skip)('default bridge, host and none', () => {
  const made: string[] = []
  const name = (p: string) => {
    const n = uniq(p)
    made.push(n)
    return n
  }
  const c1 = name('br-c1')
  const c2 = name('br-c2')
  const nets: string[] = []
  let subnet = ''
  let gateway = ''

  beforeAll(async () => {
    const info = JSON.parse(ok(await berth(['network', 'inspect', 'bridge'])).stdout) as NetworkJson[]
    subnet = info[0]?.IPAM.Config[0]?.Subnet ?? ''
    gateway = info[0]?.IPAM.Config[0]?.Gateway ?? ''
    // c1 asks a resolver on its own loopback: a name lookup on the default bridge must not leave the host.
    ok(await berth(['run', '-d', '--name', c1, '--dns', '127.0.0.1', 'busybox', 'sleep', '1d']))
    ok(await berth(['run', '-d', '--name', c2, 'busybox', 'sleep', '1d']))
  })

  afterAll(async () => {
    await berth(['rm', '-f', ...made])
    for (const n of nets) await berth(['network', 'rm', n])
  })

  test('network ls lists bridge, host and none (berth)', async () => {
    const out = ok(await berth(['network', 'ls'])).stdout
    expect(out.split('\n')[0]).toMatch(/^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/)
    expect(out).toMatch(/^[0-9a-f]{12}\s+bridge\s+bridge\s+local$/m)
    expect(out).toMatch(/^[0-9a-f]{12}\s+host\s+host\s+local$/m)
    expect(out).toMatch(/^[0-9a-f]{12}\s+none\s+null\s+local$/m)
  })

  test.skipIf(noDocker)('network ls lists bridge, host and none (docker CLI)', async () => {
    const out = ok(await docker(['network', 'ls'])).stdout
    expect(out).toMatch(/^[0-9a-f]{12}\s+bridge\s+bridge\s+local$/m)
    expect(out).toMatch(/^[0-9a-f]{12}\s+host\s+host\s+local$/m)
    expect(out).toMatch(/^[0-9a-f]{12}\s+none\s+null\s+local$/m)
    const names = ok(await docker(['network', 'ls', '--format', '{{.Name}}', '--filter', 'type=builtin'])).stdout.split('\n').filter(Boolean).sort()
    expect(names).toEqual(['bridge', 'host', 'none'])
  })

  test('network inspect bridge has docker\'s shape and names the Linux bridge', async () => {
    const [n] = JSON.parse(ok(await berth(['network', 'inspect', 'bridge'])).stdout) as NetworkJson[]
    expect(n).toBeDefined()
    if (!n) return
    expect(n.Name).toBe('bridge')
    expect(n.Id).toMatch(/^[0-9a-f]{64}$/)
    expect(n.Driver).toBe('bridge')
    expect(n.Scope).toBe('local')
    expect(n.Internal).toBe(false)
    expect(n.IPAM.Driver).toBe('default')
    expect(n.IPAM.Config).toHaveLength(1)
    expect(subnet).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/)
    expect(inSubnet(gateway, subnet)).toBe(true)
    expect(n.Options).toMatchObject({
      'com.docker.network.bridge.default_bridge': 'true',
      'com.docker.network.bridge.enable_icc': 'true',
      'com.docker.network.bridge.enable_ip_masquerade': 'true',
      'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
      'com.docker.network.bridge.name': bridgeName(),
      'com.docker.network.driver.mtu': expect.stringMatching(/^\d+$/),
    })
    expect(n.Labels).toEqual({})
    // The Linux bridge carries the gateway address.
    const addr = await sh('ip', '-4', '-o', 'addr', 'show', 'dev', bridgeName())
    expect(addr).toContain(` ${gateway}/${subnet.split('/')[1]} `)
    // Running containers are listed with their address.
    const id1 = ok(await berth(['inspect', '-f', '{{.Id}}', c1])).stdout.trim()
    const ip1 = await ipOf(c1)
    expect(n.Containers[id1]).toMatchObject({ Name: c1, IPv4Address: `${ip1}/${subnet.split('/')[1]}` })
    expect(n.Containers[id1]?.MacAddress).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/)
  })

  test.skipIf(noDocker)('network inspect bridge through the docker CLI', async () => {
    const [n] = JSON.parse(ok(await docker(['network', 'inspect', 'bridge'])).stdout) as NetworkJson[]
    expect(n?.IPAM.Config[0]).toMatchObject({ Subnet: subnet, Gateway: gateway })
    expect(n?.Options['com.docker.network.bridge.name']).toBe(bridgeName())
    const f = ok(await docker(['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}', 'bridge'])).stdout.trim()
    expect(f).toBe(`${subnet} ${gateway}`)
  })

  test('a container gets eth0 in the subnet and a default route via the gateway', async () => {
    const ip = ok(await berth(['inspect', '-f', '{{ .NetworkSettings.Networks.bridge.IPAddress }}', c1])).stdout.trim()
    expect(inSubnet(ip, subnet)).toBe(true)
    expect(ip).not.toBe(gateway)
    const legacy = ok(await berth(['inspect', '-f', '{{.NetworkSettings.IPAddress}} {{.NetworkSettings.Gateway}} {{.NetworkSettings.IPPrefixLen}}', c1])).stdout.trim()
    expect(legacy).toBe(`${ip} ${gateway} ${subnet.split('/')[1]}`)
    const addr = ok(await berth(['exec', c1, 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout
    expect(addr).toContain(`inet ${ip}/${subnet.split('/')[1]} `)
    const route = ok(await berth(['exec', c1, 'ip', 'route'])).stdout
    expect(route).toMatch(new RegExp(`^default via ${gateway.replace(/\./g, '\\.')} dev eth0`, 'm'))
    // Its host end is a port of the bridge.
    const mac = ok(await berth(['inspect', '-f', '{{ .NetworkSettings.Networks.bridge.MacAddress }}', c1])).stdout.trim()
    expect(ok(await berth(['exec', c1, 'cat', '/sys/class/net/eth0/address'])).stdout.trim()).toBe(mac)
    const ifindex = ok(await berth(['exec', c1, 'cat', '/sys/class/net/eth0/iflink'])).stdout.trim()
    const hostEnd = await sh('ip', '-o', 'link', 'show', 'master', bridgeName())
    expect(hostEnd).toMatch(new RegExp(`^${ifindex}: veth`, 'm'))
  })

  test.skipIf(noDocker)('{{ .NetworkSettings.Networks.bridge.IPAddress }} through the docker CLI (seed)', async () => {
    const ip = ok(await docker(['inspect', '-f', '{{ .NetworkSettings.Networks.bridge.IPAddress }}', c1])).stdout.trim()
    expect(ip).toBe(await ipOf(c1))
  })

  test('/etc/hosts has the container address; --hostname, --add-host, --dns, --dns-search as docker writes them', async () => {
    const ip = await ipOf(c1)
    const hostname = ok(await berth(['exec', c1, 'hostname'])).stdout.trim()
    const hosts = ok(await berth(['exec', c1, 'cat', '/etc/hosts'])).stdout
    expect(hosts).toMatch(/^127\.0\.0\.1\s+localhost$/m)
    expect(hosts).toMatch(new RegExp(`^${ip.replace(/\./g, '\\.')}\\s+${hostname}$`, 'm'))

    const out = ok(await berth(['run', '--rm', '--hostname', 'h1.example', '--add-host', 'db.test:198.51.100.9', '--dns', '127.0.0.1', '--dns-search', 'x.test',
      'busybox', 'sh', '-c', 'cat /etc/hostname; echo ---; cat /etc/hosts; echo ---; cat /etc/resolv.conf; echo ---; hostname'])).stdout
    const [hn = '', h = '', r = '', live = ''] = out.split('---\n')
    expect(hn.trim()).toBe('h1.example')
    expect(live.trim()).toBe('h1.example')
    expect(h).toMatch(/^198\.51\.100\.9\s+db\.test$/m)
    expect(h).toMatch(/^\d+\.\d+\.\d+\.\d+\s+h1\.example(\s+h1)?$/m)
    expect(r).toMatch(/^nameserver 127\.0\.0\.1$/m)
    expect(r).toMatch(/^search x\.test$/m)
  })

  test('containers on the default bridge reach each other by address', async () => {
    const ip2 = await ipOf(c2)
    const r = await berth(['exec', c1, 'ping', '-c', '1', '-W', '2', ip2])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toContain('1 packets received')
  })

  test('the default bridge has no name resolution', async () => {
    // Not in /etc/hosts, and no embedded DNS on the bridge's gateway.
    expect(ok(await berth(['exec', c1, 'cat', '/etc/hosts'])).stdout).not.toContain(c2)
    const byName = await berth(['exec', c1, 'ping', '-c', '1', '-W', '1', c2])
    expect(byName.code).not.toBe(0)
    expect(byName.stderr).toContain(`bad address '${c2}'`)
    const resolv = ok(await berth(['exec', c2, 'cat', '/etc/resolv.conf'])).stdout
    expect(resolv).not.toContain(`nameserver ${gateway}`)
    const ns = await berth(['exec', c1, 'nslookup', c2, gateway])
    expect(ns.code).not.toBe(0)
  })

  test('--network none has only lo (berth and docker CLI)', async () => {
    const links = ok(await berth(['run', '--rm', '--network', 'none', 'busybox', 'ip', '-o', 'link'])).stdout.trim().split('\n')
    expect(links).toHaveLength(1)
    expect(links[0]).toMatch(/^1: lo:/)
    if (!noDocker) {
      const d = ok(await docker(['run', '--rm', '--net=none', 'busybox', 'ip', '-o', 'link'])).stdout.trim().split('\n')
      expect(d.map((l) => l.split(':')[1]?.trim())).toEqual(['lo'])
    }
    const n = name('br-none')
    ok(await berth(['create', '--name', n, '--network', 'none', 'busybox', 'true']))
    expect(ok(await berth(['inspect', '-f', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}} {{.HostConfig.NetworkMode}}', n])).stdout.trim()).toBe('none none')
  })

  test('--network host sees the host\'s interfaces (berth and docker CLI --net=host)', async () => {
    const links = ok(await berth(['run', '--rm', '--network', 'host', 'busybox', 'ip', '-o', 'link'])).stdout
    expect(links).toContain(`: ${bridgeName()}:`)
    // The same interfaces by index and name (others may come and go meanwhile: compare one).
    const own = (await sh('ip', '-o', 'link', 'show', 'dev', bridgeName())).split(':')[0]
    expect(links).toMatch(new RegExp(`^${own}: ${bridgeName()}:`, 'm'))
    if (!noDocker) expect(ok(await docker(['run', '--rm', '--net=host', 'busybox', 'ip', '-o', 'link'])).stdout).toContain(`: ${bridgeName()}:`)
  })

  test('a stopped container shows an empty IPAddress and keeps its network', async () => {
    const n = name('br-stopped')
    ok(await berth(['run', '-d', '--name', n, 'busybox', 'sleep', '1d']))
    expect(inSubnet(await ipOf(n), subnet)).toBe(true)
    ok(await berth(['stop', '-t', '0', n]))
    const out = ok(await berth(['inspect', '-f', '[{{ .NetworkSettings.Networks.bridge.IPAddress }}] [{{.NetworkSettings.IPAddress}}] {{len .NetworkSettings.Networks}}', n])).stdout.trim()
    expect(out).toBe('[] [] 1')
    if (!noDocker) {
      expect(ok(await docker(['inspect', '-f', '[{{ .NetworkSettings.Networks.bridge.IPAddress }}]', n])).stdout.trim()).toBe('[]')
    }
    // Its address went back: the bridge's inspect no longer lists it.
    const [b] = JSON.parse(ok(await berth(['network', 'inspect', 'bridge'])).stdout) as NetworkJson[]
    expect(Object.values(b?.Containers ?? {}).map((c) => c.Name)).not.toContain(n)
  })

  test('addresses are released: run --rm many times, the next container gets the same low address', async () => {
    const first = ok(await berth(['run', '--rm', 'busybox', 'sh', '-c', 'ip -4 -o addr show dev eth0'])).stdout
    const ipFirst = /inet ([\d.]+)\//.exec(first)?.[1] ?? ''
    expect(inSubnet(ipFirst, subnet)).toBe(true)
    for (let i = 0; i < 6; i++) ok(await berth(['run', '--rm', 'busybox', 'true']))
    const again = ok(await berth(['run', '--rm', 'busybox', 'sh', '-c', 'ip -4 -o addr show dev eth0'])).stdout
    expect(/inet ([\d.]+)\//.exec(again)?.[1]).toBe(ipFirst)
  })

  test('a small user subnet never runs out when containers come and go (no leak)', async () => {
    // A /29 has 5 addresses besides the network, broadcast and gateway ones.
    const o = testOctet(11)
    const net = uniq('br-small')
    ok(await berth(['network', 'create', '--subnet', `198.18.${o}.0/29`, net]))
    nets.push(net)
    const seen = new Set<string>()
    for (let i = 0; i < 6; i++) {
      const out = ok(await berth(['run', '--rm', '--network', net, 'busybox', 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout
      seen.add(/inet ([\d.]+)\//.exec(out)?.[1] ?? '?')
    }
    // Released each time: the lowest address is handed out again.
    expect([...seen]).toEqual([`198.18.${o}.2`])
    // And five at once fit; the sixth gets docker's error.
    const hold: string[] = []
    for (let i = 0; i < 5; i++) {
      const n = name('br-hold')
      hold.push(n)
      ok(await berth(['run', '-d', '--name', n, '--network', net, 'busybox', 'sleep', '1d']))
    }
    const extra = name('br-extra')
    const r = await berth(['run', '-d', '--name', extra, '--network', net, 'busybox', 'sleep', '1d'])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('no available IPv4 addresses on this network\'s address pools')
    // The failed start left nothing: once one holder goes, the extra one starts.
    ok(await berth(['rm', '-f', hold[0] ?? '']))
    ok(await berth(['start', extra]))
    expect(await ipOf(extra, net)).toBe(`198.18.${o}.2`)
    ok(await berth(['rm', '-f', ...hold, extra]))
  })

  test('the bridge keeps its MAC address while containers come and go', async () => {
    // A Linux bridge without an address of its own takes the lowest MAC of its
    // ports, so every container start or removal could change the gateway's MAC
    // under the other containers' ARP caches; docker sets the bridge's address.
    const br = bridgeName()
    const mac = () => readFileSync(`/sys/class/net/${br}/address`, 'utf8').trim()
    const before = mac()
    const seen = new Set([before])
    const ns: string[] = []
    for (let i = 0; i < 4; i++) {
      const n = name('br-mac')
      ns.push(n)
      ok(await berth(['run', '-d', '--name', n, 'busybox', 'sleep', '1d']))
      seen.add(mac())
    }
    for (const n of ns) {
      ok(await berth(['rm', '-f', n]))
      seen.add(mac())
    }
    expect([...seen]).toEqual([before])
    // 3 is NET_ADDR_SET: the address was set, and the bridge no longer follows its ports.
    expect(readFileSync(`/sys/class/net/${br}/addr_assign_type`, 'utf8').trim()).toBe('3')
  })

  test('a container that takes a removed container\'s address is reached at once, from the host and from containers', async () => {
    const a = name('br-reuse-a')
    ok(await berth(['run', '-d', '--name', a, 'busybox', 'sh', '-c', 'mkdir -p /w && echo from-a > /w/index.html && httpd -f -p 80 -h /w']))
    const ip = await ipOf(a)
    // Both the host and c2 learn a's MAC.
    await waitFor(async () => ((await httpGet(ip, 80, 1000))?.trim() === 'from-a' ? true : undefined), 10_000, 'httpd in a')
    expect(ok(await berth(['exec', c2, 'timeout', '5', 'wget', '-q', '-O', '-', `http://${ip}/`])).stdout.trim()).toBe('from-a')
    ok(await berth(['rm', '-f', a]))
    const b = name('br-reuse-b')
    ok(await berth(['run', '-d', '--name', b, 'busybox', 'sh', '-c', 'mkdir -p /w && echo from-b > /w/index.html && httpd -f -p 80 -h /w']))
    // Lowest free address first: b gets a's.
    expect(await ipOf(b)).toBe(ip)
    // Whatever the host's neighbour cache holds for the address must be b's MAC.
    const macB = ok(await berth(['inspect', '-f', '{{.NetworkSettings.Networks.bridge.MacAddress}}', b])).stdout.trim()
    const cached = /lladdr (\S+)/.exec(await sh('ip', 'neigh', 'show', ip, 'dev', bridgeName()))?.[1]
    if (cached) expect(cached, 'the host maps the address to another MAC than its container\'s').toBe(macB)
    // httpd needs a moment to listen; a connection refused is an answer, a stale MAC is silence.
    const fromHost = await waitFor(async () => {
      const r = await httpGet(ip, 80, 1000)
      if (r !== undefined) return r.trim()
      return (await tcpRefusedOrConnects(ip, 80)) ? undefined : 'silence'
    }, 10_000, 'b to answer the host')
    expect(fromHost).toBe('from-b')
    const fromC2 = await berth(['exec', c2, 'timeout', '5', 'wget', '-q', '-O', '-', `http://${ip}/`])
    expect(fromC2.code, 'c2 still sends to the removed container\'s MAC').toBe(0)
    expect(fromC2.stdout.trim()).toBe('from-b')
  })

  test('no veth of a removed container is left on the bridge', async () => {
    const before = (await sh('ip', '-o', 'link', 'show', 'master', bridgeName())).split('\n').filter(Boolean).length
    const n = name('br-veth')
    const id = ok(await berth(['run', '-d', '--name', n, 'busybox', 'sleep', '1d'])).stdout.trim()
    expect(readdirSync(path.join(inject('berthExecRoot'), 'netns'))).toContain(id.slice(0, 12))
    expect((await sh('ip', '-o', 'link', 'show', 'master', bridgeName())).split('\n').filter(Boolean).length).toBe(before + 1)
    ok(await berth(['rm', '-f', n]))
    expect((await sh('ip', '-o', 'link', 'show', 'master', bridgeName())).split('\n').filter(Boolean).length).toBe(before)
    expect(readdirSync(path.join(inject('berthExecRoot'), 'netns'))).not.toContain(id.slice(0, 12))
  })
})
