import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  UINT64_MAX, parseBlkio, parseCgroupMounts, parseIoStat, parseNetDev, parseProcCgroup, parseProcStat,
  readCgroupV1Stats, readCgroupV2Stats,
} from './cgroup-stats.js'

const tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-cgstats-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

function fixture(dir: string, files: Record<string, string>): string {
  const d = path.join(tmp, dir)
  mkdirSync(d, { recursive: true })
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(d, f), text)
  return d
}

describe('cgroup v2 reader', () => {
  it('reads cpu, memory, io and pids as containerd does', async () => {
    const dir = fixture('v2', {
      'cpu.stat': 'usage_usec 2500\nuser_usec 2000\nsystem_usec 500\nnr_periods 10\nnr_throttled 3\nthrottled_usec 700\n',
      'memory.current': '8388608\n',
      'memory.max': '67108864\n',
      'memory.stat': 'anon 4096\nfile 8192\ninactive_file 1024\npgfault 17\n',
      'memory.events': 'low 0\nhigh 0\nmax 4\noom 2\noom_kill 1\n',
      'io.stat': '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n253:1 rbytes=0 wbytes=512 rios=0 wios=1 dbytes=0 dios=0\n',
      'pids.current': '3\n',
      'pids.max': '50\n',
    })
    const s = await readCgroupV2Stats(dir)
    expect(s.cpu).toEqual({ usageUsec: 2500, userUsec: 2000, systemUsec: 500, nrPeriods: 10, nrThrottled: 3, throttledUsec: 700 })
    expect(s.memory).toEqual({ usage: 8388608, usageLimit: 67108864, stat: { anon: 4096, file: 8192, inactive_file: 1024, pgfault: 17 } })
    expect(s.memoryEvents?.oom).toBe(2)
    expect(s.io).toEqual([
      { major: 8, minor: 0, rbytes: 4096, wbytes: 8192, rios: 1, wios: 2 },
      { major: 253, minor: 1, rbytes: 0, wbytes: 512, rios: 0, wios: 1 },
    ])
    expect(s.pids).toEqual({ current: 3, limit: 50 })
  })

  it('reads "max" as uint64 max and a missing file as 0', async () => {
    const dir = fixture('v2-unlimited', { 'memory.current': '100\n', 'memory.max': 'max\n', 'pids.current': '1\n', 'pids.max': 'max\n' })
    const s = await readCgroupV2Stats(dir)
    expect(s.memory.usageLimit).toBe(UINT64_MAX)
    expect(s.pids.limit).toBe(UINT64_MAX)
    expect(s.cpu.usageUsec).toBe(0)
    expect(s.io).toEqual([])
    expect(s.memoryEvents).toBeUndefined()
  })
})

describe('cgroup v1 reader', () => {
  it('reads each controller from its own directory, with the throttle blkio files', async () => {
    const acct = fixture('v1/cpuacct', { 'cpuacct.usage': '3000000000\n', 'cpuacct.usage_percpu': '1000000000 2000000000 \n', 'cpuacct.stat': 'user 150\nsystem 50\n' })
    const cpu = fixture('v1/cpu', { 'cpu.stat': 'nr_periods 5\nnr_throttled 1\nthrottled_time 999\n' })
    const memory = fixture('v1/memory', {
      'memory.usage_in_bytes': '1048576\n', 'memory.max_usage_in_bytes': '2097152\n', 'memory.limit_in_bytes': '9223372036854771712\n',
      'memory.failcnt': '0\n', 'memory.stat': 'cache 4096\nrss 8192\ntotal_inactive_file 4096\n',
    })
    const blkio = fixture('v1/blkio', {
      'blkio.throttle.io_service_bytes_recursive': '254:0 Read 4096\n254:0 Write 12288\n254:0 Sync 0\n254:0 Async 16384\n254:0 Discard 0\n254:0 Total 16384\nTotal 16384\n',
      'blkio.throttle.io_serviced_recursive': '254:0 Read 1\n254:0 Write 3\nTotal 4\n',
    })
    const pids = fixture('v1/pids', { 'pids.current': '4\n', 'pids.max': 'max\n' })
    const s = await readCgroupV1Stats({ cpuacct: acct, cpu, memory, blkio, pids })
    expect(s.cpu).toEqual({ total: 3e9, perCpu: [1e9, 2e9], user: 1.5e9, kernel: 0.5e9, periods: 5, throttledPeriods: 1, throttledTime: 999 })
    expect(s.memory).toMatchObject({ usage: 1048576, maxUsage: 2097152, limit: 9223372036854771712, failcnt: 0 })
    expect(s.memory?.stat.total_inactive_file).toBe(4096)
    expect(s.blkio?.ioServiceBytesRecursive.filter((e) => e.op === 'Write')).toEqual([{ major: 254, minor: 0, op: 'Write', value: 12288 }])
    expect(s.blkio?.ioServiceBytesRecursive).toHaveLength(6)
    expect(s.blkio?.ioServicedRecursive).toHaveLength(2)
    expect(s.blkio?.sectorsRecursive).toEqual([])
    expect(s.pids).toEqual({ current: 4, limit: 0 })
  })

  it('leaves out what a missing controller would say', async () => {
    const s = await readCgroupV1Stats({ memory: path.join(tmp, 'nowhere') })
    expect(s).toEqual({ version: 1 })
  })
})

describe('parsers', () => {
  it('reads /proc/stat as moby: seven fields of the cpu line in ns, cpuN lines counted', () => {
    const text = 'cpu  100 0 50 1000 10 0 5 7 0 0\ncpu0 50 0 25 500 5 0 2 3 0 0\ncpu1 50 0 25 500 5 0 3 4 0 0\nintr 1 2 3\n'
    expect(parseProcStat(text)).toEqual({ systemUsage: (100 + 50 + 1000 + 10 + 5) * 1e7, onlineCpus: 2 })
  })

  it('reads interface counters of /proc/<pid>/net/dev', () => {
    const text = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0
  eth0:    5000      40    1    2    0     0          0         0     3000      30    3    4    0     0       0          0
`
    const n = parseNetDev(text)
    expect(Object.keys(n)).toEqual(['lo', 'eth0'])
    expect(n.eth0).toEqual({ rxBytes: 5000, rxPackets: 40, rxErrors: 1, rxDropped: 2, txBytes: 3000, txPackets: 30, txErrors: 3, txDropped: 4 })
  })

  it('reads blkio lines without the Total line, and io.stat', () => {
    expect(parseBlkio('8:16 Read 10\nTotal 10\n')).toEqual([{ major: 8, minor: 16, op: 'Read', value: 10 }])
    expect(parseIoStat('8:0 rbytes=1 wbytes=2\n')).toEqual([{ major: 8, minor: 0, rbytes: 1, wbytes: 2, rios: 0, wios: 0 }])
  })

  it('finds the cgroup mounts and a process cgroup per controller', () => {
    const mi = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
`
    const m = parseCgroupMounts(mi)
    expect(m.map((x) => [x.version, x.mountpoint, x.controllers])).toEqual([
      [1, '/sys/fs/cgroup/cpu,cpuacct', ['cpu', 'cpuacct']],
      [1, '/sys/fs/cgroup/systemd', ['name=systemd']],
      [2, '/sys/fs/cgroup/unified', []],
    ])
    expect(parseProcCgroup('4:cpu,cpuacct:/berth/abc\n1:name=systemd:/berth/abc\n0::/\n')).toEqual({ v1: { cpu: '/berth/abc', cpuacct: '/berth/abc', 'name=systemd': '/berth/abc' }, v2: '/' })
  })
})
