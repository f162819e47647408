/**
 * The registry's filesystem layout under its root:
 *
 *   blobs/sha256/<hex>                                   content (LocalContentStore)
 *   repositories/<name>/_layers/sha256/<hex>             blob linked into a repository
 *   repositories/<name>/_manifests/revisions/sha256/<hex>  manifest in a repository ({mediaType,size})
 *   repositories/<name>/_manifests/tags/<tag>            tag → manifest digest
 *   repositories/<name>/_referrers/sha256/<subject hex>/<hex>  descriptor of a manifest naming a subject
 *   _uploads/<uuid>/{data,info.json}                     upload sessions
 *
 * Blobs are shared by every repository; a repository sees only the blobs
 * linked into it, so a client cannot read another repository's blob by
 * guessing its digest (a mount needs read access to the source). Every link
 * is written atomically, and link files carry no state that two writers could
 * disagree on, so concurrent pushes of one blob or manifest are safe.
 * Names are validated by routes.ts before they reach a path: repository
 * components cannot start with `_` or be `..`, so they never meet these dirs.
 *
 * A gc may run while a server writes (gc.ts): linking a blob that is already
 * linked touches the link, and a manifest push touches the links of what it
 * references before checking they exist, so link mtimes say "in use since".
 */
import { randomUUID } from 'node:crypto'
import { createReadStream, promises as fsp } from 'node:fs'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { LocalContentStore, type BlobInfo } from '../../content/index.js'
import { isKind } from '../../errors/index.js'
import { writeFileAtomic } from '../../lib/index.js'
import { digestHex, isDigest, sha256, type Digest } from '../../oci/index.js'
import { RegistryError, regError } from './errors.js'
import type { ManifestDescriptor, ParsedManifest } from './manifest.js'
import { uploadRange } from './range.js'

export interface ManifestRecord {
  digest: Digest
  mediaType: string
  size: number
}

export interface StoredManifest extends ManifestRecord {
  bytes: Buffer
}

export interface UploadState {
  uuid: string
  name: string
  size: number
  startedAt: string
}

export interface StorageOptions {
  /** Upload sessions older than this are removed when the storage opens; default one day. */
  uploadPurgeAgeMs?: number
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const HEX_RE = /^[a-f0-9]{64}$/
/** Prefix of a blob gc has set aside (renamed in its own directory) before deleting it. */
const TRASH_PREFIX = '.gc-'

/** What the registry reads and deletes of the content store; gc gets it without the writer. */
export type BlobReader = Pick<LocalContentStore, 'stat' | 'path' | 'readAll' | 'walk' | 'delete'>

/**
 * The blob files themselves, for a gc beside a running server: opening a
 * LocalContentStore clears its ingest directory, which would break the
 * server's uploads in flight, so gc reads `blobs/sha256/` directly.
 */
class BlobFiles implements BlobReader {
  constructor(private readonly dir: string) {}

  path(digest: Digest): string {
    if (!isDigest(digest)) throw new Error(`invalid digest ${digest}`)
    return path.join(this.dir, digestHex(digest))
  }

  async stat(digest: Digest): Promise<BlobInfo | null> {
    const st = await fsp.stat(this.path(digest)).catch((err: unknown) => {
      if (enoent(err)) return null
      throw err
    })
    return st ? { digest, size: st.size } : null
  }

  readAll(digest: Digest): Promise<Buffer> {
    return fsp.readFile(this.path(digest))
  }

  async walk(fn: (info: BlobInfo) => Promise<void> | void): Promise<void> {
    for (const name of await readDir(this.dir)) {
      if (!HEX_RE.test(name)) continue
      const info = await this.stat(`sha256:${name}`)
      if (info) await fn(info)
    }
  }

  async delete(digest: Digest): Promise<void> {
    await fsp.rm(this.path(digest), { force: true })
  }
}

/** Serializes work per key (one upload session, one repository tag). */
class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>()
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve()
    let release!: () => void
    const mine = new Promise<void>((r) => (release = r))
    const tail = prev.then(() => mine)
    this.tails.set(key, tail)
    await prev
    try {
      return await fn()
    } finally {
      release()
      if (this.tails.get(key) === tail) this.tails.delete(key)
    }
  }
}

const enoent = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT'

/** Set a file's times to now; false if it does not exist. */
async function touch(file: string): Promise<boolean> {
  const now = new Date()
  try {
    await fsp.utimes(file, now, now)
    return true
  } catch (err) {
    if (enoent(err)) return false
    throw err
  }
}

async function readText(file: string): Promise<string | null> {
  try {
    return await fsp.readFile(file, 'utf8')
  } catch (err) {
    if (enoent(err)) return null
    throw err
  }
}

async function readDir(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir)
  } catch (err) {
    if (enoent(err) || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return []
    throw err
  }
}

async function writeLink(file: string, data: string): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true })
  await writeFileAtomic(file, data)
}

export class RegistryStorage {
  private readonly repoRoot: string
  private readonly uploadRoot: string
  private readonly blobDir: string
  private readonly locks = new KeyedLock()

  private constructor(
    readonly root: string,
    readonly blobs: BlobReader,
    /** Null when opened for gc: nothing is written but gc's own deletions. */
    private readonly content: LocalContentStore | null,
  ) {
    this.repoRoot = path.join(root, 'repositories')
    this.uploadRoot = path.join(root, '_uploads')
    this.blobDir = path.join(root, 'blobs', 'sha256')
  }

  /** Open (creating) the storage and purge abandoned upload sessions. */
  static async open(root: string, opts: StorageOptions = {}): Promise<RegistryStorage> {
    const blobs = await LocalContentStore.open(root)
    const s = new RegistryStorage(root, blobs, blobs)
    await fsp.mkdir(s.repoRoot, { recursive: true })
    await fsp.mkdir(s.uploadRoot, { recursive: true })
    await s.purgeUploads(opts.uploadPurgeAgeMs ?? 24 * 3600_000)
    return s
  }

  /**
   * Open for gc, safe beside a server on the same root: no temp files or
   * upload sessions are cleared, and blobs gc set aside in a run that died
   * are put back (the next sweep judges them again).
   */
  static async openForGc(root: string): Promise<RegistryStorage> {
    if (!(await fsp.stat(path.join(root, 'blobs', 'sha256')).catch(() => null))) {
      throw new Error(`${root} is not a registry root (no blobs/sha256)`)
    }
    const s = new RegistryStorage(root, new BlobFiles(path.join(root, 'blobs', 'sha256')), null)
    for (const name of await readDir(s.blobDir)) {
      if (!name.startsWith(TRASH_PREFIX) || !HEX_RE.test(name.slice(TRASH_PREFIX.length))) continue
      const back = path.join(s.blobDir, name.slice(TRASH_PREFIX.length))
      // link, not rename: a blob pushed again meanwhile stays, and the leftover just goes.
      await fsp.link(path.join(s.blobDir, name), back).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err
      })
      await fsp.rm(path.join(s.blobDir, name), { force: true })
    }
    return s
  }

  private writer(): LocalContentStore {
    if (!this.content) throw new Error('registry storage opened for gc cannot store blobs')
    return this.content
  }

  /** Remove upload sessions started more than `ageMs` ago; returns how many. */
  async purgeUploads(ageMs: number): Promise<number> {
    let n = 0
    const now = Date.now()
    for (const uuid of await readDir(this.uploadRoot)) {
      const dir = path.join(this.uploadRoot, uuid)
      const st = await fsp.stat(dir).catch(() => null)
      if (!st || now - st.mtimeMs >= ageMs) {
        await fsp.rm(dir, { recursive: true, force: true })
        n++
      }
    }
    return n
  }

  private repoDir(name: string): string {
    return path.join(this.repoRoot, ...name.split('/'))
  }

  private layerLink(name: string, digest: Digest): string {
    return path.join(this.repoDir(name), '_layers', 'sha256', digestHex(digest))
  }

  private revisionLink(name: string, digest: Digest): string {
    return path.join(this.repoDir(name), '_manifests', 'revisions', 'sha256', digestHex(digest))
  }

  private tagsDir(name: string): string {
    return path.join(this.repoDir(name), '_manifests', 'tags')
  }

  private referrersDir(name: string, subject: Digest): string {
    return path.join(this.repoDir(name), '_referrers', 'sha256', digestHex(subject))
  }

  async repositoryExists(name: string): Promise<boolean> {
    const st = await fsp.stat(this.repoDir(name)).catch(() => null)
    return st?.isDirectory() ?? false
  }

  // ---- blobs ----

  /** The blob if it is linked into `name` and present; null otherwise. */
  async statBlob(name: string, digest: Digest): Promise<BlobInfo | null> {
    if (!isDigest(digest)) return null
    const linked = await fsp.stat(this.layerLink(name, digest)).catch(() => null)
    if (!linked) return null
    return this.blobs.stat(digest)
  }

  /** Link a blob into `name`; an existing link is touched, marking the blob in use for gc. */
  async linkBlob(name: string, digest: Digest): Promise<void> {
    const link = this.layerLink(name, digest)
    if (await touch(link)) return
    await writeLink(link, digest)
  }

  /**
   * statBlob for a blob a manifest being pushed references: the link is
   * touched first, so a gc sweeping meanwhile either sees it in use and keeps
   * the blob, or has already set it aside and this answers null.
   */
  async useBlob(name: string, digest: Digest): Promise<BlobInfo | null> {
    if (!isDigest(digest)) return null
    if (!(await touch(this.layerLink(name, digest)))) return null
    return this.blobs.stat(digest)
  }

  /** Unlink a blob from a repository; the bytes stay until GC. False if it was not linked. */
  async unlinkBlob(name: string, digest: Digest): Promise<boolean> {
    if (!(await this.statBlob(name, digest))) return false
    await fsp.rm(this.layerLink(name, digest), { force: true })
    return true
  }

  openBlob(digest: Digest, range?: { start: number; end: number }): Readable {
    return createReadStream(this.blobs.path(digest), range ? { start: range.start, end: range.end } : {})
  }

  /** Store a whole blob from a stream, verified against `expected`, and link it into `name`. */
  async putBlob(name: string, src: AsyncIterable<Uint8Array>, expected: Digest): Promise<BlobInfo> {
    const info = await this.ingestVerified(src, expected)
    await this.linkBlob(name, info.digest)
    return info
  }

  private async ingestVerified(src: AsyncIterable<Uint8Array>, expected: Digest): Promise<BlobInfo> {
    try {
      return await this.writer().ingest(src, { expected })
    } catch (err) {
      if (isKind(err, 'invalid-argument')) {
        throw regError('DIGEST_INVALID', 'provided digest did not match uploaded content', { digest: expected })
      }
      throw err
    }
  }

  // ---- uploads ----

  private uploadDir(uuid: string): string {
    if (!UUID_RE.test(uuid)) throw regError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { uuid })
    return path.join(this.uploadRoot, uuid)
  }

  async startUpload(name: string): Promise<UploadState> {
    const uuid = randomUUID()
    const dir = this.uploadDir(uuid)
    await fsp.mkdir(dir)
    const startedAt = new Date().toISOString()
    await fsp.writeFile(path.join(dir, 'data'), '')
    await writeFileAtomic(path.join(dir, 'info.json'), JSON.stringify({ name, startedAt }))
    return { uuid, name, size: 0, startedAt }
  }

  async uploadState(name: string, uuid: string): Promise<UploadState> {
    const dir = this.uploadDir(uuid)
    const info = await readText(path.join(dir, 'info.json'))
    const st = await fsp.stat(path.join(dir, 'data')).catch(() => null)
    if (info === null || !st) throw regError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { uuid })
    const rec = JSON.parse(info) as { name: string; startedAt: string }
    if (rec.name !== name) throw regError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { uuid })
    return { uuid, name, size: st.size, startedAt: rec.startedAt }
  }

  /**
   * Append a chunk. `start`, when given (a Content-Range), must equal the
   * bytes received so far, else the chunk is refused whole. Returns the new state.
   */
  async appendUpload(name: string, uuid: string, src: AsyncIterable<Uint8Array>, start?: number): Promise<UploadState> {
    return this.locks.run(`upload/${uuid}`, async () => {
      const state = await this.uploadState(name, uuid)
      if (start !== undefined && start !== state.size) {
        throw new RegistryError('RANGE_INVALID', 'chunk does not start at the end of the upload', { size: state.size }, {
          headers: { Range: uploadRange(state.size), 'Docker-Upload-UUID': uuid },
        })
      }
      const file = path.join(this.uploadDir(uuid), 'data')
      const fh = await fsp.open(file, 'a')
      let size = state.size
      try {
        for await (const chunk of src) {
          await fh.write(chunk)
          size += chunk.length
        }
      } finally {
        await fh.close()
      }
      // Touch the dir so the purge age counts from the last activity.
      const now = new Date()
      await fsp.utimes(this.uploadDir(uuid), now, now).catch(() => {})
      return { ...state, size }
    })
  }

  /**
   * Finish an upload: the bytes so far plus `tail` must hash to `digest`.
   * Either way the session is gone afterwards; only verified bytes are stored.
   */
  async finishUpload(name: string, uuid: string, digest: Digest, tail: AsyncIterable<Uint8Array>): Promise<BlobInfo> {
    return this.locks.run(`upload/${uuid}`, async () => {
      await this.uploadState(name, uuid)
      const dir = this.uploadDir(uuid)
      try {
        const data = path.join(dir, 'data')
        async function* all(): AsyncIterable<Uint8Array> {
          for await (const chunk of createReadStream(data)) yield chunk as Buffer
          for await (const chunk of tail) yield chunk
        }
        const info = await this.ingestVerified(all(), digest)
        await this.linkBlob(name, info.digest)
        return info
      } finally {
        await fsp.rm(dir, { recursive: true, force: true })
      }
    })
  }

  async cancelUpload(name: string, uuid: string): Promise<void> {
    await this.locks.run(`upload/${uuid}`, async () => {
      await this.uploadState(name, uuid)
      await fsp.rm(this.uploadDir(uuid), { recursive: true, force: true })
    })
  }

  // ---- manifests ----

  /**
   * Store a parsed manifest under its digest and, if `tag` is given, point
   * the tag at it. The caller has checked that what it references exists.
   */
  async putManifest(name: string, bytes: Buffer, parsed: ParsedManifest, tag?: string): Promise<ManifestRecord> {
    const info = await this.writer().ingestBytes(bytes)
    const rec: ManifestRecord = { digest: info.digest, mediaType: parsed.mediaType, size: bytes.length }
    await writeLink(this.revisionLink(name, rec.digest), JSON.stringify({ mediaType: rec.mediaType, size: rec.size }))
    if (parsed.subject) {
      const desc: ManifestDescriptor = { mediaType: parsed.mediaType, digest: rec.digest, size: rec.size }
      if (parsed.artifactType !== undefined) desc.artifactType = parsed.artifactType
      if (parsed.annotations !== undefined) desc.annotations = parsed.annotations
      await writeLink(path.join(this.referrersDir(name, parsed.subject.digest), digestHex(rec.digest)), JSON.stringify(desc))
    }
    if (tag !== undefined) await writeLink(path.join(this.tagsDir(name), tag), rec.digest)
    return rec
  }

  async manifestRecord(name: string, digest: Digest): Promise<ManifestRecord | null> {
    if (!isDigest(digest)) return null
    const text = await readText(this.revisionLink(name, digest))
    if (text === null) return null
    const rec = JSON.parse(text) as { mediaType: string; size: number }
    if (!(await this.blobs.stat(digest))) return null
    return { digest, mediaType: rec.mediaType, size: rec.size }
  }

  async resolveTag(name: string, tag: string): Promise<Digest | null> {
    const d = await readText(path.join(this.tagsDir(name), tag))
    return d === null ? null : d.trim()
  }

  /** A manifest by tag or digest, or null. */
  async getManifest(name: string, reference: string): Promise<StoredManifest | null> {
    const digest = reference.includes(':') ? reference : await this.resolveTag(name, reference)
    if (digest === null) return null
    const rec = await this.manifestRecord(name, digest)
    if (!rec) return null
    const bytes = await this.blobs.readAll(digest)
    // A digest read back must still be the digest asked for; anything else is disk corruption.
    if (sha256(bytes) !== digest) throw new Error(`manifest ${digest} in ${name} is corrupt on disk`)
    return { ...rec, bytes }
  }

  /** Remove a manifest revision, every tag pointing at it and its referrer entry. */
  async deleteManifest(name: string, digest: Digest): Promise<boolean> {
    const m = await this.getManifest(name, digest)
    if (!m) return false
    for (const tag of await this.listTags(name)) {
      if ((await this.resolveTag(name, tag)) === digest) await fsp.rm(path.join(this.tagsDir(name), tag), { force: true })
    }
    try {
      const doc = JSON.parse(m.bytes.toString('utf8')) as { subject?: { digest?: unknown } }
      const subject = doc.subject?.digest
      if (typeof subject === 'string' && isDigest(subject)) {
        await fsp.rm(path.join(this.referrersDir(name, subject), digestHex(digest)), { force: true })
      }
    } catch {
      // Stored manifests were parsed on push; an unreadable one has no referrer entry to remove.
    }
    await fsp.rm(this.revisionLink(name, digest), { force: true })
    return true
  }

  async deleteTag(name: string, tag: string): Promise<boolean> {
    const file = path.join(this.tagsDir(name), tag)
    if ((await readText(file)) === null) return false
    await fsp.rm(file, { force: true })
    return true
  }

  async listTags(name: string): Promise<string[]> {
    return (await readDir(this.tagsDir(name))).filter((t) => !t.startsWith('.')).sort()
  }

  async listRevisions(name: string): Promise<Digest[]> {
    const dir = path.join(this.repoDir(name), '_manifests', 'revisions', 'sha256')
    return (await readDir(dir)).filter((h) => /^[a-f0-9]{64}$/.test(h)).map((h) => `sha256:${h}`)
  }

  async listLayerLinks(name: string): Promise<Digest[]> {
    const dir = path.join(this.repoDir(name), '_layers', 'sha256')
    return (await readDir(dir)).filter((h) => /^[a-f0-9]{64}$/.test(h)).map((h) => `sha256:${h}`)
  }

  async removeLayerLink(name: string, digest: Digest): Promise<void> {
    await fsp.rm(this.layerLink(name, digest), { force: true })
  }

  // ---- for gc beside a running server ----

  /**
   * When the blob was last put to use: the newest mtime of its file, of its
   * links in `repos` and of its manifest revisions there. Null when the blob
   * file is gone.
   */
  async blobLastUsed(digest: Digest, repos: readonly string[]): Promise<number | null> {
    const st = await fsp.stat(this.blobs.path(digest)).catch(() => null)
    if (!st) return null
    return Math.max(st.mtimeMs, await this.linksLastUsed(digest, repos))
  }

  /** The newest mtime of the blob's links and manifest revisions in `repos`; -Infinity if none. */
  async linksLastUsed(digest: Digest, repos: readonly string[]): Promise<number> {
    let last = -Infinity
    for (const r of repos) {
      for (const f of [this.layerLink(r, digest), this.revisionLink(r, digest)]) {
        const l = await fsp.stat(f).catch(() => null)
        if (l && l.mtimeMs > last) last = l.mtimeMs
      }
    }
    return last
  }

  async layerLinkModified(name: string, digest: Digest): Promise<number | null> {
    return (await fsp.stat(this.layerLink(name, digest)).catch(() => null))?.mtimeMs ?? null
  }

  /** Start times (ms) of the upload sessions open now. */
  async uploadStarts(): Promise<number[]> {
    const out: number[] = []
    for (const uuid of await readDir(this.uploadRoot)) {
      if (!UUID_RE.test(uuid)) continue
      const dir = path.join(this.uploadRoot, uuid)
      let t = NaN
      try {
        t = Date.parse((JSON.parse((await readText(path.join(dir, 'info.json'))) ?? '{}') as { startedAt?: string }).startedAt ?? '')
      } catch {
        // Unreadable info (a session being created): fall back to the directory.
      }
      if (Number.isNaN(t)) {
        const st = await fsp.stat(dir).catch(() => null)
        if (!st) continue
        t = st.mtimeMs
      }
      out.push(t)
    }
    return out
  }

  /** Rename a blob aside (readers now miss it); false if it was not there. */
  async setAsideBlob(digest: Digest): Promise<boolean> {
    const hex = digestHex(digest)
    try {
      await fsp.rename(path.join(this.blobDir, hex), path.join(this.blobDir, TRASH_PREFIX + hex))
      return true
    } catch (err) {
      if (enoent(err)) return false
      throw err
    }
  }

  /** Undo setAsideBlob; a copy pushed again meanwhile wins. */
  async restoreBlob(digest: Digest): Promise<void> {
    const hex = digestHex(digest)
    const aside = path.join(this.blobDir, TRASH_PREFIX + hex)
    await fsp.link(aside, path.join(this.blobDir, hex)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err
    })
    await fsp.rm(aside, { force: true })
  }

  async dropSetAsideBlob(digest: Digest): Promise<void> {
    await fsp.rm(path.join(this.blobDir, TRASH_PREFIX + digestHex(digest)), { force: true })
  }

  async referrers(name: string, subject: Digest): Promise<ManifestDescriptor[]> {
    const dir = this.referrersDir(name, subject)
    const out: ManifestDescriptor[] = []
    for (const f of (await readDir(dir)).sort()) {
      if (!/^[a-f0-9]{64}$/.test(f)) continue
      const text = await readText(path.join(dir, f))
      // The revision may have been deleted between the listing and here.
      if (text !== null && (await this.manifestRecord(name, `sha256:${f}`))) out.push(JSON.parse(text) as ManifestDescriptor)
    }
    return out
  }

  /** Every repository name, sorted (a directory holding `_manifests` or `_layers`). */
  async listRepositories(): Promise<string[]> {
    const out: string[] = []
    const walk = async (dir: string, prefix: string): Promise<void> => {
      const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => [])
      if (entries.some((e) => e.isDirectory() && (e.name === '_manifests' || e.name === '_layers'))) out.push(prefix)
      for (const e of entries) {
        if (e.isDirectory() && !e.name.startsWith('_') && !e.name.startsWith('.')) {
          await walk(path.join(dir, e.name), prefix ? `${prefix}/${e.name}` : e.name)
        }
      }
    }
    await walk(this.repoRoot, '')
    return out.filter((n) => n !== '').sort()
  }
}
