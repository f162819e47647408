import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cgroupsPathFor, cgroupWarnings, validateCgroupParent } from './cgroups.js'
import { probeSysInfo } from './sysinfo.js'
import { cgroupDriverOf, loadConfig } from './config.js'

describe('cgroup layout', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-cgroups-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const tree = (name: string, files: string[], content: Record<string, string> = {}) => {
    const root = path.join(dir, name)
    for (const f of files) {
      mkdirSync(path.dirname(path.join(root, f)), { recursive: true })
      writeFileSync(path.join(root, f), content[f] ?? '')
    }
    return root
  }

  it('puts a container at <parent>/<id>: its own parent, else the daemon\'s, else /berth', () => {
    expect(cgroupsPathFor('abc', undefined, undefined)).toBe('/berth/abc')
    expect(cgroupsPathFor('abc', '', '/daemon-wide')).toBe('/daemon-wide/abc')
    expect(cgroupsPathFor('abc', '/jobs', '/daemon-wide')).toBe('/jobs/abc')
    // Without a leading slash, from the root of each hierarchy, as the cgroupfs driver under a daemon at the root.
    expect(cgroupsPathFor('abc', 'jobs/batch', '')).toBe('/jobs/batch/abc')
    expect(cgroupsPathFor('abc', '/jobs/', '')).toBe('/jobs/abc')
  })

  it('refuses parents that leave the hierarchy or name a systemd slice', () => {
    expect(() => validateCgroupParent('/a/../b')).toThrow('may not contain "." or ".."')
    expect(() => validateCgroupParent('system.slice:docker:x')).toThrow('cgroupfs driver')
    expect(() => validateCgroupParent('jobs')).not.toThrow()
    expect(() => validateCgroupParent('')).not.toThrow()
  })

  it('accepts native.cgroupdriver=cgroupfs and refuses systemd without systemd, as dockerd', () => {
    expect(cgroupDriverOf([], false)).toBe('cgroupfs')
    expect(cgroupDriverOf(['native.cgroupdriver=cgroupfs'], false)).toBe('cgroupfs')
    expect(() => cgroupDriverOf(['native.cgroupdriver=systemd'], false)).toThrow('systemd is not running on this host')
    expect(() => cgroupDriverOf(['native.cgroupdriver=none'], false)).toThrow('native.cgroupdriver option none is internally used and cannot be specified manually')
    expect(() => cgroupDriverOf(['native.cgroupdriver=foo'], false)).toThrow('native.cgroupdriver option foo not supported')
    expect(() => cgroupDriverOf(['no-value'], false)).toThrow("invalid exec-opt (no-value): must be formatted 'opt=value'")
    expect(() => cgroupDriverOf(['=empty-key'], false)).toThrow("invalid exec-opt (=empty-key): must be formatted 'opt=value'")
  })

  it('reads cgroup-parent and exec-opts from daemon.json', async () => {
    const file = path.join(dir, 'daemon.json')
    writeFileSync(file, JSON.stringify({ 'cgroup-parent': '/jobs', 'exec-opts': ['native.cgroupdriver=cgroupfs'] }))
    const cfg = await loadConfig({ configFile: file })
    expect(cfg).toMatchObject({ cgroupParent: '/jobs', execOpts: ['native.cgroupdriver=cgroupfs'], cgroupDriver: 'cgroupfs' })
    writeFileSync(file, JSON.stringify({ 'exec-opts': ['native.cgroupdriver=systemd'] }))
    // This test's host may or may not run systemd: either way berthd refuses it.
    await expect(loadConfig({ configFile: file })).rejects.toThrow('native.cgroupdriver=systemd')
    writeFileSync(file, JSON.stringify({ 'cgroup-parent': '/jobs' }))
    await expect(loadConfig({ configFile: file, cgroupParent: '/other' })).rejects.toThrow('specified both as a flag and in the configuration file: cgroup-parent')
  })

  it('finds v1 features per controller and warns as docker info does', () => {
    const root = tree('v1', ['memory/memory.limit_in_bytes', 'memory/memory.oom_control', 'cpu/cpu.cfs_quota_us', 'cpu/cpu.cfs_period_us', 'cpu/cpu.shares', 'cpuset/cpuset.cpus', 'pids/cgroup.procs', 'blkio/blkio.throttle.read_bps_device', 'blkio/blkio.throttle.write_bps_device'])
    const f = probeSysInfo(root)
    expect(f).toMatchObject({ memoryLimit: true, swapLimit: false, kernelMemoryTcp: false, oomKillDisable: true, pidsLimit: true, blkioWeight: false, blkioReadIOpsDevice: false })
    expect(cgroupWarnings('1', f)).toEqual([
      'WARNING: No swap limit support',
      'WARNING: No kernel memory TCP limit support',
      'WARNING: No blkio throttle.read_iops_device support',
      'WARNING: No blkio throttle.write_iops_device support',
    ])
  })

  it('finds v2 features in the root\'s controllers and warns with io.max names', () => {
    const root = tree('v2', ['cgroup.controllers'], { 'cgroup.controllers': 'cpuset cpu memory pids\n' })
    const f = probeSysInfo(root)
    expect(f).toMatchObject({ memoryLimit: true, cpuShares: true, cpuset: true, pidsLimit: true, blkioWeight: false })
    expect(cgroupWarnings('2', f)).toEqual([
      'WARNING: No io.weight support',
      'WARNING: No io.max (rbps) support',
      'WARNING: No io.max (wbps) support',
      'WARNING: No io.max (riops) support',
      'WARNING: No io.max (wiops) support',
    ])
  })
})
