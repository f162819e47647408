import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createLogger } from '../lib/index.js'
import { buildSpec } from '../runtime/index.js'
import { loadConfig } from './config.js'
import { checkUsernsConflicts, idMapsOf, nextFreeRange, setupRemappedRoot, subRanges, toContainer, toHost, withLockedFlags, type IdFiles } from './userns.js'

const log = createLogger({ level: 'error' })

describe('user namespace remapping', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-userns-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const files = (name: string, subuid: string, subgid = subuid): IdFiles => {
    const p = (f: string) => path.join(dir, `${name}-${f}`)
    writeFileSync(p('passwd'), 'root:x:0:0::/root:/bin/sh\nberthremap:x:999:995::/nonexistent:/usr/sbin/nologin\nalice:x:1000:1000::/home/alice:/bin/sh\n')
    writeFileSync(p('group'), 'root:x:0:\nberthremap:x:995:\nalice:x:1000:\nstaff:x:50:\n')
    writeFileSync(p('subuid'), subuid)
    writeFileSync(p('subgid'), subgid)
    return { passwd: p('passwd'), group: p('group'), subuid: p('subuid'), subgid: p('subgid') }
  }

  it('reads a user\'s subordinate ranges by name or uid, in file order', () => {
    const text = 'bob:200000:65536\nalice:100000:65536\n1000:300000:10\n# alice:1:1\n'
    expect(subRanges(text, 'alice', 1000)).toEqual([{ start: 100000, count: 65536 }, { start: 300000, count: 10 }])
    expect(idMapsOf(subRanges(text, 'alice', 1000))).toEqual([
      { containerID: 0, hostID: 100000, size: 65536 },
      { containerID: 65536, hostID: 300000, size: 10 },
    ])
  })

  it('maps ids both ways and leaves ids outside the ranges unmapped', () => {
    const maps = idMapsOf([{ start: 100000, count: 65536 }])
    expect(toHost(0, maps)).toBe(100000)
    expect(toHost(65535, maps)).toBe(165535)
    expect(toHost(65536, maps)).toBeUndefined()
    expect(toContainer(100005, maps)).toBe(5)
    expect(toContainer(0, maps)).toBeUndefined()
  })

  it('finds the first free range of 65536 ids from 100000, past taken ones', () => {
    expect(nextFreeRange('')).toBe(100000)
    expect(nextFreeRange('a:100000:65536\n')).toBe(165536)
    expect(nextFreeRange('a:100000:65536\nb:165536:65536\n')).toBe(231072)
    expect(nextFreeRange('a:300000:65536\n')).toBe(100000)
    expect(nextFreeRange('a:150000:10\n')).toBe(150010)
  })

  it('gives berthremap a range once, for default', async () => {
    const f = files('d', 'alice:100000:65536\n')
    const id = await setupRemappedRoot('default', log, f)
    expect(id).toMatchObject({ user: 'berthremap', group: 'berthremap', rootUid: 165536, rootGid: 165536 })
    expect(readFileSync(f.subuid, 'utf8')).toBe('alice:100000:65536\nberthremap:165536:65536\n')
    await setupRemappedRoot('default', log, f)
    expect(readFileSync(f.subuid, 'utf8')).toBe('alice:100000:65536\nberthremap:165536:65536\n')
  })

  it('takes user, user:group, uid and uid:gid as dockerd does', async () => {
    const f = files('u', 'alice:100000:65536\n', 'alice:100000:65536\nstaff:400000:65536\n')
    expect(await setupRemappedRoot('alice', log, f)).toMatchObject({ user: 'alice', group: 'alice', rootUid: 100000, rootGid: 100000 })
    expect(await setupRemappedRoot('alice:staff', log, f)).toMatchObject({ group: 'staff', rootGid: 400000 })
    expect(await setupRemappedRoot('1000', log, f)).toMatchObject({ user: 'alice', group: 'alice' })
    expect(await setupRemappedRoot('1000:50', log, f)).toMatchObject({ user: 'alice', group: 'staff' })
    expect(await setupRemappedRoot('root', log, f)).toBeUndefined()
    expect(await setupRemappedRoot('', log, f)).toBeUndefined()
  })

  it('refuses what dockerd refuses, with its messages', async () => {
    const f = files('e', 'alice:100000:65536\n', '')
    await expect(setupRemappedRoot('a:b:c', log, f)).rejects.toThrow('Invalid user/group specification in --userns-remap: "a:b:c"')
    await expect(setupRemappedRoot('nobody-here', log, f)).rejects.toThrow('Error during uid lookup for "nobody-here"')
    await expect(setupRemappedRoot('4242', log, f)).rejects.toThrow('Uid 4242 has no entry in /etc/passwd')
    await expect(setupRemappedRoot('alice:nogroup', log, f)).rejects.toThrow('Error during groupname lookup for "nogroup"')
    await expect(setupRemappedRoot('alice', log, f)).rejects.toThrow('no subgid ranges found for group "alice"')
  })

  it('refuses privileged, host network and host pid in the user namespace, unless --userns=host', () => {
    const base = { remapped: true, usernsMode: '', privileged: false, networkHost: false, pidHost: false }
    expect(() => checkUsernsConflicts({ ...base, privileged: true })).toThrow('privileged mode is incompatible with user namespaces')
    expect(() => checkUsernsConflicts({ ...base, networkHost: true })).toThrow("cannot share the host's network namespace when user namespaces are enabled")
    expect(() => checkUsernsConflicts({ ...base, pidHost: true })).toThrow('cannot share the host PID namespace when user namespaces are enabled')
    expect(() => checkUsernsConflicts({ ...base, privileged: true, networkHost: true, usernsMode: 'host' })).not.toThrow()
    expect(() => checkUsernsConflicts({ ...base, remapped: false, privileged: true })).not.toThrow()
    expect(() => checkUsernsConflicts({ ...base, usernsMode: 'private' })).toThrow('invalid UsernsMode')
  })

  it('keeps the locked flags of a bind mount\'s source mount', () => {
    const info = [
      '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
      '25 22 0:21 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw',
      '26 25 0:22 / /run/ro\\040dir ro,nosuid shared:6 - tmpfs tmpfs ro',
    ].join('\n')
    const m = (source: string, options: string[] = ['rbind']) => ({ type: 'bind', source, destination: '/x', options })
    expect(withLockedFlags([m('/var/tmp/x')], info)[0]?.options).toEqual(['rbind', 'relatime'])
    expect(withLockedFlags([m('/run/berth/hosts')], info)[0]?.options).toEqual(['rbind', 'nosuid', 'nodev', 'noexec', 'relatime'])
    expect(withLockedFlags([m('/run/ro dir/f', ['rbind', 'ro'])], info)[0]?.options).toEqual(['rbind', 'ro', 'nosuid'])
    expect(withLockedFlags([{ type: 'tmpfs', source: 'tmpfs', destination: '/t', options: [] }], info)[0]?.options).toEqual([])
  })

  it('takes userns-remap from daemon.json or the flag', async () => {
    const cfg = (name: string, json: object) => {
      const p = path.join(dir, name)
      writeFileSync(p, JSON.stringify(json))
      return p
    }
    expect((await loadConfig({ configFile: cfg('c0.json', {}) })).usernsRemap).toBe('')
    expect((await loadConfig({ configFile: cfg('c1.json', { 'userns-remap': 'default' }) })).usernsRemap).toBe('default')
    expect((await loadConfig({ configFile: cfg('c2.json', {}), usernsRemap: 'alice:staff' })).usernsRemap).toBe('alice:staff')
    await expect(loadConfig({ configFile: cfg('c3.json', { 'userns-remap': 'default' }), usernsRemap: 'default' })).rejects.toThrow('specified both as a flag and in the configuration file: userns-remap')
    await expect(loadConfig({ configFile: cfg('c4.json', { 'userns-remap': 'a:b:c' }) })).rejects.toThrow('Invalid user/group specification in --userns-remap')
  })

  it('puts a container in a user namespace with the mappings, sysfs bound and cgroups writable', () => {
    const maps = idMapsOf([{ start: 100000, count: 65536 }])
    const base = { id: 'c1', rootfs: '/r', args: ['sh'], hostLimits: {}, namespaces: { network: { path: '/run/netns/x' } } }
    const spec = buildSpec({ ...base, idMappings: { uidMappings: maps, gidMappings: maps } })
    expect(spec.linux.namespaces).toContainEqual({ type: 'user' })
    expect(spec.linux.uidMappings).toEqual([{ containerID: 0, hostID: 100000, size: 65536 }])
    expect(spec.linux.gidMappings).toEqual([{ containerID: 0, hostID: 100000, size: 65536 }])
    expect(spec.mounts.find((m) => m.destination === '/sys')).toMatchObject({ type: 'bind', source: '/sys' })
    expect(spec.mounts.find((m) => m.destination === '/sys/fs/cgroup')?.options).not.toContain('ro')
    const joined = buildSpec({ ...base, idMappings: { uidMappings: maps, gidMappings: maps, userNsPath: '/proc/42/ns/user' } })
    expect(joined.linux.namespaces).toContainEqual({ type: 'user', path: '/proc/42/ns/user' })
    const plain = buildSpec(base)
    expect(plain.linux.namespaces.some((n) => n.type === 'user')).toBe(false)
    expect(plain.linux.uidMappings).toBeUndefined()
    expect(plain.mounts.find((m) => m.destination === '/sys')?.type).toBe('sysfs')
  })
})
