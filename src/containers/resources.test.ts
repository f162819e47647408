import { describe, expect, it } from 'vitest'
import { adaptResources, FULL_SYSINFO, mergeUpdate, parseUintList, verifyResources, type SysInfo } from './resources.js'

const host: SysInfo = { ...FULL_SYSINFO, blkioWeight: false, blkioWeightDevice: false, kernelMemory: false, numCpu: 2, cpus: '0-1', mems: '0' }

describe('verifyResources (create)', () => {
  it('refuses what docker refuses, in its words', () => {
    expect(() => verifyResources({ Memory: 4 << 20 }, host, false)).toThrow('Minimum memory limit allowed is 6MB')
    expect(() => verifyResources({ Memory: 64 << 20, MemorySwap: 32 << 20 }, host, false)).toThrow('Minimum memoryswap limit should be larger than memory limit, see usage')
    expect(() => verifyResources({ MemorySwap: 64 << 20 }, host, false)).toThrow('You should always set the Memory limit when using Memoryswap limit, see usage')
    expect(() => verifyResources({ NanoCpus: 3e9 }, host, false)).toThrow('range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available')
    expect(() => verifyResources({ NanoCpus: 1e9, CpuQuota: 5000 }, host, false)).toThrow('Conflicting options: Nano CPUs and CPU Quota cannot both be set')
    expect(() => verifyResources({ CpusetCpus: '3' }, host, false)).toThrow('Requested CPUs are not available - requested 3, available: 0-1')
    expect(() => verifyResources({ CpusetCpus: '0-x' }, host, false)).toThrow('Invalid value 0-x for cpuset cpus')
    expect(() => verifyResources({ CpuPeriod: 500 }, host, false)).toThrow('CPU cfs period can not be less than 1ms')
    expect(() => verifyResources({ MemoryReservation: 64 << 20, Memory: 32 << 20 }, host, false)).toThrow('Minimum memory limit can not be less than memory reservation limit, see usage')
  })
  it('warns and discards what the kernel cannot do', () => {
    const r: Record<string, unknown> = { BlkioWeight: 300, KernelMemory: 10 << 20, BlkioWeightDevice: [{ Path: '/dev/sda', Weight: 100 }] }
    const w = verifyResources(r, host, false)
    expect(w).toEqual([
      'Your kernel does not support kernel memory limit capabilities or the cgroup is not mounted. Limitation discarded.',
      'Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.',
      'Your kernel does not support Block I/O weight_device or the cgroup is not mounted. Weight-device discarded.',
    ])
    expect(r).toEqual({ BlkioWeightDevice: [] })
  })
  it('OOM killer off without a memory limit is a warning; swappiness -1 is unset', () => {
    const r: Record<string, unknown> = { OomKillDisable: true, MemorySwappiness: -1 }
    expect(verifyResources(r, host, false)).toEqual(['OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.'])
    expect(r.MemorySwappiness).toBeUndefined()
  })
  it('no swap accounting: memory limited without swap', () => {
    const r: Record<string, unknown> = { Memory: 64 << 20 }
    expect(verifyResources(r, { ...host, swapLimit: false }, false)).toEqual(['Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.'])
    expect(r.MemorySwap).toBe(-1)
  })
  it('swap defaults to twice the memory', () => {
    const r: Record<string, unknown> = { Memory: 64 << 20 }
    adaptResources(r)
    expect(r.MemorySwap).toBe(128 << 20)
  })
})

describe('mergeUpdate', () => {
  it('takes non-zero fields over the current ones', () => {
    expect(mergeUpdate({ Memory: 64 << 20, MemorySwap: 128 << 20, CpuShares: 512 }, { Memory: 100 << 20, CpusetCpus: '0' })).toEqual({ Memory: 100 << 20, MemorySwap: 128 << 20, CpuShares: 512, CpusetCpus: '0' })
  })
  it('refuses a memory limit above the swap limit unless swap is updated too', () => {
    expect(() => mergeUpdate({ Memory: 64 << 20, MemorySwap: 128 << 20 }, { Memory: 256 << 20 })).toThrow('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time')
    expect(mergeUpdate({ Memory: 64 << 20, MemorySwap: 128 << 20 }, { Memory: 256 << 20, MemorySwap: -1 })).toMatchObject({ Memory: 256 << 20, MemorySwap: -1 })
  })
  it('NanoCpus and period/quota exclude each other across updates', () => {
    expect(() => mergeUpdate({ CpuQuota: 50000 }, { NanoCpus: 1e9 })).toThrow('Nano CPUs cannot be updated as CPU Quota has already been set')
    expect(() => mergeUpdate({ NanoCpus: 1e9 }, { CpuPeriod: 50000 })).toThrow('CPU Period cannot be updated as NanoCPUs has already been set')
  })
})

describe('parseUintList', () => {
  it('ranges and lists', () => {
    expect([...(parseUintList('0-2,4') ?? [])]).toEqual([0, 1, 2, 4])
    expect(parseUintList('2-1')).toBeUndefined()
    expect(parseUintList('a')).toBeUndefined()
  })
})
