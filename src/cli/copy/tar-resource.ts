/**
 * A local file or directory as the tar `docker cp` uploads (go-archive's
 * TarResourceRebase over TarWithOptions): the path's base and everything
 * below it in lexical order, names relative to the parent ("./" prefixed
 * for a "dir/." source), the top element renamed when asked, owners and
 * modes as on disk, whole-second mtimes, hard links as links to the first
 * name seen. Sockets are left out, as Go's tar cannot hold them.
 * Node cannot read xattrs, so the security.capability Go adds is not sent.
 */
import { promises as fsp, type Stats } from 'node:fs'
import { newHeader, type EntryType, type TarHeader } from '../../archive/index.js'
import { pathError } from './errors.js'
import type { TarEntry } from './entries.js'
import { splitPathDirEntry } from './paths.js'

/** Byte order of the UTF-8 names, as Go's os.ReadDir sorts. */
function byName(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

/** A tar name from a UTF-8 path: archive/ writes names one char per byte. */
export function binaryName(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1')
}

export function entryType(st: Stats): EntryType | undefined {
  if (st.isFile()) return 'file'
  if (st.isDirectory()) return 'dir'
  if (st.isSymbolicLink()) return 'symlink'
  if (st.isCharacterDevice()) return 'char'
  if (st.isBlockDevice()) return 'block'
  if (st.isFIFO()) return 'fifo'
  return undefined
}

/** Linux dev_t → (major, minor), glibc's encoding. */
export function devNumbers(rdev: number): [number, number] {
  const big = BigInt(rdev)
  return [Number(((big >> 8n) & 0xfffn) | ((big >> 32n) & ~0xfffn)), Number((big & 0xffn) | ((big >> 12n) & ~0xffn))]
}

/** Exactly `size` bytes of a file: cut if it grew, zero-filled if it shrank, so the tar stays whole. */
export async function* fileBytes(abs: string, size: number, openError: (e: unknown) => unknown = (e) => e): AsyncGenerator<Buffer> {
  let fh
  try {
    fh = await fsp.open(abs, 'r')
  } catch (e) {
    throw openError(e)
  }
  try {
    let left = size
    const buf = Buffer.alloc(Math.min(size, 1 << 20))
    while (left > 0) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, left), null)
      if (bytesRead === 0) break
      left -= bytesRead
      yield Buffer.from(buf.subarray(0, bytesRead))
    }
    if (left > 0) yield Buffer.alloc(left)
  } finally {
    await fh.close()
  }
}

/**
 * The entries of sourcePath's tar. Its base is renamed to rebaseName when
 * one is given ("/" renames it to nothing), the first occurrence in each
 * name as go-archive does.
 */
export async function* tarResource(sourcePath: string, rebaseName = ''): AsyncGenerator<TarEntry> {
  try {
    await fsp.lstat(sourcePath)
  } catch (e) {
    throw pathError('lstat', sourcePath, e)
  }
  const [sourceDir, include] = splitPathDirEntry(sourcePath)
  // The root itself ("/") has no parent to be named from: its entries are named from it.
  const root = include === '/' ? '/' : sourceDir.replace(/\/$/, '') + '/' + include
  const seen = new Map<string, string>()

  const nameOf = (rel: string, isDir: boolean): string => {
    let name = rel
    if (include === '.' && rel !== '.') name = `./${rel}`
    if (rebaseName !== '') {
      const i = name.indexOf(include)
      if (i >= 0) name = name.slice(0, i) + (rebaseName === '/' ? '' : rebaseName) + name.slice(i + include.length)
    }
    return isDir && !name.endsWith('/') ? `${name}/` : name
  }

  async function* walk(abs: string, rel: string): AsyncGenerator<TarEntry> {
    let st: Stats
    try {
      st = await fsp.lstat(abs)
    } catch {
      // A file that went away while walking is left out, as Go's walk does.
      return
    }
    const type = entryType(st)
    if (type) {
      const name = binaryName(nameOf(rel, type === 'dir'))
      const fields: Partial<TarHeader> = {
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        mtime: Math.floor(st.mtimeMs / 1000),
      }
      if (type === 'symlink') {
        try {
          fields.linkname = binaryName(await fsp.readlink(abs))
        } catch {
          return
        }
      }
      if (type === 'char' || type === 'block') [fields.devmajor, fields.devminor] = devNumbers(st.rdev)
      let linkTo: string | undefined
      if (type !== 'dir' && st.nlink > 1) {
        const inode = `${st.dev}:${st.ino}`
        linkTo = seen.get(inode)
        if (linkTo === undefined) seen.set(inode, name)
      }
      if (linkTo !== undefined) {
        yield { header: newHeader(name, 'link', { ...fields, linkname: linkTo }) }
      } else if (type === 'file' && st.size > 0) {
        yield { header: newHeader(name, 'file', { ...fields, size: st.size }), body: fileBytes(abs, st.size, (e) => pathError('open', abs, e)) }
      } else {
        yield { header: newHeader(name, type, fields) }
      }
    }
    if (!st.isDirectory()) return
    let names: string[]
    try {
      names = (await fsp.readdir(abs)).sort(byName)
    } catch {
      // Go's walk logs an unreadable directory and goes on.
      return
    }
    for (const n of names) yield* walk(`${abs === '/' ? '' : abs}/${n}`, rel === '.' ? n : `${rel}/${n}`)
  }

  yield* walk(root, include === '.' || include === '/' ? '.' : include)
}
