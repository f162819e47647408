import { describe, expect, it } from 'vitest'
import type { StatsResponse } from '../../api/types/index.js'
import { renderFormat } from '../output/format.js'
import { blockIO, cpuPercentUnix, memUsageNoCache, redraw, statsEntry, statsFormat, statsRow, STATS_HEADERS } from './stats.js'

const cpu = (total: number, system: number) => ({ cpu_usage: { total_usage: total, usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: system, online_cpus: 2, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } })

function record(o: Partial<StatsResponse> = {}): StatsResponse {
  return {
    name: '/web', id: 'f'.repeat(64), read: '', preread: '', pids_stats: { current: 4 },
    blkio_stats: { io_service_bytes_recursive: [{ major: 254, minor: 0, op: 'Read', value: 2_000_000 }, { major: 254, minor: 0, op: 'Write', value: 5_500_000 }, { major: 254, minor: 0, op: 'Total', value: 7_500_000 }], io_serviced_recursive: [], io_queue_recursive: [], io_service_time_recursive: [], io_wait_time_recursive: [], io_merged_recursive: [], io_time_recursive: [], sectors_recursive: [] },
    num_procs: 0, storage_stats: {},
    cpu_stats: cpu(1_500_000_000, 12_000_000_000), precpu_stats: cpu(1_000_000_000, 10_000_000_000),
    memory_stats: { usage: 10 * 1024 * 1024, limit: 64 * 1024 * 1024, stats: { total_inactive_file: 2 * 1024 * 1024 } },
    networks: { eth0: { rx_bytes: 1500, rx_packets: 1, rx_errors: 0, rx_dropped: 0, tx_bytes: 648, tx_packets: 1, tx_errors: 0, tx_dropped: 0 }, eth1: { rx_bytes: 500, rx_packets: 1, rx_errors: 0, rx_dropped: 0, tx_bytes: 0, tx_packets: 0, tx_errors: 0, tx_dropped: 0 } },
    ...o,
  }
}

describe('stats calculations (docker stats_helpers.go)', () => {
  it('takes CPU % from the deltas of container and system time, times the online CPUs', () => {
    expect(cpuPercentUnix(record())).toBeCloseTo(50)
    expect(cpuPercentUnix(record({ precpu_stats: cpu(0, 0), cpu_stats: cpu(0, 5) }))).toBe(0)
  })

  it('leaves inactive file pages out of memory usage, v1 and v2', () => {
    expect(memUsageNoCache({ usage: 100, stats: { total_inactive_file: 30 } })).toBe(70)
    expect(memUsageNoCache({ usage: 100, stats: { inactive_file: 40 } })).toBe(60)
    expect(memUsageNoCache({ usage: 100, stats: { total_inactive_file: 300 } })).toBe(100)
    expect(memUsageNoCache({})).toBe(0)
  })

  it('sums read and write service bytes, not the totals', () => {
    expect(blockIO(record().blkio_stats)).toEqual([2_000_000, 5_500_000])
    expect(blockIO({ ...record().blkio_stats, io_service_bytes_recursive: [{ major: 8, minor: 0, op: 'read', value: 1 }, { major: 8, minor: 0, op: 'write', value: 2 }] })).toEqual([1, 2])
  })
})

describe('stats rows (docker formatter_stats.go)', () => {
  it("prints docker's columns and units", () => {
    const text = renderFormat(statsFormat(undefined), [statsRow(statsEntry('web', record()), true)], STATS_HEADERS)
    const [head, row] = text.split('\n')
    expect(head?.split(/\s{2,}/)).toEqual(['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'])
    expect(row?.split(/\s{2,}/)).toEqual(['ffffffffffff', 'web', '50.00%', '8MiB / 64MiB', '12.50%', '2kB / 648B', '2MB / 5.5MB', '4'])
  })

  it('shows -- for a container without a record, and the full ID with --no-trunc', () => {
    const e = { ...statsEntry('web', record()), isInvalid: true }
    const r = statsRow(e, false)
    expect([r.CPUPerc, r.MemUsage, r.MemPerc, r.NetIO, r.BlockIO, r.PIDs]).toEqual(['--', '-- / --', '--', '--', '--', '--'])
    expect(r.ID).toHaveLength(64)
    expect(statsRow({ ...e, name: '' }, true).Name).toBe('--')
  })

  it('prints json with the keys docker sorts', () => {
    const line = renderFormat('json', [statsRow(statsEntry('web', record()), true)], STATS_HEADERS)
    expect(Object.keys(JSON.parse(line) as object)).toEqual(['BlockIO', 'CPUPerc', 'Container', 'ID', 'MemPerc', 'MemUsage', 'Name', 'NetIO', 'PIDs'])
  })

  it('redraws in place as docker does on a terminal', () => {
    expect(redraw('A\nB\n')).toBe('\x1b[HA \x1b[K\nB \x1b[K\n \x1b[K\n\x1b[J')
  })
})
