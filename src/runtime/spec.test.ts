import { describe, expect, it, test } from 'vitest'
import { availableCapabilities, buildRlimits, buildSpec, defaultCapabilities, initMountPoint, parseLimits, tweakCapabilities } from './spec.js'

const base = { id: 'abc', rootfs: '/r', args: ['sh'], hostLimits: { nofile: 20000 } }

describe('buildSpec', () => {
  test("docker's defaults", () => {
    const s = buildSpec(base)
    expect(s.ociVersion).toMatch(/^1\.0\./)
    expect(s.root).toEqual({ path: '/r', readonly: false })
    expect(s.process.user).toEqual({ uid: 0, gid: 0 })
    expect(s.process.cwd).toBe('/')
    expect(s.process.terminal).toBe(false)
    expect(s.process.noNewPrivileges).toBe(false)
    expect(s.process.env?.[0]).toMatch(/^PATH=\/usr\/local\/sbin:/)
    expect(s.process.capabilities?.bounding).toHaveLength(14)
    expect(new Set(s.process.capabilities?.effective)).toEqual(new Set(defaultCapabilities))
    expect(s.mounts.map((m) => m.destination)).toEqual(['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm'])
    expect(s.mounts.find((m) => m.destination === '/dev/shm')?.options).toContain('size=65536k')
    expect(s.mounts.find((m) => m.destination === '/sys')?.options).toContain('ro')
    expect(s.linux.namespaces.map((n) => n.type).sort()).toEqual(['ipc', 'mount', 'network', 'pid', 'uts'])
    expect(s.linux.cgroupsPath).toBe('/berth/abc')
    expect(s.linux.maskedPaths).toContain('/proc/kcore')
    expect(s.linux.readonlyPaths).toContain('/proc/sys')
    expect(s.linux.resources?.devices?.[0]).toEqual({ allow: false, access: 'rwm' })
    expect(s.linux.resources?.devices).toContainEqual({ allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' })
    expect(s.hostname).toBeUndefined()
  })

  test('nofile is capped at the host hard limit', () => {
    const s = buildSpec(base)
    expect(s.process.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 20000 }])
    const p = buildSpec({ ...base, privileged: true, ulimits: [{ name: 'nofile', soft: 1048576, hard: 1048576 }] })
    expect(p.process.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 }])
  })

  test('namespaces: host omits, path joins', () => {
    const s = buildSpec({ ...base, hostname: 'h', namespaces: { network: 'host', pid: { path: '/proc/42/ns/pid' }, uts: 'host' } })
    expect(s.linux.namespaces).toContainEqual({ type: 'pid', path: '/proc/42/ns/pid' })
    expect(s.linux.namespaces.find((n) => n.type === 'network')).toBeUndefined()
    expect(s.hostname).toBeUndefined()
    expect(buildSpec({ ...base, hostname: 'h' }).hostname).toBe('h')
    expect(() => buildSpec({ ...base, namespaces: { mount: 'host' } })).toThrow(/mount namespace/)
  })

  test('ipc host binds /dev/shm; shmSize', () => {
    expect(buildSpec({ ...base, namespaces: { ipc: 'host' } }).mounts.find((m) => m.destination === '/dev/shm')).toMatchObject({ type: 'bind', source: '/dev/shm' })
    expect(buildSpec({ ...base, shmSize: 1 << 30 }).mounts.find((m) => m.destination === '/dev/shm')?.options).toContain('size=1048576k')
  })

  test('extra mounts replace defaults and are sorted parents first', () => {
    const s = buildSpec({
      ...base,
      extraMounts: [
        { destination: '/data/sub', type: 'bind', source: '/b', options: ['rbind'] },
        { destination: '/data', type: 'bind', source: '/a', options: ['rbind'] },
        { destination: '/dev/shm', type: 'tmpfs', source: 'tmpfs', options: ['size=1k'] },
        { destination: '/etc/hosts', type: 'bind', source: '/h', options: ['rbind', 'ro'] },
      ],
    })
    const dests = s.mounts.map((m) => m.destination)
    expect(dests.filter((d) => d === '/dev/shm')).toHaveLength(1)
    expect(s.mounts.find((m) => m.destination === '/dev/shm')?.options).toEqual(['size=1k'])
    expect(dests.indexOf('/data')).toBeLessThan(dests.indexOf('/data/sub'))
    expect(dests).toContain('/etc/hosts')
  })

  test('init prepends docker-init and binds it', () => {
    const s = buildSpec({ ...base, args: ['sleep', '1'], init: true, initPath: '/usr/bin/tini-static' })
    expect(s.process.args).toEqual([initMountPoint, '--', 'sleep', '1'])
    expect(s.mounts).toContainEqual({ destination: initMountPoint, type: 'bind', source: '/usr/bin/tini-static', options: ['bind', 'ro'] })
  })

  test('privileged: all caps, no masks, rw sysfs, all devices allowed', () => {
    const s = buildSpec({ ...base, privileged: true })
    expect(s.process.capabilities!.bounding.length).toBeGreaterThan(30)
    expect(s.linux.maskedPaths).toBeUndefined()
    expect(s.mounts.find((m) => m.destination === '/sys')?.options).toContain('rw')
    expect(s.linux.resources?.devices).toEqual([{ allow: true, access: 'rwm' }])
  })

  test('tty, user, resources, readonly rootfs', () => {
    const s = buildSpec({
      ...base,
      tty: true,
      consoleSize: { height: 3, width: 4 },
      user: { uid: 1, gid: 2, additionalGids: [3] },
      readonlyRootfs: true,
      resources: { memory: { limit: 1 << 20 }, pids: { limit: 10 }, cpu: { shares: 512 } },
      oomScoreAdj: 5,
    })
    expect(s.process.terminal).toBe(true)
    expect(s.process.consoleSize).toEqual({ height: 3, width: 4 })
    expect(s.process.user).toEqual({ uid: 1, gid: 2, additionalGids: [3] })
    expect(s.process.oomScoreAdj).toBe(5)
    expect(s.root.readonly).toBe(true)
    expect(s.linux.resources).toMatchObject({ memory: { limit: 1 << 20 }, pids: { limit: 10 }, cpu: { shares: 512 } })
  })

  test('empty args is an error', () => {
    expect(() => buildSpec({ ...base, args: [] })).toThrow(/no command/)
  })
})

describe('capabilities', () => {
  test('add and drop, with or without CAP_ and in any case', () => {
    const caps = tweakCapabilities(['net_admin', 'CAP_SYS_TIME'], ['mknod', 'CAP_NET_RAW'])
    expect(caps).toContain('CAP_NET_ADMIN')
    expect(caps).toContain('CAP_SYS_TIME')
    expect(caps).not.toContain('CAP_MKNOD')
    expect(caps).not.toContain('CAP_NET_RAW')
  })
  test('ALL', () => {
    expect(tweakCapabilities(['chown'], ['ALL'])).toEqual(['CAP_CHOWN'])
    expect(tweakCapabilities(['ALL'], []).length).toBeGreaterThan(30)
  })
  test('unknown capability', () => {
    expect(() => tweakCapabilities(['foo'], [])).toThrow('unknown capability: "CAP_FOO"')
  })
})

describe('limits', () => {
  test('parse /proc/self/limits', () => {
    const text = [
      'Limit                     Soft Limit           Hard Limit           Units',
      'Max processes             95000                95000                processes',
      'Max open files            20000                20000                files',
      'Max locked memory         unlimited            unlimited            bytes',
    ].join('\n')
    expect(parseLimits(text)).toEqual({ nproc: 95000, nofile: 20000, memlock: -1 })
  })
  test('ulimit validation', () => {
    expect(() => buildRlimits([{ name: 'bogus', soft: 1, hard: 1 }], {})).toThrow(/invalid ulimit/)
    expect(() => buildRlimits([{ name: 'nproc', soft: 2, hard: 1 }], {})).toThrow(/soft limit/)
    expect(buildRlimits([{ name: 'nproc', soft: 1, hard: 2 }], { nofile: -1 })).toContainEqual({ type: 'RLIMIT_NPROC', soft: 1, hard: 2 })
  })
})

describe('availableCapabilities', () => {
  it('leaves out what the bounding set lacks', () => {
    const all = availableCapabilities((1n << 41n) - 1n)
    expect(all).toContain('CAP_SYS_RESOURCE')
    const noRes = availableCapabilities(((1n << 41n) - 1n) & ~(1n << 24n))
    expect(noRes).not.toContain('CAP_SYS_RESOURCE')
    expect(noRes).toContain('CAP_SYS_ADMIN')
  })
})

describe('runtime messages', () => {
  it("says crun's start failures in runc's words", async () => {
    const { cleanRuntimeMessage } = await import('./oci-cli.js')
    expect(cleanRuntimeMessage('executable file `nosuch` not found in $PATH: No such file or directory\n')).toBe('exec: "nosuch": executable file not found in $PATH')
    expect(cleanRuntimeMessage('open executable: Permission denied')).toBe('exec: permission denied')
    expect(cleanRuntimeMessage('time="x" level=error msg="exec: \\"x\\": executable file not found in $PATH"')).toBe('exec: "x": executable file not found in $PATH')
  })
})
