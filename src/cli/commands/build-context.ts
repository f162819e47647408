/**
 * The build context as the docker CLI makes it (docker/cli
 * cli/command/image/build/context.go and moby/go-archive's TarWithOptions):
 * a directory walked in lexical order into a tar, .dockerignore applied with
 * the Dockerfile and .dockerignore always kept, owners zeroed, modes,
 * symlinks and hard links kept; a Dockerfile from outside the directory or
 * from stdin added under a random name; stdin taken as a tar (possibly
 * compressed) or as a lone Dockerfile. The tar is produced while it is sent,
 * in chunks of 256 KiB (one per header, body and padding costs a socket
 * write and an HTTP chunk each), with the next small files already being read.
 */
import { randomBytes } from 'node:crypto'
import fs, { constants as fsc, promises as fsp, type Stats } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { createGzip } from 'node:zlib'
import { encodeHeader, END_OF_ARCHIVE, newHeader, padding, peek, type EntryType, type TarHeader } from '../../archive/index.js'
import { IgnoreMatcher, keepBuildFiles, parseDockerignore, type MatchInfo } from '../../builder/ignore/index.js'
import { binaryName, chunked, devNumbers, entryType, fileBytes } from '../copy/index.js'

export const DEFAULT_DOCKERFILE = 'Dockerfile'

/** A failure while preparing the context; the caller prefixes "unable to prepare context: " where docker does. */
export class ContextError extends Error {}

/** Go's text for a failed file operation: "lstat /x: no such file or directory". */
function pathError(op: string, p: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code
  const texts: Record<string, string> = { ENOENT: 'no such file or directory', EACCES: 'permission denied', ENOTDIR: 'not a directory', ELOOP: 'too many levels of symbolic links' }
  return `${op} ${p}: ${texts[code ?? ''] ?? (e as Error).message}`
}

/** Byte order of the UTF-8 names, as Go sorts directory entries. */
function byName(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

/** The .dockerignore patterns of a context directory (none when it has no such file). */
export async function readDockerignore(contextDir: string): Promise<string[]> {
  let text: string
  try {
    text = await fsp.readFile(path.join(contextDir, '.dockerignore'), 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw new Error(`error reading .dockerignore: ${(e as Error).message}`)
  }
  return parseDockerignore(text)
}

/** ResolveAndValidateContextPath: absolute, symlinks resolved, a directory. */
export async function resolveContextDir(given: string): Promise<string> {
  const abs = path.resolve(given)
  let real: string
  try {
    real = await fsp.realpath(abs)
  } catch (e) {
    throw new ContextError(`unable to evaluate symlinks in context path: ${pathError('lstat', abs, e)}`)
  }
  const st = await fsp.lstat(real).catch((e: unknown) => { throw new ContextError(`unable to stat context directory ${JSON.stringify(real)}: ${(e as Error).message}`) })
  if (!st.isDirectory()) throw new ContextError(`context must be a directory: ${real}`)
  return real
}

/**
 * getDockerfileRelPath: the Dockerfile's path relative to the context. `-f`
 * is relative to the working directory; without it `Dockerfile`, else
 * `dockerfile`, in the context. `-` stays `-` (stdin).
 */
export async function dockerfileRelPath(contextDir: string, given: string): Promise<string> {
  if (given === '-') return '-'
  let abs = given
  if (abs === '') {
    abs = path.join(contextDir, DEFAULT_DOCKERFILE)
    const lower = path.join(contextDir, DEFAULT_DOCKERFILE.toLowerCase())
    if (!(await exists(abs)) && (await exists(lower))) abs = lower
  }
  abs = path.resolve(contextDir, abs)
  try {
    abs = await fsp.realpath(abs)
  } catch (e) {
    throw new ContextError(`unable to evaluate symlinks in Dockerfile path: ${pathError('lstat', await firstMissing(abs), e)}`)
  }
  return path.relative(contextDir, abs)
}

/** The path EvalSymlinks names when it fails: the first component that is not there. */
async function firstMissing(p: string): Promise<string> {
  const parts = p.split(path.sep)
  for (let i = 2; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join(path.sep)
    if (!(await exists(prefix))) return prefix
  }
  return p
}

async function exists(p: string): Promise<boolean> {
  return fsp.lstat(p).then(() => true, () => false)
}

/**
 * ValidateContextDirectory: every file the patterns keep must be readable
 * (symlinks and pipes are not opened). Excluded directories are skipped
 * whole, as docker does here.
 */
export async function validateContextDirectory(contextDir: string, patterns: string[]): Promise<void> {
  const matcher = new IgnoreMatcher(patterns)
  const walk = async (dir: string, rel: string): Promise<void> => {
    let names: string[]
    try {
      names = (await fsp.readdir(dir)).sort(byName)
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code === 'EACCES') throw new Error(`can't stat '${dir}'`)
      if (code === 'ENOENT') throw new Error(`file ('${dir}') not found or excluded by .dockerignore`)
      throw e
    }
    const kept = names.map((name) => ({ r: rel ? `${rel}/${name}` : name, abs: path.join(dir, name) })).filter(({ r }) => !matcher.matches(r))
    // The lstats and access checks of a directory at once; errors still in walk order.
    const checked = await inBatches(kept, async ({ abs }) => {
      try {
        const st = await fsp.lstat(abs)
        const readable = st.isDirectory() || st.isSymbolicLink() || st.isFIFO() || (await fsp.access(abs, fsc.R_OK).then(() => true, () => false))
        return { st, readable }
      } catch (e) {
        return { err: e as NodeJS.ErrnoException }
      }
    })
    for (const [i, { r, abs }] of kept.entries()) {
      const c = checked[i] as { st?: Stats; readable?: boolean; err?: NodeJS.ErrnoException }
      if (c.err || !c.st) {
        if (c.err?.code === 'EACCES') throw new Error(`can't stat '${abs}'`)
        throw new Error(`file ('${abs}') not found or excluded by .dockerignore`)
      }
      if (c.st.isDirectory()) await walk(abs, r)
      else if (!c.readable) throw new Error(`no permission to read from '${abs}'`)
    }
  }
  await walk(contextDir, '')
}

/** A file the CLI adds to the context: a Dockerfile from elsewhere, or the rewritten .dockerignore. */
export interface ExtraFile {
  name: string
  content: Buffer
}

export interface ContextTarOptions {
  /** Patterns as given to TarWithOptions: .dockerignore plus the keepBuildFiles exceptions. */
  excludes: string[]
  /** AddDockerfileToBuildContext: the Dockerfile to add under `name`, listed in .dockerignore. */
  dockerfile?: ExtraFile
  /** mtime for added entries, seconds (tests pin it). */
  now?: number
}

/** `.dockerfile.` and 20 random hex digits, as docker names an added Dockerfile. */
export function randomDockerfileName(): string {
  return `.dockerfile.${randomBytes(10).toString('hex')}`
}

/** Per-entry file system calls of one directory run this many at a time. */
const STAT_BATCH = 64

/** fn over items, STAT_BATCH at a time, results in order. */
async function inBatches<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = []
  for (let i = 0; i < items.length; i += STAT_BATCH) out.push(...(await Promise.all(items.slice(i, i + STAT_BATCH).map(fn))))
  return out
}

interface WalkEntry {
  rel: string
  abs: string
  st: Stats
}

/**
 * TarWithOptions' walk: lexical order; an excluded file is skipped; an
 * excluded directory is left out but still entered when a `!` pattern may
 * re-include something below it.
 */
async function* walkContext(dir: string, rel: string, matcher: IgnoreMatcher, parent?: MatchInfo): AsyncGenerator<WalkEntry> {
  let names: string[]
  try {
    names = (await fsp.readdir(dir)).sort(byName)
  } catch {
    // docker logs an unreadable directory and goes on.
    return
  }
  const stats = await inBatches(names, (name) => fsp.lstat(path.join(dir, name)).catch(() => undefined))
  for (const [i, name] of names.entries()) {
    const r = rel ? `${rel}/${name}` : name
    const abs = path.join(dir, name)
    const st = stats[i]
    if (!st) continue
    const { excluded, info } = matcher.matchesWithParent(r, parent)
    if (excluded) {
      if (st.isDirectory() && matcher.mayReinclude(r)) yield* walkContext(abs, r, matcher, info)
      continue
    }
    yield { rel: r, abs, st }
    if (st.isDirectory()) yield* walkContext(abs, r, matcher, info)
  }
}

/**
 * A small file's `size` bytes, read whole (same rule as fileBytes). With
 * fs's callbacks: a FileHandle per file costs more than the read here.
 */
function smallFile(abs: string, size: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    fs.open(abs, 'r', (err, fd) => {
      if (err) return reject(err)
      const buf = Buffer.alloc(size)
      const done = (e: Error | null) => fs.close(fd, () => (e ? reject(e) : resolve(buf)))
      const more = (off: number) =>
        fs.read(fd, buf, off, size - off, null, (e, n) => {
          if (e) done(e)
          else if (n === 0 || off + n >= size) done(null)
          else more(off + n)
        })
      more(0)
    })
  })
}

/** Files up to this size are read ahead, whole, while the ones before them go out. */
const READ_AHEAD_SIZE = 256 << 10
/** How many entries the walk and the reads run ahead of the output. */
const READ_AHEAD = 16

/** The walk with small files' contents already being read for the entries ahead. */
async function* readAhead(entries: AsyncIterable<WalkEntry>, skip: (e: WalkEntry) => boolean): AsyncGenerator<WalkEntry & { data?: Promise<Buffer> }> {
  const it = entries[Symbol.asyncIterator]()
  const queue: Array<WalkEntry & { data?: Promise<Buffer> }> = []
  let ended = false
  try {
    for (;;) {
      while (!ended && queue.length < READ_AHEAD) {
        const r = await it.next()
        if (r.done) {
          ended = true
          break
        }
        const e = r.value
        const size = e.st.size
        if (e.st.isFile() && size > 0 && size <= READ_AHEAD_SIZE && e.st.nlink === 1 && !skip(e)) {
          const data = smallFile(e.abs, size)
          // Awaited when its turn comes; an error before then must not count as unhandled.
          data.catch(() => {})
          queue.push({ ...e, data })
        } else {
          queue.push(e)
        }
      }
      const next = queue.shift()
      if (!next) return
      yield next
    }
  } finally {
    await it.return?.()
  }
}

function fileEntry(name: string, content: Buffer, now: number, mode = 0o600): Buffer[] {
  return [encodeHeader(newHeader(binaryName(name), 'file', { mode, size: content.length, mtime: now })), content, padding(content.length)]
}

/** What AddDockerfileToBuildContext makes .dockerignore say: the old text, or ".dockerignore", then the added name. */
function dockerignoreWithName(old: Buffer | undefined, name: string): Buffer {
  return Buffer.concat([old ?? Buffer.from('.dockerignore'), Buffer.from(`\n${name}\n`)])
}

/**
 * The context directory as a tar stream. Errors reading a file end the
 * stream with that error (the upload fails) rather than sending a tar that
 * lies about the file.
 */
export function contextTar(contextDir: string, opts: ContextTarOptions): Readable {
  const matcher = new IgnoreMatcher(opts.excludes)
  const now = opts.now ?? Math.floor(Date.now() / 1000)
  async function* gen(): AsyncGenerator<Buffer> {
    const seen = new Map<string, string>()
    let sawDockerignore = false
    const special = (e: WalkEntry) => !!opts.dockerfile && e.rel === '.dockerignore'
    for await (const { rel, abs, st, data } of readAhead(walkContext(contextDir, '', matcher), special)) {
      const type = entryType(st)
      if (!type) continue
      const name = binaryName(rel)
      if (opts.dockerfile && rel === '.dockerignore' && type === 'file') {
        sawDockerignore = true
        const content = dockerignoreWithName(await fsp.readFile(abs), opts.dockerfile.name)
        yield encodeHeader(header(name, 'file', st, { size: content.length }))
        yield content
        yield padding(content.length)
        continue
      }
      const fields: Partial<TarHeader> = {}
      if (type === 'symlink') fields.linkname = binaryName(await fsp.readlink(abs))
      if (type === 'char' || type === 'block') [fields.devmajor, fields.devminor] = devNumbers(st.rdev)
      let link: string | undefined
      if (type !== 'dir' && st.nlink > 1) {
        const inode = `${st.dev}:${st.ino}`
        link = seen.get(inode)
        if (link === undefined) seen.set(inode, name)
      }
      if (link !== undefined) {
        yield encodeHeader(header(name, 'link', st, { linkname: link }))
        continue
      }
      const size = type === 'file' ? st.size : 0
      yield encodeHeader(header(name, type, st, { ...fields, size }))
      if (size > 0) {
        if (data) yield await data
        else yield* fileBytes(abs, size)
        yield padding(size)
      }
    }
    if (opts.dockerfile) {
      // ReplaceFileTarWrapper appends what was not in the tar, in name order: ".dockerfile.…" < ".dockerignore".
      yield* fileEntry(opts.dockerfile.name, opts.dockerfile.content, now)
      if (!sawDockerignore) yield* fileEntry('.dockerignore', dockerignoreWithName(undefined, opts.dockerfile.name), now)
    }
    yield END_OF_ARCHIVE
  }
  return Readable.from(chunked(gen()), { objectMode: false })
}

/** FileInfoHeader: permission and special bits, whole-second mtime, owner 0:0 (ChownOpts), no user names. */
function header(name: string, type: EntryType, st: Stats, fields: Partial<TarHeader>): TarHeader {
  return newHeader(name, type, { mode: st.mode & 0o7777, mtime: Math.floor(st.mtimeMs / 1000), uid: 0, gid: 0, ...fields })
}

/** build.Compress: the context gzipped on the way (`--compress`). */
export function compressContext(tar: Readable): Readable {
  const gz = createGzip()
  tar.on('error', (e) => gz.destroy(e))
  return tar.pipe(gz)
}

/** go-archive's compression.Detect plus a tar header check, on the first bytes of a stream (IsArchive). */
export function isArchive(head: Buffer): boolean {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return true
  if (head.length >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return true
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return true
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return true
  return tarHeaderValid(head)
}

/** Whether the first 512 bytes are a tar header whose checksum holds (what tar.Reader.Next checks first). */
function tarHeaderValid(head: Buffer): boolean {
  if (head.length < 512) return false
  const block = head.subarray(0, 512)
  if (block.every((b) => b === 0)) return false
  const field = block.subarray(148, 156).toString('latin1').replace(/[\0 ]+$/, '').replace(/^[\0 ]+/, '')
  if (!/^[0-7]+$/.test(field)) return false
  const want = parseInt(field, 8)
  let unsigned = 0
  let signed = 0
  for (let i = 0; i < 512; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : (block[i] as number)
    unsigned += b
    signed += b > 127 ? b - 256 : b
  }
  return want === unsigned || want === signed
}

/**
 * GetContextFromReader for `berth build -`: an archive (tar, or compressed)
 * goes up as it is; anything else is a Dockerfile, sent as the only file of
 * the context.
 */
export async function contextFromReader(input: Readable, dockerfileName: string, now = Math.floor(Date.now() / 1000)): Promise<{ context: Readable; dockerfile: string }> {
  const { head, stream } = await peek(input, 1024)
  if (isArchive(head)) return { context: stream, dockerfile: dockerfileName }
  if (dockerfileName === '-') throw new ContextError('build context is not an archive')
  if (dockerfileName !== '') throw new ContextError('ambiguous Dockerfile source: both stdin and flag correspond to Dockerfiles')
  const chunks: Buffer[] = []
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c)
  const content = Buffer.concat(chunks)
  const tar = Buffer.concat([...fileEntry(DEFAULT_DOCKERFILE, content, now, 0o644), END_OF_ARCHIVE])
  return { context: Readable.from([tar], { objectMode: false }), dockerfile: DEFAULT_DOCKERFILE }
}

/** What a directory context needs besides the walk: the patterns to send with, and an added Dockerfile if any. */
export interface LocalContext {
  contextDir: string
  /** The `dockerfile` query value: a path in the context, or the added file's name. */
  dockerfile: string
  tarOptions: ContextTarOptions
}

/**
 * GetContextFromLocalDir and what runBuild does with it: a Dockerfile from
 * stdin (`-f -`) or outside the directory is read now and added to the tar.
 */
export async function prepareLocalContext(dir: string, dockerfileFlag: string, stdin: () => Promise<Buffer>): Promise<LocalContext> {
  const contextDir = await resolveContextDir(dir)
  const flag = dockerfileFlag !== '' && dockerfileFlag !== '-' ? path.resolve(dockerfileFlag) : dockerfileFlag
  const rel = await dockerfileRelPath(contextDir, flag)
  const fromStdin = dockerfileFlag === '-'
  let added: ExtraFile | undefined
  if (fromStdin) {
    added = { name: randomDockerfileName(), content: await stdin() }
  } else if (rel.startsWith(`..${path.sep}`)) {
    let content: Buffer
    try {
      content = await fsp.readFile(dockerfileFlag)
    } catch (e) {
      throw new Error(`unable to open Dockerfile: ${pathError('open', dockerfileFlag, e)}`)
    }
    added = { name: randomDockerfileName(), content }
  }
  const patterns = await readDockerignore(contextDir)
  try {
    await validateContextDirectory(contextDir, patterns)
  } catch (e) {
    throw new Error(`error checking context: ${(e as Error).message}`)
  }
  const relSlash = rel.split(path.sep).join('/')
  const excludes = keepBuildFiles(patterns, relSlash, fromStdin)
  return { contextDir, dockerfile: added?.name ?? relSlash, tarOptions: { excludes, dockerfile: added } }
}
