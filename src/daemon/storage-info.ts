/**
 * The overlay2 facts `docker info` lists under Storage Driver, probed as
 * dockerd's overlay2 driver probes them when it starts (moby
 * daemon/graphdriver/overlay2 Init, check.go; overlayutils/userxattr.go).
 *
 * Node reads no extended attributes and fills in a directory entry's
 * missing d_type with lstat, so two probes look at other evidence than
 * dockerd does: metacopy shows as a copied-up file without data blocks
 * (moby reads the metacopy xattr), and a kernel with redirect_dir lets a
 * lower directory be renamed inside the overlay (moby reads the redirect
 * xattr after the same rename); d_type is taken as supported.
 */
import { promises as fsp } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Logger } from '../lib/index.js'
import { mount, unmount } from '../sys/index.js'

/** moby's fstype.FsNames. */
const FS_NAMES: Record<number, string> = {
  0x61756673: 'aufs', 0x9123683e: 'btrfs', 0x28cd3d45: 'cramfs', 0xf15f: 'ecryptfs', 0xef53: 'extfs', 0xf2f52010: 'f2fs',
  0x65735546: 'fuse', 0x47504653: 'gpfs', 0x72b6: 'jffs2', 0x3153464a: 'jfs', 0x6969: 'nfs', 0x794c7630: 'overlayfs',
  0x858458f6: 'ramfs', 0x52654973: 'reiserfs', 0x517b: 'smb', 0x73717368: 'squashfs', 0x01021994: 'tmpfs', 0xa501fcf5: 'vxfs',
  0x58465342: 'xfs', 0x2fc12fc1: 'zfs',
}

/** Probe directories; one a crash left (maybe still mounted) goes before the next probe. */
const PROBE_PREFIX = 'storage-check-'

/** moby's kernel.CheckKernelVersion on os.release(). */
function kernelAtLeast(major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(os.release())
  if (!m) return false
  const [maj, min] = [Number(m[1]), Number(m[2])]
  return maj > major || (maj === major && min >= minor)
}

/** moby/sys/userns RunningInUserNS: the uid map is not the initial namespace's identity map. */
async function inUserNamespace(): Promise<boolean> {
  const map = await fsp.readFile('/proc/self/uid_map', 'utf8').catch(() => '')
  const f = map.trim().split(/\s+/)
  return !(f.length === 3 && f[0] === '0' && f[1] === '0' && f[2] === '4294967295')
}

export async function backingFilesystem(dir: string): Promise<string> {
  const st = await fsp.statfs(dir).catch(() => undefined)
  return (st && FS_NAMES[st.type]) || '<unknown>'
}

/** An overlay over fresh dirs under `base`, mounted for `probe` and always taken down. */
async function withOverlay<T>(base: string, setup: (lower: string) => Promise<void>, probe: (merged: string, upper: string) => Promise<T>, userxattr: boolean): Promise<T> {
  const td = await fsp.mkdtemp(path.join(base, PROBE_PREFIX))
  try {
    const [lower, upper, work, merged] = ['l1', 'l2', 'work', 'merged'].map((d) => path.join(td, d)) as [string, string, string, string]
    for (const d of [lower, upper, work, merged]) await fsp.mkdir(d)
    await setup(lower)
    const options = [`lowerdir=${lower},upperdir=${upper},workdir=${work}`, ...(userxattr ? ['userxattr'] : [])]
    await mount({ type: 'overlay', source: 'overlay', options }, merged)
    try {
      return await probe(merged, upper)
    } finally {
      await unmount(merged)
    }
  } finally {
    await fsp.rm(td, { recursive: true, force: true })
  }
}

/** moby usingMetacopy: a metadata-only change copies up only the inode when metacopy is on. */
async function usingMetacopy(base: string, userxattr: boolean): Promise<boolean> {
  // Big enough that no filesystem keeps it inline, so a full copy-up has data blocks.
  const size = 256 * 1024
  return withOverlay(base, (lower) => fsp.writeFile(path.join(lower, 'f'), Buffer.alloc(size, 1), { mode: 0o700 }), async (merged, upper) => {
    await fsp.chmod(path.join(merged, 'f'), 0o600)
    const st = await fsp.stat(path.join(upper, 'f'))
    return st.blocks * 512 < size / 2
  }, userxattr)
}

/**
 * moby doesSupportNativeDiff: the upper directory alone describes a layer
 * unless the kernel copies the opaque flag up (fixed in 4.8) or records
 * directory renames as redirects (CONFIG_OVERLAY_FS_REDIRECT_DIR).
 */
async function nativeDiff(base: string, userxattr: boolean): Promise<boolean> {
  if (!kernelAtLeast(4, 8)) return false
  return withOverlay(base, (lower) => fsp.mkdir(path.join(lower, 'd1')), async (merged) => {
    try {
      await fsp.rename(path.join(merged, 'd1'), path.join(merged, 'd2'))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EXDEV') return true
      throw err
    }
    return false
  }, userxattr)
}

/**
 * The Storage Driver lines of `docker info` for an overlay2 home (probed in
 * it, or in its parent while it does not exist yet, as dockerd does). A
 * probe that fails is logged and reported false, where dockerd would not
 * start.
 */
export async function overlayDriverStatus(home: string, log?: Logger): Promise<Array<[string, string]>> {
  const base = await fsp.stat(home).then(() => home, () => path.dirname(home))
  for (const name of await fsp.readdir(base).catch(() => [])) {
    if (!name.startsWith(PROBE_PREFIX)) continue
    await unmount(path.join(base, name, 'merged'), { lazy: true }).catch(() => {})
    await fsp.rm(path.join(base, name), { recursive: true, force: true }).catch(() => {})
  }
  const userxattr = (await inUserNamespace()) && kernelAtLeast(5, 11)
  const probe = async (what: string, fn: () => Promise<boolean>): Promise<boolean> => {
    try {
      return await fn()
    } catch (err) {
      log?.warn('overlay probe failed', { probe: what, dir: base, error: (err as Error).message })
      return false
    }
  }
  const metacopy = await probe('metacopy', () => usingMetacopy(base, userxattr))
  const native = await probe('native diff', () => nativeDiff(base, userxattr))
  return [
    ['Backing Filesystem', await backingFilesystem(base)],
    ['Supports d_type', 'true'],
    ['Using metacopy', String(metacopy)],
    ['Native Overlay Diff', String(native)],
    ['userxattr', String(userxattr)],
  ]
}
