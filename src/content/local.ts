import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, promises as fsp } from 'node:fs'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { invalidArgument, notFound } from '../errors/index.js'
import { syncDir } from '../lib/index.js'
import { digestHex, isDigest, type Digest } from '../oci/index.js'
import type { BlobInfo, ContentStore, IngestOptions } from './store.js'

/**
 * Blobs as files `<root>/blobs/sha256/<hex>`. Writes go to `<root>/blobs/ingest/`
 * and are hashed on the way, fsynced, verified, then hard-linked into place:
 * link(2) fails if the name exists, so two writers of one blob never clobber
 * each other and a reader never sees a partial file.
 */
export class LocalContentStore implements ContentStore {
  private readonly blobDir: string
  private readonly ingestDir: string

  private constructor(root: string) {
    this.blobDir = path.join(root, 'blobs', 'sha256')
    this.ingestDir = path.join(root, 'blobs', 'ingest')
  }

  /** Open the store under a data root, removing temp files a crash left behind. */
  static async open(root: string): Promise<LocalContentStore> {
    const s = new LocalContentStore(root)
    await fsp.mkdir(s.blobDir, { recursive: true })
    await fsp.rm(s.ingestDir, { recursive: true, force: true })
    await fsp.mkdir(s.ingestDir, { recursive: true })
    return s
  }

  path(digest: Digest): string {
    if (!isDigest(digest)) throw invalidArgument(`invalid digest: ${digest}`)
    return path.join(this.blobDir, digestHex(digest))
  }

  async stat(digest: Digest): Promise<BlobInfo | null> {
    try {
      const st = await fsp.stat(this.path(digest))
      return { digest, size: st.size }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw err
    }
  }

  async read(digest: Digest): Promise<Readable> {
    const p = this.path(digest)
    const fh = await fsp.open(p, 'r').catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? notFound(`content ${digest}: not found`) : err
    })
    // The stream owns the FileHandle and closes it once; closing the raw fd as well could close a reused descriptor.
    return createReadStream('', { fd: fh, autoClose: true })
  }

  async readAll(digest: Digest): Promise<Buffer> {
    try {
      return await fsp.readFile(this.path(digest))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`content ${digest}: not found`)
      throw err
    }
  }

  async ingestBytes(data: Uint8Array, expected?: Digest): Promise<BlobInfo> {
    return this.ingest([data], { expected })
  }

  async ingest(src: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, opts: IngestOptions = {}): Promise<BlobInfo> {
    const tmp = path.join(this.ingestDir, randomBytes(12).toString('hex'))
    const fh = await fsp.open(tmp, 'wx', 0o644)
    const hash = createHash('sha256')
    let size = 0
    let committed = false
    try {
      for await (const chunk of src) {
        opts.signal?.throwIfAborted()
        size += chunk.length
        if (opts.maxSize !== undefined && size > opts.maxSize) throw invalidArgument(`blob larger than ${opts.maxSize} bytes`)
        hash.update(chunk)
        await fh.write(chunk)
      }
      await fh.sync()
      await fh.close()
      const digest = 'sha256:' + hash.digest('hex')
      if (opts.expected !== undefined && opts.expected !== digest) {
        throw invalidArgument(`digest mismatch: expected ${opts.expected}, got ${digest}`)
      }
      const final = this.path(digest)
      try {
        await fsp.link(tmp, final)
        await syncDir(this.blobDir)
      } catch (err) {
        // Someone stored the same bytes first: theirs is verified too.
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      committed = true
      return { digest, size }
    } finally {
      if (!committed) await fh.close().catch(() => {})
      await fsp.rm(tmp, { force: true })
    }
  }

  async adopt(file: string, expected: Digest, opts: { verified?: boolean; signal?: AbortSignal } = {}): Promise<BlobInfo> {
    const final = this.path(expected)
    if (!opts.verified) {
      const hash = createHash('sha256')
      for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
        opts.signal?.throwIfAborted()
        hash.update(chunk)
      }
      const digest = 'sha256:' + hash.digest('hex')
      if (digest !== expected) throw invalidArgument(`digest mismatch: expected ${expected}, got ${digest}`)
    }
    // Durable before it is linked: a blob under its name is whole, as ingest's are.
    const fh = await fsp.open(file, 'r')
    let size: number
    try {
      await fh.sync()
      await fh.chmod(0o644)
      size = (await fh.stat()).size
    } finally {
      await fh.close()
    }
    try {
      await fsp.link(file, final)
      await syncDir(this.blobDir)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EXDEV') return this.ingest(createReadStream(file) as AsyncIterable<Buffer>, { expected, ...(opts.signal ? { signal: opts.signal } : {}) })
      // Someone stored the same bytes first: theirs is verified too.
      if (code !== 'EEXIST') throw err
    }
    return { digest: expected, size }
  }

  async delete(digest: Digest): Promise<void> {
    await fsp.rm(this.path(digest), { force: true })
  }

  async list(): Promise<BlobInfo[]> {
    const out: BlobInfo[] = []
    await this.walk((i) => {
      out.push(i)
    })
    return out
  }

  async walk(fn: (info: BlobInfo) => Promise<void> | void): Promise<void> {
    for (const name of await fsp.readdir(this.blobDir)) {
      if (!/^[a-f0-9]{64}$/.test(name)) continue
      const info = await this.stat('sha256:' + name)
      if (info) await fn(info)
    }
  }
}
