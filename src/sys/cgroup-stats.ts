/**
 * Resource accounting read from the kernel: a container's cgroup counters on
 * cgroup v1 and v2, the host's CPU time from /proc/stat and the interface
 * counters of a network namespace. Each reader returns what the files say,
 * in their units, with the same fallbacks as containerd's cgroups package
 * (which dockerd reads through); docker's JSON is made by the daemon.
 * Hand-written: no npm package reads cgroup files, and these are a few
 * line-oriented text files.
 */
import { promises as fsp } from 'node:fs'
import path from 'node:path'

/** The kernel's USER_HZ on Linux, fixed at 100 (containerd and moby hard-code it too). */
export const CLOCK_TICKS = 100
const NS_PER_S = 1_000_000_000

/**
 * 2^64 - 1, what containerd reports for "max" in a v2 file. As a double it is
 * 2^64; whoever writes it as JSON must print it as the uint64 it stands for.
 */
export const UINT64_MAX = 2 ** 64

/** Where a container's cgroup is: a directory per v1 controller, or one v2 directory. */
export type CgroupDirs = { version: 1; dirs: Record<string, string> } | { version: 2; dir: string }

export interface BlkioEntry {
  major: number
  minor: number
  /** "Read", "Write", "Sync", "Async", "Discard" or "Total", as the kernel spells them. */
  op: string
  value: number
}

/** containerd's cgroup1 Metrics, the parts docker shows. A section is absent when its controller is. */
export interface CgroupV1Stats {
  version: 1
  cpu?: {
    /** Nanoseconds. */
    total: number
    perCpu: number[]
    kernel: number
    user: number
    periods: number
    throttledPeriods: number
    /** Nanoseconds. */
    throttledTime: number
  }
  memory?: { usage: number; maxUsage: number; limit: number; failcnt: number; stat: Record<string, number> }
  /** Every list docker reports; lists the kernel does not keep stay empty. */
  blkio?: Record<BlkioList, BlkioEntry[]>
  /** limit 0: none ("max"). */
  pids?: { current: number; limit: number }
}

export type BlkioList = 'ioServiceBytesRecursive' | 'ioServicedRecursive' | 'ioQueuedRecursive' | 'ioServiceTimeRecursive' | 'ioWaitTimeRecursive' | 'ioMergedRecursive' | 'ioTimeRecursive' | 'sectorsRecursive'

export interface IoUsage {
  major: number
  minor: number
  rbytes: number
  wbytes: number
  rios: number
  wios: number
}

/** containerd's cgroup2 Metrics, the parts docker shows. "max" reads as UINT64_MAX, a missing file as 0. */
export interface CgroupV2Stats {
  version: 2
  /** cpu.stat: microseconds. */
  cpu: { usageUsec: number; userUsec: number; systemUsec: number; nrPeriods: number; nrThrottled: number; throttledUsec: number }
  memory: { usage: number; usageLimit: number; stat: Record<string, number> }
  /** memory.events, when the file has any line. */
  memoryEvents?: Record<string, number>
  io: IoUsage[]
  pids: { current: number; limit: number }
}

export type CgroupStats = CgroupV1Stats | CgroupV2Stats

/** A uint64 as the kernel prints it; negative values (a v1 quirk) read as 0 as in containerd. */
function u64(text: string): number {
  const s = text.trim()
  if (/^-\d+$/.test(s)) return 0
  if (!/^\d+$/.test(s)) throw new Error(`not a number: ${JSON.stringify(s)}`)
  return Number(s)
}

/** `key value` lines (memory.stat, cpu.stat, cpuacct.stat, memory.events). */
export function parseKeyValues(text: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/)
    if (f.length !== 2 || !f[0]) continue
    out[f[0]] = u64(f[1] ?? '')
  }
  return out
}

/** v1 blkio files: `8:0 Read 4096` per line; the `Total N` line is left out, as containerd does. */
export function parseBlkio(text: string): BlkioEntry[] {
  const out: BlkioEntry[] = []
  for (const line of text.split('\n')) {
    const f = line.split(/[\s:]+/).filter(Boolean)
    if (f.length < 3) continue
    const op = f.length === 4 ? f[2] ?? '' : ''
    out.push({ major: u64(f[0] ?? ''), minor: u64(f[1] ?? ''), op, value: u64(f[f.length === 4 ? 3 : 2] ?? '') })
  }
  return out
}

/** v2 io.stat: `8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0` per device. */
export function parseIoStat(text: string): IoUsage[] {
  const out: IoUsage[] = []
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/)
    const dev = /^(\d+):(\d+)$/.exec(f[0] ?? '')
    if (!dev) continue
    const kv: Record<string, number> = {}
    for (const p of f.slice(1)) {
      const i = p.indexOf('=')
      if (i > 0) kv[p.slice(0, i)] = u64(p.slice(i + 1))
    }
    out.push({ major: Number(dev[1]), minor: Number(dev[2]), rbytes: kv.rbytes ?? 0, wbytes: kv.wbytes ?? 0, rios: kv.rios ?? 0, wios: kv.wios ?? 0 })
  }
  return out
}

async function read(file: string): Promise<string | undefined> {
  return fsp.readFile(file, 'utf8').catch(() => undefined)
}

/** A v1 single-value file; "max" is 0 (no limit) as in containerd's cgroup1. */
async function readV1Uint(file: string): Promise<number | undefined> {
  const t = await read(file)
  if (t === undefined) return undefined
  return t.trim() === 'max' ? 0 : u64(t)
}

/** A v2 single-value file: "max" is UINT64_MAX, missing or unreadable is 0 (containerd's getStatFileContentUint64). */
async function readV2Uint(file: string): Promise<number> {
  const t = await read(file)
  if (t === undefined) return 0
  if (t.trim() === 'max') return UINT64_MAX
  try {
    return u64(t)
  } catch {
    return 0
  }
}

const BLKIO_CFQ: Array<[string, BlkioList]> = [
  ['sectors_recursive', 'sectorsRecursive'],
  ['io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ['io_serviced_recursive', 'ioServicedRecursive'],
  ['io_queued_recursive', 'ioQueuedRecursive'],
  ['io_service_time_recursive', 'ioServiceTimeRecursive'],
  ['io_wait_time_recursive', 'ioWaitTimeRecursive'],
  ['io_merged_recursive', 'ioMergedRecursive'],
  ['time_recursive', 'ioTimeRecursive'],
]

async function readBlkioV1(dir: string): Promise<Record<BlkioList, BlkioEntry[]> | undefined> {
  const lists: Record<BlkioList, BlkioEntry[]> = {
    ioServiceBytesRecursive: [], ioServicedRecursive: [], ioQueuedRecursive: [], ioServiceTimeRecursive: [],
    ioWaitTimeRecursive: [], ioMergedRecursive: [], ioTimeRecursive: [], sectorsRecursive: [],
  }
  // CFQ's files when the kernel has them and they say anything; else the throttle
  // counters, which every v1 kernel keeps (containerd's order).
  let size = 0
  if ((await read(path.join(dir, 'blkio.io_serviced_recursive'))) !== undefined) {
    for (const [file, key] of BLKIO_CFQ) {
      lists[key] = parseBlkio((await read(path.join(dir, `blkio.${file}`))) ?? '')
      size += lists[key].length
    }
  }
  if (size > 0) return lists
  const serviced = await read(path.join(dir, 'blkio.throttle.io_serviced_recursive'))
  const bytes = await read(path.join(dir, 'blkio.throttle.io_service_bytes_recursive'))
  if (serviced === undefined && bytes === undefined) return undefined
  lists.ioServicedRecursive = parseBlkio(serviced ?? '')
  lists.ioServiceBytesRecursive = parseBlkio(bytes ?? '')
  return lists
}

/** The counters of a container's cgroup on a v1 host, one directory per controller. */
export async function readCgroupV1Stats(dirs: Record<string, string>): Promise<CgroupV1Stats> {
  const out: CgroupV1Stats = { version: 1 }
  const acct = dirs.cpuacct
  if (acct) {
    const total = await readV1Uint(path.join(acct, 'cpuacct.usage'))
    const stat = await read(path.join(acct, 'cpuacct.stat'))
    if (total !== undefined && stat !== undefined) {
      const kv = parseKeyValues(stat)
      const perCpu = ((await read(path.join(acct, 'cpuacct.usage_percpu'))) ?? '').split(/\s+/).filter(Boolean).map(u64)
      const cpuStat = dirs.cpu ? parseKeyValues((await read(path.join(dirs.cpu, 'cpu.stat'))) ?? '') : {}
      out.cpu = {
        total,
        perCpu,
        user: Math.floor(((kv.user ?? 0) * NS_PER_S) / CLOCK_TICKS),
        kernel: Math.floor(((kv.system ?? 0) * NS_PER_S) / CLOCK_TICKS),
        periods: cpuStat.nr_periods ?? 0,
        throttledPeriods: cpuStat.nr_throttled ?? 0,
        throttledTime: cpuStat.throttled_time ?? 0,
      }
    }
  }
  const mem = dirs.memory
  const stat = mem ? await read(path.join(mem, 'memory.stat')) : undefined
  if (mem && stat !== undefined) {
    out.memory = {
      usage: (await readV1Uint(path.join(mem, 'memory.usage_in_bytes'))) ?? 0,
      maxUsage: (await readV1Uint(path.join(mem, 'memory.max_usage_in_bytes'))) ?? 0,
      limit: (await readV1Uint(path.join(mem, 'memory.limit_in_bytes'))) ?? 0,
      failcnt: (await readV1Uint(path.join(mem, 'memory.failcnt'))) ?? 0,
      stat: parseKeyValues(stat),
    }
  }
  if (dirs.blkio) out.blkio = await readBlkioV1(dirs.blkio)
  if (dirs.pids) {
    const current = await readV1Uint(path.join(dirs.pids, 'pids.current'))
    if (current !== undefined) out.pids = { current, limit: (await readV1Uint(path.join(dirs.pids, 'pids.max'))) ?? 0 }
  }
  return out
}

/** The counters of a container's cgroup on a v2 host (its directory in the unified tree). */
export async function readCgroupV2Stats(dir: string): Promise<CgroupV2Stats> {
  const cpu = parseKeyValues((await read(path.join(dir, 'cpu.stat'))) ?? '')
  const memStat = parseKeyValues((await read(path.join(dir, 'memory.stat'))) ?? '')
  const events = parseKeyValues((await read(path.join(dir, 'memory.events'))) ?? '')
  return {
    version: 2,
    cpu: {
      usageUsec: cpu.usage_usec ?? 0,
      userUsec: cpu.user_usec ?? 0,
      systemUsec: cpu.system_usec ?? 0,
      nrPeriods: cpu.nr_periods ?? 0,
      nrThrottled: cpu.nr_throttled ?? 0,
      throttledUsec: cpu.throttled_usec ?? 0,
    },
    memory: { usage: await readV2Uint(path.join(dir, 'memory.current')), usageLimit: await readV2Uint(path.join(dir, 'memory.max')), stat: memStat },
    ...(Object.keys(events).length ? { memoryEvents: events } : {}),
    io: parseIoStat((await read(path.join(dir, 'io.stat'))) ?? ''),
    pids: { current: await readV2Uint(path.join(dir, 'pids.current')), limit: await readV2Uint(path.join(dir, 'pids.max')) },
  }
}

export function readCgroupStats(where: CgroupDirs): Promise<CgroupStats> {
  return where.version === 2 ? readCgroupV2Stats(where.dir) : readCgroupV1Stats(where.dirs)
}

interface CgroupMount {
  version: 1 | 2
  /** The hierarchy's path mounted there ("/" unless bind-mounted from inside). */
  root: string
  mountpoint: string
  /** v1: the controllers of the hierarchy (cpu, cpuacct, name=systemd...). */
  controllers: string[]
}

/** mountinfo's octal escapes (\040 for a space). */
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))

/** v1 super options that are not controllers. */
const MOUNT_FLAGS = new Set(['rw', 'ro', 'xattr', 'clone_children', 'noprefix', 'cpuset_v2_mode'])

/** The cgroup mounts of /proc/self/mountinfo. */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const out: CgroupMount[] = []
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ')
    if (!left || !right) continue
    const l = left.split(' ')
    const [fstype, , superOpts = ''] = right.split(' ')
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue
    out.push({
      version: fstype === 'cgroup2' ? 2 : 1,
      root: unescape(l[3] ?? '/'),
      mountpoint: unescape(l[4] ?? ''),
      controllers: fstype === 'cgroup' ? superOpts.split(',').filter((o) => o.startsWith('name=') || !(o.includes('=') || MOUNT_FLAGS.has(o))) : [],
    })
  }
  return out
}

/** /proc/<pid>/cgroup lines `N:ctl,ctl:/path`; the v2 line has no controllers (`0::/path`). */
export function parseProcCgroup(text: string): { v1: Record<string, string>; v2?: string } {
  const v1: Record<string, string> = {}
  let v2: string | undefined
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line)
    if (!m) continue
    const ctls = m[2] ?? ''
    const p = m[3] ?? '/'
    if (ctls === '') v2 = p
    else for (const c of ctls.split(',')) v1[c] = p
  }
  return v2 === undefined ? { v1 } : { v1, v2 }
}

function under(m: CgroupMount, cgroupPath: string): string {
  const rel = path.posix.relative(m.root, cgroupPath)
  return rel.startsWith('..') ? path.join(m.mountpoint, cgroupPath) : path.join(m.mountpoint, rel)
}

/**
 * Where the cgroup of `pid` is on this host, as the kernel says in
 * /proc/<pid>/cgroup (paths relative to berthd's own cgroup namespace, so
 * right whatever the cgroup parent). `version` is the host's layout.
 */
export async function cgroupDirsOfPid(pid: number, version: 1 | 2, procRoot = '/proc'): Promise<CgroupDirs | undefined> {
  const text = await read(path.join(procRoot, String(pid), 'cgroup'))
  if (text === undefined) return undefined
  return cgroupDirsOf(parseProcCgroup(text), parseCgroupMounts((await read(path.join(procRoot, 'self', 'mountinfo'))) ?? ''), version)
}

function cgroupDirsOf(proc: { v1: Record<string, string>; v2?: string }, mounts: CgroupMount[], version: 1 | 2): CgroupDirs | undefined {
  if (version === 2) {
    const m = mounts.find((x) => x.version === 2)
    return m && proc.v2 !== undefined ? { version: 2, dir: under(m, proc.v2) } : undefined
  }
  const dirs: Record<string, string> = {}
  for (const [ctl, p] of Object.entries(proc.v1)) {
    const m = mounts.find((x) => x.version === 1 && x.controllers.includes(ctl))
    if (m) dirs[ctl] = under(m, p)
  }
  return { version: 1, dirs }
}

/**
 * The host's CPU time as moby's getSystemCPUUsage: the first seven fields of
 * /proc/stat's `cpu` line (user..softirq) in nanoseconds, and the number of
 * `cpuN` lines (online CPUs).
 */
export function parseProcStat(text: string): { systemUsage: number; onlineCpus: number } {
  let systemUsage = 0
  let onlineCpus = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith('cpu')) break
    if (line[3] === ' ') {
      const f = line.split(/\s+/).slice(1, 8)
      if (f.length < 7) throw new Error('invalid number of cpu fields in /proc/stat')
      const ticks = f.reduce((a, v) => a + u64(v), 0)
      systemUsage = (ticks * NS_PER_S) / CLOCK_TICKS
    } else if (/^cpu\d/.test(line)) onlineCpus++
  }
  return { systemUsage, onlineCpus }
}

export async function readSystemCpu(procRoot = '/proc'): Promise<{ systemUsage: number; onlineCpus: number }> {
  return parseProcStat(await fsp.readFile(path.join(procRoot, 'stat'), 'utf8'))
}

export interface InterfaceCounters {
  rxBytes: number
  rxPackets: number
  rxErrors: number
  rxDropped: number
  txBytes: number
  txPackets: number
  txErrors: number
  txDropped: number
}

/** /proc/<pid>/net/dev: counters per interface of that process's network namespace. */
export function parseNetDev(text: string): Record<string, InterfaceCounters> {
  const out: Record<string, InterfaceCounters> = {}
  for (const line of text.split('\n').slice(2)) {
    const i = line.indexOf(':')
    if (i < 0) continue
    const name = line.slice(0, i).trim()
    const f = line.slice(i + 1).trim().split(/\s+/).map(u64)
    if (f.length < 16) continue
    out[name] = {
      rxBytes: f[0] ?? 0, rxPackets: f[1] ?? 0, rxErrors: f[2] ?? 0, rxDropped: f[3] ?? 0,
      txBytes: f[8] ?? 0, txPackets: f[9] ?? 0, txErrors: f[10] ?? 0, txDropped: f[11] ?? 0,
    }
  }
  return out
}

/** The interface counters of the network namespace `pid` is in; undefined once the process is gone. */
export async function readNetDev(pid: number, procRoot = '/proc'): Promise<Record<string, InterfaceCounters> | undefined> {
  const text = await read(path.join(procRoot, String(pid), 'net', 'dev'))
  return text === undefined ? undefined : parseNetDev(text)
}
