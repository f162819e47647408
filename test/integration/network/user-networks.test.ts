// User-defined bridge networks as a user sees them: create (defaults from the
// pools, --subnet/--gateway/--ip-range, labels, --internal, --attachable),
// names through the embedded DNS (name, alias, short ID, link alias) and
// forwarding of other names to the container's --dns, fixed addresses,
// connect/disconnect, isolation between networks, and docker's errors. Every
// container here asks a DNS responder this test runs on a 127.x address, so no
// query leaves the host.
import dgram from 'node:dgram'
import dnsPacket from 'dns-packet'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { berth, docker, missing, ok, uniq, waitFor, type CmdResult } from '../../helpers.js'
import { hostAddr4, ipOf, quiet, sh, testOctet, type NetworkJson } from './net.js'

const skip = missing('root', 'daemon')
const noDocker = missing('docker-cli')

const toNum = (ip: string) => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0)
function range(cidr: string): [number, number] {
  const [base = '', bits = '32'] = cidr.split('/')
  const size = 2 ** (32 - Number(bits))
  const start = Math.floor(toNum(base) / size) * size
  return [start, start + size - 1]
}
const inSubnet = (ip: string, cidr: string) => {
  const [lo, hi] = range(cidr)
  return toNum(ip) >= lo && toNum(ip) <= hi
}
const overlaps = (a: string, b: string) => {
  const [a0, a1] = range(a)
  const [b0, b1] = range(b)
  return a0 <= b1 && b0 <= a1
}

/** A DNS server on a loopback address that knows one name: what the embedded DNS forwards to. */
class Upstream {
  readonly addr = `127.${50 + (process.pid % 150)}.${(process.pid >> 8) % 250}.1`
  readonly name = `up-${process.pid}.example.test`
  readonly answer = '198.51.100.77'
  readonly asked: string[] = []
  private sock = dgram.createSocket('udp4')

  async start(): Promise<void> {
    this.sock.on('message', (msg, rinfo) => {
      let q: ReturnType<typeof dnsPacket.decode>
      try {
        q = dnsPacket.decode(msg)
      } catch {
        return
      }
      const question = q.questions?.[0]
      if (!question) return
      this.asked.push(`${question.type} ${question.name}`)
      const known = question.name.toLowerCase() === this.name
      const answers = known && question.type === 'A' ? [{ type: 'A' as const, name: question.name, ttl: 60, data: this.answer }] : []
      // RD | RA, and NXDOMAIN (3) for names it does not know.
      const flags = dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (known ? 0 : 3)
      const reply = dnsPacket.encode({ id: q.id, type: 'response', flags, questions: q.questions, answers })
      this.sock.send(reply, rinfo.port, rinfo.address)
    })
    await new Promise<void>((resolve, reject) => {
      this.sock.once('error', reject)
      this.sock.bind(53, this.addr, () => resolve())
    })
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.sock.close(() => resolve()))
  }
}

const inspectNet = async (n: string, cli = berth): Promise<NetworkJson> => (JSON.parse(ok(await cli(['network', 'inspect', n])).stdout) as NetworkJson[])[0] as NetworkJson
const pingOk = (r: CmdResult) => r.code === 0 && r.stdout.includes('1 packets received')

describe.skipIf(skip)('user-defined networks', () => {
  const up = new Upstream()
  const made: string[] = []
  const nets: string[] = []
  const cname = (p: string) => {
    const n = uniq(p)
    made.push(n)
    return n
  }
  const nname = (p: string) => {
    const n = uniq(p)
    nets.push(n)
    return n
  }
  const label = `berth.test=${process.pid}`
  const o = testOctet(23)
  const subB = `198.18.${o}.0/24`
  const netA = nname('una')
  const netB = nname('unb')
  const a1 = cname('un-a1')
  const a2 = cname('un-a2')
  const b1 = cname('un-b1')
  const b2 = cname('un-b2')
  const d1 = cname('un-d1')
  const alias = `www-${process.pid}`
  let dnsArgs: string[] = []
  let a1Id = ''

  beforeAll(async () => {
    await up.start()
    dnsArgs = ['--dns', up.addr]
    ok(await berth(['network', 'create', '--label', label, netA]))
    const cli = noDocker ? berth : docker
    ok(await cli(['network', 'create', '--subnet', subB, '--gateway', `198.18.${o}.254`, '--ip-range', `198.18.${o}.128/25`, '--attachable', '--label', label, '--label', 'tier=b', netB]))
    const web = 'mkdir -p /w && hostname > /w/index.html && httpd -f -p 80 -h /w'
    a1Id = ok(await berth(['run', '-d', '--name', a1, '--network', netA, '--network-alias', alias, ...dnsArgs, 'busybox', 'sh', '-c', web])).stdout.trim()
    ok(await berth(['run', '-d', '--name', a2, '--network', netA, '--link', `${a1}:db`, ...dnsArgs, 'busybox', 'sleep', '1d']))
    ok(await berth(['run', '-d', '--name', b1, '--network', netB, '--ip', `198.18.${o}.200`, ...dnsArgs, 'busybox', 'sh', '-c', web]))
    ok(await berth(['run', '-d', '--name', b2, '--network', netB, ...dnsArgs, 'busybox', 'sleep', '1d']))
    ok(await berth(['run', '-d', '--name', d1, '--dns', '127.0.0.1', 'busybox', 'sh', '-c', web]))
  })

  afterAll(async () => {
    await berth(['rm', '-f', ...made])
    for (const n of nets) await berth(['network', 'rm', n])
    await up.close()
  })

  test('network create with defaults: a subnet from the pools that no host route covers, a br-<id> bridge, labels', async () => {
    const n = await inspectNet(netA)
    expect(n).toMatchObject({ Name: netA, Driver: 'bridge', Internal: false, Attachable: false, EnableIPv4: true, Labels: { 'berth.test': String(process.pid) } })
    expect(n.IPAM.Config).toHaveLength(1)
    const { Subnet: subnet = '', Gateway: gw = '' } = n.IPAM.Config[0] ?? {}
    // docker's default pools: 172.17.0.0/16 … 172.31.0.0/16, then 192.168.0.0/20 steps.
    expect(inSubnet(subnet.split('/')[0] ?? '', '172.16.0.0/12') || inSubnet(subnet.split('/')[0] ?? '', '192.168.0.0/16')).toBe(true)
    expect(gw).toBe(subnet.replace(/\.0\/\d+$/, '.1'))
    const ifname = `br-${n.Id.slice(0, 12)}`
    expect(await sh('ip', '-4', '-o', 'addr', 'show', 'dev', ifname)).toContain(` ${gw}/${subnet.split('/')[1]} `)
    // The only route into the subnet is the network's own bridge.
    const routes = (await sh('ip', '-4', 'route', 'show', 'table', 'all')).split('\n').filter(Boolean)
    const clashing = routes.filter((r) => {
      const dst = r.split(' ')[0] ?? ''
      if (!/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(dst) || r.includes(`dev ${ifname}`)) return false
      return overlaps(dst.includes('/') ? dst : `${dst}/32`, subnet)
    })
    expect(clashing).toEqual([])
    const ls = ok(await berth(['network', 'ls', '--filter', `label=${label}`, '--format', '{{.Name}} {{.Driver}}'])).stdout.split('\n').filter(Boolean).sort()
    expect(ls).toEqual([`${netA} bridge`, `${netB} bridge`].sort())
  })

  test('--subnet, --gateway, --ip-range, --attachable and --ip are honoured (created with the docker CLI)', async () => {
    const n = await inspectNet(netB, noDocker ? berth : docker)
    expect(n.IPAM.Config).toEqual([{ Subnet: subB, IPRange: `198.18.${o}.128/25`, Gateway: `198.18.${o}.254` }])
    expect(n.Attachable).toBe(true)
    expect(n.Labels).toEqual({ 'berth.test': String(process.pid), tier: 'b' })
    expect(await ipOf(b1, netB)).toBe(`198.18.${o}.200`)
    const ip2 = await ipOf(b2, netB)
    expect(inSubnet(ip2, `198.18.${o}.128/25`)).toBe(true)
    expect(ok(await berth(['exec', b2, 'ip', 'route'])).stdout).toMatch(new RegExp(`^default via 198\\.18\\.${o}\\.254 dev eth0`, 'm'))
    expect(ok(await berth(['inspect', '-f', `{{ (index .NetworkSettings.Networks "${netB}").IPAMConfig.IPv4Address }}`, b1])).stdout.trim()).toBe(`198.18.${o}.200`)
  })

  test('names resolve on a user network: container name, alias, short ID, link alias, name.network (ping and nslookup)', async () => {
    const ip1 = await ipOf(a1, netA)
    for (const name of [a1, alias, a1Id.slice(0, 12), 'db', `${a1}.${netA}`]) {
      const p = await berth(['exec', a2, 'ping', '-c', '1', '-W', '2', name])
      expect(pingOk(p), `ping ${name}: ${p.stdout}${p.stderr}`).toBe(true)
      expect(p.stdout).toContain(`(${ip1})`)
      const l = await berth(['exec', a2, 'nslookup', name])
      expect(l.code, `nslookup ${name}: ${l.stdout}${l.stderr}`).toBe(0)
      expect(l.stdout).toMatch(new RegExp(`^Address: ${ip1.replace(/\./g, '\\.')}$`, 'm'))
    }
    // a1 itself has no link named db: link aliases belong to the container that made the link.
    const fromA1 = await berth(['exec', a1, 'nslookup', 'db'])
    expect(fromA1.stdout).not.toContain(ip1)
    // Through the docker CLI too.
    if (!noDocker) expect(pingOk(await docker(['exec', a2, 'ping', '-c', '1', '-W', '2', alias]))).toBe(true)
  })

  test('a renamed running container answers to its new name, no longer to the old one', async () => {
    const r = cname('un-ren')
    const renamed = `${r}-new`
    made.push(renamed)
    ok(await berth(['run', '-d', '--name', r, '--network', netA, ...dnsArgs, 'busybox', 'sleep', '1d']))
    const ip = await ipOf(r, netA)
    ok(await berth(['rename', r, renamed]))
    const found = await berth(['exec', a2, 'nslookup', renamed])
    expect(found.stdout).toMatch(new RegExp(`^Address: ${ip.replace(/\./g, '\\.')}$`, 'm'))
    expect((await berth(['exec', a2, 'nslookup', r])).stdout).not.toContain(ip)
  })

  test('resolv.conf names the gateway; other names go to the container\'s --dns through the host', async () => {
    const gw = (await inspectNet(netA)).IPAM.Config[0]?.Gateway ?? ''
    const resolv = ok(await berth(['exec', a2, 'cat', '/etc/resolv.conf'])).stdout
    expect(resolv).toMatch(new RegExp(`^nameserver ${gw.replace(/\./g, '\\.')}$`, 'm'))
    expect(resolv).not.toContain(up.addr)
    const before = up.asked.length
    const l = await berth(['exec', a2, 'nslookup', up.name])
    expect(l.code, l.stdout + l.stderr).toBe(0)
    expect(l.stdout).toMatch(new RegExp(`^Address: ${up.answer.replace(/\./g, '\\.')}$`, 'm'))
    expect(up.asked.slice(before)).toContain(`A ${up.name}`)
    // A name nobody knows: the upstream's NXDOMAIN comes back.
    const nx = await berth(['exec', a2, 'nslookup', `nobody-${process.pid}.example.test`])
    expect(nx.code).not.toBe(0)
    expect(nx.stdout + nx.stderr).toMatch(/NXDOMAIN/)
    // A container's own names are not forwarded.
    const mark = up.asked.length
    ok(await berth(['exec', a2, 'nslookup', a1]))
    expect(up.asked.slice(mark).filter((q) => q.startsWith('A '))).toEqual([])
  })

  test('--ip outside the subnet or on the default bridge: docker\'s errors', async () => {
    const clis = noDocker ? [berth] : [berth, docker]
    for (const cli of clis) {
      const out = await cli(['run', '--rm', '--network', netB, '--ip', '10.9.9.9', 'busybox', 'true'])
      expect(out.code).toBe(125)
      expect(out.stderr).toContain('no configured subnet or ip-range contain the IP address 10.9.9.9')
    }
    const onBridge = await berth(['run', '--rm', '--ip', '172.17.99.99', 'busybox', 'true'])
    expect(onBridge.code).toBe(125)
    expect(onBridge.stderr).toContain('user specified IP address is supported on user defined networks only')
  })

  test('--ip on a network whose subnet came from the pools: docker\'s error, even for an address inside it', async () => {
    const subnet = (await inspectNet(netA)).IPAM.Config[0]?.Subnet ?? ''
    const inside = subnet.replace(/\.0\/\d+$/, '.200')
    for (const ip of ['172.31.250.9', inside]) {
      const r = await berth(['run', '--rm', '--network', netA, '--ip', ip, 'busybox', 'true'])
      expect(r.code, `--ip ${ip}`).toBe(125)
      expect(r.stderr).toContain('user specified IP address is supported only when connecting to networks with user configured subnets')
    }
  })

  test('network connect/disconnect on a running container: the interface and the name follow', async () => {
    ok(await berth(['network', 'connect', '--alias', `a1-on-b-${process.pid}`, netB, a1]))
    const ipB = await ipOf(a1, netB)
    expect(inSubnet(ipB, subB)).toBe(true)
    expect(ok(await berth(['exec', a1, 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth1'])).stdout).toContain(`inet ${ipB}/24 `)
    // Still one default route, the first network's.
    const routes = ok(await berth(['exec', a1, 'ip', 'route'])).stdout
    expect(routes.match(/^default /gm)).toHaveLength(1)
    expect(routes).toMatch(/^default via \S+ dev eth0/m)
    for (const name of [a1, `a1-on-b-${process.pid}`]) {
      const p = await berth(['exec', b2, 'ping', '-c', '1', '-W', '2', name])
      expect(pingOk(p), `${p.stdout}${p.stderr}`).toBe(true)
      expect(p.stdout).toContain(`(${ipB})`)
    }
    expect(Object.values((await inspectNet(netB)).Containers).map((c) => c.Name)).toContain(a1)

    const cli = noDocker ? berth : docker
    ok(await cli(['network', 'disconnect', netB, a1]))
    expect((await berth(['exec', a1, 'ip', '-o', 'link', 'show', 'dev', 'eth1'])).code).not.toBe(0)
    expect(Object.values((await inspectNet(netB)).Containers).map((c) => c.Name)).not.toContain(a1)
    expect(ok(await berth(['inspect', '-f', `{{ index .NetworkSettings.Networks "${netB}" }}`, a1])).stdout.trim()).toBe('<no value>')
    const gone = await berth(['exec', b2, 'nslookup', a1])
    expect(gone.stdout).not.toContain(ipB)
    // a1 keeps its first network.
    expect(pingOk(await berth(['exec', a2, 'ping', '-c', '1', '-W', '2', a1]))).toBe(true)
  })

  test('a container started on the default bridge and connected to a user network resolves names there', async () => {
    const c = cname('un-late')
    ok(await berth(['run', '-d', '--name', c, ...dnsArgs, 'busybox', 'sleep', '1d']))
    expect((await berth(['exec', c, 'ping', '-c', '1', '-W', '1', a1])).code).not.toBe(0)
    ok(await berth(['network', 'connect', netA, c]))
    const gw = ok(await berth(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', netA])).stdout.trim()
    expect(ok(await berth(['exec', c, 'cat', '/etc/resolv.conf'])).stdout).toContain(`nameserver ${gw}`)
    const p = await berth(['exec', c, 'ping', '-c', '1', '-W', '2', a1])
    expect(pingOk(p), `${p.stdout}${p.stderr}`).toBe(true)
  })

  test('connecting twice: docker\'s error (berth and docker CLI)', async () => {
    const clis = noDocker ? [berth] : [berth, docker]
    for (const cli of clis) {
      const r = await cli(['network', 'connect', netA, a1])
      expect(r.code).not.toBe(0)
      expect(r.stderr).toContain(`endpoint with name ${a1} already exists in network ${netA}`)
    }
  })

  test('network connect on a stopped container takes effect at start', async () => {
    const s = cname('un-stopped')
    ok(await berth(['create', '--name', s, ...dnsArgs, 'busybox', 'sleep', '1d']))
    ok(await berth(['network', 'connect', netA, s]))
    const nets = ok(await berth(['inspect', '-f', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}', s])).stdout.trim().split(' ').sort()
    expect(nets).toEqual(['bridge', netA].sort())
    expect(await ipOf(s, netA)).toBe('')
    ok(await berth(['start', s]))
    const ip = await ipOf(s, netA)
    expect(ip).not.toBe('')
    const links = ok(await berth(['exec', s, 'ip', '-4', '-o', 'addr'])).stdout
    expect(links).toContain(`inet ${ip}/`)
    expect(links).toContain(`inet ${await ipOf(s, 'bridge')}/`)
    const p = await berth(['exec', a2, 'ping', '-c', '1', '-W', '2', s])
    expect(pingOk(p), p.stdout + p.stderr).toBe(true)
    ok(await berth(['rm', '-f', s]))
  })

  test('isolation: nothing crosses between networks by address', async () => {
    const ipB1 = await ipOf(b1, netB)
    const ipD1 = await ipOf(d1, 'bridge')
    const ipA1 = await ipOf(a1, netA)
    // Positive controls on each network first.
    expect(ok(await berth(['exec', b2, 'timeout', '5', 'wget', '-q', '-O', '-', `http://${ipB1}/`])).stdout.trim()).not.toBe('')
    expect(pingOk(await berth(['exec', a2, 'ping', '-c', '1', '-W', '2', ipA1]))).toBe(true)
    // netA → netB, netA → default bridge, default bridge → netA, netB → netA; all at once, each must time out or be refused.
    const wget = (from: string, ip: string) => berth(['exec', from, 'timeout', '3', 'wget', '-q', '-O', '-', `http://${ip}/`])
    const ping = (from: string, ip: string) => berth(['exec', from, 'ping', '-c', '1', '-W', '2', ip])
    const [p1, w1, p2, w2, p3, w3] = await Promise.all([ping(a2, ipB1), wget(a2, ipB1), ping(a2, ipD1), wget(a2, ipD1), ping(d1, ipA1), wget(b2, ipA1)])
    for (const [what, r] of Object.entries({ p1, p2, p3 })) expect(pingOk(r as CmdResult), what).toBe(false)
    for (const [what, r] of Object.entries({ w1, w2, w3 })) expect((r as CmdResult).code, what).not.toBe(0)
  })

  test('--internal: containers talk to each other, but have no default route and cannot reach the host', async () => {
    const netI = nname('uni')
    ok(await berth(['network', 'create', '--internal', netI]))
    expect((await inspectNet(netI)).Internal).toBe(true)
    const i1 = cname('un-i1')
    const i2 = cname('un-i2')
    ok(await berth(['run', '-d', '--name', i1, '--network', netI, ...dnsArgs, 'busybox', 'sleep', '1d']))
    ok(await berth(['run', '-d', '--name', i2, '--network', netI, ...dnsArgs, 'busybox', 'sh', '-c', 'mkdir -p /w && echo inside > /w/index.html && httpd -f -p 80 -h /w']))
    const p = await berth(['exec', i1, 'ping', '-c', '1', '-W', '2', i2])
    expect(pingOk(p), p.stdout + p.stderr).toBe(true)
    expect(ok(await berth(['exec', i1, 'timeout', '5', 'wget', '-q', '-O', '-', `http://${i2}/`])).stdout.trim()).toBe('inside')
    expect(ok(await berth(['exec', i1, 'ip', 'route'])).stdout).not.toMatch(/^default /m)
    const other = await hostAddr4()
    if (other) {
      const r = await berth(['exec', i1, 'ping', '-c', '1', '-W', '1', other])
      expect(pingOk(r)).toBe(false)
    } else console.warn('skipping the host-address check: no global IPv4 address besides bridges')
    ok(await berth(['rm', '-f', i1, i2]))
  })

  test('network rm of a network in use: docker\'s error (berth and docker CLI)', async () => {
    const clis = noDocker ? [berth] : [berth, docker]
    for (const cli of clis) {
      const r = await cli(['network', 'rm', netA])
      expect(r.code).not.toBe(0)
      expect(r.stderr).toContain(`error while removing network: network ${netA} has active endpoints`)
      // docker 28 lists each endpoint as name:"<container>" id:"<endpoint short id>"
      expect(r.stderr).toMatch(new RegExp(`active endpoints \\(.*name:"${a1}" id:"[0-9a-f]{12}"`))
    }
    expect((await inspectNet(netA)).Name).toBe(netA)
  })

  test('after network rm no bridge, rule or DNS listener of it is left', async () => {
    const n = nname('unrm')
    const id = ok(await berth(['network', 'create', n])).stdout.trim()
    const ifname = `br-${id.slice(0, 12)}`
    const gw = (await inspectNet(n)).IPAM.Config[0]?.Gateway ?? ''
    ok(await berth(['run', '--rm', '--network', n, ...dnsArgs, 'busybox', 'true']))
    expect((await sh('iptables-save')).includes(ifname)).toBe(true)
    expect(await sh('ss', '-lnu')).toContain(`${gw}:53 `)
    ok(await berth(['network', 'rm', n]))
    expect((await quiet('ip', 'link', 'show', ifname)).code).not.toBe(0)
    expect((await sh('iptables-save')).split('\n').filter((l) => l.includes(ifname))).toEqual([])
    expect((await quiet('ip6tables-save')).stdout.split('\n').filter((l) => l.includes(ifname))).toEqual([])
    expect(await sh('ss', '-lnu')).not.toContain(`${gw}:53 `)
    expect(await sh('ss', '-lnt')).not.toContain(`${gw}:53 `)
    const again = await berth(['network', 'inspect', n])
    expect(again.code).not.toBe(0)
    expect(again.stderr).toContain(`network ${n} not found`)
  })

  test('network prune removes unused user networks only (berth and docker CLI)', async () => {
    const clis = noDocker ? [berth] : [berth, docker]
    for (const [i, cli] of clis.entries()) {
      const lbl = `berth.test.prune=${process.pid}-${i}`
      const unused = nname('unprune')
      const used = nname('unkeep')
      ok(await berth(['network', 'create', '--label', lbl, unused]))
      ok(await berth(['network', 'create', '--label', lbl, used]))
      const holder = cname('un-holder')
      ok(await berth(['run', '-d', '--name', holder, '--network', used, ...dnsArgs, 'busybox', 'sleep', '1d']))
      const out = ok(await cli(['network', 'prune', '-f', '--filter', `label=${lbl}`])).stdout
      expect(out).toBe(`Deleted Networks:\n${unused}\n\n`)
      expect((await berth(['network', 'inspect', unused])).code).not.toBe(0)
      expect((await inspectNet(used)).Name).toBe(used)
      ok(await berth(['rm', '-f', holder]))
    }
    const names = ok(await berth(['network', 'ls', '--format', '{{.Name}}'])).stdout.split('\n')
    for (const p of ['bridge', 'host', 'none', netA, netB]) expect(names).toContain(p)
  })

  test('bad input: overlapping subnet, unknown driver, duplicate name, predefined name (berth and docker CLI)', async () => {
    const clis = noDocker ? [berth] : [berth, docker]
    for (const cli of clis) {
      const overlap = await cli(['network', 'create', '--subnet', `198.18.${o}.0/25`, uniq('unover')])
      expect(overlap.code).not.toBe(0)
      expect(overlap.stderr).toContain('Pool overlaps with other one on this address space')
      const driver = await cli(['network', 'create', '-d', 'nosuch', uniq('undrv')])
      expect(driver.code).not.toBe(0)
      expect(driver.stderr).toContain('could not find plugin nosuch in v1 plugin registry: plugin not found')
      const dup = await cli(['network', 'create', netA])
      expect(dup.code).not.toBe(0)
      expect(dup.stderr).toContain(`network with name ${netA} already exists`)
      const pre = await cli(['network', 'create', 'host'])
      expect(pre.code).not.toBe(0)
      expect(pre.stderr).toContain('operation is not permitted on predefined host network')
    }
    // Nothing was made by the failures.
    const ls = ok(await berth(['network', 'ls', '--format', '{{.Name}}'])).stdout
    expect(ls).not.toMatch(/unover|undrv/)
    expect(await waitFor(async () => !(await sh('ip', '-o', 'link')).includes('unover') || undefined)).toBe(true)
  })
})
