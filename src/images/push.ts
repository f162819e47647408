/**
 * docker push (moby distribution/push_v2.go, xfer/upload.go): for each tag,
 * every layer's compressed blob — the one a pull recorded, or the layer tar
 * gzipped now and recorded for the next push — is skipped when the registry
 * has it, mounted from another repository of the same registry when the
 * image came from one, else uploaded; then the config and a Docker schema2
 * manifest PUT by tag. Progress events are docker's JSON messages.
 */
import { createGzip } from 'node:zlib'
import { detectCompression } from '../archive/index.js'
import { invalidArgument, notFound, unavailable } from '../errors/index.js'
import { limiter, shortId } from '../lib/index.js'
import {
  decodePlatform, DEFAULT_DOMAIN, familiarName, familiarString, formatReference, hostPlatform, MediaType, parseNormalizedNamed,
  type Descriptor, type ImageConfig, type Platform, type Reference,
} from '../oci/index.js'
import {
  decodeRegistryAuth, formatPlatform, parsePlatform, platformMatches, PushRepository, RegistryUnreachable, schema2Manifest, type RegistryAuth,
} from '../registry/index.js'
import type { ImageService } from './service.js'

/** One jsonmessage.JSONMessage of a push. */
export interface PushProgress {
  status?: string
  id?: string
  /** `{}` on per-layer status updates (docker's progress.Update), counts while pushing. */
  progressDetail?: { current?: number; total?: number }
  aux?: { Tag: string; Digest: string; Size: number }
}

export interface PushOptions {
  /** Push only if the image is for this platform (`os/arch[/variant]` or the API's JSON form). */
  platform?: string
  auth?: RegistryAuth
  /** X-Registry-Auth as sent (base64url JSON); used when auth is not given. */
  encodedAuth?: string
  progress?: (ev: PushProgress) => void
  signal?: AbortSignal
  /** Blob size above which uploads are chunked (tests); default the client's CHUNK_SIZE. */
  chunkSize?: number
}

export interface PushedTag {
  tag: string
  digest: string
  size: number
}

/** docker's max-concurrent-uploads default. */
export const MAX_CONCURRENT_UPLOADS = 5
const PROGRESS_STEP = 512 * 1024

/** The first message: the repository's full name, as docker prints it. */
export function pushRefersTo(ref: Reference): PushProgress {
  return { status: `The push refers to repository [${ref.domain}/${ref.path}]` }
}

/** The last two messages of a tag: the digest line and the aux record docker's CLI reads. */
export function pushDone(tag: string, digest: string, size: number): PushProgress[] {
  return [
    { status: `${tag}: digest: ${digest} size: ${size}` },
    { progressDetail: {}, aux: { Tag: tag, Digest: digest, Size: size } },
  ]
}

/** A per-layer status line: id is the short diffID, as docker's push shows layers. */
export function layerStatus(diffId: string, status: string): PushProgress {
  return { status, progressDetail: {}, id: shortId(diffId) }
}

/** The API sends platform as OCI JSON (1.46+); the CLI form is `os/arch[/variant]`. */
function wantedPlatform(s: string): Platform {
  const t = s.trim()
  if (t.startsWith('{')) return decodePlatform(t)
  return parsePlatform(t, hostPlatform())
}

/** The tags to push: the one named, or (name only) every tag of the repository, as docker -a. */
function tagsToPush(svc: ImageService, ref: Reference): Array<{ ref: Reference; id: string }> {
  if (ref.digest !== undefined) throw invalidArgument('cannot push a digest reference')
  if (ref.tag !== undefined) {
    const hit = svc.store.ref(formatReference(ref))
    if (!hit) throw notFound(`No such image: ${familiarString(ref)}`)
    return [{ ref, id: hit.image_id }]
  }
  const repo = `${ref.domain}/${ref.path}`
  const out = svc.store.refsByRepo(repo).filter((r) => !r.is_digest).map((r) => ({ ref: parseNormalizedNamed(r.name), id: r.image_id }))
  if (out.length === 0) throw notFound(`An image does not exist locally with the tag: ${familiarName(ref)}`)
  return out
}

export async function pushImage(svc: ImageService, name: string, opts: PushOptions = {}): Promise<PushedTag[]> {
  const ref = parseNormalizedNamed(name)
  const targets = tagsToPush(svc, ref)
  if (opts.platform) {
    const want = wantedPlatform(opts.platform)
    for (const t of targets) {
      const c = JSON.parse((svc.store.image(t.id)?.config ?? Buffer.from('{}')).toString('utf8')) as Partial<ImageConfig>
      const have: Platform = { os: c.os ?? 'linux', architecture: c.architecture ?? '', ...(c.variant ? { variant: c.variant } : {}) }
      if (!platformMatches(want, have)) throw notFound(`image with reference ${familiarString(t.ref)} was found but does not match the specified platform: wanted ${formatPlatform(want)}, actual: ${formatPlatform(have)}`)
    }
  }
  const say = (ev: PushProgress) => opts.progress?.(ev)
  const auth = opts.auth ?? decodeRegistryAuth(opts.encodedAuth)
  say(pushRefersTo(ref))
  const out: PushedTag[] = []
  for (const t of targets) {
    try {
      out.push(await pushTag(svc, t.ref, t.id, auth, say, opts))
    } catch (err) {
      if (err instanceof RegistryUnreachable && ref.domain === DEFAULT_DOMAIN) {
        throw unavailable(`cannot push ${familiarString(t.ref)}: Docker Hub (registry-1.docker.io) is unreachable: ${err.message}`, err)
      }
      throw err
    }
  }
  return out
}

/**
 * Other repositories of the same registry the image was pulled from or pushed
 * to (its RepoDigests, newest first): candidates to mount its blobs from.
 */
function mountSources(svc: ImageService, ref: Reference, id: string): string[] {
  const out = new Set<string>()
  for (const r of svc.store.refsOf(id).filter((r) => r.is_digest).reverse()) {
    const other = parseNormalizedNamed(r.name)
    if (other.domain === ref.domain && other.path !== ref.path) out.add(other.path)
  }
  return [...out]
}

async function pushTag(
  svc: ImageService, ref: Reference, id: string, auth: RegistryAuth | undefined, say: (ev: PushProgress) => void, opts: PushOptions,
): Promise<PushedTag> {
  const signal = opts.signal
  const row = svc.store.image(id)
  if (!row) throw notFound(`No such image: ${familiarString(ref)}`)
  const config = JSON.parse(row.config.toString('utf8')) as ImageConfig
  const diffIds = config.rootfs.diff_ids
  const sources = mountSources(svc, ref, id)
  const repo = new PushRepository(svc.registry.endpoint(ref.domain), ref, auth, {}, sources)

  // Two manifest entries may share a diffID (empty layers): push each once, in docker's bottom-up order.
  const unique = [...new Set(diffIds)]
  for (const d of unique) say(layerStatus(d, 'Preparing'))
  const blobs = new Map<string, Descriptor>()
  const run = limiter(MAX_CONCURRENT_UPLOADS)
  const ctl = new AbortController()
  const onAbort = () => ctl.abort(signal?.reason)
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const jobs = unique.map((d) => run(async () => {
      blobs.set(d, await pushLayer(svc, repo, d, sources, say, ctl.signal, opts.chunkSize))
    }, () => say(layerStatus(d, 'Waiting'))))
    const settled = await Promise.allSettled(jobs)
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')
    if (failed) throw failed.reason
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }

  const cfg: Descriptor = { mediaType: MediaType.dockerConfig, digest: id, size: row.config.length }
  if ((await repo.blobSize(id, signal)) === undefined) {
    const loc = await repo.startUpload(signal)
    await repo.upload(loc, id, row.config.length, [row.config], { signal })
  }
  const raw = schema2Manifest(cfg, diffIds.map((d) => blobs.get(d) as Descriptor))
  const tag = ref.tag ?? 'latest'
  const digest = await repo.putManifest(tag, MediaType.dockerManifest, raw, signal)
  svc.store.setRef(formatReference({ domain: ref.domain, path: ref.path, digest }), id, true)
  for (const ev of pushDone(tag, digest, raw.length)) say(ev)
  svc.events.publish('image', 'push', familiarString(ref), { name: familiarName(ref) })
  return { tag, digest, size: raw.length }
}

/**
 * The gzip blob for a diffID: one recorded (by a pull or an earlier push) and
 * still stored, else made now from the layer's tar (its diffID tar, or another
 * recorded blob gunzipped) and recorded.
 */
async function compressedBlob(svc: ImageService, diffId: string, signal?: AbortSignal): Promise<Descriptor> {
  for (const digest of svc.store.layerBlobsOf(diffId)) {
    const info = await svc.content.stat(digest)
    if (!info) continue
    if (await isGzip(svc, digest)) return { mediaType: MediaType.dockerLayerGzip, digest, size: info.size }
  }
  const tar = await svc.layerTarSource(diffId)
  if (!tar) throw notFound(`layer ${diffId} has no stored tar to push`)
  const src = await svc.openLayerTar(tar)
  // Larger output chunks than zlib's 16 KiB: fewer thread-pool round trips, same bytes.
  const gz = src.pipe(createGzip({ chunkSize: 256 << 10 }))
  src.on('error', (e) => gz.destroy(e))
  const info = await svc.content.ingest(gz, { signal })
  svc.store.addLayerBlob({ digest: info.digest, diff_id: diffId, media_type: MediaType.dockerLayerGzip, size: info.size, tar_size: tar.tarSize })
  return { mediaType: MediaType.dockerLayerGzip, digest: info.digest, size: info.size }
}

async function isGzip(svc: ImageService, digest: string): Promise<boolean> {
  const s = await svc.content.read(digest)
  try {
    for await (const c of s as AsyncIterable<Buffer>) return detectCompression(c) === 'gzip'
    return false
  } finally {
    s.destroy()
  }
}

async function pushLayer(
  svc: ImageService, repo: PushRepository, diffId: string, sources: readonly string[],
  say: (ev: PushProgress) => void, signal: AbortSignal, chunkSize?: number,
): Promise<Descriptor> {
  signal.throwIfAborted()
  const desc = await compressedBlob(svc, diffId, signal)
  if ((await repo.blobSize(desc.digest, signal)) !== undefined) {
    say(layerStatus(diffId, 'Layer already exists'))
    return desc
  }
  // One mount attempt: a refused mount already opened the session the upload then uses.
  const from = sources[0]
  let session: string
  if (from !== undefined) {
    const r = await repo.mount(desc.digest, from, signal)
    if (r === true) {
      say(layerStatus(diffId, `Mounted from ${from}`))
      return desc
    }
    session = r
  } else session = await repo.startUpload(signal)
  let last = -PROGRESS_STEP
  const lid = shortId(diffId)
  const report = (current: number) => {
    if (current - last < PROGRESS_STEP && current !== desc.size) return
    last = current
    say({ status: 'Pushing', progressDetail: { current, total: desc.size }, id: lid })
  }
  report(0)
  await repo.upload(session, desc.digest, desc.size, await svc.content.read(desc.digest), { onProgress: report, signal, chunkSize })
  say(layerStatus(diffId, 'Pushed'))
  return desc
}

