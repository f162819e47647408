/**
 * The checksums COPY and ADD put into the cache key and history text, as
 * docker's classic builder computes them (moby builder/remotecontext:
 * archive.go, lazycontext.go, filehash.go; pkg/tarsum v1): per file, sha256
 * over selected tar header fields (name, mode, uid, gid, size, type, link
 * target, device numbers, xattrs; not the mtime) followed by its content.
 *
 * A context that came as a tar takes the sums from the tar headers while it
 * is extracted (extractContext); any other tree (a --from stage, a
 * download) is hashed from disk on demand. Both give the same sum for the
 * same file, so `COPY` of an unchanged file hits the cache whichever way.
 */
import { createHash, type Hash } from 'node:crypto'
import { promises as fsp, type Stats } from 'node:fs'
import path from 'node:path'
import { invalidArgument } from '../errors/index.js'
import type { TarHeader } from '../archive/index.js'
import { resolveInRoot } from './rootfs.js'

/** The header fields tarsum v1 hashes, in its order. Names are bytes, as in the tar. */
export interface SumHeader {
  name: Buffer
  mode: number
  uid: number
  gid: number
  size: number
  /** The tar type flag: '0' file, '1' hard link, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo. */
  typeflag: string
  linkname: Buffer
  devmajor: number
  devminor: number
  /** xattr name → value. */
  xattrs: Array<[Buffer, Buffer]>
}

/** Context sums by cleaned relative path (`.` for the root), as extractContext records them. */
export type ContextSums = ReadonlyMap<string, string>

const TYPEFLAGS: Record<TarHeader['type'], string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' }

/** A sha256 primed with the entry's header; feed it the content, then digest('hex'). */
export function headerHash(h: SumHeader): Hash {
  const hash = createHash('sha256')
  hash.update('name')
  hash.update(h.name)
  hash.update(`mode${h.mode}uid${h.uid}gid${h.gid}size${h.size}typeflag${h.typeflag}linkname`)
  hash.update(h.linkname)
  // uname and gname are always hashed empty (tarsum drops them; lookups are off on disk).
  hash.update(`unamegnamedevmajor${h.devmajor}devminor${h.devminor}`)
  const xattrs = [...h.xattrs].sort(([a], [b]) => Buffer.compare(a, b))
  for (const [k, v] of xattrs) {
    hash.update(k)
    hash.update(v)
  }
  return hash
}

/** The tarsum header of an entry as read from a tar. */
export function sumHeaderOfTar(h: TarHeader): SumHeader {
  const xattrs: Array<[Buffer, Buffer]> = []
  for (const [k, v] of h.pax) {
    if (k.startsWith('SCHILY.xattr.')) xattrs.push([Buffer.from(k.slice('SCHILY.xattr.'.length), 'utf8'), v])
  }
  return {
    name: Buffer.from(h.name, 'latin1'),
    mode: h.mode,
    uid: h.uid,
    gid: h.gid,
    size: h.type === 'file' ? h.size : 0,
    typeflag: TYPEFLAGS[h.type],
    linkname: Buffer.from(h.linkname, 'latin1'),
    devmajor: h.devmajor,
    devminor: h.devminor,
    xattrs,
  }
}

/** Linux's dev_t split (glibc gnu_dev_major/minor). */
function major(rdev: number): number {
  return Number(((BigInt(rdev) >> 8n) & 0xfffn) | ((BigInt(rdev) >> 32n) & ~0xfffn))
}
function minor(rdev: number): number {
  return Number((BigInt(rdev) & 0xffn) | ((BigInt(rdev) >> 12n) & ~0xffn))
}

/**
 * The tarsum header of a file on disk (moby NewFileHash: archive.FileInfoHeader
 * without name lookups). name is relative to the tree's root; directories get
 * a trailing `/`. Sockets have no tar form: an error, as in docker.
 */
export async function sumHeaderOfFile(name: string, host: string, st: Stats): Promise<SumHeader> {
  let typeflag: string
  let linkname = Buffer.alloc(0)
  if (st.isFile()) typeflag = '0'
  else if (st.isDirectory()) typeflag = '5'
  else if (st.isSymbolicLink()) {
    typeflag = '2'
    linkname = await fsp.readlink(host, { encoding: 'buffer' })
  } else if (st.isCharacterDevice()) typeflag = '3'
  else if (st.isBlockDevice()) typeflag = '4'
  else if (st.isFIFO()) typeflag = '6'
  else throw new Error(`archive/tar: sockets not supported: ${name}`)
  return {
    name: Buffer.from(st.isDirectory() && !name.endsWith('/') ? `${name}/` : name, 'utf8'),
    mode: st.mode & 0o7777,
    uid: st.uid,
    gid: st.gid,
    size: st.isFile() ? st.size : 0,
    typeflag,
    linkname,
    // rdev is 0 for anything but devices.
    devmajor: major(st.rdev),
    devminor: minor(st.rdev),
    xattrs: [],
  }
}

const READ_CHUNK = 1 << 20

/** sha256 of a file on disk as moby's lazy source hashes it: header, then content for regular files. */
export async function hashFile(name: string, host: string, st: Stats): Promise<string> {
  const h = headerHash(await sumHeaderOfFile(name, host, st))
  if (st.isFile() && st.size > 0) {
    const fh = await fsp.open(host, 'r')
    try {
      const buf = Buffer.allocUnsafe(Math.min(st.size, READ_CHUNK))
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, null)
        if (bytesRead === 0) break
        h.update(buf.subarray(0, bytesRead))
      }
    } finally {
      await fh.close()
    }
  }
  return h.digest('hex')
}

/**
 * A path inside a source tree, resolved as moby's FollowSymlinkInScope: the
 * lexical path must stay inside root (else docker's "forbidden path"
 * error), then every symlink on it, the last one included, is followed with
 * root standing for `/`.
 */
export async function resolveSource(root: string, p: string): Promise<{ host: string; rel: string }> {
  const joined = path.join(root, p)
  if (joined !== root && !joined.startsWith(root.endsWith('/') ? root : `${root}/`)) {
    throw invalidArgument(`forbidden path outside the build context: ${p} ()`)
  }
  const host = await resolveInRoot(root, path.relative(root, joined))
  return { host, rel: path.relative(root, host) || '.' }
}

/**
 * docker's builder.Source.Hash for one tree: the sum of the file a path
 * leads to (symlinks followed inside the tree). With precomputed sums (a
 * context from a tar) a path the tar had no entry for hashes to the path
 * itself; without, a path leading nowhere hashes to its resolved relative
 * path — both as docker, for compatibility of the cache keys.
 */
export class SourceHashes {
  private readonly lazy = new Map<string, string>()

  constructor(
    readonly root: string,
    private readonly sums?: ContextSums,
  ) {}

  async hash(p: string): Promise<string> {
    const { host, rel } = await resolveSource(this.root, p)
    return this.hashResolved(rel, host, p)
  }

  /** hash() for a path already resolved (rel relative to root, host its host path); orig is the path asked for. */
  async hashResolved(rel: string, host: string, orig: string, st?: Stats): Promise<string> {
    if (this.sums) return this.sums.get(rel) ?? orig
    const known = this.lazy.get(rel)
    if (known !== undefined) return known
    const info = st ?? (await fsp.lstat(host).catch(() => undefined))
    if (!info) return rel
    const sum = await hashFile(rel, host, info)
    this.lazy.set(rel, sum)
    return sum
  }
}
