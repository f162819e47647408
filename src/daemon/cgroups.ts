/**
 * Where containers' cgroups go and what `info` says about the cgroup
 * controllers: one place for the OCI cgroupsPath (runc and crun's cgroupfs
 * driver take the same path on v1, hybrid and pure v2 hosts) and for the
 * readers that look a container's cgroup up again.
 */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { invalidArgument } from '../errors/index.js'

/** docker's cgroupfs default is `/docker`; berth's containers live under `/berth`. */
export const DEFAULT_CGROUP_PARENT = '/berth'

/**
 * moby daemon/oci_linux.go WithCgroups for the cgroupfs driver: the
 * container's HostConfig.CgroupParent, else the daemon's cgroup-parent, else
 * the default; the container goes to `<parent>/<id>`. A parent without a
 * leading slash is taken from the root of each hierarchy: runc would read it
 * relative to its own cgroup, which is berthd's, and that is the root only
 * when nothing moved berthd.
 */
export function cgroupsPathFor(id: string, containerParent: string | undefined, daemonParent: string | undefined): string {
  const parent = containerParent || daemonParent || DEFAULT_CGROUP_PARENT
  return path.posix.join('/', parent, id)
}

/** A cgroup parent that cannot name a directory under a hierarchy is refused at create. */
export function validateCgroupParent(parent: string): void {
  if (parent === '') return
  const parts = parent.split('/').filter(Boolean)
  if (parts.some((p) => p === '..' || p === '.')) throw invalidArgument(`invalid cgroup parent ${JSON.stringify(parent)}: it may not contain "." or ".." elements`)
  if (parent.includes('\0') || parent.includes(':')) throw invalidArgument(`invalid cgroup parent ${JSON.stringify(parent)}: berthd uses the cgroupfs driver, which takes a path like /berth-jobs (systemd slices need native.cgroupdriver=systemd)`)
}

/** What the host's cgroup controllers can do, as docker's sysinfo finds it. */
export interface CgroupFeatures {
  memoryLimit: boolean
  swapLimit: boolean
  kernelMemoryTcp: boolean
  oomKillDisable: boolean
  cpuCfsQuota: boolean
  cpuCfsPeriod: boolean
  cpuShares: boolean
  cpuSet: boolean
  pidsLimit: boolean
  blkioWeight: boolean
  blkioReadBps: boolean
  blkioWriteBps: boolean
  blkioReadIops: boolean
  blkioWriteIops: boolean
}

/** Probes the root cgroup's files, v1 (per controller) or v2 (one tree). */
export function cgroupFeatures(version: '1' | '2', root = '/sys/fs/cgroup'): CgroupFeatures {
  const has = (...p: string[]) => existsSync(path.join(root, ...p))
  if (version === '2') {
    // The root of a v2 tree has no limit files of its own: a child's controllers are those the root lists.
    const ctl = readControllers(root)
    return {
      memoryLimit: ctl.has('memory'),
      swapLimit: ctl.has('memory'),
      kernelMemoryTcp: false,
      oomKillDisable: false,
      cpuCfsQuota: ctl.has('cpu'),
      cpuCfsPeriod: ctl.has('cpu'),
      cpuShares: ctl.has('cpu'),
      cpuSet: ctl.has('cpuset'),
      pidsLimit: ctl.has('pids'),
      blkioWeight: ctl.has('io'),
      blkioReadBps: ctl.has('io'),
      blkioWriteBps: ctl.has('io'),
      blkioReadIops: ctl.has('io'),
      blkioWriteIops: ctl.has('io'),
    }
  }
  return {
    memoryLimit: has('memory', 'memory.limit_in_bytes'),
    swapLimit: has('memory', 'memory.memsw.limit_in_bytes'),
    kernelMemoryTcp: has('memory', 'memory.kmem.tcp.limit_in_bytes'),
    oomKillDisable: has('memory', 'memory.oom_control'),
    cpuCfsQuota: has('cpu', 'cpu.cfs_quota_us'),
    cpuCfsPeriod: has('cpu', 'cpu.cfs_period_us'),
    cpuShares: has('cpu', 'cpu.shares'),
    cpuSet: has('cpuset', 'cpuset.cpus'),
    pidsLimit: has('pids'),
    blkioWeight: has('blkio', 'blkio.weight') || has('blkio', 'blkio.bfq.weight'),
    blkioReadBps: has('blkio', 'blkio.throttle.read_bps_device'),
    blkioWriteBps: has('blkio', 'blkio.throttle.write_bps_device'),
    blkioReadIops: has('blkio', 'blkio.throttle.read_iops_device'),
    blkioWriteIops: has('blkio', 'blkio.throttle.write_iops_device'),
  }
}

function readControllers(root: string): Set<string> {
  try {
    return new Set(readFileSync(path.join(root, 'cgroup.controllers'), 'utf8').split(/\s+/).filter(Boolean))
  } catch {
    return new Set()
  }
}

/** docker's `info` warnings for missing cgroup features (moby daemon/info_unix.go), in its order. */
export function cgroupWarnings(version: '1' | '2', f: CgroupFeatures): string[] {
  const w: string[] = []
  if (!f.memoryLimit) w.push('WARNING: No memory limit support')
  if (!f.swapLimit) w.push('WARNING: No swap limit support')
  if (!f.kernelMemoryTcp && version === '1') w.push('WARNING: No kernel memory TCP limit support')
  if (!f.oomKillDisable && version === '1') w.push('WARNING: No oom kill disable support')
  if (!f.cpuCfsQuota) w.push('WARNING: No cpu cfs quota support')
  if (!f.cpuCfsPeriod) w.push('WARNING: No cpu cfs period support')
  if (!f.cpuShares) w.push('WARNING: No cpu shares support')
  if (!f.cpuSet) w.push('WARNING: No cpuset support')
  if (!f.blkioWeight && version === '2') w.push('WARNING: No io.weight support')
  const io: Array<[boolean, string, string]> = [
    [f.blkioReadBps, 'io.max (rbps)', 'blkio throttle.read_bps_device'],
    [f.blkioWriteBps, 'io.max (wbps)', 'blkio throttle.write_bps_device'],
    [f.blkioReadIops, 'io.max (riops)', 'blkio throttle.read_iops_device'],
    [f.blkioWriteIops, 'io.max (wiops)', 'blkio throttle.write_iops_device'],
  ]
  for (const [ok, v2, v1] of io) if (!ok) w.push(`WARNING: No ${version === '2' ? v2 : v1} support`)
  return w
}
