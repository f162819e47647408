/**
 * Mounts through util-linux's mount(8)/umount(8): Node has no mount(2)
 * binding, and mount(8) already knows how to turn `bind,ro` into the second
 * remount the kernel needs. Callers never spawn these tools themselves, so a
 * native binding can replace this module without touching them.
 */
import { promises as fsp } from 'node:fs'
import path from 'node:path'
import { run } from '../lib/index.js'
import { internal, invalidArgument } from '../errors/index.js'

/**
 * containerd's "lingua franca": what to mount, without mounting it.
 * Snapshotters return these; containers/ and build/ mount them.
 */
export interface Mount {
  type: string
  source: string
  /** Where the mount goes inside a container; unused when mounting on the host. */
  target?: string
  options: string[]
}

export interface MountOptions {
  /**
   * Working directory of the mount call. overlay resolves relative lowerdir
   * entries against it, which keeps the option string of deep images under
   * the page size.
   */
  cwd?: string
  signal?: AbortSignal
}

const bindOptions = new Set(['bind', 'rbind'])

export async function mount(m: Mount, target: string, opts: MountOptions = {}): Promise<void> {
  if (!m.type && !m.options.some((o) => bindOptions.has(o))) {
    throw invalidArgument(`mount of ${m.source} on ${target}: no type`)
  }
  const args: string[] = []
  // A bind mount has no filesystem type: mount(8) takes `bind`/`rbind` in -o.
  const isBind = m.type === 'bind' || m.options.some((o) => bindOptions.has(o))
  const options = [...m.options]
  if (isBind && !options.some((o) => bindOptions.has(o))) options.unshift('rbind')
  if (!isBind) args.push('-t', m.type)
  if (options.length > 0) args.push('-o', options.join(','))
  args.push('--', m.source, target)
  try {
    await run('mount', args, { cwd: opts.cwd, signal: opts.signal })
  } catch (err) {
    throw internal(`mount ${m.type || 'bind'} ${m.source} on ${target}: ${(err as Error).message}`, err)
  }
}

export interface UnmountOptions {
  /** Detach now, clean up when no longer busy (MNT_DETACH). */
  lazy?: boolean
  signal?: AbortSignal
}

/** Unmount `target`; a path that is not a mount point is not an error. */
export async function unmount(target: string, opts: UnmountOptions = {}): Promise<void> {
  const args = opts.lazy ? ['-l', '--', target] : ['--', target]
  const res = await run('umount', args, { check: false, signal: opts.signal })
  if (res.code === 0) return
  if (!(await isMountpoint(target))) return
  throw internal(`umount ${target}: ${res.stderr.trim() || `exit ${res.code}`}`)
}

export interface MountInfo {
  id: number
  parentId: number
  root: string
  mountPoint: string
  options: string[]
  /** Optional fields such as `shared:1` or `master:2`. */
  propagation: string[]
  fsType: string
  source: string
  superOptions: string[]
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))

export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = []
  for (const line of text.split('\n')) {
    if (!line) continue
    const f = line.split(' ')
    const sep = f.indexOf('-', 6)
    if (sep < 0 || f.length < sep + 4) continue
    out.push({
      id: Number(f[0]),
      parentId: Number(f[1]),
      root: unescape(f[3]!),
      mountPoint: unescape(f[4]!),
      options: f[5]!.split(','),
      propagation: f.slice(6, sep),
      fsType: f[sep + 1]!,
      source: unescape(f[sep + 2]!),
      superOptions: f[sep + 3]!.split(','),
    })
  }
  return out
}

export async function readMountInfo(pid: number | 'self' = 'self'): Promise<MountInfo[]> {
  return parseMountInfo(await fsp.readFile(`/proc/${pid}/mountinfo`, 'utf8'))
}

/** Whether `p` (symlinks resolved) is the mount point of some mount in our namespace. */
export async function isMountpoint(p: string): Promise<boolean> {
  let real: string
  try {
    real = await fsp.realpath(p)
  } catch {
    return false
  }
  real = path.resolve(real)
  const mounts = await readMountInfo()
  return mounts.some((m) => m.mountPoint === real)
}
