import { describe, expect, it } from 'vitest'
import type { ContainerRecord } from '../containers/index.js'
import { UINT64_MAX, type CgroupV1Stats, type CgroupV2Stats } from '../sys/index.js'
import { emptyStats, nowRFC3339Nano, statsResponse, statsService, ZERO_TIME } from './stats.js'

const rec = { id: 'a'.repeat(64), name: 'web' }
const system = { systemUsage: 5e12, onlineCpus: 2 }
const GiB = 1024 ** 3

describe('stats records', () => {
  it('is docker zeroed record for a container that is not running', () => {
    const s = emptyStats(rec)
    expect(Object.keys(s)).toEqual(['name', 'id', 'read', 'preread', 'pids_stats', 'blkio_stats', 'num_procs', 'storage_stats', 'cpu_stats', 'precpu_stats', 'memory_stats'])
    expect(s.name).toBe('/web')
    expect(s.read).toBe(ZERO_TIME)
    expect(s.blkio_stats.io_service_bytes_recursive).toBeNull()
    expect(s.memory_stats).toEqual({})
    expect(s.cpu_stats).toEqual({ cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } })
  })

  it('shapes v1 counters as moby statsV1, the unlimited memory as the machine memory', () => {
    const cg: CgroupV1Stats = {
      version: 1,
      cpu: { total: 3e9, perCpu: [1e9, 2e9], kernel: 5e8, user: 1.5e9, periods: 0, throttledPeriods: 0, throttledTime: 0 },
      memory: { usage: 4 * 1024 * 1024, maxUsage: 8 * 1024 * 1024, limit: 9223372036854771712, failcnt: 0, stat: { cache: 4096, total_inactive_file: 1024 } },
      blkio: { ioServiceBytesRecursive: [{ major: 254, minor: 0, op: 'Write', value: 4096 }], ioServicedRecursive: [], ioQueuedRecursive: [], ioServiceTimeRecursive: [], ioWaitTimeRecursive: [], ioMergedRecursive: [], ioTimeRecursive: [], sectorsRecursive: [] },
      pids: { current: 3, limit: 0 },
    }
    const s = statsResponse(rec, { read: '2026-01-01T00:00:00.5Z', cgroup: cg, system, net: { lo: { rxBytes: 9, rxPackets: 1, rxErrors: 0, rxDropped: 0, txBytes: 9, txPackets: 1, txErrors: 0, txDropped: 0 }, eth0: { rxBytes: 100, rxPackets: 2, rxErrors: 0, rxDropped: 0, txBytes: 50, txPackets: 1, txErrors: 0, txDropped: 0 } } }, 2 * GiB)
    expect(s.cpu_stats).toEqual({
      cpu_usage: { total_usage: 3e9, percpu_usage: [1e9, 2e9], usage_in_kernelmode: 5e8, usage_in_usermode: 1.5e9 },
      system_cpu_usage: 5e12,
      online_cpus: 2,
      throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
    })
    expect(Object.keys(s.cpu_stats)).toEqual(['cpu_usage', 'system_cpu_usage', 'online_cpus', 'throttling_data'])
    expect(s.memory_stats.usage).toBe(4 * 1024 * 1024)
    expect(s.memory_stats.max_usage).toBe(8 * 1024 * 1024)
    expect(s.memory_stats.limit).toBe(2 * GiB)
    expect('failcnt' in s.memory_stats).toBe(false)
    expect(Object.keys(s.memory_stats.stats ?? {})).toHaveLength(32)
    expect(s.memory_stats.stats?.total_inactive_file).toBe(1024)
    expect(s.memory_stats.stats?.rss).toBe(0)
    expect(Object.keys(s.memory_stats)).toEqual(['usage', 'max_usage', 'stats', 'limit'])
    const keys = Object.keys(s.memory_stats.stats ?? {})
    expect(keys).toEqual([...keys].sort())
    expect(s.blkio_stats.io_service_bytes_recursive).toEqual([{ major: 254, minor: 0, op: 'Write', value: 4096 }])
    expect(s.blkio_stats.sectors_recursive).toEqual([])
    expect(s.pids_stats).toEqual({ current: 3 })
    expect(Object.keys(s.networks ?? {})).toEqual(['eth0'])
  })

  it('shapes v2 counters as moby statsV2: ns from µs, read/write entries, oom events as failcnt', () => {
    const cg: CgroupV2Stats = {
      version: 2,
      cpu: { usageUsec: 2500, userUsec: 2000, systemUsec: 500, nrPeriods: 10, nrThrottled: 3, throttledUsec: 7 },
      memory: { usage: 8 * 1024 * 1024, usageLimit: 64 * 1024 * 1024, stat: { inactive_file: 1024, anon: 7 } },
      memoryEvents: { oom: 2 },
      io: [{ major: 8, minor: 0, rbytes: 1, wbytes: 2, rios: 1, wios: 1 }],
      pids: { current: 2, limit: UINT64_MAX },
    }
    const s = statsResponse(rec, { read: '2026-01-01T00:00:00Z', cgroup: cg, system }, 2 * GiB)
    expect(s.cpu_stats.cpu_usage).toEqual({ total_usage: 2500000, usage_in_kernelmode: 500000, usage_in_usermode: 2000000 })
    expect(s.cpu_stats.throttling_data).toEqual({ periods: 10, throttled_periods: 3, throttled_time: 7000 })
    expect(s.blkio_stats.io_service_bytes_recursive).toEqual([{ major: 8, minor: 0, op: 'read', value: 1 }, { major: 8, minor: 0, op: 'write', value: 2 }])
    expect(s.blkio_stats.io_serviced_recursive).toBeNull()
    expect(s.memory_stats).toMatchObject({ usage: 8 * 1024 * 1024, limit: 64 * 1024 * 1024, failcnt: 2 })
    expect(Object.keys(s.memory_stats)).toEqual(['usage', 'stats', 'failcnt', 'limit'])
    expect(Object.keys(s.memory_stats.stats ?? {})).toHaveLength(31)
    expect(s.pids_stats).toEqual({ current: 2, limit: UINT64_MAX })
    expect(s.networks).toBeUndefined()
  })

  it('clamps v2 "max" memory to the machine', () => {
    const cg: CgroupV2Stats = { version: 2, cpu: { usageUsec: 0, userUsec: 0, systemUsec: 0, nrPeriods: 0, nrThrottled: 0, throttledUsec: 0 }, memory: { usage: 1, usageLimit: UINT64_MAX, stat: {} }, io: [], pids: { current: 1, limit: 0 } }
    expect(statsResponse(rec, { read: ZERO_TIME, cgroup: cg, system }, GiB).memory_stats.limit).toBe(GiB)
  })

  it("writes times as Go's RFC 3339 with trimmed nanoseconds", () => {
    expect(nowRFC3339Nano(Date.UTC(2026, 0, 2, 3, 4, 5, 120) + 0.5)).toBe('2026-01-02T03:04:05.1205Z')
    expect(nowRFC3339Nano(Date.UTC(2026, 0, 2, 3, 4, 5))).toBe('2026-01-02T03:04:05Z')
  })
})

describe('stats service', () => {
  const stopped = { ...rec, state: { status: 'exited', pid: 0 }, spec: { host: { network: { kind: 'network' } } } } as unknown as ContainerRecord
  const svc = statsService({
    containers: { get: (ref: string) => { if (ref !== 'web' && ref !== rec.id) throw new Error('No such container: ' + ref); return stopped } },
    cgroupVersion: async () => 1,
    machineMemory: GiB,
    intervalMs: 1,
  })

  it('answers a stopped container with one zeroed record without streaming', async () => {
    const got = []
    for await (const s of svc.stats('web', { stream: false, oneShot: false }, new AbortController().signal)) got.push(s)
    expect(got).toEqual([emptyStats(rec)])
  })

  it('streams zeroed records for a stopped container until the client goes', async () => {
    const ac = new AbortController()
    const got = []
    for await (const s of svc.stats('web', { stream: true, oneShot: false }, ac.signal)) {
      got.push(s)
      if (got.length === 3) ac.abort()
    }
    expect(got).toHaveLength(3)
  })

  it('refuses stream with one-shot and unknown containers before any record', () => {
    expect(() => svc.stats('web', { stream: true, oneShot: true }, new AbortController().signal)).toThrow('cannot have stream=true and one-shot=true')
    expect(() => svc.stats('nope', { stream: false, oneShot: false }, new AbortController().signal)).toThrow(/No such container/)
  })
})
