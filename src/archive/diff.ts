/**
 * The diff of an overlay upper directory (a container's writable layer)
 * against the layers below it: docker's `container diff` change list and the
 * layer tar that `commit` stores.
 *
 * Hand-written: no library knows overlayfs's on-disk whiteouts (a 0:0
 * character device) and opaque directories (the trusted.overlay.opaque
 * xattr), and Node cannot read xattrs, so GNU tar reads them: one run over
 * the directories in question per layer, and one run over the members of the
 * layer tar, whose headers are then rewritten into docker's layer format.
 *
 * The change list follows docker 28's overlay2 driver, which compares the
 * merged trees (moby go-archive changes.go, ChangesDirs): a path missing below
 * is A; a path whose mode, owner, device or (non-directories) size or mtime
 * differs is C; a directory with changes inside is C too; a path gone from
 * the merged view is D (a whiteout, or a lower entry hidden by an opaque
 * directory), reported once for a whole deleted tree. Paths are sorted, each
 * directory before what it holds.
 *
 * Names are handled as "binary" strings (latin1, one char per byte), as in
 * tar.ts, so names that are not UTF-8 survive into the layer.
 */
import { promises as fsp, type BigIntStats } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { internal } from '../errors/index.js'
import { tarList } from './gnu-tar.js'
import { encodeHeader, END_OF_ARCHIVE, newHeader, padding, TarReader, type TarHeader } from './tar.js'

export type ChangeKind = 'C' | 'A' | 'D'

export interface Change {
  /** Absolute path inside the container ('/etc/passwd'), UTF-8 decoded. */
  path: string
  kind: ChangeKind
}

/** What the diff needs of an inode (lstat). */
export interface FileNode {
  /** st_mode: type and permission bits. */
  mode: number
  uid: number
  gid: number
  rdev: number
  size: number
  mtimeNs: bigint
}

/** One layer directory, as the merged lower view reads it. Paths are relative ('' is the root). */
export interface LayerSource {
  lstat(p: string): Promise<FileNode | null>
  readdir(p: string): Promise<string[]>
  isOpaque(p: string): Promise<boolean>
}

/** An entry of the upper directory, read once; children sorted by name. */
export interface UpperEntry {
  name: string
  /** Relative to the upper dir, no leading slash; '' for the root. */
  path: string
  node: FileNode
  opaque: boolean
  children?: UpperEntry[]
}

export interface UpperDiff {
  changes: Change[]
  /** Upper paths that make the layer, in archive order (each directory before what it holds). */
  members: string[]
}

export interface DiffUpperOptions {
  upper: string
  /** Lower layer directories, top first (overlay's lowerdir order). */
  lowers: readonly string[]
  /**
   * Mountpoints the runtime makes (docker keeps them in an init layer under
   * the writable one): when one shows up in the upper dir as an empty file,
   * or as a directory holding nothing else, it is neither a change nor part
   * of the layer. Absolute paths ('/etc/hosts').
   */
  mountpoints?: Iterable<string>
}

const S_IFMT = 0o170000
const S_IFDIR = 0o040000
const S_IFCHR = 0o020000
const S_IFREG = 0o100000
const S_IFSOCK = 0o140000
const OPAQUE_XATTRS = ['SCHILY.xattr.trusted.overlay.opaque', 'SCHILY.xattr.user.overlay.opaque']
const CAPABILITY = 'SCHILY.xattr.security.capability'
const WHITEOUT = '.wh.'
const OPAQUE_MARKER = '.wh..wh..opq'

export const isDir = (n: FileNode): boolean => (n.mode & S_IFMT) === S_IFDIR
/** overlayfs marks a deletion with a character device numbered 0:0. */
export const isWhiteout = (n: FileNode): boolean => (n.mode & S_IFMT) === S_IFCHR && n.rdev === 0
const isSocket = (n: FileNode): boolean => (n.mode & S_IFMT) === S_IFSOCK
const isEmptyFile = (n: FileNode): boolean => (n.mode & S_IFMT) === S_IFREG && n.size === 0

const fsPath = (s: string): Buffer => Buffer.from(s, 'latin1')
const join = (dir: string, name: string): string => (dir === '' ? name : `${dir}/${name}`)
const shown = (p: string): string => '/' + Buffer.from(p, 'latin1').toString('utf8')
const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/**
 * Same time, or the same second with one side truncated to it: layer tars
 * carry whole seconds (moby's sameFsTime).
 */
export function sameFsTime(a: bigint, b: bigint): boolean {
  const s = 1_000_000_000n
  return a === b || (a / s === b / s && (a % s === 0n || b % s === 0n))
}

/** moby's statDifferent: directories are not judged by size or mtime. */
export function statDifferent(old: FileNode, cur: FileNode): boolean {
  if (old.mode !== cur.mode || old.uid !== cur.uid || old.gid !== cur.gid || old.rdev !== cur.rdev) return true
  return !isDir(old) && (!sameFsTime(old.mtimeNs, cur.mtimeNs) || old.size !== cur.size)
}

/**
 * The merged view of the lower layers, as overlayfs builds it: the top
 * layer's entry wins; a whiteout or a non-directory hides everything below
 * it; directories merge down to the first opaque one.
 */
export class MergedLower {
  constructor(private readonly layers: readonly LayerSource[]) {}

  /** The entries that make up `p` in the merged view, top first (several only for a directory). */
  async stack(p: string): Promise<Array<{ layer: LayerSource; node: FileNode }>> {
    const parts = p === '' ? [] : p.split('/')
    const out: Array<{ layer: LayerSource; node: FileNode }> = []
    for (const layer of this.layers) {
      let present = true
      let last = false
      for (let i = 1; i < parts.length; i++) {
        const anc = parts.slice(0, i).join('/')
        const n = await layer.lstat(anc)
        if (!n) {
          present = false
          break
        }
        // A file or whiteout over a parent hides the rest of the stack, whatever it holds.
        if (!isDir(n)) return out
        if (await layer.isOpaque(anc)) last = true
      }
      if (present) {
        const n = await layer.lstat(p)
        if (n) {
          if (isWhiteout(n)) return out
          if (out.length > 0 && !isDir(n)) return out
          out.push({ layer, node: n })
          if (!isDir(n) || (p !== '' && (await layer.isOpaque(p)))) return out
        }
      }
      if (last) return out
    }
    return out
  }

  async lookup(p: string): Promise<FileNode | null> {
    return (await this.stack(p))[0]?.node ?? null
  }

  /** Names in directory `p` of the merged view (empty when p is not a directory). */
  async children(p: string): Promise<Set<string>> {
    const stack = await this.stack(p)
    const seen = new Map<string, boolean>()
    if (!stack[0] || !isDir(stack[0].node)) return new Set()
    for (const { layer } of stack) {
      for (const name of await layer.readdir(p)) {
        if (seen.has(name)) continue
        const n = await layer.lstat(join(p, name))
        seen.set(name, n !== null && !isWhiteout(n))
      }
    }
    return new Set([...seen].filter(([, present]) => present).map(([name]) => name))
  }
}

/**
 * The change list and the layer's members from an upper tree and the merged
 * lower view (the pure part of diffUpper).
 */
export async function computeDiff(root: UpperEntry, lower: MergedLower, mountpoints: Iterable<string> = []): Promise<UpperDiff> {
  const exact = new Set<string>()
  const ancestors = new Set<string>()
  for (const m of mountpoints) {
    const rel = path.posix.normalize(m).replace(/^\/+|\/+$/g, '')
    if (rel === '' || rel === '.') continue
    const p = Buffer.from(rel, 'utf8').toString('latin1')
    exact.add(p)
    for (let i = p.indexOf('/'); i !== -1; i = p.indexOf('/', i + 1)) ancestors.add(p.slice(0, i))
  }

  const visit = async (dir: UpperEntry, oldIsDir: boolean, hidesLower: boolean): Promise<UpperDiff> => {
    const changes: Change[] = []
    const members: string[] = []
    const entries = new Map<string, UpperEntry | null>()
    for (const c of dir.children ?? []) entries.set(c.name, c)
    // Under an opaque directory the lower entries are gone without whiteouts: list them to report their deletion.
    if (hidesLower && oldIsDir) {
      for (const name of await lower.children(dir.path)) {
        const c = entries.get(name)
        if (c === undefined || (c !== null && isWhiteout(c.node))) entries.set(name, null)
      }
    }
    for (const name of [...entries.keys()].sort(byName)) {
      const c = entries.get(name) ?? null
      const p = join(dir.path, name)
      if (c === null) {
        changes.push({ path: shown(p), kind: 'D' })
        continue
      }
      if (isWhiteout(c.node)) {
        if (!hidesLower && oldIsDir && (await lower.lookup(p))) changes.push({ path: shown(p), kind: 'D' })
        if (!hidesLower) members.push(p)
        continue
      }
      const old = oldIsDir ? await lower.lookup(p) : null
      let kind: ChangeKind | null = old === null ? 'A' : statDifferent(old, c.node) ? 'C' : null
      if (!isDir(c.node)) {
        if (exact.has(p) && isEmptyFile(c.node)) continue
        if (kind) changes.push({ path: shown(p), kind })
        // Sockets do not go into archives (docker skips them too).
        if (!isSocket(c.node)) members.push(p)
        continue
      }
      const sub = await visit(c, old !== null && isDir(old), hidesLower || c.opaque)
      if (kind === null && sub.changes.length > 0) kind = 'C'
      if (kind === 'A' && sub.changes.length === 0 && sub.members.length === 0 && !c.opaque && (exact.has(p) || ancestors.has(p))) continue
      if (kind) changes.push({ path: shown(p), kind })
      changes.push(...sub.changes)
      if (kind || c.opaque || sub.members.length > 0) members.push(p, ...sub.members)
    }
    return { changes, members }
  }
  return visit(root, true, false)
}

function nodeOf(st: BigIntStats): FileNode {
  return { mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid), rdev: Number(st.rdev), size: Number(st.size), mtimeNs: st.mtimeNs }
}

async function lstatNode(abs: string): Promise<FileNode | null> {
  try {
    return nodeOf(await fsp.lstat(fsPath(abs), { bigint: true }))
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return null
    throw err
  }
}

async function readdirNames(abs: string): Promise<string[]> {
  try {
    return (await fsp.readdir(fsPath(abs), { encoding: 'buffer' })).map((b) => b.toString('latin1')).sort(byName)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return []
    throw err
  }
}

/** A layer directory on disk; opaque flags are read in batches by prefetch(). */
class DirLayer implements LayerSource {
  private readonly stats = new Map<string, FileNode | null>()
  private readonly opaque = new Map<string, boolean>()

  constructor(readonly root: string) {}

  async lstat(p: string): Promise<FileNode | null> {
    let n = this.stats.get(p)
    if (n === undefined) {
      n = await lstatNode(path.join(this.root, p))
      this.stats.set(p, n)
    }
    return n
  }

  readdir(p: string): Promise<string[]> {
    return readdirNames(path.join(this.root, p))
  }

  async isOpaque(p: string): Promise<boolean> {
    if (!this.opaque.has(p)) await this.prefetch([p])
    return this.opaque.get(p) ?? false
  }

  /** Read the opaque flag of these directories (which the caller found to be directories) in one tar run. */
  async prefetch(dirs: readonly string[]): Promise<void> {
    const todo = dirs.filter((d) => d !== '' && !this.opaque.has(d))
    for (const d of todo) this.opaque.set(d, false)
    for (const d of await opaqueDirs(this.root, todo)) this.opaque.set(d, true)
  }
}

async function readUpper(root: string): Promise<UpperEntry> {
  const rootNode = await lstatNode(root)
  if (!rootNode || !isDir(rootNode)) throw internal(`upper directory ${root} is missing`)
  const dirs: UpperEntry[] = []
  const read = async (e: UpperEntry): Promise<void> => {
    e.children = []
    for (const name of await readdirNames(path.join(root, e.path))) {
      const p = join(e.path, name)
      const node = await lstatNode(path.join(root, p))
      if (!node) continue
      const child: UpperEntry = { name, path: p, node, opaque: false }
      e.children.push(child)
      if (isDir(node)) {
        dirs.push(child)
        await read(child)
      }
    }
  }
  const top: UpperEntry = { name: '', path: '', node: rootNode, opaque: false }
  await read(top)
  const opaque = await opaqueDirs(root, dirs.map((d) => d.path))
  for (const d of dirs) d.opaque = opaque.has(d.path)
  return top
}

/** Mark in each lower layer the opaque flags of the upper's directories that the layer also has, one tar run per layer. */
async function prefetchLowers(layers: readonly DirLayer[], top: UpperEntry): Promise<void> {
  for (const layer of layers) {
    const found: string[] = []
    const walk = async (e: UpperEntry): Promise<void> => {
      for (const c of e.children ?? []) {
        if (!c.children) continue
        const n = await layer.lstat(c.path)
        if (!n || !isDir(n)) continue
        found.push(c.path)
        await walk(c)
      }
    }
    await walk(top)
    await layer.prefetch(found)
  }
}

/**
 * Diff an upper directory against its lowers. The writable layer should not
 * change meanwhile (the container is stopped or paused).
 */
export async function diffUpper(opts: DiffUpperOptions): Promise<UpperDiff> {
  const top = await readUpper(opts.upper)
  const layers = opts.lowers.map((l) => new DirLayer(l))
  await prefetchLowers(layers, top)
  return computeDiff(top, new MergedLower(layers), opts.mountpoints)
}

/** The empty layer tar (two zero blocks) hashes to this; docker records no layer for it. */
export const EMPTY_LAYER_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef'

/**
 * Rewrite one GNU tar header of an upper dir into docker's layer form: names
 * lose `./`; a whiteout becomes an empty `.wh.NAME` file; an opaque directory
 * is followed by `.wh..wh..opq`; overlay's own xattrs, atime and ctime go;
 * mtimes are whole seconds and owners numeric only, so the same content
 * with the same mtimes gives the same diffID (moby go-archive FileInfoHeader
 * and overlayWhiteoutConverter). Returns the headers to write, in order.
 */
export function layerHeaders(h: TarHeader): TarHeader[] {
  const name = h.name.replace(/^(\.\/)+/, '').replace(/\/+$/, '')
  if (name === '' || name === '.') return []
  const pax = new Map<string, Buffer>()
  let opaque = false
  for (const [k, v] of h.pax) {
    if (OPAQUE_XATTRS.includes(k)) opaque = v.toString('latin1') === 'y'
    if (!k.startsWith('SCHILY.xattr.') || k.startsWith('SCHILY.xattr.trusted.overlay.') || k.startsWith('SCHILY.xattr.user.overlay.')) continue
    pax.set(k, k === CAPABILITY ? capabilityV2(v) : v)
  }
  const mtime = Math.max(0, Math.floor(h.mtime))
  const common = { uid: h.uid, gid: h.gid, uname: '', gname: '' }
  if (h.type === 'char' && h.devmajor === 0 && h.devminor === 0) {
    const dir = path.posix.dirname(name)
    const wh = (dir === '.' ? '' : `${dir}/`) + WHITEOUT + path.posix.basename(name)
    return [newHeader(wh, 'file', { ...common, mode: 0o600, mtime })]
  }
  const out: TarHeader = { ...h, ...common, name, mtime, pax, linkname: h.type === 'link' ? h.linkname.replace(/^(\.\/)+/, '') : h.linkname }
  if (h.type === 'dir' && opaque) return [out, newHeader(`${name}/${OPAQUE_MARKER}`, 'file', { ...common, mode: h.mode & 0o777, mtime: 0 })]
  return [out]
}

/**
 * A file capability of revision 3 (namespaced root) as revision 2, as docker
 * stores it: the root ID only means something inside the namespace.
 */
export function capabilityV2(v: Buffer): Buffer {
  if (v.length >= 24 && v[3] === 3) {
    const out = Buffer.from(v.subarray(0, 20))
    out[3] = 2
    return out
  }
  return v
}

/**
 * The layer tar of an upper directory: the members diffUpper chose, in its
 * order, read by GNU tar (modes, owners, hard links within the layer,
 * devices, symlinks, xattrs) and rewritten by layerHeaders. Ends with the
 * end-of-archive blocks, so no members gives the empty layer.
 */
export function layerTar(upper: string, members: readonly string[]): Readable {
  if (members.length === 0) return Readable.from([END_OF_ARCHIVE], { objectMode: false })
  const tar = tarList(upper, members, ['--xattrs', '--xattrs-include=*'])
  async function* gen(): AsyncGenerator<Buffer> {
    try {
      const reader = new TarReader(tar.stdout as Readable)
      for (let h = await reader.next(); h; h = await reader.next()) {
        for (const out of layerHeaders(h)) yield encodeHeader(out)
        if (h.type === 'file' && h.size > 0) {
          for await (const c of reader.body()) yield c
          yield padding(h.size)
        }
      }
      await tar.done
      yield END_OF_ARCHIVE
    } catch (err) {
      // A tar that died mid-stream explains itself better than the truncated archive does.
      tar.kill()
      await tar.done
      throw err
    } finally {
      tar.kill()
    }
  }
  return Readable.from(gen(), { objectMode: false })
}

/** Which of these directories (relative to root) carry overlay's opaque xattr. */
async function opaqueDirs(root: string, dirs: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>()
  if (dirs.length === 0) return out
  const tar = tarList(root, dirs, ['--xattrs', '--xattrs-include=trusted.overlay.opaque', '--xattrs-include=user.overlay.opaque'])
  try {
    const reader = new TarReader(tar.stdout as Readable)
    for (let h = await reader.next(); h; h = await reader.next()) {
      if (OPAQUE_XATTRS.some((k) => h.pax.get(k)?.toString('latin1') === 'y')) out.add(h.name.replace(/^(\.\/)+/, '').replace(/\/+$/, ''))
    }
    await tar.done
  } finally {
    tar.kill()
  }
  return out
}

