/**
 * docker pull (moby distribution/pull_v2.go, xfer/download.go): manifest
 * first, then layers — downloaded three at a time into the content store,
 * where each is verified while it streams, then unpacked strictly in order,
 * gunzipped, hashed against its diffID and unpacked in one pass — then the
 * config, the image, its tag and its repo digest. Progress events are
 * docker's JSON messages, so api/ streams them unchanged.
 */
import { Readable } from 'node:stream'
import { decompress } from '../archive/index.js'
import { EngineError, invalidArgument, notFound, unavailable } from '../errors/index.js'
import { limiter, shortId } from '../lib/index.js'
import {
  chainIds, DEFAULT_DOMAIN, familiarName, familiarString, formatReference, hostPlatform, isDigest, parseNormalizedNamed, withDefaultTag,
  type Descriptor, type ImageConfig, type Platform, type Reference,
} from '../oci/index.js'
import {
  checkPlatform, decodeRegistryAuth, MAX_CONFIG_SIZE, parsePlatform, RegistryUnreachable, type RegistryAuth, type Repository,
} from '../registry/index.js'
import type { ImageService } from './service.js'

/** One jsonmessage.JSONMessage of a pull, minus the deprecated fields api/ adds. */
export interface PullProgress {
  status: string
  id?: string
  progressDetail?: { current: number; total: number }
}

export interface PullOptions {
  /** `os/arch[/variant]`; default the host's. */
  platform?: string
  auth?: RegistryAuth
  /** X-Registry-Auth as sent (base64url JSON); used when auth is not given. */
  encodedAuth?: string
  progress?: (ev: PullProgress) => void
  signal?: AbortSignal
  /** A name without tag or digest pulls every tag (docker pull -a); otherwise it means `:latest`. */
  allTags?: boolean
}

export interface PullResult {
  id: string
  /** Digest of what the reference named (docker's "Digest:" line and RepoDigest). */
  digest: string
  /** The reference pulled, normalized: `docker.io/library/busybox:latest`. */
  ref: string
  /** Whether the tag moved (docker's "Downloaded newer image" vs "Image is up to date"). */
  updated: boolean
}

/** Layer downloads in flight at once: docker's max-concurrent-downloads default. */
export const MAX_CONCURRENT_DOWNLOADS = 3
const PROGRESS_STEP = 512 * 1024

/** The first message of a pull: `{"status":"Pulling from library/busybox","id":"latest"}` (the path on the registry, as docker shows it). */
export function pullingFrom(ref: Reference): PullProgress {
  return { status: `Pulling from ${ref.path}`, id: ref.digest ?? ref.tag ?? 'latest' }
}

/** The last message: docker's writeStatus. */
export function pullStatus(ref: Reference, updated: boolean): PullProgress {
  return { status: `Status: ${updated ? 'Downloaded newer image' : 'Image is up to date'} for ${familiarString(ref)}` }
}

/** A ref with both tag and digest is pulled by digest, as docker does. */
function pullTarget(s: string): Reference {
  const ref = withDefaultTag(parseNormalizedNamed(s))
  return ref.digest !== undefined ? { domain: ref.domain, path: ref.path, digest: ref.digest } : ref
}

function asConfig(raw: Buffer, ref: Reference): ImageConfig {
  let c: Partial<ImageConfig>
  try {
    c = JSON.parse(raw.toString('utf8')) as Partial<ImageConfig>
  } catch (err) {
    throw invalidArgument(`image config of ${familiarString(ref)} is not JSON: ${(err as Error).message}`)
  }
  if (!c || typeof c !== 'object' || !c.rootfs || !Array.isArray(c.rootfs.diff_ids) || !c.rootfs.diff_ids.every((d) => typeof d === 'string' && isDigest(d))) {
    throw invalidArgument(`image config of ${familiarString(ref)} has no valid rootfs.diff_ids`)
  }
  return c as ImageConfig
}

/** Yields the chunks and reports bytes seen: every PROGRESS_STEP and at the end. */
async function* counted(src: AsyncIterable<Uint8Array>, total: number, report: (current: number) => void, atEnd?: () => void): AsyncGenerator<Uint8Array> {
  let current = 0
  let last = 0
  for await (const c of src) {
    current += c.length
    if (current - last >= PROGRESS_STEP || current === total) {
      last = current
      report(current)
    }
    yield c
  }
  if (current !== last) report(current)
  atEnd?.()
}

export async function pullImage(svc: ImageService, name: string, opts: PullOptions = {}): Promise<PullResult> {
  const parsed = parseNormalizedNamed(name)
  const allTags = opts.allTags === true && parsed.tag === undefined && parsed.digest === undefined
  const ref = allTags ? parsed : pullTarget(name)
  const auth = opts.auth ?? decodeRegistryAuth(opts.encodedAuth)
  const repos = svc.registry.pullRepositories(ref, auth)
  let lastErr: unknown
  for (const repo of repos) {
    try {
      return await (allTags ? pullAllTags(svc, repo, ref, opts) : pullFrom(svc, repo, ref, opts))
    } catch (err) {
      // moby pullEndpoints: a mirror that fails for any reason but cancellation gives way to the next endpoint.
      if (repo.endpoint.mirror && !opts.signal?.aborted) {
        svc.log.info('pull from mirror failed; trying the next endpoint', { mirror: repo.endpoint.base, err: (err as Error).message })
        lastErr = err
        continue
      }
      if (err instanceof RegistryUnreachable && ref.domain === DEFAULT_DOMAIN) offline(svc, ref, err)
      throw err
    }
  }
  throw lastErr
}

/** One tag or digest from one endpoint: docker's pullTag, then the status line. */
async function pullFrom(svc: ImageService, repo: Repository, ref: Reference, opts: PullOptions): Promise<PullResult> {
  const r = await pullTag(svc, repo, ref, opts, false)
  opts.progress?.(pullStatus(ref, r.updated))
  svc.events.publish('image', 'pull', familiarString(ref), { name: familiarName(ref) })
  return r
}

/** pull -a (a name without tag): every tag the registry lists, then one status line for the name. */
async function pullAllTags(svc: ImageService, repo: Repository, ref: Reference, opts: PullOptions): Promise<PullResult> {
  const tags = await repo.listTags(opts.signal)
  if (tags.length === 0) throw notFound(`no tags found for ${familiarName(ref)}`)
  let last: PullResult | undefined
  let updated = false
  for (const tag of tags) {
    const tagged: Reference = { domain: ref.domain, path: ref.path, tag }
    last = await pullTag(svc, repo, tagged, opts, true)
    updated ||= last.updated
    svc.events.publish('image', 'pull', familiarString(tagged), { name: familiarName(tagged) })
  }
  opts.progress?.(pullStatus(ref, updated))
  return { ...(last as PullResult), ref: formatReference(ref), updated }
}

async function pullTag(svc: ImageService, repo: Repository, ref: Reference, opts: PullOptions, allTags: boolean): Promise<PullResult> {
  const say = (ev: PullProgress) => opts.progress?.(ev)
  const explicit = opts.platform !== undefined && opts.platform !== ''
  const want: Platform = explicit ? parsePlatform(opts.platform as string, hostPlatform()) : hostPlatform()
  const signal = opts.signal
  const resolved = await repo.resolve(want, signal)
  // After the manifest, as docker: an unknown image fails before any output, so the API can answer with a status.
  say(allTags ? { status: `${ref.tag}: Pulling from ${ref.path}` } : pullingFrom(ref))
  const cfgDesc = resolved.manifest.config
  let id = cfgDesc.digest
  const local = svc.store.image(id)
  const checkConfig = (config: ImageConfig) => {
    if (explicit) checkPlatform(ref, want, { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) })
    else if (!resolved.fromIndex && (config.os ?? 'linux') !== 'linux') throw invalidArgument(`image operating system "${config.os}" cannot be used on this platform: operating system is not supported`)
  }
  // A config already here is checked too: an image of another platform is never reported "up to date".
  if (local) checkConfig(asConfig(local.config, ref))
  else {
    const raw = await repo.readBlob(cfgDesc, MAX_CONFIG_SIZE, signal)
    const config = asConfig(raw, ref)
    checkConfig(config)
    const layers = resolved.manifest.layers
    if (layers.length !== config.rootfs.diff_ids.length) {
      throw invalidArgument(`invalid manifest for ${familiarString(ref)}: ${layers.length} layers but the config lists ${config.rootfs.diff_ids.length} diffIDs`)
    }
    const chains = await fetchLayers(svc, repo, layers, config.rootfs.diff_ids, say, signal)
    id = await svc.createImage(raw, chains)
  }

  const prev = svc.store.ref(formatReference(ref))?.image_id
  const digestRef = formatReference({ domain: ref.domain, path: ref.path, digest: resolved.digest })
  svc.store.db.transaction(() => {
    if (ref.tag !== undefined) svc.store.setRef(formatReference(ref), id, false)
    svc.store.setRef(digestRef, id, true)
  })()
  say({ status: `Digest: ${resolved.digest}` })
  return { id, digest: resolved.digest, ref: formatReference(ref), updated: prev !== id }
}

/**
 * Docker Hub out of reach (a machine without internet): fail as docker does,
 * saying whether a local image of that name exists and where images can come
 * from instead. A local image is never reported "up to date" unchecked.
 */
function offline(svc: ImageService, ref: Reference, err: RegistryUnreachable): never {
  const hint = "images can come from 'berth load' (docker save archives) or 'berth import' (rootfs tarballs)"
  if (!svc.store.ref(formatReference(ref))) {
    throw notFound(`pull access denied for ${familiarName(ref)}, repository does not exist or may require 'docker login': ${err.message}; without the registry, ${hint}`, err)
  }
  throw unavailable(`${err.message}; the local ${familiarString(ref)} was not checked against the registry (berth run uses it as it is)`, err)
}

/**
 * Download missing layers (limit MAX_CONCURRENT_DOWNLOADS) and apply them in
 * order. Downloads and unpacks run once however many pulls want them
 * (svc.transfers). On failure every blob and layer this call added, and no
 * other pull still uses, is removed again, so the stores are as before and a
 * retry starts clean.
 */
async function fetchLayers(
  svc: ImageService, repo: Repository, layers: readonly Descriptor[], diffIds: readonly string[],
  say: (ev: PullProgress) => void, outer?: AbortSignal,
): Promise<string[]> {
  const chains = chainIds(diffIds)
  const ctl = new AbortController()
  const onAbort = () => ctl.abort(outer?.reason)
  outer?.addEventListener('abort', onAbort, { once: true })
  const signal = ctl.signal
  const addedBlobs: string[] = []
  const addedLayers: string[] = []
  const pins = [...layers.map((d) => d.digest), ...diffIds, ...chains]
  svc.transfers.pin(pins)

  // Present: unpacked, recorded, and with its tar readable (diffID tar or compressed blob) for save and push.
  const present: boolean[] = []
  for (let i = 0; i < layers.length; i++) {
    const chain = chains[i] as string
    present.push(!!svc.store.layer(chain) && (await svc.snapshotter.hasLayer(chain)) && !!(await svc.layerTarSource(diffIds[i] as string)))
  }
  // Two manifests entries may share a blob: download it once.
  const downloads = new Map<string, Promise<void>>()
  const run = limiter(MAX_CONCURRENT_DOWNLOADS)
  for (let i = 0; i < layers.length; i++) {
    const d = layers[i] as Descriptor
    const lid = shortId(d.digest)
    if (present[i]) {
      say({ status: 'Already exists', id: lid })
      continue
    }
    if (downloads.has(d.digest)) continue
    say({ status: 'Pulling fs layer', id: lid })
    const p = run(() => download(d), () => say({ status: 'Waiting', id: lid }))
    // Failures are collected below; keep Node from reporting an unhandled rejection meanwhile.
    p.catch(() => {})
    downloads.set(d.digest, p)
  }

  async function download(d: Descriptor): Promise<void> {
    signal.throwIfAborted()
    const lid = shortId(d.digest)
    if (await svc.content.stat(d.digest)) {
      say({ status: 'Download complete', id: lid })
      return
    }
    const shared = svc.transfers.share(`blob:${d.digest}`, () => downloadBlob(d, lid))
    // Whoever needed a blob that was not there counts it as added: the last failing pull out removes it.
    addedBlobs.push(d.digest)
    if (shared.joined) say({ status: 'Waiting', id: lid })
    await shared.promise
    say({ status: 'Download complete', id: lid })
  }

  async function downloadBlob(d: Descriptor, lid: string): Promise<void> {
    const { body } = await repo.openBlob(d.digest, signal)
    const src = counted(body, d.size, (current) => say({ status: 'Downloading', id: lid, progressDetail: { current, total: d.size } }),
      () => say({ status: 'Verifying Checksum', id: lid }))
    try {
      const info = await svc.content.ingest(src, { expected: d.digest, maxSize: d.size, signal })
      if (info.size !== d.size) throw unavailable(`filesystem layer verification failed for digest ${d.digest}: size ${info.size}, manifest says ${d.size}`)
    } catch (err) {
      if (err instanceof EngineError && /digest mismatch|blob larger/.test(err.message)) {
        throw unavailable(`filesystem layer verification failed for digest ${d.digest}: ${err.message}`, err)
      }
      throw err
    }
  }

  async function extract(i: number, parent: string | null): Promise<void> {
    const d = layers[i] as Descriptor
    await svc.transfers.share(`layer:${chains[i] as string}`, () => unpack(i, parent)).promise
    say({ status: 'Pull complete', id: shortId(d.digest) })
  }

  /**
   * The stored blob, gunzipped straight into the snapshotter, which hashes
   * the tar as it unpacks: a tar that is not the config's diffID is refused
   * after the fact and its unpacked files removed. The blob is recorded
   * with the layer as its only stored form (no diffID tar).
   */
  async function unpack(i: number, parent: string | null): Promise<void> {
    const d = layers[i] as Descriptor
    const diffId = diffIds[i] as string
    const chain = chains[i] as string
    const lid = shortId(d.digest)
    const compressed = await svc.content.read(d.digest)
    try {
      const src = Readable.from(counted(compressed, d.size, (current) => say({ status: 'Extracting', id: lid, progressDetail: { current, total: d.size } })), { objectMode: false })
      const existed = !!svc.store.layer(chain)
      await svc.commitLayerFromStream(parent, diffId, await decompress(src), {
        blob: { digest: d.digest, diff_id: diffId, media_type: d.mediaType, size: d.size }, signal,
      })
      if (!existed) addedLayers.push(chain)
    } catch (err) {
      if (err instanceof EngineError && /digest mismatch/.test(err.message)) {
        throw invalidArgument(`invalid diffID for layer ${i} (${d.digest}): ${err.message}`, err)
      }
      throw err
    } finally {
      // A refused or skipped stream may stop before the file's end: close it here.
      compressed.destroy()
    }
  }

  try {
    let firstErr: unknown
    try {
      for (let i = 0; i < layers.length; i++) {
        if (present[i]) continue
        await downloads.get((layers[i] as Descriptor).digest)
        await extract(i, i === 0 ? null : (chains[i - 1] as string))
      }
    } catch (err) {
      firstErr = err
      ctl.abort(err)
    }
    // Let every download settle before cleaning up after them.
    await Promise.allSettled(downloads.values())
    svc.transfers.unpin(pins)
    const mine = (k: string) => !svc.transfers.pinned(k)
    if (firstErr !== undefined) {
      await svc.dropPartialPull(addedLayers.filter(mine), addedBlobs.filter(mine))
      throw firstErr
    }
    // A blob downloaded for a layer another pull unpacked from a blob of its own was never
    // checked against the diffID, so it is not recorded: drop it rather than leave it unowned.
    await svc.dropPartialPull([], addedBlobs.filter(mine))
    return chains
  } finally {
    outer?.removeEventListener('abort', onAbort)
  }
}
