import { describe, expect, test } from 'vitest'
import { containerSeccomp, parseSecurityOpts, securityInfo, validateSysctls } from './security.js'
import { buildSpec, defaultCapabilities, tweakCapabilities, validateCapabilities } from './spec.js'
import type { DaemonSeccomp, SeccompProfile } from './seccomp.js'

const base = { id: 'abc', rootfs: '/r', args: ['sh'], hostLimits: { nofile: 20000 } }

describe('--security-opt as dockerd parses it', () => {
  test('the options it knows', () => {
    expect(parseSecurityOpts([])).toEqual({ labels: [], systemPathsUnconfined: false })
    expect(parseSecurityOpts(['no-new-privileges']).noNewPrivileges).toBe(true)
    expect(parseSecurityOpts(['no-new-privileges=false']).noNewPrivileges).toBe(false)
    expect(parseSecurityOpts(['no-new-privileges:true']).noNewPrivileges).toBe(true)
    expect(parseSecurityOpts(['seccomp=unconfined']).seccomp).toBe('unconfined')
    expect(parseSecurityOpts(['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}']).seccomp).toBe('{"defaultAction":"SCMP_ACT_ALLOW"}')
    expect(parseSecurityOpts(['apparmor=unconfined']).apparmor).toBe('unconfined')
    expect(parseSecurityOpts(['label=type:svirt_apache_t', 'label:level:s0', 'disable']).labels).toEqual(['type:svirt_apache_t', 'level:s0', 'disable'])
    expect(parseSecurityOpts(['systempaths=unconfined']).systemPathsUnconfined).toBe(true)
    expect(parseSecurityOpts(['writable-cgroups=true']).writableCgroups).toBe(true)
  })

  test("docker's errors", () => {
    expect(() => parseSecurityOpts(['foo'])).toThrow('invalid --security-opt 1: "foo"')
    expect(() => parseSecurityOpts(['label'])).toThrow('invalid --security-opt 1: "label"')
    expect(() => parseSecurityOpts(['foo=bar'])).toThrow('invalid --security-opt 2: "foo=bar"')
    expect(() => parseSecurityOpts(['no-new-privileges=maybe'])).toThrow('invalid --security-opt 2: "no-new-privileges=maybe"')
    expect(() => parseSecurityOpts(['systempaths=confined'])).toThrow('invalid --security-opt 2: "systempaths=confined"')
  })
})

describe('which seccomp profile a container gets', () => {
  const builtin: SeccompProfile = { defaultAction: 'SCMP_ACT_ERRNO' }
  const daemon: DaemonSeccomp = { name: 'builtin', profile: builtin, builtin }

  test('as WithSeccomp decides', () => {
    expect(containerSeccomp({ privileged: false }, daemon)).toBe(builtin)
    expect(containerSeccomp({ privileged: true }, daemon)).toBeUndefined()
    expect(containerSeccomp({ seccomp: 'unconfined', privileged: false }, daemon)).toBeUndefined()
    expect(containerSeccomp({ seccomp: 'builtin', privileged: false }, { name: 'unconfined', builtin })).toBe(builtin)
    expect(containerSeccomp({ seccomp: '{"defaultAction":"SCMP_ACT_LOG"}', privileged: true }, daemon)).toEqual({ defaultAction: 'SCMP_ACT_LOG' })
    expect(() => containerSeccomp({ seccomp: '/etc/profile.json', privileged: false }, daemon)).toThrow(/^Decoding seccomp profile failed/)
    expect(containerSeccomp({ privileged: false }, { name: 'builtin' })).toBeUndefined()
  })

  test('the spec carries it, resolved against the capabilities', () => {
    const p: SeccompProfile = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } }] }
    expect(buildSpec({ ...base, seccomp: p }).linux.seccomp).toEqual({ defaultAction: 'SCMP_ACT_ERRNO' })
    expect(buildSpec({ ...base, seccomp: p, capAdd: ['sys_admin'] }).linux.seccomp).toEqual({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['mount'], action: 'SCMP_ACT_ALLOW' }] })
    expect(buildSpec(base).linux.seccomp).toBeUndefined()
  })

  test('info', () => {
    expect(securityInfo({ seccomp: daemon, noNewPrivileges: false, userns: false })).toEqual({ options: ['name=seccomp,profile=builtin'], warnings: [] })
    expect(securityInfo({ seccomp: { name: 'unconfined' }, noNewPrivileges: true, userns: true })).toEqual({
      options: ['name=seccomp,profile=unconfined', 'name=userns', 'name=no-new-privileges'],
      warnings: ['WARNING: daemon is not using the default seccomp profile'],
    })
    const missing = securityInfo({ seccomp: { name: 'builtin', warning: 'default seccomp profile x: not found' }, noNewPrivileges: false, userns: false })
    expect(missing.options).toEqual([])
    expect(missing.warnings).toEqual(['WARNING: default seccomp profile x: not found'])
  })
})

describe('masked paths, privileged, no-new-privileges', () => {
  test("docker's defaults, cleared by --privileged, replaced when given", () => {
    const s = buildSpec(base)
    expect(s.linux.maskedPaths).toContain('/proc/timer_list')
    expect(s.linux.readonlyPaths).toEqual(['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'])
    const p = buildSpec({ ...base, privileged: true })
    expect(p.linux.maskedPaths).toBeUndefined()
    expect(p.linux.readonlyPaths).toBeUndefined()
    expect(p.mounts.find((m) => m.destination === '/sys')?.options).toContain('rw')
    expect(p.mounts.find((m) => m.destination === '/sys/fs/cgroup')?.options).toContain('rw')
    const u = buildSpec({ ...base, maskedPaths: [], readonlyPaths: [] })
    expect(u.linux.maskedPaths).toEqual([])
    expect(u.linux.readonlyPaths).toEqual([])
    expect(buildSpec({ ...base, noNewPrivileges: true }).process.noNewPrivileges).toBe(true)
    expect(buildSpec({ ...base, writableCgroups: true }).mounts.find((m) => m.destination === '/sys/fs/cgroup')?.options).toContain('rw')
  })
})

describe('capabilities', () => {
  test("docker's TweakCapabilities", () => {
    expect(tweakCapabilities([], [])).toEqual(defaultCapabilities)
    expect(tweakCapabilities(['ALL'], ['chown'])).not.toContain('CAP_CHOWN')
    expect(tweakCapabilities(['ALL'], ['chown'])).toContain('CAP_SYS_ADMIN')
    expect(tweakCapabilities(['net_admin'], ['ALL'])).toEqual(['CAP_NET_ADMIN'])
    expect(tweakCapabilities(['Cap_Net_Admin'], [])).toContain('CAP_NET_ADMIN')
  })

  test("create-time errors as docker's", () => {
    expect(() => validateCapabilities(['foo'], [])).toThrow('invalid CapAdd: unknown capability: "CAP_FOO"')
    expect(() => validateCapabilities([], ['CAP_BAR'])).toThrow('invalid CapDrop: unknown capability: "CAP_BAR"')
    expect(() => validateCapabilities(['all', 'net_admin'], ['ALL'])).not.toThrow()
  })
})

describe('sysctls, as runc checks them', () => {
  const own = { ipcHost: false, netHost: false, utsHost: false }
  test('namespaced ones pass', () => {
    expect(() => validateSysctls({ 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1', 'fs.mqueue.msg_max': '10', 'kernel.domainname': 'x', 'net/ipv4/ip_forward': '1' }, own)).not.toThrow()
  })
  test('others are refused with runc\'s messages', () => {
    expect(() => validateSysctls({ 'kernel.pid_max': '1' }, own)).toThrow('sysctl "kernel.pid_max" is not in a separate kernel namespace')
    expect(() => validateSysctls({ 'kernel.hostname': 'x' }, own)).toThrow('sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field')
    expect(() => validateSysctls({ 'net.ipv4.ip_forward': '1' }, { ...own, netHost: true })).toThrow('sysctl "net.ipv4.ip_forward" not allowed in host network namespace')
    expect(() => validateSysctls({ 'kernel.sem': '1 1 1 1' }, { ...own, ipcHost: true })).toThrow('sysctl "kernel.sem" is not allowed in the hosts ipc namespace')
  })
  test("docker's defaults for a container's own network namespace; the user's win", () => {
    const s = buildSpec({ ...base, defaultSysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' }, sysctl: { 'net.ipv4.ip_unprivileged_port_start': '80' } })
    expect(s.linux.sysctl).toEqual({ 'net.ipv4.ip_unprivileged_port_start': '80' })
  })
})
