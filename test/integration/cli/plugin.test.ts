/**
 * `berth plugin …` against docker's: berthd answers the plugin API as a
 * dockerd with no plugins, so both CLIs must print the same list, the same
 * "not found" and "not supported" errors, the same refusals of bad names and
 * flags, the same help, and exit the same.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { missing, sameAsDocker } from '../../helpers.js'

const skip = missing('root', 'daemon', 'docker-cli')

const both = sameAsDocker

describe.skipIf(skip)('berth plugin prints what docker plugin prints', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-plugin-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('ls: an empty list in every format, and flag errors', async () => {
    expect((await both(['plugin', 'ls'])).stdout).toBe('ID        NAME      DESCRIPTION   ENABLED\n')
    for (const args of [['plugin', 'list'], ['plugin', 'ls', '-q'], ['plugin', 'ls', '--no-trunc'], ['plugin', 'ls', '--format', 'json'],
      ['plugin', 'ls', '--format', 'raw'], ['plugin', 'ls', '-q', '--format', 'table'], ['plugin', 'ls', '--format', '{{.ID}}'],
      ['plugin', 'ls', '--format', 'table {{.ID}}\t{{.PluginReference}}'], ['plugin', 'ls', '--format', 'table {{.Foo}}'],
      ['plugin', 'ls', '-f', 'enabled=true'], ['plugin', 'ls', '-f', 'capability=volumedriver', '-f', 'enabled=false']]) {
      expect((await both(args)).code).toBe(0)
    }
    expect((await both(['plugin', 'ls', '--format', '{{.Foo'])).code).toBe(1)
    expect((await both(['plugin', 'ls', '-f', 'nokey'])).code).toBe(125)
    expect((await both(['plugin', 'ls', 'extra'])).code).toBe(1)
  })

  it('inspect, enable, disable, rm, set: no such plugin', async () => {
    const r = await both(['plugin', 'inspect', 'nosuch'])
    expect(r).toEqual({ code: 1, stdout: '[]\n', stderr: 'Error response from daemon: plugin "nosuch" not found\n' })
    for (const args of [['plugin', 'inspect', 'a', 'b/c:1'], ['plugin', 'inspect', '-f', '{{.Name}}', 'a'], ['plugin', 'inspect', '--format', 'json', 'a'],
      ['plugin', 'inspect', ''], ['plugin', 'inspect', 'a b?c'], ['plugin', 'enable', 'a'], ['plugin', 'enable', '--timeout', '5', 'a'],
      ['plugin', 'enable', '--timeout', '-1', 'a'], ['plugin', 'enable', ' '], ['plugin', 'disable', '-f', 'a'], ['plugin', 'rm', 'a', 'b'],
      ['plugin', 'remove', '-f', 'a'], ['plugin', 'rm', '', 'a'], ['plugin', 'set', 'a', 'k=v'], ['plugin', 'push', 'a'],
      ['plugin', 'push', 'Upper'], ['plugin', 'push', `a@sha256:${'a'.repeat(64)}`], ['plugin', 'upgrade', 'a'], ['plugin', 'upgrade', '--skip-remote-check', 'a', 'b']]) {
      expect((await both(args)).code).toBe(1)
    }
    expect((await both(['plugin', 'inspect', '-f', '{{.Name', 'a'])).code).toBe(64)
    expect((await both(['plugin', 'enable', '--timeout', 'x', 'a'])).code).toBe(125)
  })

  it('install and create: refused by the daemon, or before it for a bad name or directory', async () => {
    const r = await both(['plugin', 'install', '--grant-all-permissions', 'vieux/sshfs', 'DEBUG=1'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^Error response from daemon: .*not supported/)
    for (const args of [['plugin', 'install', 'x'], ['plugin', 'install', '--alias', 'mine', '--disable', 'x:1'], ['plugin', 'install', 'BAD'],
      ['plugin', 'install', 'a'.repeat(64)], ['plugin', 'install', 'x@sha256:abc'], ['plugin', 'install', `x@sha256:${'a'.repeat(40)}`],
      ['plugin', 'install', '--alias', `y@sha256:${'a'.repeat(64)}`, 'x']]) {
      expect((await both(args)).code).toBe(1)
    }
    const data = path.join(dir, 'data')
    mkdirSync(path.join(data, 'rootfs'), { recursive: true })
    writeFileSync(path.join(data, 'config.json'), '{"Description":"test plugin"}')
    const notJSON = path.join(dir, 'bad')
    mkdirSync(notJSON)
    writeFileSync(path.join(notJSON, 'config.json'), '[1]')
    writeFileSync(path.join(dir, 'file'), '')
    for (const args of [['plugin', 'create', 'p', data], ['plugin', 'create', '--compress', 'p', data], ['plugin', 'create', 'BAD', data],
      ['plugin', 'create', 'p', path.join(dir, 'missing')], ['plugin', 'create', 'p', path.join(dir, 'file')], ['plugin', 'create', 'p', dir],
      ['plugin', 'create', 'p', notJSON]]) {
      expect((await both(args)).code).toBe(1)
    }
  })

  it('argument counts, unknown commands and the group', async () => {
    for (const args of [['plugin', 'install'], ['plugin', 'create', 'p'], ['plugin', 'set', 'p'], ['plugin', 'upgrade', 'a', 'b', 'c'],
      ['plugin', 'disable'], ['plugin', 'inspect'], ['plugin', 'bogus']]) {
      expect((await both(args)).code).toBe(1)
    }
    expect((await both(['plugin'])).stderr).toContain('Manage plugins')
  })

  it('help of the group and every command', async () => {
    for (const verb of ['', 'ls', 'list', 'inspect', 'install', 'create', 'enable', 'disable', 'push', 'rm', 'remove', 'set', 'upgrade']) {
      expect((await both(['plugin', ...(verb ? [verb] : []), '--help'])).code).toBe(0)
    }
  })
})
