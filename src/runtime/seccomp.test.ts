import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { alignWithDocker, loadDaemonSeccomp, parseKernelRelease, parseSeccompProfile, resolveSeccomp, type SeccompProfile } from './seccomp.js'
import { defaultCapabilities } from './spec.js'

const profile: SeccompProfile = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: 1,
  archMap: [
    { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
    { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
  ],
  syscalls: [
    { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
    { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
    { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64', 'x32'] } },
    { names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
    { names: ['chroot'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, excludes: { caps: ['CAP_SYS_CHROOT'] } },
    { name: 'personality', action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
  ],
}

const names = (s: ReturnType<typeof resolveSeccomp>) => s?.syscalls?.flatMap((r) => r.names) ?? []

describe("docker's profile conditions", () => {
  test('archMap expands to this architecture and its sub-architectures', () => {
    expect(resolveSeccomp(profile, { capabilities: [], arch: 'amd64', kernelRelease: '6.1.0' })?.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'])
    expect(resolveSeccomp(profile, { capabilities: [], arch: 'arm64', kernelRelease: '6.1.0' })?.architectures).toEqual(['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'])
    expect(resolveSeccomp(profile, { capabilities: [], arch: 'riscv64', kernelRelease: '6.1.0' })?.architectures).toBeUndefined()
  })

  test('includes and excludes: capabilities, arches, minimum kernel', () => {
    const plain = resolveSeccomp(profile, { capabilities: defaultCapabilities, arch: 'amd64', kernelRelease: '4.9.0-13-amd64' })
    expect(names(plain)).toEqual(['read', 'write', 'ptrace', 'arch_prctl', 'personality'])
    const admin = resolveSeccomp(profile, { capabilities: ['CAP_SYS_ADMIN'], arch: 'arm64', kernelRelease: '4.4.0' })
    expect(names(admin)).toEqual(['read', 'write', 'mount', 'chroot', 'personality'])
    expect(admin?.syscalls?.find((s) => s.names[0] === 'chroot')).toEqual({ names: ['chroot'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 })
    expect(plain?.syscalls?.at(-1)).toEqual({ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] })
  })

  test("docker's errors", () => {
    expect(() => resolveSeccomp({ ...profile, architectures: ['SCMP_ARCH_X86'] }, { capabilities: [] })).toThrow("both 'architectures' and 'archMap' are specified")
    expect(() => resolveSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ name: 'a', names: ['b'], action: 'SCMP_ACT_ERRNO' }] }, { capabilities: [] })).toThrow("both 'name' and 'names'")
    expect(() => parseSeccompProfile('{bad')).toThrow(/^Decoding seccomp profile failed: /)
    expect(() => parseSeccompProfile('{"defaultAction": 1}')).toThrow(/^Decoding seccomp profile failed: /)
    expect(() => parseSeccompProfile('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"4"}}]}')).toThrow('invalid kernel version')
    expect(() => parseSeccompProfile('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"0.0"}}]}')).toThrow('version cannot be 0.0')
  })

  test('a profile with no default action and no rules disables seccomp', () => {
    expect(resolveSeccomp(parseSeccompProfile('{}'), { capabilities: [] })).toBeUndefined()
    expect(resolveSeccomp(parseSeccompProfile('null'), { capabilities: [] })).toBeUndefined()
  })

  test('kernel releases as moby parses them', () => {
    expect(parseKernelRelease('3.12.25-gentoo')).toEqual([3, 12])
    expect(parseKernelRelease('6.18-rc5')).toEqual([6, 18])
    expect(() => parseKernelRelease('abc')).toThrow()
  })
})

describe("alignment with docker's rules", () => {
  const loose: SeccompProfile = {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 38,
    syscalls: [{ names: ['read', 'mount', 'unshare', 'keyctl', 'clone', 'clone3', 'syslog'], action: 'SCMP_ACT_ALLOW', includes: {}, excludes: {} }],
  }
  const aligned = alignWithDocker(loose)

  test('without CAP_SYS_ADMIN: mount and unshare get EPERM, clone may not make namespaces, clone3 gets ENOSYS', () => {
    const s = resolveSeccomp(aligned, { capabilities: defaultCapabilities, arch: 'amd64' })
    const rule = (n: string) => s?.syscalls?.filter((r) => r.names.includes(n))
    expect(rule('read')).toEqual([{ names: ['read'], action: 'SCMP_ACT_ALLOW' }])
    expect(rule('mount')).toEqual([{ names: ['mount', 'unshare'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }])
    expect(rule('keyctl')).toEqual([{ names: ['keyctl'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }])
    expect(rule('syslog')).toEqual([{ names: ['syslog'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }])
    expect(rule('clone')).toEqual([{ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x7e020000, op: 'SCMP_CMP_MASKED_EQ' }] }])
    expect(rule('clone3')).toEqual([{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }])
  })

  test('with CAP_SYS_ADMIN they are allowed', () => {
    const s = resolveSeccomp(aligned, { capabilities: [...defaultCapabilities, 'CAP_SYS_ADMIN'], arch: 'amd64' })
    const allowed = new Set(s?.syscalls?.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args).flatMap((r) => r.names))
    for (const n of ['mount', 'unshare', 'clone', 'clone3', 'syslog']) expect(allowed.has(n), n).toBe(true)
    expect(allowed.has('keyctl')).toBe(false)
  })

  test.skipIf(!existsSync('/usr/share/containers/seccomp.json'))("the Debian file: docker's default capabilities keep the container from mounting and unsharing", () => {
    const d = loadDaemonSeccomp(undefined)
    expect(d.warning).toBeUndefined()
    const s = resolveSeccomp(d.profile!, { capabilities: defaultCapabilities, arch: 'amd64' })
    expect(s?.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'])
    const allowed = new Set(s?.syscalls?.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args).flatMap((r) => r.names))
    for (const n of ['read', 'openat', 'execve', 'chroot', 'arch_prctl']) expect(allowed.has(n), n).toBe(true)
    for (const n of ['mount', 'unshare', 'setns', 'keyctl', 'reboot', 'bpf', 'kexec_load', 'open_by_handle_at']) expect(allowed.has(n), n).toBe(false)
  })
})

describe('the daemon setting', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-seccomp-'))
  const builtinFile = path.join(dir, 'builtin.json')
  writeFileSync(builtinFile, JSON.stringify(profile))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  test('builtin, unconfined, a file', () => {
    expect(loadDaemonSeccomp(undefined, builtinFile)).toMatchObject({ name: 'builtin', profile: { defaultAction: 'SCMP_ACT_ERRNO' } })
    expect(loadDaemonSeccomp('builtin', builtinFile).profile).toBeDefined()
    const u = loadDaemonSeccomp('unconfined', builtinFile)
    expect(u.name).toBe('unconfined')
    expect(u.profile).toBeUndefined()
    expect(u.builtin).toBeDefined()
    const own = path.join(dir, 'own.json')
    writeFileSync(own, '{"defaultAction":"SCMP_ACT_ALLOW"}')
    expect(loadDaemonSeccomp(own, builtinFile)).toMatchObject({ name: own, profile: { defaultAction: 'SCMP_ACT_ALLOW' } })
    expect(() => loadDaemonSeccomp(path.join(dir, 'missing.json'), builtinFile)).toThrow(/^opening seccomp profile \(.*missing\.json\) failed: /)
  })

  test('a missing built-in file leaves containers unconfined with a warning', () => {
    const d = loadDaemonSeccomp(undefined, path.join(dir, 'nope.json'))
    expect(d.name).toBe('builtin')
    expect(d.profile).toBeUndefined()
    expect(d.warning).toMatch(/nope\.json: not found .*containers run without seccomp/)
  })
})
