/**
 * Where containers' cgroups go and what `info` says about the cgroup
 * controllers: one place for the OCI cgroupsPath (runc and crun's cgroupfs
 * driver take the same path on v1, hybrid and pure v2 hosts) and for the
 * readers that look a container's cgroup up again.
 */
import type { SysInfo } from '../containers/index.js'
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

/** docker's `info` warnings for missing cgroup features (moby daemon/info_unix.go), in its order. */
export function cgroupWarnings(version: '1' | '2', f: SysInfo): string[] {
  const w: string[] = []
  if (!f.memoryLimit) w.push('WARNING: No memory limit support')
  if (!f.swapLimit) w.push('WARNING: No swap limit support')
  if (!f.kernelMemoryTcp && version === '1') w.push('WARNING: No kernel memory TCP limit support')
  if (!f.oomKillDisable && version === '1') w.push('WARNING: No oom kill disable support')
  if (!f.cpuCfs) w.push('WARNING: No cpu cfs quota support')
  if (!f.cpuCfsPeriod) w.push('WARNING: No cpu cfs period support')
  if (!f.cpuShares) w.push('WARNING: No cpu shares support')
  if (!f.cpuset) w.push('WARNING: No cpuset support')
  if (!f.blkioWeight && version === '2') w.push('WARNING: No io.weight support')
  const io: Array<[boolean, string, string]> = [
    [f.blkioReadBpsDevice, 'io.max (rbps)', 'blkio throttle.read_bps_device'],
    [f.blkioWriteBpsDevice, 'io.max (wbps)', 'blkio throttle.write_bps_device'],
    [f.blkioReadIOpsDevice, 'io.max (riops)', 'blkio throttle.read_iops_device'],
    [f.blkioWriteIOpsDevice, 'io.max (wiops)', 'blkio throttle.write_iops_device'],
  ]
  for (const [ok, v2, v1] of io) if (!ok) w.push(`WARNING: No ${version === '2' ? v2 : v1} support`)
  return w
}
