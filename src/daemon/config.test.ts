import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig } from './config.js'

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
    await expect(loadConfig({ configFile: file('e.json', '{}'), hosts: ['tcp://0.0.0.0:2375'] })).rejects.toThrow(/unix sockets only/)
    await expect(loadConfig({ configFile: file('s.json', '{"storage-driver": "vfs"}') })).rejects.toThrow(/overlay2/)
  })
})
