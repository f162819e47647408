// The bridge driver's options as a user sets them with `network create -o`:
// the bridge's name, its MTU, inter-container traffic (enable_icc), the host
// address ports are published on (host_binding_ipv4), and masquerading
// (enable_ip_masquerade, seen in the rules: no traffic leaves the host).
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { berth, missing, ok, uniq } from '../../helpers.js'
import { berthRules, freeHostPort, hostAddr4, httpdScript, httpGet, ipOf, waitHttp } from './net.js'

const skip = missing('root', 'daemon')

describe.skipIf(skip)('bridge network options', () => {
  const tag = uniq('netopt')
  const bridge = `bo${process.pid % 100000}`
  const net = `${tag}-net`
  const quiet = `${tag}-quiet`
  const names: string[] = []
  const name = (s: string) => {
    const n = `${tag}-${s}`
    names.push(n)
    return n
  }

  beforeAll(async () => {
    ok(await berth([
      'network', 'create', '--label', tag,
      '-o', `com.docker.network.bridge.name=${bridge}`,
      '-o', 'com.docker.network.driver.mtu=1400',
      '-o', 'com.docker.network.bridge.enable_icc=false',
      '-o', 'com.docker.network.bridge.host_binding_ipv4=127.0.0.1',
      net,
    ]))
    ok(await berth(['network', 'create', '--label', tag, '-o', 'com.docker.network.bridge.enable_ip_masquerade=false', quiet]))
  })

  afterAll(async () => {
    if (names.length) await berth(['rm', '-f', ...names])
    await berth(['network', 'rm', net, quiet])
  })

  test('the bridge has the asked name and MTU, and so do the containers on it', async () => {
    expect(readFileSync(`/sys/class/net/${bridge}/mtu`, 'utf8').trim()).toBe('1400')
    const out = ok(await berth(['run', '--rm', '--network', net, 'busybox', 'cat', '/sys/class/net/eth0/mtu'])).stdout.trim()
    expect(out).toBe('1400')
    const inspect = JSON.parse(ok(await berth(['network', 'inspect', net])).stdout) as Array<{ Options: Record<string, string> }>
    expect(inspect[0]?.Options).toMatchObject({ 'com.docker.network.bridge.name': bridge, 'com.docker.network.driver.mtu': '1400' })
  })

  test('enable_icc=false: containers on the network cannot reach each other, the host still can', async () => {
    const web = name('icc-web')
    ok(await berth(['run', '-d', '--name', web, '--network', net, 'busybox', 'sh', '-c', httpdScript('icc', 80)]))
    const ip = await ipOf(web, net)
    await waitHttp(ip, 80, 'icc')
    // Not as PID 1: the container's init ignores timeout's SIGTERM.
    const r = await berth(['run', '--rm', '--network', net, 'busybox', 'sh', '-c', `timeout 3 wget -q -O - http://${ip}/; echo rc=$?`])
    expect(r.stdout).toMatch(/rc=[1-9]/)
    expect(r.stdout).not.toContain('icc')
  })

  test('host_binding_ipv4: ports published without an address bind that address only', async () => {
    const port = await freeHostPort()
    const web = name('bind-web')
    ok(await berth(['run', '-d', '--name', web, '--network', net, '-p', `${port}:80`, 'busybox', 'sh', '-c', httpdScript('bound', 80)]))
    expect(ok(await berth(['port', web])).stdout).toBe(`80/tcp -> 127.0.0.1:${port}\n`)
    await waitHttp('127.0.0.1', port, 'bound')
    const other = await hostAddr4()
    if (other) expect(await httpGet(other, port, 1000)).toBeUndefined()
  })

  test('enable_ip_masquerade=false: no masquerade rule for the subnet', async () => {
    const subnet = ok(await berth(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', quiet])).stdout.trim()
    const masq = (await berthRules('nat')).filter((r) => r.includes(`-s ${subnet}`) && r.includes('MASQUERADE') && r.includes('! -o'))
    expect(masq).toEqual([])
    const loud = ok(await berth(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', net])).stdout.trim()
    expect((await berthRules('nat')).some((r) => r.includes(`-s ${loud}`) && r.includes('MASQUERADE'))).toBe(true)
  })

  test('--link-local-ip: the address is on the interface and in inspect; a bad one is refused', async () => {
    const c = name('ll')
    ok(await berth(['run', '-d', '--name', c, '--network', quiet, '--link-local-ip', '169.254.77.7', 'busybox', 'sleep', '1d']))
    expect(ok(await berth(['exec', c, 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout).toContain('inet 169.254.77.7/16')
    const ipam = JSON.parse(ok(await berth(['inspect', '-f', `{{json (index .NetworkSettings.Networks "${quiet}").IPAMConfig}}`, c])).stdout) as { LinkLocalIPs?: string[] }
    expect(ipam.LinkLocalIPs).toEqual(['169.254.77.7'])
    const bad = await berth(['run', '--rm', '--network', quiet, '--link-local-ip', 'bogus', 'busybox', 'true'])
    expect(bad.code).toBe(125)
    expect(bad.stderr).toContain('invalid link-local IP address: bogus')
  })

  test('a bad option value is refused with docker\'s parse error', async () => {
    const r = await berth(['network', 'create', '-o', 'com.docker.network.bridge.enable_icc=maybe', `${tag}-bad`])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('com.docker.network.bridge.enable_icc')
    expect(ok(await berth(['network', 'ls', '--format', '{{.Name}}'])).stdout).not.toContain(`${tag}-bad`)
  })
})
