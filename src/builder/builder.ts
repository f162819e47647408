/**
 * The build service behind POST /build: unpack the context, read and parse
 * the Dockerfile, run it (executor.ts), then report and tag the result as
 * docker's classic builder does ("Successfully built", "Successfully
 * tagged"). With `q`, step output is held back and shown only if the build
 * fails, as dockerd does.
 */
import { promises as fsp } from 'node:fs'
import path from 'node:path'
import type { Readable } from 'node:stream'
import type { Db } from '../db/index.js'
import { shortId, type Logger } from '../lib/index.js'
import { BuildCache } from './cache.js'
import { extractContext, readDockerfile } from './context.js'
import { parseDockerfile } from './dockerfile/index.js'
import { Executor } from './executor.js'
import type { BuildBackend, BuildContainers, BuildImages, BuildMessage, BuildRequest, BuildResult } from './ports.js'

export interface BuilderDeps {
  images: BuildImages
  containers: BuildContainers
  db: Db
  /** Where contexts are unpacked (under the data root: same filesystem as the layers). */
  tmpDir: string
  logger: Logger
  /** Whether an image still exists (cache entries of removed images are void). */
  imageExists: (id: string) => boolean
  /** Remove an image if nothing uses it (no tag, child, or container); returns the bytes freed, or null when it stays. */
  removeIfUnused: (id: string) => Promise<number | null>
}

const CONTEXT_PREFIX = 'context-'
/** Contexts of finished builds being deleted. */
const TRASH_PREFIX = 'removing-'
/** What builds make in tmpDir (`add-`: ADD's downloads). */
const LEFTOVER_PREFIXES = [CONTEXT_PREFIX, TRASH_PREFIX, 'add-']

export class Builder implements BuildBackend {
  private readonly cache: BuildCache
  private readonly log: Logger
  /** tmpDir's names when this Builder started. */
  private readonly leftovers: Promise<string[]>

  constructor(private readonly deps: BuilderDeps) {
    this.cache = new BuildCache(deps.db, deps.imageExists)
    this.log = deps.logger.child({ module: 'builder' })
    // Contexts of builds a crash or restart interrupted. Builds wait for the
    // listing (not the removal), so it can't include a context of theirs.
    this.leftovers = fsp.readdir(this.deps.tmpDir).catch(() => [])
    void this.clearLeftovers()
  }

  private async clearLeftovers(): Promise<void> {
    for (const name of await this.leftovers) {
      if (!LEFTOVER_PREFIXES.some((p) => name.startsWith(p))) continue
      await fsp.rm(path.join(this.deps.tmpDir, name), { recursive: true, force: true }).catch((err: unknown) => this.log.warn('removing old build context failed', { name, error: (err as Error).message }))
    }
  }

  async build(req: BuildRequest, context: Readable, emit: (msg: BuildMessage) => void, signal?: AbortSignal): Promise<BuildResult> {
    await this.leftovers
    await fsp.mkdir(this.deps.tmpDir, { recursive: true })
    const dir = await fsp.mkdtemp(path.join(this.deps.tmpDir, CONTEXT_PREFIX))
    const held: BuildMessage[] = []
    const out = req.quiet ? (m: BuildMessage) => (m.aux ? emit(m) : held.push(m)) : emit
    try {
      const ctx = await extractContext(context, dir, signal ? { signal } : {})
      const df = parseDockerfile(await readDockerfile(dir, req.dockerfile || 'Dockerfile'))
      const executor = new Executor({ images: this.deps.images, containers: this.deps.containers, cache: this.cache, contextDir: dir, contextSums: ctx.sums, tmpDir: this.deps.tmpDir, emit: out, ...(signal ? { signal } : {}) }, req, df)
      let id: string
      try {
        id = await executor.run()
      } catch (err) {
        for (const m of held) emit(m)
        throw err
      }
      const tags: string[] = []
      if (!req.quiet) emit({ stream: `Successfully built ${shortId(id)}\n` })
      for (const t of req.tags) {
        const name = this.deps.images.tag(id, t)
        tags.push(name)
        if (!req.quiet) emit({ stream: `Successfully tagged ${name}\n` })
      }
      this.log.info('image built', { id, tags })
      return { id, tags }
    } finally {
      await this.discard(dir)
    }
  }

  /**
   * Remove a context without holding up the build's response: it is renamed
   * aside (same directory, so same filesystem) and deleted in the
   * background; what a crash leaves there goes when the next Builder starts.
   */
  private async discard(dir: string): Promise<void> {
    const aside = path.join(this.deps.tmpDir, `${TRASH_PREFIX}${path.basename(dir)}`)
    const gone = await fsp.rename(dir, aside).then(() => aside, () => dir)
    void fsp.rm(gone, { recursive: true, force: true }).catch((err: unknown) => this.log.warn('removing build context failed', { dir: gone, error: (err as Error).message }))
  }

  /** The images the build cache points at (`system df` reports the untagged ones as build cache). */
  cacheEntries(): Array<{ imageId: string; createdAt: number; usedAt: number; keys: number }> {
    return this.cache.entries()
  }

  /** docker builder prune: forget the cache and remove the images only it kept (untagged, unused), children first. */
  async prune(opts: { all: boolean; usedBeforeMs?: number }): Promise<{ deleted: string[]; spaceReclaimed: number }> {
    let pending = this.cache.images(opts.usedBeforeMs)
    const deleted: string[] = []
    let spaceReclaimed = 0
    for (let progress = true; progress && pending.length > 0;) {
      progress = false
      const left: string[] = []
      for (const id of pending) {
        const freed = await this.deps.removeIfUnused(id).catch(() => null)
        if (freed === null) left.push(id)
        else {
          deleted.push(id)
          spaceReclaimed += freed
          progress = true
        }
      }
      pending = left
    }
    this.cache.forget(deleted)
    return { deleted, spaceReclaimed }
  }
}
