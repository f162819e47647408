/**
 * The file operations of COPY and ADD, with the results of moby's classic
 * builder (builder/dockerfile copy.go, which goes through go-archive's
 * CopyFileWithTar and CopyWithTar): metadata kept from the source (mode,
 * mtime to the second, hard links inside a copied directory, symlinks as
 * symlinks), then the owner docker's fixPermissions sets. Paths given here
 * are host paths already resolved inside the image root; below them nothing
 * is followed: whatever stands where an entry goes is replaced unless both
 * are directories, so a symlink in the image can't redirect a write.
 *
 * Device nodes, FIFOs and sockets inside a copied directory are skipped
 * (docker copies the first two; Node can't make them), and extended
 * attributes are not copied.
 */
import { constants, promises as fsp, type Stats } from 'node:fs'
import path from 'node:path'
import { invalidArgument } from '../errors/index.js'
import { TaskPool } from './pool.js'

export interface Owner {
  uid: number
  gid: number
}

export interface CopyAttrs {
  /** The owner of what is copied (docker's identity); null keeps the source's (COPY --from without --chown). */
  owner: Owner | null
  /** --chmod for what is copied; undefined keeps the source's mode. */
  mode?: number
  signal?: AbortSignal
}

export const ROOT_OWNER: Owner = { uid: 0, gid: 0 }
const DIR_MODE = 0o755

const canChown = () => process.getuid?.() === 0

/** Paths in messages: relative to the image root, as the user wrote them. */
export class Shown {
  constructor(private readonly root: string) {}
  path(host: string): string {
    const rel = path.relative(this.root, host)
    return rel.startsWith('..') ? host : `/${rel}`
  }
}

/** Whether host is a directory (following a symlink, as Go's os.Stat). */
export async function isDir(host: string): Promise<boolean> {
  return (await fsp.stat(host).catch(() => undefined))?.isDirectory() ?? false
}

/**
 * mkdir -p of a resolved host path: new directories 0755, owned by owner (or
 * by whoever runs us); an existing non-directory on the way is an error.
 */
export async function mkdirAll(host: string, owner: Owner | null, shown: Shown): Promise<void> {
  const missing: string[] = []
  let cur = host
  for (;;) {
    const st = await fsp.lstat(cur).catch(() => undefined)
    if (st) {
      if (!st.isDirectory()) throw invalidArgument(`mkdir ${shown.path(cur)}: not a directory`)
      break
    }
    missing.unshift(cur)
    const up = path.dirname(cur)
    if (up === cur) break
    cur = up
  }
  for (const dir of missing) {
    await fsp.mkdir(dir)
    await fsp.chmod(dir, DIR_MODE)
    if (owner && canChown()) await fsp.lchown(dir, owner.uid, owner.gid)
  }
}

/** Make room for an entry at host: remove what is there unless both are directories. Returns whether a directory stays. */
async function clear(host: string, entryIsDir: boolean): Promise<boolean> {
  const st = await fsp.lstat(host).catch(() => undefined)
  if (!st) return false
  if (entryIsDir && st.isDirectory()) return true
  await fsp.rm(host, { recursive: true, force: true })
  return false
}

const seconds = (st: Stats) => Math.floor(st.mtimeMs / 1000)

/** Owner, then mode (chown clears set-id bits), then mtime (to the second, as docker's tar copy). */
async function applyMeta(host: string, st: Stats, attrs: CopyAttrs, times = true): Promise<void> {
  if (canChown()) await fsp.lchown(host, attrs.owner?.uid ?? st.uid, attrs.owner?.gid ?? st.gid)
  if (!st.isSymbolicLink()) await fsp.chmod(host, attrs.mode ?? st.mode & 0o7777)
  if (!times) return
  if (st.isSymbolicLink()) await fsp.lutimes(host, seconds(st), seconds(st))
  else await fsp.utimes(host, seconds(st), seconds(st))
}

/**
 * docker's copyFile: one regular file (src resolved, st its stat) to the
 * host path dest. Missing parents are created, owned by attrs.owner.
 */
export async function copyFile(src: string, st: Stats, dest: string, attrs: CopyAttrs, shown: Shown): Promise<void> {
  await mkdirAll(path.dirname(dest), attrs.owner, shown)
  await clear(dest, false)
  // O_EXCL: never writes through a link planted at dest.
  await fsp.copyFile(src, dest, constants.COPYFILE_EXCL)
  await applyMeta(dest, st, attrs)
}

/** A file with the given content (a heredoc), default mode 0644, owned by attrs.owner or root. */
export async function writeContent(dest: string, data: string, attrs: CopyAttrs, shown: Shown): Promise<void> {
  await mkdirAll(path.dirname(dest), attrs.owner, shown)
  await clear(dest, false)
  await fsp.writeFile(dest, data, { flag: 'wx', mode: 0o600 })
  const owner = attrs.owner ?? ROOT_OWNER
  if (canChown()) await fsp.lchown(dest, owner.uid, owner.gid)
  await fsp.chmod(dest, attrs.mode ?? 0o644)
}

/**
 * docker's copyDirectory: the contents of src (not src itself) into dest,
 * which is created (root-owned 0755, parents too) if missing. dest itself
 * takes the owner and mode only when this made it.
 */
export async function copyDirectory(src: string, dest: string, attrs: CopyAttrs, shown: Shown): Promise<void> {
  const existed = await isDir(dest)
  await mkdirAll(dest, ROOT_OWNER, shown)
  if (!existed) {
    if (attrs.owner && canChown()) await fsp.lchown(dest, attrs.owner.uid, attrs.owner.gid)
    if (attrs.mode !== undefined) await fsp.chmod(dest, attrs.mode)
  }
  const dirTimes: Array<[string, number]> = []
  const pool = new TaskPool()
  try {
    await copyChildren(src, dest, !existed, { attrs, pool, linked: new Map(), dirTimes })
    await pool.drain()
  } finally {
    await pool.settle()
  }
  for (const [dir, mtime] of dirTimes.reverse()) await fsp.utimes(dir, mtime, mtime)
}

interface TreeCopy {
  attrs: CopyAttrs
  /** Files are copied by the pool, several at once; directories in order, before what they hold. */
  pool: TaskPool
  /** First copy of each multiply linked file, by device and inode. */
  linked: Map<string, string>
  dirTimes: Array<[string, number]>
}

/** Copy src's entries into dest; fresh: dest was just made, so nothing stands in the way. */
async function copyChildren(src: string, dest: string, fresh: boolean, t: TreeCopy): Promise<void> {
  t.attrs.signal?.throwIfAborted()
  const names = (await fsp.readdir(src)).sort(byteOrder)
  for (const name of names) {
    const s = path.join(src, name)
    const d = path.join(dest, name)
    const st = await fsp.lstat(s)
    if (st.isDirectory()) {
      const kept = !fresh && (await clear(d, true))
      if (!kept) await fsp.mkdir(d, { mode: 0o700 })
      await applyMeta(d, st, t.attrs, false)
      t.dirTimes.push([d, seconds(st)])
      await copyChildren(s, d, !kept, t)
      continue
    }
    if (!st.isFile() && !st.isSymbolicLink()) continue
    // A file with other names: later names become hard links to the first one copied, as docker's tar does.
    const key = st.nlink > 1 ? `${st.dev}:${st.ino}` : undefined
    const first = key ? t.linked.get(key) : undefined
    if (!fresh) await clear(d, false)
    if (first) {
      // The first copy may still be in the pool.
      await t.pool.drain()
      await fsp.link(first, d)
      continue
    }
    if (key) t.linked.set(key, d)
    await t.pool.add(async () => {
      if (st.isSymbolicLink()) await fsp.symlink(await fsp.readlink(s), d)
      else await fsp.copyFile(s, d, constants.COPYFILE_EXCL)
      await applyMeta(d, st, t.attrs)
    })
  }
}

/** Go's string order (bytes), which ReadDir sorts by. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}
