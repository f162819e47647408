/**
 * Unpacking a tar onto disk for the builder: the build context (a fresh,
 * empty directory) and ADD's local archives (into a directory of the image
 * being built). The input is hostile. Every header is checked here first,
 * so nothing lands outside the directory. The context, often thousands of
 * small files, is then written by GNU tar fed the checked headers re-encoded
 * (a third of the time of Node's per-file calls); ADD's archives, whose
 * paths must be resolved against what is on disk, with Node's fs calls:
 *
 * - `context`: names climbing out of the directory, paths through a symlink
 *   the archive made, and hard links to anything the archive did not make are
 *   refused with an invalid-argument error.
 * - `chroot`: as docker's chrootarchive.Untar (the archive unpacked with the
 *   directory as its `/`): names are resolved inside the directory, symlinks
 *   followed there, `..` stopping at it; with `under` (docker cp's PUT), a
 *   name climbing out of that directory is refused, as go-archive does.
 *
 * Either way an existing entry is replaced unless both are directories (then
 * the archive's metadata is applied), ownership is the archive's when running
 * as root, modes and mtimes are the archive's (directories' at the end),
 * `.wh.` names are ordinary files, and device nodes and FIFOs are skipped
 * (nothing a build context or an image needs; Node cannot make them).
 * Extended attributes are not set.
 *
 * Not archive/applyLayer, though the context goes the same way: that writes
 * layers (whiteouts become overlay ones, everything is refused that a layer
 * may not contain). Not npm's tar either: a second parser, and the context's checksums need the
 * headers as archive's TarReader keeps them (names as bytes, PAX xattrs).
 */
import type { ChildProcess } from 'node:child_process'
import type { Hash } from 'node:crypto'
import { constants, promises as fsp } from 'node:fs'
import path from 'node:path'
import type { Writable } from 'node:stream'
import { EngineError, invalidArgument, internal } from '../errors/index.js'
import { run } from '../lib/index.js'
import { encodeHeader, END_OF_ARCHIVE, newHeader, padding, tarExtract, TarReader, type TarHeader } from '../archive/index.js'
import { RootDir, type DirRef } from './rootfd.js'
import { TaskPool } from './pool.js'
import { headerHash, sumHeaderOfTar } from './tarsum.js'

export interface ExtractOptions {
  /** `context`: dir is new and empty, GNU tar writes it; `chroot`: dir has content, Node's fs calls write it. */
  mode: 'context' | 'chroot'
  /** Record each entry's tarsum here, by cleaned name (`.` for the root). */
  sums?: Map<string, string>
  /** What the error messages call the input (default "archive"). */
  what?: string
  signal?: AbortSignal
  /** `chroot` only: the directory inside dir (a path from dir as `/`) the names are relative to (docker cp's destination). */
  under?: string
  /** `chroot` only: an entry may not replace a directory with a non-directory or the reverse (docker's NoOverwriteDirNonDir). */
  noOverwriteDirNonDir?: boolean
  /** `chroot` only: every entry gets this owner instead of the archive's (docker cp -a into a container with a user). */
  owner?: { uid: number; gid: number }
}

type Kind = 'dir' | 'file' | 'symlink' | 'other'

const IMPLIED_DIR_MODE = 0o755
/** Errors that say the disk, not the archive, is the problem. */
const HOST_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'ENOMEM', 'EMFILE', 'ENFILE', 'EROFS'])

const asRoot = () => process.getuid?.() === 0

/** A tar name or link target as text: UTF-8 without NUL, or refused. */
function decodeName(raw: string, what: string): string {
  const bytes = Buffer.from(raw, 'latin1')
  const text = bytes.toString('utf8')
  if (text.includes('\0') || !Buffer.from(text, 'utf8').equals(bytes)) {
    throw invalidArgument(`invalid ${what}: name ${JSON.stringify(text)} is not valid UTF-8`)
  }
  return text
}

/** Write all of buf (a write may take less than asked). */
async function writeAll(fh: fsp.FileHandle, buf: Buffer): Promise<void> {
  let off = 0
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off)
    off += bytesWritten
  }
}

/** Files up to this size are read into memory and written by the pool, in parallel with reading on. */
const SMALL_FILE = 1 << 20

/** Unpack the (uncompressed) tar into dir, which must exist. On error dir may hold part of it; nothing is written outside. */
export async function extractTar(input: AsyncIterable<Uint8Array>, dir: string, opts: ExtractOptions): Promise<void> {
  if (opts.mode === 'context') return extractContextTar(input, dir, opts)
  const what = opts.what ?? 'archive'
  const refuse = (msg: string) => invalidArgument(`invalid ${what}: ${msg}`)
  const root = path.resolve(dir)
  const owner = asRoot()
  const under = path.posix.normalize(`/${opts.under ?? '/'}`)
  const ids = (h: TarHeader) => opts.owner ?? { uid: h.uid, gid: h.gid }
  const reader = new TarReader(input)
  // Directories (paths with dir as `/`) whose mtimes are set at the end.
  const dirTimes: Array<[string, number]> = []
  // Every directory is reached through descriptors (rootfd.ts): something running in dir may be changing it.
  const rootDir = await RootDir.open(root)
  // Parent directories by entry name; a removal drops what was under it (closed at the end).
  const resolved = new Map<string, DirRef>()
  const dropped: DirRef[] = []
  // Small files are written by the pool; an entry touching one of their paths waits for all of them.
  const pool = new TaskPool()
  const pending = new Set<string>()
  const barrier = async () => {
    await pool.drain()
    pending.clear()
  }

  /** The (descriptor) path of a cleaned, relative name's parent, made if missing. */
  const parentOf = async (name: string): Promise<string> => {
    const parent = path.posix.dirname(name)
    let dir = resolved.get(parent)
    if (dir === undefined) {
      dir = await rootDir.openDir(path.posix.join(under, parent), { mkdir: IMPLIED_DIR_MODE })
      resolved.set(parent, dir)
    }
    return dir.path
  }
  /** The directory `name` is gone: parents at or under it must be walked again. */
  const forget = (name: string) => {
    for (const [k, d] of resolved) {
      if (k === name || k.startsWith(`${name}/`)) {
        resolved.delete(k)
        dropped.push(d)
      }
    }
  }

  /**
   * Make room for the entry `name` at host: what is there goes unless both
   * are directories. Returns whether a directory stays.
   */
  const prepare = async (host: string, name: string, entryIsDir: boolean): Promise<boolean> => {
    if (pending.has(name)) await barrier()
    const st = await fsp.lstat(host).catch(() => undefined)
    if (!st) return false
    if (st.isDirectory() && entryIsDir) return true
    if (opts.noOverwriteDirNonDir && st.isDirectory() !== entryIsDir) {
      // go-archive's words, with paths as the container sees them.
      const shown = path.posix.join(under, name)
      throw internal(st.isDirectory() ? `cannot overwrite directory ${JSON.stringify(shown)} with non-directory ${JSON.stringify(under)}` : `cannot overwrite non-directory ${JSON.stringify(shown)} with directory ${JSON.stringify(under)}`)
    }
    if (st.isDirectory()) {
      // Removing a directory may remove files still being written; GNU rm does not follow a symlink swapped in.
      await barrier()
      await run('rm', ['-rf', '--', host.replace('/proc/self/', `/proc/${process.pid}/`)])
      forget(name)
    } else {
      await fsp.unlink(host)
    }
    return false
  }

  /** Owner, mode and times of a directory or symlink just made (a file gets them through its descriptor). */
  const applyMeta = async (host: string, name: string, h: TarHeader) => {
    if (h.type === 'symlink') {
      if (owner) await fsp.lchown(host, ids(h).uid, ids(h).gid)
      await fsp.lutimes(host, h.mtime, h.mtime)
      return
    }
    const fh = await fsp.open(host, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW)
    try {
      if (owner) await fh.chown(ids(h).uid, ids(h).gid)
      // After chown, which clears set-id bits.
      await fh.chmod(h.mode & 0o7777)
    } finally {
      await fh.close()
    }
    dirTimes.push([path.posix.join(under, name), h.mtime])
  }

  const writeFile = async (host: string, h: TarHeader, data: AsyncIterable<Buffer> | Buffer, sum?: Hash): Promise<void> => {
    const fh = await fsp.open(host, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
    try {
      let n = 0
      if (Buffer.isBuffer(data)) {
        await writeAll(fh, data)
        n = data.length
      } else {
        for await (const c of data) {
          sum?.update(c)
          n += c.length
          await writeAll(fh, c)
        }
      }
      if (n !== h.size) throw refuse('truncated entry')
      if (owner) await fh.chown(ids(h).uid, ids(h).gid)
      await fh.chmod(h.mode & 0o7777)
      await fh.utimes(h.mtime, h.mtime)
    } finally {
      await fh.close()
    }
  }

  try {
    for (;;) {
      opts.signal?.throwIfAborted()
      const h = await reader.next()
      if (!h) break
      const sum = opts.sums ? headerHash(sumHeaderOfTar(h)) : undefined
      const raw = decodeName(h.name, what)
      // As go-archive's Unpack at `under`: a name climbing above `/` stops there, one climbing out of `under` is refused.
      const joined = path.posix.join(under, raw)
      if (joined !== under && !joined.startsWith(under === '/' ? '/' : `${under}/`)) throw refuse(`${JSON.stringify(raw)} is outside of ${JSON.stringify(under)}`)
      const name = path.posix.relative(under, joined) || '.'
      if (name === '.') {
        // The root itself: docker skips it (its own metadata stays).
        await drainInto(reader, sum)
        if (sum) opts.sums?.set(name, sum.digest('hex'))
        continue
      }

      const base = path.posix.basename(name)
      switch (h.type) {
        case 'dir': {
          const host = path.join(await parentOf(name), base)
          if (!(await prepare(host, name, true))) await fsp.mkdir(host, { mode: 0o700 })
          await applyMeta(host, name, h)
          break
        }
        case 'file': {
          const host = path.join(await parentOf(name), base)
          await prepare(host, name, false)
          if (h.size <= SMALL_FILE) {
            const chunks: Buffer[] = []
            for await (const c of reader.body()) {
              sum?.update(c)
              chunks.push(c)
            }
            const data = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)
            pending.add(name)
            await pool.add(() => writeFile(host, h, data))
          } else {
            await writeFile(host, h, reader.body(), sum)
          }
          break
        }
        case 'symlink': {
          if (h.linkname === '') throw refuse(`symlink ${JSON.stringify(name)} has no target`)
          const target = decodeName(h.linkname, what)
          const host = path.join(await parentOf(name), base)
          await prepare(host, name, false)
          await fsp.symlink(target, host)
          await applyMeta(host, name, h)
          break
        }
        case 'link': {
          const linkRaw = decodeName(h.linkname, what)
          const target = path.posix.join(under, path.posix.normalize(`/${linkRaw}`))
          const srcName = path.posix.relative(under, target)
          if (pending.has(srcName)) await barrier()
          const { dir: srcDir, name: srcBase } = await rootDir.openParent(target).catch(() => ({ dir: undefined, name: '' }))
          try {
            const src = srcDir && srcBase ? `${srcDir.path}/${srcBase}` : undefined
            const st = src ? await fsp.lstat(src).catch(() => undefined) : undefined
            if (!src || !st) throw refuse(`hard link ${JSON.stringify(name)} to ${JSON.stringify(linkRaw)}, which does not exist`)
            if (st.isDirectory()) throw refuse(`hard link ${JSON.stringify(name)} to directory ${JSON.stringify(linkRaw)}`)
            if (srcName !== name) {
              const host = path.join(await parentOf(name), base)
              await prepare(host, name, false)
              await fsp.link(src, host)
            }
          } finally {
            await srcDir?.close()
          }
          break
        }
        default:
        // Device nodes and FIFOs: skipped.
      }
      await drainInto(reader, sum)
      if (sum) opts.sums?.set(name, sum.digest('hex'))
    }
    await reader.drain()
    await barrier()
    for (const [dir, mtime] of dirTimes.reverse()) {
      const d = await rootDir.openDir(dir)
      try {
        await fsp.utimes(d.path, mtime, mtime)
      } finally {
        await d.close()
      }
    }
  } catch (err) {
    // Nothing may still be writing when the caller cleans up.
    await pool.settle()
    if (err instanceof EngineError) throw err
    if ((err as Error).name === 'AbortError') throw err
    const code = (err as NodeJS.ErrnoException).code
    const msg = (err as Error).message.split(root).join('').replace(/\/proc\/self\/fd\/\d+/g, '')
    if (code && HOST_ERRORS.has(code)) throw internal(`extracting ${what}: ${msg}`, err)
    throw refuse(msg)
  } finally {
    for (const d of [...resolved.values(), ...dropped]) await d.close().catch(() => {})
    await rootDir.close()
  }
}

/** Data written to tar is batched into pipe writes of about this size. */
const BATCH = 256 << 10

/**
 * One GNU tar process unpacking into dir, fed re-encoded headers. Only
 * ownership, modes and mtimes come from the headers; xattrs are off.
 */
class TarSink {
  private readonly child: ChildProcess
  private readonly stdin: Writable
  private readonly done: Promise<void>
  private failed: unknown
  private batch: Buffer[] = []
  private batched = 0

  constructor(dir: string) {
    const tar = tarExtract(dir, { xattrs: false })
    this.child = tar.child
    this.stdin = this.child.stdin as Writable
    this.stdin.on('error', () => {})
    this.done = tar.done.catch((e: unknown) => {
      const err = internal(`extracting build context: ${(e as Error).message}`, e)
      this.failed = err
      throw err
    })
    this.done.catch(() => {})
  }

  async write(b: Buffer): Promise<void> {
    if (b.length === 0) return
    this.batch.push(b)
    this.batched += b.length
    if (this.batched >= BATCH) await this.flush()
  }

  private async flush(): Promise<void> {
    if (this.failed) throw this.failed
    if (this.batched === 0) return
    const b = this.batch.length === 1 ? (this.batch[0] as Buffer) : Buffer.concat(this.batch, this.batched)
    this.batch = []
    this.batched = 0
    if (this.stdin.write(b)) return
    await new Promise<void>((resolve, reject) => {
      const onDrain = () => { cleanup(); resolve() }
      const onClose = () => { cleanup(); reject(this.failed ?? new Error('tar closed its input early')) }
      const cleanup = () => { this.stdin.off('drain', onDrain); this.stdin.off('close', onClose) }
      this.stdin.once('drain', onDrain)
      this.stdin.once('close', onClose)
    })
  }

  /** End the archive and wait for tar to finish. */
  async finish(): Promise<void> {
    await this.write(END_OF_ARCHIVE)
    await this.flush()
    this.stdin.end()
    await this.done
  }

  async kill(): Promise<void> {
    this.stdin.destroy()
    this.child.kill('SIGKILL')
    await this.done.catch(() => {})
  }
}

/**
 * Context mode: the headers are checked here (the same rules as below, on
 * names alone, since the directory started empty), the sums taken, and the
 * entries re-encoded for GNU tar, which makes the files far faster than
 * Node's per-file calls. An entry replacing one the archive made ends the
 * tar process, is removed here, and a new tar takes over.
 */
async function extractContextTar(input: AsyncIterable<Uint8Array>, dir: string, opts: ExtractOptions): Promise<void> {
  const what = opts.what ?? 'archive'
  const refuse = (msg: string) => invalidArgument(`invalid ${what}: ${msg}`)
  const root = path.resolve(dir)
  const reader = new TarReader(input)
  const kinds = new Map<string, Kind>()
  // Directory mtimes, set again at the end when more than one tar ran (a later one touches them).
  const dirTimes = new Map<string, number>()
  let restarts = 0
  let tar: TarSink | undefined
  const sink = (): TarSink => (tar ??= new TarSink(root))
  const uid = process.getuid?.() ?? 0
  const gid = process.getgid?.() ?? 0
  const now = Math.floor(Date.now() / 1000)

  /** Check name's ancestors; directories the archive implies get docker's 0755. */
  const parents = async (name: string) => {
    for (let i = name.indexOf('/'); i !== -1; i = name.indexOf('/', i + 1)) {
      const anc = name.slice(0, i)
      const k = kinds.get(anc)
      if (k === 'dir') continue
      if (k === 'symlink') throw refuse(`${JSON.stringify(name)} goes through symlink ${JSON.stringify(anc)}`)
      if (k !== undefined) throw refuse(`${JSON.stringify(name)} is below non-directory ${JSON.stringify(anc)}`)
      await sink().write(encodeHeader(newHeader(anc, 'dir', { mode: IMPLIED_DIR_MODE, uid, gid, mtime: now })))
      kinds.set(anc, 'dir')
    }
  }

  /** Make room for name: what the archive put there goes unless both are directories. */
  const replace = async (name: string, entryIsDir: boolean) => {
    const k = kinds.get(name)
    if (k === undefined || k === 'other' || (k === 'dir' && entryIsDir)) return
    if (tar) {
      const t = tar
      tar = undefined
      await t.finish()
      restarts++
    }
    await fsp.rm(path.join(root, name), { recursive: true, force: true })
    kinds.delete(name)
    if (k === 'dir') {
      const prefix = `${name}/`
      for (const key of [...kinds.keys()]) if (key.startsWith(prefix)) kinds.delete(key)
      for (const key of [...dirTimes.keys()]) if (key.startsWith(prefix)) dirTimes.delete(key)
      dirTimes.delete(name)
    }
  }

  try {
    for (;;) {
      opts.signal?.throwIfAborted()
      const h = await reader.next()
      if (!h) break
      const sum = opts.sums ? headerHash(sumHeaderOfTar(h)) : undefined
      const raw = decodeName(h.name, what)
      const name = path.posix.normalize(raw.replace(/^\/+/, '') || '.').replace(/\/+$/, '') || '.'
      if (name === '..' || name.startsWith('../')) throw refuse(`${JSON.stringify(raw)} points outside the ${what}`)
      // The root itself is skipped, as docker does (its own metadata stays); so are devices and FIFOs.
      let out: TarHeader | undefined
      if (name !== '.') {
        // Only the fields: PAX records (xattrs, GNU sparse maps, ...) stay out of tar's reach.
        const fields: TarHeader = { ...h, name, uname: '', gname: '', pax: new Map() }
        switch (h.type) {
          case 'dir':
            await parents(name)
            await replace(name, true)
            out = fields
            kinds.set(name, 'dir')
            dirTimes.set(name, h.mtime)
            break
          case 'file':
            await parents(name)
            await replace(name, false)
            out = fields
            kinds.set(name, 'file')
            break
          case 'symlink':
            if (h.linkname === '') throw refuse(`symlink ${JSON.stringify(name)} has no target`)
            decodeName(h.linkname, what)
            await parents(name)
            await replace(name, false)
            out = fields
            kinds.set(name, 'symlink')
            break
          case 'link': {
            const linkRaw = decodeName(h.linkname, what)
            const target = path.posix.normalize(linkRaw.replace(/^\/+/, '') || '.').replace(/\/+$/, '')
            const k = kinds.get(target)
            if (k === undefined || k === 'other') throw refuse(`hard link ${JSON.stringify(name)} to ${JSON.stringify(linkRaw)}, which the ${what} does not contain`)
            if (k === 'dir') throw refuse(`hard link ${JSON.stringify(name)} to directory ${JSON.stringify(linkRaw)}`)
            await parents(name)
            // A link to itself is already there (tar would remove the file to make it).
            if (target === name) break
            await replace(name, false)
            out = { ...fields, linkname: target, size: 0 }
            kinds.set(name, k)
            break
          }
          default:
            kinds.set(name, 'other')
        }
      }
      if (out) await sink().write(encodeHeader(out))
      if (out?.type === 'file') {
        let n = 0
        for await (const c of reader.body()) {
          sum?.update(c)
          n += c.length
          await sink().write(c)
        }
        if (n !== h.size) throw refuse('truncated entry')
        await sink().write(padding(h.size))
      } else {
        await drainInto(reader, sum)
      }
      if (sum) opts.sums?.set(name, sum.digest('hex'))
    }
    await reader.drain()
    await sink().finish()
    tar = undefined
    if (restarts > 0) {
      for (const [name, mtime] of [...dirTimes].reverse()) await fsp.utimes(path.join(root, name), mtime, mtime)
    }
  } catch (err) {
    // Nothing may still be writing when the caller cleans up.
    await tar?.kill()
    if (err instanceof EngineError) throw err
    if ((err as Error).name === 'AbortError') throw err
    const code = (err as NodeJS.ErrnoException).code
    const msg = (err as Error).message.split(root).join('')
    if (code && HOST_ERRORS.has(code)) throw internal(`extracting ${what}: ${msg}`, err)
    throw refuse(msg)
  }
}

/** Feed whatever of the entry's data is left to its sum (a skipped entry's sum still covers its data). */
async function drainInto(reader: TarReader, sum: Hash | undefined): Promise<void> {
  if (!sum) return
  for await (const c of reader.body()) sum.update(c)
}

