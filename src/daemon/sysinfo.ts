/**
 * What this host's cgroups can limit, probed once at daemon start as moby's
 * pkg/sysinfo does: on v1 by the control files each controller's mount has,
 * on v2 by the controllers the root has. Both create's checks and `info`'s
 * booleans and warnings read this one probe.
 */
import { existsSync, readFileSync } from 'node:fs'
import os from 'node:os'
import type { SysInfo } from '../containers/index.js'

const read = (p: string): string => {
  try {
    return readFileSync(p, 'utf8').trim()
  } catch {
    return ''
  }
}

export function probeSysInfo(root = '/sys/fs/cgroup'): SysInfo {
  const numCpu = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length
  // Only a pure v2 host has the cgroup2 root at /sys/fs/cgroup itself.
  if (existsSync(`${root}/cgroup.controllers`)) {
    // The root of a v2 tree has no limit files of its own: a child's controllers are those the root lists.
    const ctl = new Set(read(`${root}/cgroup.controllers`).split(/\s+/).filter(Boolean))
    const mem = ctl.has('memory')
    const io = ctl.has('io')
    return {
      memoryLimit: mem, swapLimit: mem, memoryReservation: mem,
      oomKillDisable: false, memorySwappiness: false, kernelMemory: false, kernelMemoryTcp: false,
      cpuShares: ctl.has('cpu'), cpuCfs: ctl.has('cpu'), cpuCfsPeriod: ctl.has('cpu'), cpuRealtime: false,
      cpuset: ctl.has('cpuset'), pidsLimit: ctl.has('pids'),
      blkioWeight: io, blkioWeightDevice: io, blkioReadBpsDevice: io, blkioWriteBpsDevice: io, blkioReadIOpsDevice: io, blkioWriteIOpsDevice: io,
      numCpu,
      cpus: read(`${root}/cpuset.cpus.effective`) || `0-${numCpu - 1}`,
      mems: read(`${root}/cpuset.mems.effective`) || '0',
    }
  }
  const has = (ctl: string, file: string) => existsSync(`${root}/${ctl}/${file}`)
  return {
    memoryLimit: has('memory', 'memory.limit_in_bytes'),
    swapLimit: has('memory', 'memory.memsw.limit_in_bytes'),
    memoryReservation: has('memory', 'memory.soft_limit_in_bytes'),
    oomKillDisable: has('memory', 'memory.oom_control'),
    memorySwappiness: has('memory', 'memory.swappiness'),
    // The kernel obsoleted kmem limits in 5.4 and runc no longer sets them, whatever files remain.
    kernelMemory: false,
    kernelMemoryTcp: has('memory', 'memory.kmem.tcp.limit_in_bytes'),
    cpuShares: has('cpu', 'cpu.shares'),
    cpuCfs: has('cpu', 'cpu.cfs_quota_us'),
    cpuCfsPeriod: has('cpu', 'cpu.cfs_period_us'),
    cpuRealtime: has('cpu', 'cpu.rt_period_us'),
    cpuset: has('cpuset', 'cpuset.cpus'),
    pidsLimit: existsSync(`${root}/pids`),
    blkioWeight: has('blkio', 'blkio.weight') || has('blkio', 'blkio.bfq.weight'),
    blkioWeightDevice: has('blkio', 'blkio.weight_device') || has('blkio', 'blkio.bfq.weight_device'),
    blkioReadBpsDevice: has('blkio', 'blkio.throttle.read_bps_device'),
    blkioWriteBpsDevice: has('blkio', 'blkio.throttle.write_bps_device'),
    blkioReadIOpsDevice: has('blkio', 'blkio.throttle.read_iops_device'),
    blkioWriteIOpsDevice: has('blkio', 'blkio.throttle.write_iops_device'),
    numCpu,
    cpus: read(`${root}/cpuset/cpuset.cpus`) || `0-${numCpu - 1}`,
    mems: read(`${root}/cpuset/cpuset.mems`) || '0',
  }
}
