import { describe, expect, it } from 'vitest'
import { deviceSpecs, ociResources, replaceOrAppendEnv, updateResources } from './specs.js'

describe('replaceOrAppendEnv (moby ReplaceOrAppendEnvValues)', () => {
  const defaults = ['PATH=/usr/bin', 'HOSTNAME=abc']
  it('replaces a default in place and appends the rest in order', () => {
    expect(replaceOrAppendEnv(defaults, ['A=1', 'PATH=/x', 'B=2'])).toEqual(['PATH=/x', 'HOSTNAME=abc', 'A=1', 'B=2'])
  })
  it('a bare NAME (`-e NAME` with NAME unset in the client) unsets a default and is dropped', () => {
    expect(replaceOrAppendEnv(defaults, ['HOSTNAME', 'COMPAT_UNSET', 'A=1'])).toEqual(['PATH=/usr/bin', 'A=1'])
  })
  it('leaves its inputs alone', () => {
    const d = [...defaults]
    replaceOrAppendEnv(d, ['PATH'])
    expect(d).toEqual(defaults)
  })
})

describe('ociResources', () => {
  it('memory, cpu and pids in OCI units', () => {
    expect(ociResources({ Memory: 64 << 20, MemorySwap: 128 << 20, MemoryReservation: 32 << 20, MemorySwappiness: 10, OomKillDisable: true, NanoCpus: 5e8, CpuShares: 512, CpusetCpus: '0', PidsLimit: 50 })).toEqual({
      memory: { limit: 64 << 20, swap: 128 << 20, reservation: 32 << 20, swappiness: 10, disableOOMKiller: true },
      cpu: { shares: 512, cpus: '0', period: 100000, quota: 50000 },
      pids: { limit: 50 },
    })
  })
  it('realtime CPU and unlimited pids', () => {
    expect(ociResources({ CpuRealtimePeriod: 1000000, CpuRealtimeRuntime: 950000, PidsLimit: -1 })).toEqual({
      cpu: { realtimePeriod: 1000000, realtimeRuntime: 950000 },
      pids: { limit: -1 },
    })
  })
  it('block IO devices become major:minor through stat', () => {
    const r = ociResources({ BlkioDeviceReadBps: [{ Path: '/dev/null', Rate: 1024 }], BlkioDeviceWriteIOps: [{ Path: '/dev/zero', Rate: 10 }] })
    expect(r.blockIO).toEqual({ throttleReadBpsDevice: [{ major: 1, minor: 3, rate: 1024 }], throttleWriteIOPSDevice: [{ major: 1, minor: 5, rate: 10 }] })
    expect(() => ociResources({ BlkioDeviceReadBps: [{ Path: '/dev/nope-berth', Rate: 1 }] })).toThrow('stat /dev/nope-berth: no such file or directory')
  })
  it('negative shares are refused as docker does', () => {
    expect(() => ociResources({ CpuShares: -1 })).toThrow('invalid CPU shares (-1): value must be a positive integer')
  })
})

describe('updateResources', () => {
  it('what docker update hands the runtime', () => {
    expect(updateResources({ Memory: 100 << 20, MemorySwap: -1, NanoCpus: 1e9, CpuShares: 100, PidsLimit: 0 })).toEqual({
      cpu: { shares: 100, period: 100000, quota: 100000 },
      memory: { limit: 100 << 20 },
      pids: { limit: -1 },
    })
  })
})

describe('deviceSpecs', () => {
  it('--device adds the node and an allow rule; rules from --device-cgroup-rule', () => {
    const d = deviceSpecs({ Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/n', CgroupPermissions: 'r' }], DeviceCgroupRules: ['c 1:9 rwm', 'b *:* m'] })
    expect(d.devices).toEqual([expect.objectContaining({ path: '/dev/n', type: 'c', major: 1, minor: 3 })])
    expect(d.deviceRules).toEqual([
      { allow: true, type: 'c', major: 1, minor: 3, access: 'r' },
      { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
      { allow: true, type: 'b', access: 'm' },
    ])
  })
  it('a missing device is docker\'s error', () => {
    expect(() => deviceSpecs({ Devices: [{ PathOnHost: '/dev/nope-berth', PathInContainer: '/dev/x', CgroupPermissions: 'rwm' }] })).toThrow('error gathering device information while adding custom device "/dev/nope-berth": no such file or directory')
  })
})
