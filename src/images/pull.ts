/**
 * docker pull (moby distribution/pull_v2.go, xfer/download.go): manifest
 * first, then layers — downloaded three at a time into the content store,
 * where each is verified while it streams, then unpacked strictly in order —
 * then the config, the image, its tag and its repo digest. Progress events are
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
  checkPlatform, decodeRegistryAuth, MAX_CONFIG_SIZE, parsePlatform, RegistryUnreachable, type RegistryAuth, type Repository, type ResolvedImage,
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
  const ref = pullTarget(name)
  const say = (ev: PullProgress) => opts.progress?.(ev)
  const explicit = opts.platform !== undefined && opts.platform !== ''
  const want: Platform = explicit ? parsePlatform(opts.platform as string, hostPlatform()) : hostPlatform()
  const signal = opts.signal
  const auth = opts.auth ?? decodeRegistryAuth(opts.encodedAuth)
  const repo = svc.registry.repository(ref, auth)
  let resolved: ResolvedImage
  try {
    resolved = await repo.resolve(want, signal)
  } catch (err) {
    if (err instanceof RegistryUnreachable && ref.domain === DEFAULT_DOMAIN) offline(svc, ref, err)
    throw err
  }
  // After the manifest, as docker: an unknown image fails before any output, so the API can answer with a status.
  say(pullingFrom(ref))
  const cfgDesc = resolved.manifest.config
  let id = cfgDesc.digest
  if (!svc.store.image(id)) {
    const raw = await repo.readBlob(cfgDesc, MAX_CONFIG_SIZE, signal)
    const config = asConfig(raw, ref)
    if (explicit || !resolved.fromIndex) {
      if (explicit) checkPlatform(ref, want, { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) })
      else if ((config.os ?? 'linux') !== 'linux') throw invalidArgument(`image operating system "${config.os}" cannot be used on this platform: operating system is not supported`)
    }
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
  const updated = prev !== id
  say({ status: `Digest: ${resolved.digest}` })
  say(pullStatus(ref, updated))
  svc.events.publish('image', 'pull', familiarString(ref), { name: familiarName(ref) })
  return { id, digest: resolved.digest, ref: formatReference(ref), updated }
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
 * order. On failure every blob and layer this call added is removed again,
 * so the stores are as before and a retry starts clean.
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

  const present: boolean[] = []
  for (let i = 0; i < layers.length; i++) {
    const chain = chains[i] as string
    present.push(!!svc.store.layer(chain) && (await svc.snapshotter.hasLayer(chain)) && !!(await svc.content.stat(diffIds[i] as string)))
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
    const { body } = await repo.openBlob(d.digest, signal)
    const src = counted(body, d.size, (current) => say({ status: 'Downloading', id: lid, progressDetail: { current, total: d.size } }),
      () => say({ status: 'Verifying Checksum', id: lid }))
    try {
      const info = await svc.content.ingest(src, { expected: d.digest, maxSize: d.size, signal })
      addedBlobs.push(info.digest)
      if (info.size !== d.size) throw unavailable(`filesystem layer verification failed for digest ${d.digest}: size ${info.size}, manifest says ${d.size}`)
    } catch (err) {
      if (err instanceof EngineError && /digest mismatch|blob larger/.test(err.message)) {
        throw unavailable(`filesystem layer verification failed for digest ${d.digest}: ${err.message}`, err)
      }
      throw err
    }
    say({ status: 'Download complete', id: lid })
  }

  async function extract(i: number, parent: string | null): Promise<void> {
    const d = layers[i] as Descriptor
    const diffId = diffIds[i] as string
    const lid = shortId(d.digest)
    if (!(await svc.content.stat(diffId))) {
      const compressed = await svc.content.read(d.digest)
      const src = Readable.from(counted(compressed, d.size, (current) => say({ status: 'Extracting', id: lid, progressDetail: { current, total: d.size } })), { objectMode: false })
      try {
        const info = await svc.content.ingest(await decompress(src), { expected: diffId, signal })
        addedBlobs.push(info.digest)
      } catch (err) {
        if (err instanceof EngineError && /digest mismatch/.test(err.message)) {
          throw invalidArgument(`invalid diffID for layer ${i} (${d.digest}): ${err.message}`, err)
        }
        throw err
      }
    }
    const existed = !!svc.store.layer(chains[i] as string)
    await svc.commitLayerFromBlob(parent, diffId, signal)
    if (!existed) addedLayers.push(chains[i] as string)
    svc.store.addLayerBlob({ digest: d.digest, diff_id: diffId, media_type: d.mediaType, size: d.size })
    say({ status: 'Pull complete', id: lid })
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
    if (firstErr !== undefined) {
      await svc.dropPartialPull(addedLayers, addedBlobs)
      throw firstErr
    }
    return chains
  } finally {
    outer?.removeEventListener('abort', onAbort)
  }
}
