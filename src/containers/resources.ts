/**
 * A container's resource limits as docker checks and adjusts them at create
 * and update (moby daemon/daemon_unix.go verifyPlatformContainerResources,
 * adaptContainerSettings; container/container_unix.go UpdateContainer): the
 * same refusals, the same warnings, the same values kept for inspect. What the
 * kernel supports comes in as a SysInfo probed once by the daemon.
 */
import { conflict, invalidArgument } from '../errors/index.js'

/** What the host's cgroups can limit (moby pkg/sysinfo). */
export interface SysInfo {
  memoryLimit: boolean
  swapLimit: boolean
  memoryReservation: boolean
  oomKillDisable: boolean
  memorySwappiness: boolean
  kernelMemory: boolean
  /** memory.kmem.tcp (v1 only): `info` warns when missing. */
  kernelMemoryTcp: boolean
  cpuShares: boolean
  /** CFS quota (cpu.cfs_quota_us, v2 cpu.max). */
  cpuCfs: boolean
  cpuCfsPeriod: boolean
  cpuRealtime: boolean
  cpuset: boolean
  pidsLimit: boolean
  blkioWeight: boolean
  blkioWeightDevice: boolean
  blkioReadBpsDevice: boolean
  blkioWriteBpsDevice: boolean
  blkioReadIOpsDevice: boolean
  blkioWriteIOpsDevice: boolean
  /** CPUs this process may run on (Go's runtime.NumCPU). */
  numCpu: number
  /** cpuset.cpus / cpuset.mems of the root cgroup, e.g. "0-1". */
  cpus: string
  mems: string
}

/** Everything supported: for unit tests and hosts where probing is not possible. */
export const FULL_SYSINFO: SysInfo = {
  memoryLimit: true, swapLimit: true, memoryReservation: true, oomKillDisable: true, memorySwappiness: true, kernelMemory: true, kernelMemoryTcp: true,
  cpuShares: true, cpuCfs: true, cpuCfsPeriod: true, cpuRealtime: true, cpuset: true, pidsLimit: true, blkioWeight: true, blkioWeightDevice: true,
  blkioReadBpsDevice: true, blkioWriteBpsDevice: true, blkioReadIOpsDevice: true, blkioWriteIOpsDevice: true,
  numCpu: 1, cpus: '0', mems: '0',
}

/** Resources as docker's HostConfig names them; only fields a user set are present. */
export type Resources = Record<string, unknown>

const linuxMinMemory = 6 * 1024 * 1024

const n = (r: Resources, k: string): number => (typeof r[k] === 'number' ? (r[k] as number) : 0)
const len = (r: Resources, k: string): number => (Array.isArray(r[k]) ? (r[k] as unknown[]).length : 0)

/** pkg/parsers ParseUintList: "0-2,4" → the set; undefined when malformed. */
export function parseUintList(v: string): Set<number> | undefined {
  const out = new Set<number>()
  if (v === '') return out
  for (const part of v.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part)
    if (!m) return undefined
    const a = Number(m[1])
    const b = m[2] === undefined ? a : Number(m[2])
    if (b < a) return undefined
    for (let i = a; i <= b; i++) out.add(i)
  }
  return out
}

function available(requested: string, provided: string, what: 'cpus' | 'mems'): boolean {
  const req = parseUintList(requested)
  if (!req) throw invalidArgument(`Invalid value ${requested} for cpuset ${what}: invalid format: ${requested}`)
  const have = parseUintList(provided) ?? new Set<number>()
  return [...req].every((x) => have.has(x))
}

/**
 * Checks `r` as docker's create (update=false) or update does, adjusting it in
 * place (discarded limits, swappiness -1 as unset); returns the warnings.
 * Throws invalid-argument with docker's message for what docker refuses.
 */
export function verifyResources(r: Resources, sys: SysInfo, update: boolean): string[] {
  const w: string[] = []
  const drop = (...keys: string[]) => {
    for (const k of keys) delete r[k]
  }
  if (r.MemorySwappiness === -1) drop('MemorySwappiness')
  const memory = n(r, 'Memory')
  if (memory !== 0 && memory < linuxMinMemory) throw invalidArgument('Minimum memory limit allowed is 6MB')
  if (memory > 0 && !sys.memoryLimit) {
    w.push('Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.')
    drop('Memory')
    r.MemorySwap = -1
  }
  if (n(r, 'Memory') > 0 && n(r, 'MemorySwap') !== -1 && !sys.swapLimit) {
    w.push('Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.')
    r.MemorySwap = -1
  }
  if (n(r, 'Memory') > 0 && n(r, 'MemorySwap') > 0 && n(r, 'MemorySwap') < n(r, 'Memory')) {
    throw invalidArgument('Minimum memoryswap limit should be larger than memory limit, see usage')
  }
  if (n(r, 'Memory') === 0 && n(r, 'MemorySwap') > 0 && !update) {
    throw invalidArgument('You should always set the Memory limit when using Memoryswap limit, see usage')
  }
  if (typeof r.MemorySwappiness === 'number' && !sys.memorySwappiness) {
    w.push('Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.')
    drop('MemorySwappiness')
  }
  if (typeof r.MemorySwappiness === 'number' && (r.MemorySwappiness < 0 || r.MemorySwappiness > 100)) {
    throw invalidArgument(`Invalid value: ${r.MemorySwappiness}, valid memory swappiness range is 0-100`)
  }
  if (n(r, 'MemoryReservation') > 0 && !sys.memoryReservation) {
    w.push('Your kernel does not support memory soft limit capabilities or the cgroup is not mounted. Limitation discarded.')
    drop('MemoryReservation')
  }
  if (n(r, 'MemoryReservation') > 0 && n(r, 'MemoryReservation') < linuxMinMemory) throw invalidArgument('Minimum memory reservation allowed is 6MB')
  if (n(r, 'Memory') > 0 && n(r, 'MemoryReservation') > 0 && n(r, 'Memory') < n(r, 'MemoryReservation')) {
    throw invalidArgument('Minimum memory limit can not be less than memory reservation limit, see usage')
  }
  if (n(r, 'KernelMemory') > 0) {
    if (!sys.kernelMemory) {
      w.push('Your kernel does not support kernel memory limit capabilities or the cgroup is not mounted. Limitation discarded.')
      drop('KernelMemory')
    }
    if (n(r, 'KernelMemory') > 0 && n(r, 'KernelMemory') < linuxMinMemory) throw invalidArgument('Minimum kernel memory limit allowed is 6MB')
  }
  if (typeof r.OomKillDisable === 'boolean' && !sys.oomKillDisable) {
    if (r.OomKillDisable) w.push('Your kernel does not support OomKillDisable. OomKillDisable discarded.')
    drop('OomKillDisable')
  }
  if (r.OomKillDisable === true && n(r, 'Memory') === 0) {
    w.push('OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.')
  }
  if (typeof r.PidsLimit === 'number' && !sys.pidsLimit) {
    if (r.PidsLimit > 0) w.push('Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.')
    drop('PidsLimit')
  }

  const nano = n(r, 'NanoCpus')
  if (nano > 0 && n(r, 'CpuPeriod') > 0) throw invalidArgument('Conflicting options: Nano CPUs and CPU Period cannot both be set')
  if (nano > 0 && n(r, 'CpuQuota') > 0) throw invalidArgument('Conflicting options: Nano CPUs and CPU Quota cannot both be set')
  if (nano > 0 && !sys.cpuCfs) throw invalidArgument('NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted')
  if (nano !== 0 && (nano < 0 || nano > sys.numCpu * 1e9)) {
    throw invalidArgument(`range of CPUs is from 0.01 to ${sys.numCpu}.00, as there are only ${sys.numCpu} CPUs available`)
  }
  if (n(r, 'CpuShares') > 0 && !sys.cpuShares) {
    w.push('Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.')
    drop('CpuShares')
  }
  if ((n(r, 'CpuPeriod') !== 0 || n(r, 'CpuQuota') !== 0) && !sys.cpuCfs) {
    w.push('Your kernel does not support CPU CFS scheduler. CPU period/quota discarded.')
    drop('CpuPeriod', 'CpuQuota')
  }
  const period = n(r, 'CpuPeriod')
  if (period !== 0 && (period < 1000 || period > 1000000)) {
    throw invalidArgument('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)')
  }
  if (n(r, 'CpuQuota') > 0 && n(r, 'CpuQuota') < 1000) throw invalidArgument('CPU cfs quota can not be less than 1ms (i.e. 1000)')
  if (n(r, 'CpuPercent') > 0) {
    w.push('linux does not support CPU percent. Percent discarded.')
    drop('CpuPercent')
  }
  const cpus = typeof r.CpusetCpus === 'string' ? r.CpusetCpus : ''
  const mems = typeof r.CpusetMems === 'string' ? r.CpusetMems : ''
  if ((cpus !== '' || mems !== '') && !sys.cpuset) {
    w.push('Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.')
    drop('CpusetCpus', 'CpusetMems')
  } else {
    if (!available(cpus, sys.cpus, 'cpus')) throw invalidArgument(`Requested CPUs are not available - requested ${cpus}, available: ${sys.cpus}`)
    if (!available(mems, sys.mems, 'mems')) throw invalidArgument(`Requested memory nodes are not available - requested ${mems}, available: ${sys.mems}`)
  }

  if (n(r, 'BlkioWeight') > 0 && !sys.blkioWeight) {
    w.push('Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.')
    drop('BlkioWeight')
  }
  const weight = n(r, 'BlkioWeight')
  if (weight > 0 && (weight < 10 || weight > 1000)) throw invalidArgument('Range of blkio weight is from 10 to 1000')
  if (n(r, 'IOMaximumBandwidth') !== 0 || n(r, 'IOMaximumIOps') !== 0) {
    throw invalidArgument('Invalid QoS settings: linux does not support Maximum IO Bandwidth or Maximum IO IOps')
  }
  const devs: Array<[string, keyof SysInfo, string]> = [
    ['BlkioWeightDevice', 'blkioWeightDevice', 'Your kernel does not support Block I/O weight_device or the cgroup is not mounted. Weight-device discarded.'],
    ['BlkioDeviceReadBps', 'blkioReadBpsDevice', 'Your kernel does not support BPS Block I/O read limit or the cgroup is not mounted. Block I/O BPS read limit discarded.'],
    ['BlkioDeviceWriteBps', 'blkioWriteBpsDevice', 'Your kernel does not support BPS Block I/O write limit or the cgroup is not mounted. Block I/O BPS write limit discarded.'],
    ['BlkioDeviceReadIOps', 'blkioReadIOpsDevice', 'Your kernel does not support IOPS Block read limit or the cgroup is not mounted. Block I/O IOPS read limit discarded.'],
    ['BlkioDeviceWriteIOps', 'blkioWriteIOpsDevice', 'Your kernel does not support IOPS Block write limit or the cgroup is not mounted. Block I/O IOPS write limit discarded.'],
  ]
  for (const [k, feature, msg] of devs) {
    if (len(r, k) > 0 && !sys[feature]) {
      w.push(msg)
      r[k] = []
    }
  }
  return w
}

/** adaptContainerSettings: with a memory limit and no swap limit, swap defaults to twice the memory (shown by inspect). */
export function adaptResources(r: Resources): void {
  if (n(r, 'Memory') > 0 && n(r, 'MemorySwap') === 0) r.MemorySwap = n(r, 'Memory') * 2
}

/**
 * UpdateContainer: the non-zero fields of `u` over `cur`; conflicts docker
 * refuses throw conflict (409) with its words. Returns the merged resources.
 */
export function mergeUpdate(cur: Resources, u: Resources): Resources {
  const out: Resources = { ...cur }
  if (n(u, 'NanoCpus') > 0 && n(cur, 'CpuPeriod') > 0) throw conflict('Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set')
  if (n(u, 'NanoCpus') > 0 && n(cur, 'CpuQuota') > 0) throw conflict('Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set')
  if (n(u, 'CpuPeriod') > 0 && n(cur, 'NanoCpus') > 0) throw conflict('Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set')
  if (n(u, 'CpuQuota') > 0 && n(cur, 'NanoCpus') > 0) throw conflict('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set')
  for (const k of ['BlkioWeight', 'CpuShares', 'NanoCpus', 'CpuPeriod', 'CpuQuota', 'MemoryReservation', 'KernelMemory', 'CpuRealtimePeriod', 'CpuRealtimeRuntime']) {
    if (n(u, k) !== 0) out[k] = u[k]
  }
  for (const k of ['CpusetCpus', 'CpusetMems']) {
    if (typeof u[k] === 'string' && u[k] !== '') out[k] = u[k]
  }
  if (n(u, 'Memory') !== 0) {
    if (n(u, 'Memory') > n(cur, 'MemorySwap') && n(u, 'MemorySwap') === 0) {
      throw conflict('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time')
    }
    out.Memory = u.Memory
  }
  if (n(u, 'MemorySwap') !== 0) out.MemorySwap = u.MemorySwap
  if (typeof u.PidsLimit === 'number') out.PidsLimit = u.PidsLimit
  return out
}
