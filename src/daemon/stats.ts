/**
 * Container resource accounting as docker reports it (GET
 * /containers/{id}/stats): samples of the container's cgroup, the host's CPU
 * time and the container's interface counters, shaped as moby's
 * StatsResponse (daemon/stats_unix.go statsV1/statsV2) and paced as its
 * stats collector (one sample a second; the previous sample's CPU figures
 * ride along as precpu_stats).
 */
import type { BlkioStatEntry, BlkioStats, CpuStats, MemoryStats, NetworkStats, StatsResponse } from '../api/types/index.js'
import type { ContainerRecord, ContainerService } from '../containers/index.js'
import { invalidArgument } from '../errors/index.js'
import {
  cgroupDirsOfPid, readCgroupStats, readNetDev, readSystemCpu,
  type BlkioEntry, type BlkioList, type CgroupDirs, type CgroupStats, type CgroupV1Stats, type CgroupV2Stats, type InterfaceCounters,
} from '../sys/index.js'

/** Go's zero time.Time as JSON. */
export const ZERO_TIME = '0001-01-01T00:00:00Z'

/** moby's collector interval. */
export const STATS_INTERVAL_MS = 1000

/** Interfaces every network namespace may hold that docker's sandbox never lists. */
const NOT_ENDPOINTS = new Set(['lo', 'sit0', 'tunl0', 'ip6tnl0', 'gre0', 'gretap0', 'erspan0', 'ip6gre0', 'ip_vti0', 'ip6_vti0'])

const zeroCpu = (): CpuStats => ({
  cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
  throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
})

const nullBlkio = (): BlkioStats => ({
  io_service_bytes_recursive: null, io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null,
  io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null,
})

/** docker's record for a container that is not running: name and ID, every figure zero. */
export function emptyStats(rec: Pick<ContainerRecord, 'id' | 'name'>): StatsResponse {
  return {
    name: `/${rec.name}`,
    id: rec.id,
    read: ZERO_TIME,
    preread: ZERO_TIME,
    pids_stats: {},
    blkio_stats: nullBlkio(),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: zeroCpu(),
    precpu_stats: zeroCpu(),
    memory_stats: {},
  }
}

/** The raw memory.stat keys moby copies on cgroup v1, in its order. */
const V1_MEMORY_KEYS = [
  'cache', 'rss', 'rss_huge', 'mapped_file', 'dirty', 'writeback', 'pgpgin', 'pgpgout', 'pgfault', 'pgmajfault',
  'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable', 'hierarchical_memory_limit', 'hierarchical_memsw_limit',
  'total_cache', 'total_rss', 'total_rss_huge', 'total_mapped_file', 'total_dirty', 'total_writeback', 'total_pgpgin', 'total_pgpgout',
  'total_pgfault', 'total_pgmajfault', 'total_inactive_anon', 'total_active_anon', 'total_inactive_file', 'total_active_file', 'total_unevictable',
]

/** The memory.stat keys moby copies on cgroup v2. */
const V2_MEMORY_KEYS = [
  'anon', 'file', 'kernel_stack', 'slab', 'sock', 'shmem', 'file_mapped', 'file_dirty', 'file_writeback', 'anon_thp',
  'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable', 'slab_reclaimable', 'slab_unreclaimable',
  'pgfault', 'pgmajfault', 'workingset_refault', 'workingset_activate', 'workingset_nodereclaim', 'pgrefill', 'pgscan', 'pgsteal',
  'pgactivate', 'pgdeactivate', 'pglazyfree', 'pglazyfreed', 'thp_fault_alloc', 'thp_collapse_alloc',
]

/** Go writes a map's keys sorted. */
const sortedKeys = <T>(m: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))

const pick = (stat: Record<string, number>, keys: string[]): Record<string, number> => sortedKeys(Object.fromEntries(keys.map((k) => [k, stat[k] ?? 0])))

/** memory_stats in moby's field order, zeros left out (omitempty). */
function memoryStats(o: { usage: number; maxUsage?: number; stats: Record<string, number>; failcnt?: number; limit: number }, machineMemory: number): MemoryStats {
  const m: MemoryStats = {}
  setNonZero(m, 'usage', o.usage)
  setNonZero(m, 'max_usage', o.maxUsage ?? 0)
  m.stats = o.stats
  setNonZero(m, 'failcnt', o.failcnt ?? 0)
  // No limit set: the kernel's huge "unlimited" becomes the machine's memory, as moby does.
  setNonZero(m, 'limit', o.limit > machineMemory && machineMemory > 0 ? machineMemory : o.limit)
  return m
}

/** Go's omitempty: a zero number is left out. */
function setNonZero<T extends object, K extends keyof T>(o: T, k: K, v: T[K] & number): void {
  if (v !== 0) o[k] = v
}

const entries = (list: BlkioEntry[]): BlkioStatEntry[] => list.map((e) => ({ major: e.major, minor: e.minor, op: e.op, value: e.value }))

const V1_BLKIO: Array<[keyof BlkioStats, BlkioList]> = [
  ['io_service_bytes_recursive', 'ioServiceBytesRecursive'], ['io_serviced_recursive', 'ioServicedRecursive'],
  ['io_queue_recursive', 'ioQueuedRecursive'], ['io_service_time_recursive', 'ioServiceTimeRecursive'],
  ['io_wait_time_recursive', 'ioWaitTimeRecursive'], ['io_merged_recursive', 'ioMergedRecursive'],
  ['io_time_recursive', 'ioTimeRecursive'], ['sectors_recursive', 'sectorsRecursive'],
]

function fromV1(s: StatsResponse, cg: CgroupV1Stats, machineMemory: number): void {
  if (cg.blkio) {
    const b = cg.blkio
    for (const [wire, key] of V1_BLKIO) s.blkio_stats[wire] = entries(b[key])
  }
  if (cg.cpu) {
    s.cpu_stats.cpu_usage = {
      total_usage: cg.cpu.total,
      ...(cg.cpu.perCpu.length ? { percpu_usage: cg.cpu.perCpu } : {}),
      usage_in_kernelmode: cg.cpu.kernel,
      usage_in_usermode: cg.cpu.user,
    }
    s.cpu_stats.throttling_data = { periods: cg.cpu.periods, throttled_periods: cg.cpu.throttledPeriods, throttled_time: cg.cpu.throttledTime }
  }
  if (cg.memory) {
    const { usage, maxUsage, failcnt, limit } = cg.memory
    s.memory_stats = memoryStats({ usage, maxUsage, stats: pick(cg.memory.stat, V1_MEMORY_KEYS), failcnt, limit }, machineMemory)
  }
  if (cg.pids) {
    setNonZero(s.pids_stats, 'current', cg.pids.current)
    setNonZero(s.pids_stats, 'limit', cg.pids.limit)
  }
}

function fromV2(s: StatsResponse, cg: CgroupV2Stats, machineMemory: number): void {
  // Only bytes per device, as "read"/"write" entries; moby has nothing for the other lists on v2.
  const bytes = cg.io.flatMap((u): BlkioStatEntry[] => [
    { major: u.major, minor: u.minor, op: 'read', value: u.rbytes },
    { major: u.major, minor: u.minor, op: 'write', value: u.wbytes },
  ])
  s.blkio_stats.io_service_bytes_recursive = bytes.length ? bytes : null
  s.cpu_stats.cpu_usage = { total_usage: cg.cpu.usageUsec * 1000, usage_in_kernelmode: cg.cpu.systemUsec * 1000, usage_in_usermode: cg.cpu.userUsec * 1000 }
  s.cpu_stats.throttling_data = { periods: cg.cpu.nrPeriods, throttled_periods: cg.cpu.nrThrottled, throttled_time: cg.cpu.throttledUsec * 1000 }
  // v2 has no failcnt: moby reports memory.events' oom count there, and no max_usage.
  s.memory_stats = memoryStats({ usage: cg.memory.usage, stats: pick(cg.memory.stat, V2_MEMORY_KEYS), failcnt: cg.memoryEvents?.oom ?? 0, limit: cg.memory.usageLimit }, machineMemory)
  setNonZero(s.pids_stats, 'current', cg.pids.current)
  setNonZero(s.pids_stats, 'limit', cg.pids.limit)
}

function networkStats(counters: Record<string, InterfaceCounters>): Record<string, NetworkStats> | undefined {
  const out: Record<string, NetworkStats> = {}
  for (const [name, c] of Object.entries(counters)) {
    if (NOT_ENDPOINTS.has(name)) continue
    out[name] = {
      rx_bytes: c.rxBytes, rx_packets: c.rxPackets, rx_errors: c.rxErrors, rx_dropped: c.rxDropped,
      tx_bytes: c.txBytes, tx_packets: c.txPackets, tx_errors: c.txErrors, tx_dropped: c.txDropped,
    }
  }
  return Object.keys(out).length ? sortedKeys(out) : undefined
}

export interface Sample {
  /** RFC 3339 time of the sample. */
  read: string
  cgroup: CgroupStats
  system: { systemUsage: number; onlineCpus: number }
  /** Counters of the container's network namespace, when it has one of its own or shares another container's. */
  net?: Record<string, InterfaceCounters>
}

/** One sample as docker's JSON (precpu_stats and preread still empty). */
export function statsResponse(rec: Pick<ContainerRecord, 'id' | 'name'>, sample: Sample, machineMemory: number): StatsResponse {
  const s = emptyStats(rec)
  s.read = sample.read
  if (sample.cgroup.version === 1) fromV1(s, sample.cgroup, machineMemory)
  else fromV2(s, sample.cgroup, machineMemory)
  // In moby's field order; Go's omitempty leaves a zero out.
  const { cpu_usage, throttling_data } = s.cpu_stats
  s.cpu_stats = {
    cpu_usage,
    ...(sample.system.systemUsage ? { system_cpu_usage: sample.system.systemUsage } : {}),
    ...(sample.system.onlineCpus ? { online_cpus: sample.system.onlineCpus } : {}),
    throttling_data,
  }
  const networks = sample.net ? networkStats(sample.net) : undefined
  if (networks) s.networks = networks
  return s
}

/** Go's time.Time JSON (RFC 3339, nanoseconds without trailing zeros) for now, to the microsecond. */
export function nowRFC3339Nano(ms: number = performance.timeOrigin + performance.now()): string {
  const whole = Math.floor(ms)
  const iso = new Date(whole).toISOString().slice(0, 19)
  const ns = String(Math.floor((ms - whole) * 1000) * 1000 + (whole % 1000) * 1_000_000).padStart(9, '0').replace(/0+$/, '')
  return ns ? `${iso}.${ns}Z` : `${iso}Z`
}

const isRunning = (rec: ContainerRecord): boolean => (rec.state.status === 'running' || rec.state.status === 'paused') && rec.state.pid > 0

/**
 * Where a running container's cgroup is: read from its init process
 * (/proc/<pid>/cgroup), so it follows whatever cgroup parent or driver put it
 * there. The one place berth answers this question for accounting.
 */
export function containerCgroup(rec: Pick<ContainerRecord, 'state'>, version: 1 | 2): Promise<CgroupDirs | undefined> {
  return rec.state.pid > 0 ? cgroupDirsOfPid(rec.state.pid, version) : Promise.resolve(undefined)
}

export interface StatsServiceOptions {
  containers: Pick<ContainerService, 'get'>
  /** The host's cgroup layout: v1 (and hybrid, whose v1 controllers hold the containers) or v2. */
  cgroupVersion: () => Promise<1 | 2>
  /** Bytes of RAM: the limit shown for a container without one. */
  machineMemory: number
  intervalMs?: number
}

export interface StatsRequest {
  stream: boolean
  oneShot: boolean
}

/** What the stats route asks of the daemon. */
export interface StatsService {
  /**
   * The records to send for one request. Checks the container and the
   * options at once (throws not-found, invalid-argument) so the caller can
   * answer with an error before it starts the response.
   */
  stats(ref: string, req: StatsRequest, signal: AbortSignal): AsyncIterable<StatsResponse>
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const t = setTimeout(done, ms)
    function done(): void {
      clearTimeout(t)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}

export function statsService(o: StatsServiceOptions): StatsService {
  const interval = o.intervalMs ?? STATS_INTERVAL_MS

  async function sample(rec: ContainerRecord): Promise<StatsResponse> {
    if (!isRunning(rec)) return emptyStats(rec)
    const version = await o.cgroupVersion()
    const where = await containerCgroup(rec, version)
    // The process is gone: the container stopped under us.
    if (!where) return emptyStats(rec)
    const read = nowRFC3339Nano()
    const cgroup = await readCgroupStats(where)
    const system = await readSystemCpu()
    const net = rec.spec.host.network.kind === 'host' ? undefined : await readNetDev(rec.state.pid)
    return statsResponse(rec, { read, cgroup, system, ...(net ? { net } : {}) }, o.machineMemory)
  }

  /** The container's current record, or undefined once it is removed (docker then ends the stream). */
  function current(id: string): ContainerRecord | undefined {
    try {
      return o.containers.get(id)
    } catch {
      return undefined
    }
  }

  async function* run(rec: ContainerRecord, req: StatsRequest, signal: AbortSignal): AsyncGenerator<StatsResponse> {
    if (!isRunning(rec) && !req.stream) {
      yield emptyStats(rec)
      return
    }
    if (req.oneShot) {
      yield await sample(rec)
      return
    }
    let pre = zeroCpu()
    let preread = ZERO_TIME
    // Without streaming, the first sample only primes precpu_stats, as docker does.
    let prime = !req.stream
    while (!signal.aborted) {
      const now = current(rec.id)
      if (!now) return
      const s = await sample(now)
      s.precpu_stats = pre
      s.preread = preread
      pre = s.cpu_stats
      preread = s.read
      if (prime) prime = false
      else {
        yield s
        if (!req.stream) return
      }
      await sleep(interval, signal)
    }
  }

  return {
    stats(ref, req, signal) {
      const rec = o.containers.get(ref)
      if (req.stream && req.oneShot) throw invalidArgument('cannot have stream=true and one-shot=true')
      return run(rec, req, signal)
    },
  }
}
