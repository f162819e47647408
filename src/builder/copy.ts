/**
 * COPY and ADD as docker's classic builder performs them (moby
 * builder/dockerfile: copy.go, internals.go performCopy, dispatchers.go),
 * plus the BuildKit extensions berth accepts (heredoc files, --chmod,
 * ADD --checksum and --unpack).
 *
 * planCopy() resolves the sources — wildcards (Go's filepath.Match over the
 * whole tree), paths inside the source root only (symlinks followed inside
 * it), downloads for ADD <url> — and hashes them into docker's source
 * description (`file:<sum>`, `dir:<sum>`, `multi:<sum>`), the cache input
 * and history text. CopyPlan.copyInto() then writes them into the image
 * root: a directory source copies its contents, a file goes into dest when
 * dest ends in `/` or is a directory and becomes dest otherwise, local tar
 * archives are unpacked by ADD, everything copied is owned by root or
 * --chown, except for COPY --from without --chown, which keeps the owners.
 */
import { createHash } from 'node:crypto'
import { createReadStream, promises as fsp, type Stats } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { EngineError, invalidArgument, kindOf, messageOf, notImplemented } from '../errors/index.js'
import { TarReader } from '../archive/index.js'
import { parseGroup, parsePasswd } from '../runtime/index.js'
import { byteOrder, copyDirectory, copyFile, isDir, mkdirAll, ROOT_OWNER, Shown, writeContent, type CopyAttrs, type Owner } from './copy-tree.js'
import { decompressStream } from './decompress.js'
import { download, isUrl, parseChecksum } from './download.js'
import { goMatch, hasWildcards } from './gomatch.js'
import { TaskPool } from './pool.js'
import { resolveInRoot } from './rootfs.js'
import { headerHash, resolveSource, SourceHashes, type ContextSums } from './tarsum.js'
import { extractTar } from './untar.js'

export interface CopySpec {
  kind: 'copy' | 'add'
  /** Source paths and (ADD) URLs, variables already expanded. */
  sources: string[]
  /** Heredoc files (`COPY <<EOF /dst`), data already expanded where the heredoc asks for it. */
  contents: Array<{ path: string; data: string }>
  /** As written (expanded); relative to workdir when not absolute; a trailing `/` means "into this directory". */
  dest: string
  /** The stage's WORKDIR ('/' when unset). */
  workdir: string
  /** user[:group], names or ids, looked up in the target root's /etc/passwd and /etc/group. */
  chown?: string
  /** Octal mode for everything copied (BuildKit's --chmod). */
  chmod?: string
  /** ADD --checksum for a single URL source: `sha256:<hex>` (sha384, sha512 too). */
  checksum?: string
  /** ADD --unpack: undefined unpacks local archives only; true also downloads; false nothing. */
  unpack?: boolean
  /** The build context directory, or the mounted root of the --from stage or image. */
  srcRoot: string
  /** Whether srcRoot is the build context (docker's messages say so). */
  fromContext: boolean
  /** COPY --from without --chown: keep the source's owners instead of root. */
  preserveOwnership?: boolean
  /** The context's sums from extractContext (used only when fromContext); without them files are hashed from disk. */
  sums?: ContextSums
}

export interface PlanOptions {
  signal?: AbortSignal
  /** Where ADD downloads go (default the OS temp dir); each plan removes its own on close(). */
  tmpDir?: string
}

export interface CopyPlan {
  /** docker's source hash: `file:<hex>`, `dir:<hex>`, `multi:<hex>` (a lone URL: bare hex). The history text is `COPY <description> in <dest> `. */
  readonly description: string
  /** sha256 over everything deciding the result (description, dest, workdir, owner and mode flags), for a cache keyed on one value. */
  readonly digest: string
  /** Perform the copy into the image root mounted at targetRoot. */
  copyInto(targetRoot: string, opts?: { signal?: AbortSignal }): Promise<void>
  /** Remove downloads. */
  close(): Promise<void>
}

/** One copyInfo: a path in a tree (context, --from root, download dir) or a heredoc. */
type Item =
  | { from: 'tree'; root: string; path: string; hash: string; noDecompress: boolean }
  | { from: 'content'; path: string; hash: string; data: string }

const UNNAMED = '__unnamed__'

/** BuildKit's --chmod: an octal mode up to 07777. */
export function parseChmod(v: string): number {
  if (/^[0-7]+$/.test(v)) {
    const n = parseInt(v, 8)
    if (n <= 0o7777) return n
  }
  if (/^[ugoa]*[-+=]/.test(v)) throw notImplemented(`symbolic --chmod modes are not supported: ${v}`)
  throw invalidArgument(`invalid chmod parameter: '${v}'. it should be octal string and between 0 and 07777`)
}

/** moby normalizeDest: a relative dest joins the workdir; a trailing `/` is kept. */
export function normalizeDest(workdir: string, dest: string): string {
  if (path.posix.isAbsolute(dest)) return dest
  const joined = path.posix.join('/', workdir || '/', dest).replace(/(.)\/+$/, '$1')
  return dest.endsWith('/') && joined !== '/' ? `${joined}/` : joined
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

/** moby hashStringSlice. */
function hashList(prefix: string, list: string[]): string {
  return `${prefix}:${sha256(list.join(','))}`
}

const isAbort = (err: unknown) => (err as Error)?.name === 'AbortError'

/** docker's "<CMD> failed: ..." around an error, keeping its kind (file system errors here come from the sources: invalid-argument). */
function failed(cmd: string, err: unknown): EngineError {
  const kind = err instanceof EngineError ? kindOf(err) : 'invalid-argument'
  return new EngineError(kind, `${cmd} failed: ${messageOf(err)}`, { cause: err })
}

/**
 * Resolve and hash the sources of a COPY/ADD. Errors read as docker's
 * (`COPY failed: file not found in build context or excluded by
 * .dockerignore: stat x: file does not exist`). Close the plan when done.
 */
export async function planCopy(spec: CopySpec, opts: PlanOptions = {}): Promise<CopyPlan> {
  const cmd = spec.kind === 'copy' ? 'COPY' : 'ADD'
  const mode = spec.chmod ? parseChmod(spec.chmod) : undefined
  if (spec.checksum !== undefined && spec.checksum !== '') {
    if (spec.kind !== 'add') throw invalidArgument("checksum can't be specified for COPY")
    if (spec.sources.length !== 1) throw invalidArgument("checksum can't be specified for multiple sources")
    if (!isUrl(spec.sources[0] as string)) throw invalidArgument('checksum requires HTTP(S) or Git sources')
    parseChecksum(spec.checksum)
  }
  const root = path.resolve(spec.srcRoot)
  const hashes = new SourceHashes(root, spec.fromContext ? spec.sums : undefined)
  const temps: string[] = []
  const items: Item[] = []
  const close = async () => {
    for (const t of temps.splice(0)) await fsp.rm(t, { recursive: true, force: true })
  }
  try {
    try {
      for (const src of spec.sources) {
        opts.signal?.throwIfAborted()
        if (isUrl(src)) {
          if (spec.kind === 'copy') throw invalidArgument("source can't be a URL for COPY")
          const dl = await download(src, opts.tmpDir ?? os.tmpdir(), {
            ...(spec.checksum ? { checksum: spec.checksum } : {}),
            ...(opts.signal ? { signal: opts.signal } : {}),
          })
          temps.push(dl.dir)
          if (dl.name === '' && spec.dest.endsWith('/')) throw invalidArgument(`cannot determine filename for source ${src}`)
          const name = dl.name || UNNAMED
          // As docker: a download's hash has no "file:" prefix.
          const hash = await new SourceHashes(dl.dir).hash(name)
          items.push({ from: 'tree', root: dl.dir, path: name, hash, noDecompress: spec.unpack !== true })
          continue
        }
        items.push(...(await sourceInfos(spec, root, hashes, src, true)))
      }
      for (const c of spec.contents) items.push({ from: 'content', path: c.path, data: c.data, hash: `file:${contentHash(c.path, c.data)}` })
      if (items.length === 0) throw invalidArgument('no source files were specified')
    } catch (err) {
      throw isAbort(err) ? err : failed(cmd, err)
    }
    if (items.length > 1 && !spec.dest.endsWith('/')) {
      throw invalidArgument(`When using ${cmd} with more than one source file, the destination must be a directory and end with a /`)
    }
  } catch (err) {
    await close()
    throw err
  }

  const description = items.length === 1 ? (items[0] as Item).hash : hashList('multi', items.map((i) => i.hash))
  const digest = `sha256:${sha256(JSON.stringify([spec.kind, description, spec.dest, spec.workdir, spec.chown ?? '', mode ?? null, !!spec.preserveOwnership, spec.unpack ?? null]))}`
  return {
    description,
    digest,
    close,
    copyInto: async (targetRoot, copyOpts = {}) => {
      const signal = copyOpts.signal ?? opts.signal
      await performCopy(spec, items, path.resolve(targetRoot), { ...(mode !== undefined ? { mode } : {}), ...(signal ? { signal } : {}) })
    },
  }
}

/** The source description alone (the cache probe); downloads are removed again. */
export async function describeSources(spec: CopySpec, opts: PlanOptions = {}): Promise<{ description: string; digest: string }> {
  const plan = await planCopy(spec, opts)
  await plan.close()
  return { description: plan.description, digest: plan.digest }
}

/** Plan and perform a copy into the image root at targetRoot. */
export async function copyInto(targetRoot: string, spec: CopySpec, opts: PlanOptions = {}): Promise<void> {
  const plan = await planCopy(spec, opts)
  try {
    await plan.copyInto(targetRoot, opts.signal ? { signal: opts.signal } : {})
  } finally {
    await plan.close()
  }
}

/** The tarsum of a heredoc file, as if it were a root-owned 0644 file named after the heredoc. */
function contentHash(name: string, data: string): string {
  const bytes = Buffer.from(data, 'utf8')
  const h = headerHash({ name: Buffer.from(name, 'utf8'), mode: 0o644, uid: 0, gid: 0, size: bytes.length, typeflag: '0', linkname: Buffer.alloc(0), devmajor: 0, devminor: 0, xattrs: [] })
  return h.update(bytes).digest('hex')
}

/** moby calcCopyInfo: a source path (maybe a wildcard) → its copy infos. */
async function sourceInfos(spec: CopySpec, root: string, hashes: SourceHashes, orig: string, wildcards: boolean): Promise<Item[]> {
  let p = orig
  if (p.startsWith('/')) p = p.slice(1)
  if (p.startsWith('./')) p = p.slice(2)
  if (wildcards && hasWildcards(p)) {
    const out: Item[] = []
    for (const rel of await matchTree(root, p)) out.push(...(await sourceInfos(spec, root, hashes, rel, false)))
    return out
  }
  const { host, rel } = await resolveSource(root, p)
  let st: Stats
  try {
    st = await fsp.stat(host)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      const msg = `stat ${p}: file does not exist`
      throw invalidArgument(spec.fromContext ? `file not found in build context or excluded by .dockerignore: ${msg}` : msg)
    }
    throw invalidArgument(`stat ${p}: ${code === 'ENOTDIR' ? 'not a directory' : messageOf(err)}`)
  }
  const item = { from: 'tree' as const, root, path: p, noDecompress: false }
  if (!st.isDirectory()) return [{ ...item, hash: `file:${await hashes.hashResolved(rel, host, p, await fsp.lstat(host))}` }]
  const list = spec.fromContext && spec.sums ? await treeSums(root, host, hashes, spec.sums) : await treeHashes(root, host, hashes)
  return [{ ...item, hash: hashList('dir', list.sort()) }]
}

/**
 * treeHashes() for the context, whose sums are in memory: what is below dir
 * comes from readdir alone (its entry types say which are symlinks), so no
 * file is stat'ed. A path with a sum gives it, a symlink its target's (as
 * hashes.hash), an implied directory its own path, exactly as the walk
 * would; the walk is still needed for the set of paths, since the sums also
 * hold entries that are not on disk (skipped devices, the removed
 * Dockerfile, what a later entry replaced). Exported for tests.
 */
export async function treeSums(root: string, dir: string, hashes: SourceHashes, sums: ContextSums): Promise<string[]> {
  const out: string[] = []
  const one = async (rel: string, symlink: boolean) => {
    try {
      out.push(symlink ? await hashes.hash(rel) : (sums.get(rel) ?? rel))
    } catch {
      // As treeHashes: what can't be hashed is left out.
    }
  }
  const walk = async (host: string, rel: string): Promise<void> => {
    const ents = await fsp.readdir(host, { withFileTypes: true })
    const subdirs: Array<Promise<void>> = []
    for (const ent of ents) {
      const childRel = rel === '' ? ent.name : `${rel}/${ent.name}`
      await one(childRel, ent.isSymbolicLink())
      if (ent.isDirectory()) subdirs.push(walk(path.join(host, ent.name), childRel))
    }
    await Promise.all(subdirs)
  }
  const rel = path.relative(root, dir)
  if (dir !== root) await one(rel, false)
  await walk(dir, rel)
  return out
}

/** moby walkSource: the sums of a directory and everything below it (the context root itself excluded). Exported for tests. */
export async function treeHashes(root: string, dir: string, hashes: SourceHashes): Promise<string[]> {
  const out: string[] = []
  // Hashing reads every file: several at once.
  const pool = new TaskPool()
  const hashOne = (host: string) =>
    pool.add(async () => {
      const rel = path.relative(root, host)
      try {
        const st = await fsp.lstat(host)
        // Only a symlink can lead elsewhere; every other path under a resolved directory is itself.
        out.push(st.isSymbolicLink() ? await hashes.hash(rel) : await hashes.hashResolved(rel, host, rel, st))
      } catch {
        // docker leaves out what it can't hash (sockets).
      }
    })
  const walk = async (host: string): Promise<void> => {
    for (const ent of (await fsp.readdir(host, { withFileTypes: true })).sort((a, b) => byteOrder(a.name, b.name))) {
      const child = path.join(host, ent.name)
      await hashOne(child)
      if (ent.isDirectory()) await walk(child)
    }
  }
  if (dir !== root) await hashOne(dir)
  await walk(dir)
  await pool.drain()
  return out
}

/**
 * moby copyWithWildcards: every path under root (symlinks not followed,
 * Go's walk order) that the pattern matches. Since `*` and `?` never match
 * `/`, directories deeper than the pattern or not matching its leading
 * segments are not entered (not for patterns with classes or escapes,
 * which may).
 */
async function matchTree(root: string, pattern: string): Promise<string[]> {
  const segs = pattern.split('/')
  const prune = !pattern.includes('[') && !pattern.includes('\\')
  const out: string[] = []
  const walk = async (relDir: string): Promise<void> => {
    const host = relDir === '' ? root : path.join(root, relDir)
    for (const name of (await fsp.readdir(host, { withFileTypes: true })).sort((a, b) => byteOrder(a.name, b.name))) {
      const rel = relDir === '' ? name.name : `${relDir}/${name.name}`
      if (goMatch(pattern, rel)) out.push(rel)
      if (!name.isDirectory()) continue
      if (prune) {
        const depth = rel.split('/').length
        if (depth >= segs.length || !goMatch(segs.slice(0, depth).join('/'), rel)) continue
      }
      await walk(rel)
    }
  }
  await walk('')
  return out
}

/** moby parseChownFlag: user[:group]; a lone user is also the group's name (or id). */
async function resolveChown(targetRoot: string, chown: string): Promise<Owner> {
  const parts = chown.split(':')
  if (parts.length > 2) throw invalidArgument(`invalid chown string format: ${chown}`)
  const userStr = parts[0] as string
  const groupStr = parts.length === 1 ? userStr : (parts[1] as string)
  const numeric = (s: string) => (/^\d+$/.test(s) && Number(s) < 2 ** 32 - 1 ? Number(s) : undefined)
  const read = async (file: string) => {
    try {
      return await fsp.readFile(await resolveInRoot(targetRoot, file), 'utf8')
    } catch (err) {
      throw invalidArgument(`open ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : messageOf(err)}`)
    }
  }
  let uid = numeric(userStr)
  if (uid === undefined) {
    let passwd: string
    try {
      passwd = await read('/etc/passwd')
    } catch (err) {
      throw invalidArgument(`can't find uid for user ${userStr}: ${messageOf(err)}`)
    }
    uid = parsePasswd(passwd)?.find((u) => u.name === userStr)?.uid
    if (uid === undefined) throw invalidArgument(`can't find uid for user ${userStr}: no such user: ${userStr}`)
  }
  let gid = numeric(groupStr)
  if (gid === undefined) {
    let group: string
    try {
      group = await read('/etc/group')
    } catch (err) {
      throw invalidArgument(`can't find gid for group ${groupStr}: ${messageOf(err)}`)
    }
    gid = parseGroup(group)?.find((g) => g.name === groupStr)?.gid
    if (gid === undefined) throw invalidArgument(`can't find gid for group ${groupStr}: no such group: ${groupStr}`)
  }
  return { uid, gid }
}

/** moby IsArchivePath: the file, decompressed, starts with a tar header. */
async function isArchive(host: string): Promise<boolean> {
  const file = createReadStream(host)
  let plain: Readable | undefined
  try {
    plain = (await decompressStream(file)).stream
    return (await new TarReader(plain).next()) !== null
  } catch {
    return false
  } finally {
    plain?.destroy()
    file.destroy()
  }
}

/** moby performCopy after the cache probe: resolve owner and dest, copy each item. */
async function performCopy(spec: CopySpec, items: Item[], targetRoot: string, o: { mode?: number; signal?: AbortSignal }): Promise<void> {
  let owner: Owner | null
  try {
    owner = spec.chown ? await resolveChown(targetRoot, spec.chown) : spec.preserveOwnership ? null : ROOT_OWNER
  } catch (err) {
    throw invalidArgument(`unable to convert uid/gid chown string to host mapping: ${messageOf(err)}`, err)
  }
  const attrs: CopyAttrs = { owner, ...(o.mode !== undefined ? { mode: o.mode } : {}), ...(o.signal ? { signal: o.signal } : {}) }
  const shown = new Shown(targetRoot)
  const destPath = normalizeDest(spec.workdir, spec.dest)
  const intoDir = destPath.endsWith('/')
  try {
    for (const item of items) {
      o.signal?.throwIfAborted()
      // Per item, as docker: an earlier one may have changed what the path leads to.
      const dest = await resolveInRoot(targetRoot, destPath)
      if (item.from === 'content') {
        const target = (await isDir(dest)) || intoDir ? childOf(dest, item.path) : dest
        await writeContent(target, item.data, attrs, shown)
        continue
      }
      const { host: src } = await resolveSource(item.root, item.path)
      const st = await fsp.stat(src).catch((err: unknown) => {
        throw invalidArgument(`source path not found: ${messageOf(err).split(item.root).join('')}`)
      })
      if (st.isDirectory()) {
        await copyDirectory(src, dest, attrs, shown)
        continue
      }
      if (spec.kind === 'add' && spec.unpack !== false && !item.noDecompress && (await isArchive(src))) {
        await unpack(src, dest, item.path, shown, o.signal)
        continue
      }
      const target = (await isDir(dest)) || intoDir ? childOf(dest, item.path) : dest
      await copyFile(src, st, target, attrs, shown)
    }
  } catch (err) {
    if (isAbort(err)) throw err
    const msg = messageOf(err).split(targetRoot).join('')
    throw new EngineError(err instanceof EngineError ? err.kind : 'invalid-argument', `failed to copy files: ${msg}`, { cause: err })
  }
}

/** dest/<base name of source>: never dest itself or its parent (a heredoc may be called `..`). */
function childOf(dest: string, source: string): string {
  const base = path.posix.basename(source)
  if (base === '' || base === '.' || base === '..') throw invalidArgument(`cannot copy ${JSON.stringify(source)} into a directory: it has no file name`)
  return path.join(dest, base)
}

/** ADD of a local archive: unpacked into dest as docker's chrootarchive.Untar, owners from the archive. */
async function unpack(src: string, dest: string, name: string, shown: Shown, signal?: AbortSignal): Promise<void> {
  await mkdirAll(dest, ROOT_OWNER, shown)
  const file = createReadStream(src)
  const { stream } = await decompressStream(file)
  try {
    await extractTar(stream, dest, { mode: 'chroot', what: `archive ${name}`, ...(signal ? { signal } : {}) })
  } finally {
    stream.destroy()
    file.destroy()
  }
}
