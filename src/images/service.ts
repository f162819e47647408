import { createHash } from 'node:crypto'
import { promises as fsp } from 'node:fs'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { decompress, type Change } from '../archive/index.js'
import { LocalContentStore, type ContentStore } from '../content/index.js'
import { migrate, type Db } from '../db/index.js'
import { conflict, invalidArgument, isKind, notFound } from '../errors/index.js'
import type { EventBus } from '../events/index.js'
import { exclusive, shortId, type Logger } from '../lib/index.js'
import {
  chainId as makeChainId, familiarMatch, familiarName, familiarString, formatReference, hostPlatform, parseAnyReference,
  parseNormalizedNamed, parseReference, sha256, withDefaultTag, type ImageConfig, type Platform, type Reference, type RunConfig,
} from '../oci/index.js'
import { Transfers } from './transfers.js'
import { formatPlatform, platformMatches, RegistryClient, type RegistryClientOptions } from '../registry/index.js'
import { OverlaySnapshotter, type DriverData, type Mount, type Snapshotter } from '../snapshots/index.js'
import { applyChanges } from './changes.js'
import { commitSnapshot, snapshotChanges, type CommitOptions, type CommitResult } from './commit.js'
import { boolFilter, matchLabels, parseTimestamp, validateFilters } from './filters.js'
import { renderHistory, unixSeconds } from './history.js'
import { loadArchive } from './load.js'
import { pullImage, type PullOptions, type PullResult } from './pull.js'
import { pushImage, type PushedTag, type PushOptions } from './push.js'
import { saveArchive } from './save.js'
import { ImageStore, migrations, type ImageRow, type LayerBlobRow } from './store.js'
import type {
  DeleteItem, HistoryItem, ImageRecord, ImageSummary, ImportOptions, ListOptions, LoadOptions, PruneReport, RemoveOptions,
} from './types.js'

export interface ImageServiceDeps {
  db: Db
  dataRoot: string
  logger: Logger
  events: EventBus
  /** IDs of containers (running or not) created from the image. */
  containersUsing: (imageId: string) => string[]
  /** Whether a container is running: running users make a removal a hard conflict. Default: none are. */
  containerRunning?: (containerId: string) => boolean
  /** Defaults to an OverlaySnapshotter and a LocalContentStore under dataRoot. */
  snapshotter?: Snapshotter
  content?: ContentStore
  /** Registry settings for pulls (insecure registries); loopback is insecure regardless. */
  registry?: RegistryClientOptions
}

/**
 * Where a layer's uncompressed tar is read from (save, push): the diffID tar
 * itself, or a compressed blob recorded for it, which unpacks to it.
 */
export interface LayerTarSource {
  /** The blob in the content store. */
  blob: string
  compressed: boolean
  /** The tar's length; null when not recorded yet (layerTarSize counts it). */
  tarSize: number | null
}

const LIST_FILTERS = ['before', 'dangling', 'label', 'reference', 'since', 'until']
const PRUNE_FILTERS = ['dangling', 'label', 'label!', 'until']

/**
 * Images: metadata and references in SQLite, configs and layers in the
 * content store — a pulled layer as its compressed blob (layer_blobs), one
 * loaded, imported or committed as its tar keyed by diffID — and unpacked
 * layers in the snapshotter. Either form gives save the exact tar bytes. Every image operation of the Engine
 * API lands here; semantics and messages follow moby daemon/images.
 */
export class ImageService {
  readonly store: ImageStore
  readonly content: ContentStore
  readonly snapshotter: Snapshotter
  readonly log: Logger
  readonly events: EventBus
  readonly tmpDir: string
  readonly registry: RegistryClient
  /** Downloads and unpacks shared by concurrent pulls. (Internal to images/.) */
  readonly transfers = new Transfers()
  private readonly containersUsing: (imageId: string) => string[]
  private readonly containerRunning: (containerId: string) => boolean

  private constructor(deps: ImageServiceDeps, content: ContentStore, snapshotter: Snapshotter) {
    migrate(deps.db, migrations)
    this.store = new ImageStore(deps.db)
    this.content = content
    this.snapshotter = snapshotter
    this.log = deps.logger.child({ module: 'images' })
    this.events = deps.events
    this.tmpDir = path.join(deps.dataRoot, 'tmp', 'images')
    this.registry = new RegistryClient(deps.registry)
    this.containersUsing = deps.containersUsing
    this.containerRunning = deps.containerRunning ?? (() => false)
  }

  static async open(deps: ImageServiceDeps): Promise<ImageService> {
    const content = deps.content ?? (await LocalContentStore.open(deps.dataRoot))
    const snapshotter = deps.snapshotter ?? (await OverlaySnapshotter.open({ root: deps.dataRoot, logger: deps.logger }))
    await fsp.rm(path.join(deps.dataRoot, 'tmp', 'images'), { recursive: true, force: true })
    await fsp.mkdir(path.join(deps.dataRoot, 'tmp', 'images'), { recursive: true })
    const svc = new ImageService(deps, content, snapshotter)
    await svc.collectGarbage()
    return svc
  }

  /**
   * Drop layers left without an image or container, e.g. by an import that
   * failed after unpacking, then blobs no row points at (a crash between
   * storing a blob and recording it). Run at open, before anything else
   * writes to the stores.
   */
  async collectGarbage(): Promise<string[]> {
    const orphans = this.store.layers().filter((l) => l.refcount <= 0).map((l) => l.chain_id)
    // releaseLayers walks top-down; orphans have no order, so repeat until stable.
    const removed: string[] = []
    for (let again = true; again;) {
      const done = await this.releaseLayers(orphans.filter((c) => !removed.includes(c)))
      removed.push(...done)
      again = done.length > 0
    }
    // Layers unpacked but never recorded, and layers or snapshots half removed, when a crash came between.
    const leftovers = await this.snapshotter.prune({ layers: new Set(this.store.layers().map((l) => l.chain_id)), snapshots: new Set(this.store.rootfsOwners()) })
    if (leftovers.length > 0) this.log.info('removed overlay2 directories nothing recorded', { names: leftovers })
    const keep = this.store.referencedContent()
    const stray: string[] = []
    await this.content.walk((b) => {
      if (!keep.has(b.digest)) stray.push(b.digest)
    })
    for (const d of stray) await this.content.delete(d)
    if (stray.length > 0) this.log.info('removed blobs nothing referenced', { count: stray.length })
    return removed
  }

  // ---- lookups -------------------------------------------------------------

  /**
   * An image by `name[:tag]`, `name@digest`, full ID (with or without
   * `sha256:`) or a unique ID prefix. Invalid references are invalid-argument,
   * unknown ones not-found with docker's "No such image: busybox:latest".
   */
  resolve(refOrId: string): ImageRecord {
    const any = parseAnyReference(refOrId)
    if (any.kind === 'id') {
      const row = this.store.image(any.id)
      if (!row) throw notFound(`No such image: ${any.id}`)
      return this.record(row)
    }
    const ref = canonical(any.ref)
    const hit = this.store.ref(formatReference(withDefaultTag(ref)))
    if (hit) return this.record(this.store.image(hit.image_id) as ImageRow)
    const hex = refOrId.replace(/^sha256:/, '')
    if (/^[a-f0-9]+$/.test(hex)) {
      const ids = this.store.searchId(hex)
      if (ids.length === 1) return this.record(this.store.image(ids[0] as string) as ImageRow)
    }
    throw notFound(`No such image: ${familiarString(withDefaultTag(ref))}`)
  }

  /** resolve() that answers undefined for unknown images (invalid references still throw). */
  find(refOrId: string): ImageRecord | undefined {
    try {
      return this.resolve(refOrId)
    } catch (err) {
      if (isKind(err, 'not-found')) return undefined
      throw err
    }
  }

  /**
   * With a platform (image inspect --platform, API 1.49), only an image of
   * that platform: another is "not found", in moby GetImage's words.
   */
  inspect(refOrId: string, opts: { platform?: Platform } = {}): ImageRecord {
    const img = this.resolve(refOrId)
    const want = opts.platform
    if (want) {
      const c = img.config
      const have: Platform = { os: c.os ?? '', architecture: c.architecture ?? '', ...(c.variant ? { variant: c.variant } : {}) }
      if (!platformMatches(want, have)) {
        // moby names the image familiarly only when it was given in full (reference.ParseNamed).
        let name = refOrId
        try {
          const r = parseReference(refOrId)
          if (formatReference(r) === refOrId && r.domain) name = familiarString(r)
        } catch {
          // an ID or a short name: as given
        }
        throw notFound(`image with reference ${name} was found but its platform (${formatPlatform(have)}) does not match the specified platform (${formatPlatform(want)})`)
      }
    }
    return img
  }

  /** GraphDriver data of an image (its top layer's dirs). */
  async driverData(id: string): Promise<DriverData> {
    const chains = this.store.chainOf(id)
    return this.snapshotter.layerDriverData(chains.at(-1) ?? null)
  }

  imageSize(id: string): number {
    return this.store.chainOf(id).reduce((n, c) => n + (this.store.layer(c)?.size ?? 0), 0)
  }

  /**
   * Every image as a node of the layer graph (its chainIDs bottom first, its
   * parent image, whether a reference names it) and each layer's own size,
   * read in one transaction: what `system df` and the build cache's
   * accounting walk (moby image_list.go SharedSize, ImageDiskUsage).
   */
  layerGraph(): { images: Array<{ id: string; parent: string; chainIds: string[]; referenced: boolean }>; layerSizes: Map<string, number> } {
    return this.store.db.transaction(() => {
      const referenced = new Set(this.store.allRefs().map((r) => r.image_id))
      const images = this.store.images().map((row) => ({ id: row.id, parent: row.parent, chainIds: this.store.chainOf(row.id), referenced: referenced.has(row.id) }))
      return { images, layerSizes: new Map(this.store.layers().map((l) => [l.chain_id, l.size])) }
    })()
  }

  list(opts: ListOptions = {}): ImageSummary[] {
    const filters = opts.filters ?? new Map<string, string[]>()
    validateFilters(filters, LIST_FILTERS)
    const danglingOnly = boolFilter(filters, 'dangling', false)
    let before = Infinity
    let since = -Infinity
    for (const v of filters.get('before') ?? []) before = Math.min(before, Date.parse(this.resolve(v).config.created ?? '') || 0)
    for (const v of filters.get('until') ?? []) before = Math.min(before, parseTimestamp(v))
    for (const v of filters.get('since') ?? []) since = Math.max(since, Date.parse(this.resolve(v).config.created ?? '') || 0)
    const refFilters = filters.get('reference')

    const out: ImageSummary[] = []
    for (const row of this.store.images()) {
      const img = this.record(row)
      const created = Date.parse(img.config.created ?? '')
      if (before !== Infinity && !(created < before)) continue
      if (since !== -Infinity && !(created > since)) continue
      if (filters.has('label') && !matchLabels(filters.get('label'), img.config.config?.Labels)) continue
      let tags = img.repoTags
      let digests = img.repoDigests
      if (refFilters) {
        const refs = this.store.refsOf(img.id).map((r) => parseNormalizedNamed(r.name)).filter((r) => refFilters.some((p) => familiarMatch(p, r)))
        tags = refs.filter((r) => r.tag !== undefined).map(familiarString)
        digests = refs.filter((r) => r.digest !== undefined).map(familiarString)
      }
      if (tags.length === 0 && digests.length === 0) {
        if (!(opts.all || this.store.children(img.id).length === 0)) continue
        if (filters.has('dangling') && !danglingOnly) continue
        if (refFilters) continue
      } else if (danglingOnly && (img.repoTags.length > 0 || img.repoDigests.length > 0)) continue
      out.push({
        id: img.id,
        parentId: img.parent,
        repoTags: tags,
        repoDigests: digests,
        created: unixSeconds(img.config.created),
        size: img.size,
        labels: img.config.config?.Labels ?? null,
        containers: -1,
      })
    }
    return out.sort((a, b) => b.created - a.created)
  }

  history(refOrId: string): HistoryItem[] {
    const img = this.resolve(refOrId)
    const sizes = img.chainIds.map((c) => this.store.layer(c)?.size ?? 0)
    const chain: Array<{ id: string; tags: string[] }> = []
    for (let cur: ImageRecord | undefined = img; cur && chain.length <= (img.config.history?.length ?? 0); cur = cur.parent ? this.find(cur.parent) : undefined) {
      chain.push({ id: cur.id, tags: cur.repoTags })
    }
    return renderHistory(img.config, sizes, chain)
  }

  // ---- references ----------------------------------------------------------

  /** Tag src as target (`repo[:tag]`, tag defaults to latest); the name moves off any other image. */
  tag(src: string, target: string): Reference {
    const ref = withDefaultTag(parseNormalizedNamed(target))
    if (ref.digest !== undefined) throw invalidArgument('refusing to create a tag with a digest reference')
    if (familiarName(ref) === 'sha256') throw invalidArgument('refusing to create an ambiguous tag using digest algorithm as name')
    const img = this.resolve(src)
    const now = new Date().toISOString()
    this.store.db.transaction(() => {
      this.store.setRef(formatReference(ref), img.id, false)
      this.store.setLastTagTime(img.id, now)
    })()
    this.events.publish('image', 'tag', img.id, { name: familiarString(ref) })
    return ref
  }

  /** docker rmi: untag, or delete when the last reference goes (moby daemon/images/image_delete.go). */
  async remove(refOrId: string, opts: RemoveOptions = {}): Promise<DeleteItem[]> {
    if (refOrId.trim() === '') throw invalidArgument('image name cannot be blank')
    const force = opts.force ?? false
    const img = this.resolve(refOrId)
    const records: DeleteItem[] = []
    let refs = this.store.refsOf(img.id)
    const isIdRef = isIdPrefix(img.id, refOrId)
    let quiet = false

    if (!isIdRef) {
      const ref = canonical(withDefaultTag(parseNormalizedNamed(refOrId)))
      if (!force && isSingleReference(refs)) {
        const user = this.containersUsing(img.id)[0]
        if (user) {
          throw conflict(`conflict: unable to remove repository reference "${refOrId}" (must force) - container ${shortId(user)} is using its referenced image ${shortId(img.id)}`)
        }
      }
      const name = formatReference(ref)
      if (!this.store.ref(name)) throw notFound(`No such image: ${familiarString(ref)}`)
      this.untag(img.id, name, records)
      refs = this.store.refsOf(img.id)
      if (ref.digest === undefined) {
        const repo = familiarName(ref)
        const sameRepoTags = refs.some((r) => !r.is_digest && familiarName(parseNormalizedNamed(r.name)) === repo)
        if (!sameRepoTags) {
          for (const r of refs.filter((r) => r.is_digest && familiarName(parseNormalizedNamed(r.name)) === repo)) this.untag(img.id, r.name, records)
          refs = this.store.refsOf(img.id)
        }
      }
      if (refs.length > 0) return records
      quiet = true
    } else if (isSingleReference(refs)) {
      const c = this.deleteConflict(img.id, { hard: true, soft: !force, activeReference: false })
      if (c) throw conflict(c.message)
      for (const r of refs) this.untag(img.id, r.name, records)
    }
    await this.deleteHelper(img.id, records, force, quiet, !opts.noPrune)
    return records
  }

  private untag(imageId: string, name: string, records: DeleteItem[]): void {
    this.store.deleteRef(name)
    const familiar = familiarString(parseNormalizedNamed(name))
    records.push({ untagged: familiar })
    this.events.publish('image', 'untag', imageId, { name: imageId })
  }

  private deleteConflict(id: string, mask: { hard: boolean; soft: boolean; activeReference: boolean }): { message: string; used: boolean } | null {
    const msg = (hard: boolean, m: string) => `conflict: unable to delete ${shortId(id)} (${hard ? 'cannot be forced' : 'must be forced'}) - ${m}`
    if (mask.hard && this.store.children(id).length > 0) return { message: msg(true, 'image has dependent child images'), used: false }
    const users = this.containersUsing(id)
    if (mask.hard) {
      const running = users.find((c) => this.containerRunning(c))
      if (running) return { message: msg(true, `image is being used by running container ${shortId(running)}`), used: true }
    }
    if (mask.soft && mask.activeReference && this.store.refsOf(id).length > 0) return { message: msg(false, 'image is referenced in multiple repositories'), used: false }
    if (mask.soft) {
      const stopped = users.find((c) => !this.containerRunning(c))
      if (stopped) return { message: msg(false, `image is being used by stopped container ${shortId(stopped)}`), used: true }
    }
    return null
  }

  private async deleteHelper(id: string, records: DeleteItem[], force: boolean, quiet: boolean, prune = false): Promise<void> {
    const c = this.deleteConflict(id, { hard: true, soft: !force, activeReference: true })
    if (c) {
      // After an untag by name, a kept image is not an error unless it is now dangling and unused.
      if (quiet && (!this.isDangling(id) || c.used)) return
      throw conflict(c.message)
    }
    for (const r of this.store.refsOf(id)) this.untag(id, r.name, records)
    const parentOf = this.store.image(id)?.parent ?? ''
    const chains = this.store.chainOf(id)
    this.store.db.transaction(() => this.store.deleteImage(id))()
    await this.content.delete(id).catch(() => {})
    this.events.publish('image', 'delete', id, { name: id })
    records.push({ deleted: id })
    for (const chain of await this.releaseLayers(chains)) records.push({ deleted: chain })
    // moby imageDeleteHelper: then the parent (a build's step image), quietly, if nothing else holds it.
    if (prune && parentOf && this.store.image(parentOf)) await this.deleteHelper(parentOf, records, false, true, true)
  }

  /** moby imageIsDangling: no reference and no child (a build step image under a kept image is not dangling). */
  private isDangling(id: string): boolean {
    return this.store.refsOf(id).length === 0 && this.store.children(id).length === 0
  }

  /** Remove layers no image and no container holds any more; returns their chainIDs, top first. */
  private async releaseLayers(chains: readonly string[]): Promise<string[]> {
    const pinned = this.store.pinnedChains()
    const removed: string[] = []
    for (const chain of [...chains].reverse()) {
      const row = this.store.layer(chain)
      if (!row || row.refcount > 0 || pinned.has(chain)) continue
      this.store.deleteLayer(chain)
      await this.snapshotter.removeLayer(chain)
      if (this.store.layersWithDiff(row.diff_id) === 0) {
        await this.content.delete(row.diff_id)
        for (const blob of this.store.layerBlobsOf(row.diff_id)) {
          await this.content.delete(blob)
          this.store.deleteLayerBlob(blob)
        }
      }
      removed.push(chain)
    }
    return removed
  }

  /** docker image prune (moby daemon/images/image_prune.go). */
  private readonly pruning = exclusive(() => conflict('a prune operation is already running'))

  prune(opts: { all?: boolean; filters?: Map<string, string[]> } = {}): Promise<PruneReport> {
    return this.pruning(() => this.pruneNow(opts))
  }

  private async pruneNow(opts: { all?: boolean; filters?: Map<string, string[]> }): Promise<PruneReport> {
    const filters = opts.filters ?? new Map<string, string[]>()
    validateFilters(filters, PRUNE_FILTERS)
    const danglingOnly = opts.all ? false : boolFilter(filters, 'dangling', true)
    let until = Infinity
    for (const v of filters.get('until') ?? []) until = Math.min(until, parseTimestamp(v))
    const layerSizes = new Map(this.store.layers().map((l) => [l.chain_id, l.size]))
    const report: PruneReport = { imagesDeleted: [], spaceReclaimed: 0 }
    for (const row of this.store.images()) {
      const img = this.find(row.id)
      if (!img) continue
      const created = Date.parse(img.config.created ?? '')
      if (until !== Infinity && created > until) continue
      const labels = img.config.config?.Labels
      if (!matchLabels(filters.get('label'), labels)) continue
      const neg = filters.get('label!')
      if (neg && neg.length > 0 && matchLabels(neg, labels)) continue
      if (this.containersUsing(img.id).length > 0) continue
      const refs = this.store.refsOf(img.id)
      const deleted: DeleteItem[] = []
      try {
        if (refs.length > 0) {
          const shouldDelete = !danglingOnly || !refs.some((r) => !r.is_digest)
          if (!shouldDelete) continue
          for (const r of refs) {
            if (!this.store.ref(r.name)) continue
            deleted.push(...(await this.remove(r.name)))
          }
        } else {
          deleted.push(...(await this.remove(img.id.slice(7))))
        }
      } catch (err) {
        if (!isKind(err, 'conflict') && !isKind(err, 'not-found')) throw err
        this.log.debug('prune skipped an image', { id: img.id, err })
      }
      report.imagesDeleted.push(...deleted)
    }
    for (const d of report.imagesDeleted) if ('deleted' in d) report.spaceReclaimed += layerSizes.get(d.deleted) ?? 0
    this.events.publish('image', 'prune', '', { reclaimed: String(report.spaceReclaimed) })
    return report
  }

  // ---- creating images -----------------------------------------------------

  /** docker import: one layer from a rootfs tar (plain or gzip) plus a config from `changes`. Returns the image ID. */
  async importRootfs(tar: Readable, opts: ImportOptions = {}): Promise<string> {
    const config: RunConfig = applyChanges({}, opts.changes ?? [])
    const target = opts.ref ? withDefaultTag(parseNormalizedNamed(opts.ref)) : undefined
    if (target?.digest !== undefined) throw invalidArgument('cannot import with a digest reference')
    const plain = await decompress(tar)
    const blob = await this.content.ingest(plain, { signal: opts.signal })
    const layer = await this.commitLayerFromBlob(null, blob.digest, opts.signal)
    const created = new Date().toISOString()
    const message = opts.message ?? 'Imported from -'
    const plat = hostPlatform()
    const imageConfig: ImageConfig = {
      architecture: plat.architecture,
      comment: message,
      config: compactConfig(config),
      created,
      history: [{ created, comment: message }],
      os: plat.os,
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    }
    const id = await this.createImage(Buffer.from(JSON.stringify(imageConfig)), [layer.chainId])
    if (target) this.tag(id, formatReference(target))
    this.events.publish('image', 'import', id, { name: id })
    return id
  }

  /** docker load: a docker-archive (classic or 25+ with OCI layout). Returns the progress lines it printed. */
  async load(tar: Readable, opts: LoadOptions = {}): Promise<string[]> {
    return loadArchive(this, tar, opts)
  }

  /** docker pull: from the reference's registry, with docker's progress messages (see pull.ts). */
  async pull(ref: string, opts: PullOptions = {}): Promise<PullResult> {
    return pullImage(this, ref, opts)
  }

  /** docker push: a tag, or every tag of a name given without one, with docker's progress messages (see push.ts). */
  async push(ref: string, opts: PushOptions = {}): Promise<PushedTag[]> {
    return pushImage(this, ref, opts)
  }

  /**
   * Undo what a failed pull added: layers nothing references yet and blobs
   * no layer records. (Internal to images/.)
   */
  async dropPartialPull(chains: readonly string[], blobs: readonly string[]): Promise<void> {
    await this.releaseLayers(chains)
    for (const b of blobs) {
      if (this.store.layersWithDiff(b) > 0 || this.store.image(b)) continue
      if (this.store.hasLayerBlob(b)) continue
      await this.content.delete(b)
    }
  }

  /**
   * docker commit's image half, and a build step's: the writable snapshot
   * `snapshotKey` becomes a layer on its parent image (none when nothing
   * changed) and a new image with the given config (see commit.ts).
   */
  async commit(opts: CommitOptions): Promise<CommitResult> {
    return commitSnapshot(this, opts)
  }

  /** docker container diff: what the writable snapshot `snapshotKey` changed against its image. */
  async changes(snapshotKey: string): Promise<Change[]> {
    return snapshotChanges(this, snapshotKey)
  }

  /** docker save: one tarball that docker 20.10 and 25+ both load. Names resolve before any byte is sent. */
  async save(refs: readonly string[]): Promise<Readable> {
    return saveArchive(this, refs)
  }

  /**
   * Make sure the layer `chainId(parent, diffId)` is unpacked, from the tar
   * blob `diffId` already in the content store; record it once.
   * (Internal to images/: load and import use it.)
   */
  async commitLayerFromBlob(parent: string | null, diffId: string, signal?: AbortSignal): Promise<{ chainId: string; diffId: string; size: number }> {
    const chain = makeChainId(parent, diffId)
    const known = this.store.layer(chain)
    if (known && (await this.snapshotter.hasLayer(chain))) return { chainId: chain, diffId, size: known.size }
    try {
      const info = await this.snapshotter.commitLayer(parent, await this.content.read(diffId), { expectedDiffId: diffId, signal })
      this.store.addLayer({ chain_id: info.chainId, diff_id: info.diffId, parent, size: info.size })
      return { chainId: info.chainId, diffId: info.diffId, size: info.size }
    } catch (err) {
      if (this.store.layersWithDiff(diffId) === 0) await this.content.delete(diffId)
      throw err
    }
  }

  /**
   * Make sure the layer `chainId(parent, diffId)` is unpacked, straight from
   * `tar` (a pull's gunzip stream, in one pass: no diffID tar is stored). The
   * snapshotter hashes what it unpacks and refuses, leaving nothing, a tar
   * that is not `diffId` ("layer digest mismatch"). `blob`, the compressed
   * blob the tar comes from, is recorded in the same transaction as the
   * layer: save and push read the layer from it. A layer already unpacked is
   * not unpacked again, but the stream is still hashed before its blob is
   * recorded. `verified`: the whole stream was hashed and matched (false
   * when a concurrent unpack made reading it unnecessary). (Internal to
   * images/: pull and load use it.)
   */
  async commitLayerFromStream(
    parent: string | null, diffId: string, tar: Readable,
    opts: { blob?: Omit<LayerBlobRow, 'tar_size'>; signal?: AbortSignal } = {},
  ): Promise<{ chainId: string; diffId: string; size: number; verified: boolean }> {
    const chain = makeChainId(parent, diffId)
    if (await this.snapshotter.hasLayer(chain)) {
      const got = await digestOf(tar, opts.signal)
      if (got.digest !== diffId) throw invalidArgument(`layer digest mismatch: expected ${diffId}, got ${got.digest}`)
      const info = this.store.layer(chain) ?? (await this.snapshotter.layerInfo(chain))
      this.store.db.transaction(() => {
        this.store.addLayer({ chain_id: chain, diff_id: diffId, parent, size: info.size })
        if (opts.blob) this.store.addLayerBlob({ ...opts.blob, tar_size: got.size })
      })()
      return { chainId: chain, diffId, size: info.size, verified: true }
    }
    let consumed = false
    tar.once('end', () => {
      consumed = true
    })
    const info = await this.snapshotter.commitLayer(parent, tar, { expectedDiffId: diffId, signal: opts.signal })
    this.store.db.transaction(() => {
      this.store.addLayer({ chain_id: info.chainId, diff_id: info.diffId, parent, size: info.size })
      // Unpacked meanwhile by someone else (the stream was skipped, not hashed): the blob is not known to be this layer.
      if (opts.blob && consumed) this.store.addLayerBlob({ ...opts.blob, tar_size: info.tarSize ?? null })
    })()
    return { chainId: info.chainId, diffId: info.diffId, size: info.size, verified: consumed }
  }

  /**
   * Where the tar of layer `diffId` can be read: the diffID tar, else a
   * stored compressed blob recorded for it. Undefined when neither is here.
   * (Internal to images/: save, push, pull and load use it.)
   */
  async layerTarSource(diffId: string): Promise<LayerTarSource | undefined> {
    const tar = await this.content.stat(diffId)
    if (tar) return { blob: diffId, compressed: false, tarSize: tar.size }
    for (const row of this.store.layerBlobRows(diffId)) {
      if (await this.content.stat(row.digest)) return { blob: row.digest, compressed: true, tarSize: row.tar_size }
    }
    return undefined
  }

  /** The layer's uncompressed tar, from either kind of source. (Internal to images/.) */
  async openLayerTar(src: LayerTarSource): Promise<Readable> {
    const s = await this.content.read(src.blob)
    return src.compressed ? decompress(s) : s
  }

  /** The tar's length; one not recorded is counted by streaming the tar once, then recorded. (Internal to images/.) */
  async layerTarSize(src: LayerTarSource, signal?: AbortSignal): Promise<number> {
    if (src.tarSize !== null) return src.tarSize
    const { size } = await digestOf(await this.openLayerTar(src), signal)
    this.store.setLayerBlobTarSize(src.blob, size)
    src.tarSize = size
    return size
  }

  /** Store a config and take references on its layers; idempotent. (Internal to images/.) */
  async createImage(rawConfig: Buffer, chainIds: readonly string[], parent = ''): Promise<string> {
    const id = sha256(rawConfig)
    await this.content.ingestBytes(rawConfig, id)
    this.store.db.transaction(() => this.store.addImage(id, rawConfig, chainIds, parent))()
    return id
  }

  /** Point a tag at an image as load does; returns the image it replaced, if any. (Internal to images/.) */
  setLoadedTag(ref: Reference, imageId: string): string | undefined {
    const name = formatReference(ref)
    const prev = this.store.ref(name)?.image_id
    this.store.setRef(name, imageId, false)
    return prev !== undefined && prev !== imageId ? prev : undefined
  }

  // ---- container root filesystems -----------------------------------------

  /** A writable snapshot for a container over the image's layers; returns how to mount it. Idempotent. */
  async rootfsFor(containerId: string, imageId: string): Promise<Mount[]> {
    const img = this.resolve(imageId)
    const top = img.chainIds.at(-1) ?? null
    this.store.addRootfs(containerId, img.id, top)
    if (await this.snapshotter.exists(containerId)) return this.snapshotter.mounts(containerId)
    try {
      return await this.snapshotter.prepare(containerId, top)
    } catch (err) {
      this.store.deleteRootfs(containerId)
      throw err
    }
  }

  /**
   * A writable snapshot for a build step (COPY, ADD, WORKDIR) over an image,
   * or over nothing for a stage FROM scratch; released with releaseRootfs like
   * a container's, and collected the same way after a crash.
   */
  async buildRootFor(key: string, imageId: string | null): Promise<Mount[]> {
    if (imageId) return this.rootfsFor(key, imageId)
    this.store.addRootfs(key, '', null)
    if (await this.snapshotter.exists(key)) return this.snapshotter.mounts(key)
    try {
      return await this.snapshotter.prepare(key, null)
    } catch (err) {
      this.store.deleteRootfs(key)
      throw err
    }
  }

  /** Where containers/ should mount the rootfs (docker's MergedDir). */
  rootfsMountpoint(containerId: string): string {
    return this.snapshotter.mountpoint(containerId)
  }

  /** Containers that hold a rootfs snapshot: the daemon compares them with its records after a crash. */
  rootfsOwners(): string[] {
    return this.store.rootfsOwners()
  }

  /** Drop a container's snapshot (it must be unmounted) and any layers only it kept alive. */
  async releaseRootfs(containerId: string): Promise<void> {
    const row = this.store.rootfs(containerId)
    await this.snapshotter.remove(containerId)
    this.store.deleteRootfs(containerId)
    if (row?.chain_id) {
      const chain: string[] = []
      for (let c: string | null | undefined = row.chain_id; c; c = this.store.layer(c)?.parent) chain.unshift(c)
      await this.releaseLayers(chain)
    }
  }

  /** Bytes written by the container (`ps -s` SizeRw). */
  async rootfsUsage(containerId: string): Promise<number> {
    return (await this.snapshotter.usage(containerId)).size
  }

  async rootfsDriverData(containerId: string): Promise<DriverData> {
    return this.snapshotter.snapshotDriverData(containerId)
  }

  // ---- helpers -------------------------------------------------------------

  record(row: ImageRow): ImageRecord {
    const config = JSON.parse(row.config.toString('utf8')) as ImageConfig
    const refs = this.store.refsOf(row.id)
    const tags: string[] = []
    const digests: string[] = []
    for (const r of refs) (r.is_digest ? digests : tags).push(familiarString(parseNormalizedNamed(r.name)))
    return {
      id: row.id,
      config,
      rawConfig: row.config,
      repoTags: tags,
      repoDigests: digests,
      parent: row.parent || config.parent || '',
      size: this.imageSize(row.id),
      chainIds: this.store.chainOf(row.id),
      lastTagTime: row.last_tag_time,
    }
  }
}

/** sha256 and length of a stream, read to its end. */
async function digestOf(src: Readable, signal?: AbortSignal): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256')
  let size = 0
  try {
    for await (const c of src as AsyncIterable<Buffer>) {
      signal?.throwIfAborted()
      hash.update(c)
      size += c.length
    }
  } finally {
    src.destroy()
  }
  return { digest: 'sha256:' + hash.digest('hex'), size }
}

/** A reference with both tag and digest is looked up by its digest, as docker does. */
function canonical(ref: Reference): Reference {
  return ref.digest !== undefined && ref.tag !== undefined ? { domain: ref.domain, path: ref.path, digest: ref.digest } : ref
}

function isIdPrefix(id: string, ref: string): boolean {
  return id.startsWith(ref) || id.startsWith('sha256:' + ref)
}

/** moby isSingleReference: exactly one tag, plus digests of that same repository only. */
function isSingleReference(refs: ReadonlyArray<{ name: string; is_digest: number }>): boolean {
  if (refs.length <= 1) return refs.length === 1
  let single: string | undefined
  const digestRepos = new Set<string>()
  for (const r of refs) {
    const repo = familiarName(parseNormalizedNamed(r.name))
    if (r.is_digest) digestRepos.add(repo)
    else if (single === undefined) single = repo
    else return false
  }
  single ??= familiarName(parseNormalizedNamed((refs[0] as { name: string }).name))
  return digestRepos.size === 1 && digestRepos.has(single)
}

/** Drop empty fields so the stored config stays as small as an OCI one. */
function compactConfig(c: RunConfig): RunConfig {
  const out: RunConfig = {}
  for (const [k, v] of Object.entries(c) as Array<[keyof RunConfig, unknown]>) {
    if (v === undefined || v === null || v === '' || v === false) continue
    ;(out as Record<string, unknown>)[k] = v
  }
  return out
}
