// macvlan networks against a parent the test owns: a veth pair whose host end
// is the parent and whose other end sits in a network namespace the test
// makes, with an address in a test subnet. A container on the macvlan network
// pings that namespace; nothing else is on the wire.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { berth, docker, missing, ok, uniq } from '../../helpers.js'
import { pidOf, quiet, sh, testOctet } from './net.js'

const skip = missing('root', 'daemon')
const noDocker = missing('docker-cli')

const pid = process.pid
const parent = `bmv${pid}`.slice(0, 15)
const peer = `bmp${pid}`.slice(0, 15)
const ns = `btmv${pid}`
const o = testOctet(41)
const subnet = `198.19.${o}.0/24`
const peerAddr = `198.19.${o}.2`
const containerAddr = `198.19.${o}.10`

async function cleanup(): Promise<void> {
  await quiet('ip', 'netns', 'del', ns)
  await quiet('ip', 'link', 'del', parent)
}

describe.skipIf(skip)('macvlan', () => {
  const net = uniq('mv')
  const made: string[] = []
  let why: string | undefined

  beforeAll(async () => {
    await cleanup()
    await sh('ip', 'netns', 'add', ns)
    await sh('ip', 'link', 'add', parent, 'type', 'veth', 'peer', 'name', peer, 'netns', ns)
    await sh('ip', 'link', 'set', parent, 'up')
    await sh('ip', 'netns', 'exec', ns, 'ip', 'addr', 'add', `${peerAddr}/24`, 'dev', peer)
    await sh('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', peer, 'up')
    await sh('ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up')
    // The kernel may lack macvlan (a module): skip with its word.
    const probeName = `bmq${pid}`.slice(0, 15)
    const probe = await quiet('ip', 'link', 'add', probeName, 'link', parent, 'type', 'macvlan', 'mode', 'bridge')
    if (probe.code !== 0) {
      why = `this kernel cannot make a macvlan interface: ${probe.stderr.trim()}`
      console.warn(`skipping: ${why}`)
    }
    await quiet('ip', 'link', 'del', probeName)
  })

  afterAll(async () => {
    if (made.length) await berth(['rm', '-f', ...made])
    await berth(['network', 'rm', net])
    await cleanup()
  })

  test('network create -d macvlan -o parent=<host end>: a container with --ip pings the namespace behind the parent', async (ctx) => {
    if (why) return ctx.skip()
    const cli = noDocker ? berth : docker
    ok(await cli(['network', 'create', '-d', 'macvlan', '--subnet', subnet, '-o', `parent=${parent}`, net]))
    const [n] = JSON.parse(ok(await berth(['network', 'inspect', net])).stdout) as Array<{ Driver: string; Options: Record<string, string>; IPAM: { Config: Array<{ Subnet: string; Gateway?: string }> } }>
    expect(n?.Driver).toBe('macvlan')
    expect(n?.Options).toEqual({ parent })
    expect(n?.IPAM.Config[0]?.Subnet).toBe(subnet)
    expect(ok(await berth(['network', 'ls', '--filter', `name=${net}`, '--format', '{{.Name}} {{.Driver}}'])).stdout.trim()).toBe(`${net} macvlan`)

    const c = uniq('mv-c')
    made.push(c)
    ok(await berth(['run', '-d', '--name', c, '--network', net, '--ip', containerAddr, 'busybox', 'sleep', '1d']))
    expect(ok(await berth(['inspect', '-f', `{{ (index .NetworkSettings.Networks "${net}").IPAddress }}`, c])).stdout.trim()).toBe(containerAddr)
    const link = await sh('nsenter', `--net=/proc/${await pidOf(c)}/ns/net`, 'ip', '-d', 'link', 'show', 'eth0')
    expect(link).toMatch(/macvlan\s+mode bridge/)
    expect(ok(await berth(['exec', c, 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout).toContain(`inet ${containerAddr}/24 `)
    const p = await berth(['exec', c, 'ping', '-c', '1', '-W', '2', peerAddr])
    expect(p.code, p.stdout + p.stderr).toBe(0)
    // And back: the namespace sees the container's MAC on its side.
    const mac = ok(await berth(['exec', c, 'cat', '/sys/class/net/eth0/address'])).stdout.trim()
    const back = await quiet('ip', 'netns', 'exec', ns, 'busybox', 'ping', '-c', '1', '-W', '2', containerAddr)
    expect(back.code, back.stdout + back.stderr).toBe(0)
    expect(await sh('ip', 'netns', 'exec', ns, 'ip', 'neigh', 'show', containerAddr)).toContain(mac)
    // The macvlan interface went with the container.
    ok(await berth(['rm', '-f', c]))
    expect(await sh('ip', '-o', 'link', 'show')).not.toContain(`@${parent}`)
  })

  test('a macvlan network whose parent does not exist: a clear error, nothing made', async (ctx) => {
    if (why) return ctx.skip()
    const missingParent = `nope${pid}`.slice(0, 15)
    const name = uniq('mv-bad')
    const clis = noDocker ? [berth] : [berth, docker]
    for (const cli of clis) {
      const r = await cli(['network', 'create', '-d', 'macvlan', '--subnet', `198.19.${(o + 1) % 250}.0/24`, '-o', `parent=${missingParent}`, name])
      expect(r.code).not.toBe(0)
      expect(r.stderr).toContain(`invalid subinterface vlan name ${missingParent}, example formatting is eth0.10`)
      expect((await berth(['network', 'inspect', name])).code).not.toBe(0)
    }
    const r = await berth(['network', 'create', '-d', 'macvlan', '-o', `parent=${missingParent}.10`, name])
    expect(r.stderr).toContain(`-o parent interface was not found on the host: ${missingParent}`)
  })

  test('no parent: a dummy link dm-<id12> made for an internal network, gone with it', async () => {
    const name = uniq('mv-dummy')
    const id = ok(await berth(['network', 'create', '-d', 'macvlan', '--subnet', `198.19.${(o + 2) % 250}.0/24`, name])).stdout.trim()
    const dummy = `dm-${id.slice(0, 12)}`
    try {
      expect(await sh('ip', '-o', 'link', 'show', 'dev', dummy)).toContain(dummy)
      expect(ok(await berth(['network', 'inspect', '-f', '{{.Internal}}', name])).stdout.trim()).toBe('true')
      const out = ok(await berth(['run', '--rm', '--network', name, 'busybox', 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout
      expect(out).toContain(`inet 198.19.${(o + 2) % 250}.2/24`)
    } finally {
      ok(await berth(['network', 'rm', name]))
    }
    expect((await quiet('ip', 'link', 'show', 'dev', dummy)).code).not.toBe(0)
  })

  test('parent=<if>.<vid>: a VLAN sub-interface made for the network, gone with it (or a clear error without 802.1Q)', async (ctx) => {
    if (why) return ctx.skip()
    const name = uniq('mv-vlan')
    const vlan = `${parent}.7`
    const probe = await quiet('ip', 'link', 'add', 'link', parent, 'name', `bq${pid}`.slice(0, 15), 'type', 'vlan', 'id', '3')
    await quiet('ip', 'link', 'del', `bq${pid}`.slice(0, 15))
    if (/Unknown device type/.test(probe.stderr)) {
      const r = await berth(['network', 'create', '-d', 'macvlan', '--subnet', `198.19.${(o + 3) % 250}.0/24`, '-o', `parent=${vlan}`, name])
      expect(r.stderr).toContain('this kernel has no 802.1Q VLAN support')
      console.warn('skipping the VLAN traffic part: this kernel has no 802.1Q VLAN support (CONFIG_VLAN_8021Q)')
      return ctx.skip()
    }
    ok(await berth(['network', 'create', '-d', 'macvlan', '--subnet', `198.19.${(o + 3) % 250}.0/24`, '-o', `parent=${vlan}`, name]))
    try {
      expect(await sh('ip', '-d', '-o', 'link', 'show', 'dev', vlan)).toMatch(/vlan protocol 802\.1Q id 7/)
      const out = ok(await berth(['run', '--rm', '--network', name, 'busybox', 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout
      expect(out).toContain(`inet 198.19.${(o + 3) % 250}.2/24`)
    } finally {
      ok(await berth(['network', 'rm', name]))
    }
    expect((await quiet('ip', 'link', 'show', 'dev', vlan)).code).not.toBe(0)
    expect((await quiet('ip', 'link', 'show', 'dev', parent)).code).toBe(0)
  })
})
