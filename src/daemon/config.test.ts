import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig } from './config.js'
import { serveArgs } from './registry-service.js'

describe('daemon configuration', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-cfg-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const file = (name: string, text: string) => {
    const p = path.join(dir, name)
    writeFileSync(p, text)
    return p
  }

  it('uses docker-like defaults when there is no file', async () => {
    const c = await loadConfig({ configFile: file('empty.json', '') })
    expect(c.dataRoot).toBe('/var/lib/berth')
    expect(c.hosts).toEqual(['unix:///run/berth/berth.sock'])
    expect(c.defaultRuntime).toBe('runc')
  })

  it('takes the network settings from daemon.json or from flags, never both', async () => {
    const d = await loadConfig({ configFile: file('n0.json', '{}') })
    expect(d.network).toMatchObject({ bridge: 'berth0', mtu: 1500, icc: true, ipMasq: true, iptables: true, defaultAddressPools: [] })
    const f = await loadConfig({ configFile: file('n1.json', JSON.stringify({ bridge: 'br9', bip: '172.30.0.1/16', 'default-address-pools': [{ base: '10.10.0.0/16', size: 24 }] })) })
    expect(f.network).toMatchObject({ bridge: 'br9', bip: '172.30.0.1/16', defaultAddressPools: [{ base: '10.10.0.0/16', size: 24 }] })
    const g = await loadConfig({ configFile: file('n2.json', '{}'), network: { icc: false, mtu: 1400 } })
    expect(g.network).toMatchObject({ icc: false, mtu: 1400, bridge: 'berth0' })
    await expect(loadConfig({ configFile: file('n3.json', '{"icc": true}'), network: { icc: false } })).rejects.toThrow('specified both as a flag and in the configuration file: icc')
    await expect(loadConfig({ configFile: file('n4.json', '{"mtu": "big"}') })).rejects.toThrow('invalid MTU')
    await expect(loadConfig({ configFile: file('n5.json', '{"bridge": "a-name-far-too-long"}') })).rejects.toThrow('invalid bridge name')
  })

  it('reads docker keys from daemon.json', async () => {
    const c = await loadConfig({
      configFile: file('d.json', JSON.stringify({ 'data-root': '/srv/berth', 'default-runtime': 'crun', runtimes: { mine: { path: '/opt/mine', runtimeArgs: ['--x'] } }, 'log-level': 'warn', 'live-restore': true })),
    })
    expect(c.dataRoot).toBe('/srv/berth')
    expect(c.defaultRuntime).toBe('crun')
    expect(c.runtimes.mine).toEqual({ path: '/opt/mine', runtimeArgs: ['--x'] })
    expect(c.logLevel).toBe('warn')
  })

  it('refuses unknown keys and keys given both ways, as dockerd', async () => {
    await expect(loadConfig({ configFile: file('u.json', '{"data-rot": "/x"}') })).rejects.toThrow("the following directives don't match any configuration option: data-rot")
    await expect(loadConfig({ configFile: file('b.json', '{"data-root": "/x"}'), dataRoot: '/y' })).rejects.toThrow('specified both as a flag and in the configuration file: data-root')
  })

  it('reports malformed JSON with the file name', async () => {
    await expect(loadConfig({ configFile: file('m.json', '{"data-root": ') })).rejects.toThrow(/unable to configure the berth daemon with file .*m\.json/)
  })

  it('refuses TCP hosts without TLS and other storage drivers', async () => {
    await expect(loadConfig({ configFile: file('e.json', '{}'), hosts: ['tcp://0.0.0.0:2375'] })).rejects.toThrow(/refusing to listen on tcp:\/\/0\.0\.0\.0:2375 without TLS/)
    await expect(loadConfig({ configFile: file('s.json', '{"storage-driver": "vfs"}') })).rejects.toThrow(/overlay2/)
  })

  it('checks registry-mirrors as docker does', async () => {
    const c = await loadConfig({ configFile: file('rm.json', '{"registry-mirrors": ["https://mirror.example:5000/", "http://127.0.0.1:5001"]}') })
    expect(c.registryMirrors).toEqual(['https://mirror.example:5000', 'http://127.0.0.1:5001'])
    await expect(loadConfig({ configFile: file('rm2.json', '{"registry-mirrors": ["mirror.example"]}') })).rejects.toThrow(/invalid mirror/)
    await expect(loadConfig({ configFile: file('rm3.json', '{"registry-mirrors": ["https://m.example/v2/"]}') })).rejects.toThrow('invalid mirror: path, query, or fragment at end of the URI')
  })

  it('reads the registry-service switch', async () => {
    expect((await loadConfig({ configFile: file('rs0.json', '{}') })).registryService).toBeNull()
    expect((await loadConfig({ configFile: file('rs1.json', '{"registry-service": true}') })).registryService).toEqual({ addr: '127.0.0.1:5000', root: '/var/lib/berth-registry' })
    const c = await loadConfig({ configFile: file('rs2.json', '{"registry-service": {"addr": "127.0.0.1:5055", "root": "/srv/reg"}}') })
    expect(c.registryService).toEqual({ addr: '127.0.0.1:5055', root: '/srv/reg' })
    await expect(loadConfig({ configFile: file('rs3.json', '{"registry-service": {"port": 1}}') })).rejects.toThrow('registry-service: unknown key "port"')
    await expect(loadConfig({ configFile: file('rs4.json', '{"registry-service": {"tls-cert": "/c"}}') })).rejects.toThrow(/go together/)
    const t = await loadConfig({ configFile: file('rs5.json', '{"registry-service": {"htpasswd": "/h", "auth": "token", "anonymous-pull": true}}') })
    expect(serveArgs(t.registryService!)).toEqual(['registry', 'serve', '--addr', '127.0.0.1:5000', '--root', '/var/lib/berth-registry', '--htpasswd', '/h', '--auth', 'token', '--anonymous-pull'])
    await expect(loadConfig({ configFile: file('rs6.json', '{"registry-service": {"auth": "token"}}') })).rejects.toThrow('auth needs htpasswd')
  })
})
