/**
 * A writable snapshot as a new image (docker commit, and each step of a
 * build): the snapshot's upper dir becomes one layer on the parent's, and
 * the config a child of the parent's (moby daemon/images/image_commit.go and
 * image.NewChildImage). Container state, pausing and the container event are
 * the caller's (daemon/): this half needs only the snapshot key.
 */
import { diffUpper, EMPTY_LAYER_DIFF_ID, layerTar, type Change } from '../archive/index.js'
import { invalidArgument, notFound } from '../errors/index.js'
import {
  familiarName, familiarString, formatReference, hostPlatform, parseNormalizedNamed, withDefaultTag,
  type HistoryEntry, type ImageConfig, type Reference, type RunConfig,
} from '../oci/index.js'
import type { ImageService } from './service.js'

/**
 * Mountpoints the runtime creates in a container's root (docker's init layer,
 * moby daemon/initlayer): they never count as changes.
 */
export const RUNTIME_MOUNTPOINTS: readonly string[] = [
  '/dev/pts', '/dev/shm', '/dev/console', '/dev/mqueue', '/proc', '/sys', '/.dockerenv', '/etc/resolv.conf', '/etc/hosts', '/etc/hostname',
]

export interface CommitOptions {
  /** The writable snapshot to commit: a container's ID is its key. */
  snapshotKey: string
  /** The image the snapshot was prepared from; '' or absent for none. */
  parentImageId?: string
  /** The new image's runtime config, as it should be stored (already merged). */
  config: RunConfig
  /** The config of the container that made the changes (the image's container_config). */
  containerConfig?: RunConfig
  containerId?: string
  author?: string
  comment?: string
  /** The history entry's created_by; defaults to the container config's Cmd joined by spaces, as docker's commit. */
  createdBy?: string
  /** `repo[:tag]` to tag the new image with (tag defaults to latest). */
  ref?: string
  /** Paths the runtime mounted over; defaults to RUNTIME_MOUNTPOINTS. */
  mountpoints?: readonly string[]
  signal?: AbortSignal
}

export interface CommitResult {
  id: string
  /** The layer's diffID; EMPTY_LAYER_DIFF_ID when nothing changed (then no layer is added). */
  diffId: string
  emptyLayer: boolean
  /** The familiar reference it was tagged with, if any. */
  tagged?: string
}

/** A commit target as docker's API takes it (httputils.RepoTagReference): latest by default, no digest. */
export function commitTarget(ref: string): Reference {
  const named = withDefaultTag(parseNormalizedNamed(ref))
  if (named.digest !== undefined) throw invalidArgument('refusing to create a tag with a digest reference')
  if (familiarName(named) === 'sha256') throw invalidArgument('refusing to create an ambiguous tag using digest algorithm as name')
  return named
}

async function snapshotDirs(svc: ImageService, key: string): Promise<{ upper: string; lowers: string[] }> {
  if (!(await svc.snapshotter.exists(key))) throw notFound(`no writable layer for ${key}`)
  const data = await svc.snapshotter.snapshotDriverData(key)
  const lowers = (data.LowerDir ?? '').split(':').filter((l) => l !== '')
  return { upper: svc.snapshotter.upperDir(key), lowers }
}

/** docker container diff: the snapshot's changes against its image, sorted, each directory before its contents. */
export async function snapshotChanges(svc: ImageService, key: string, mountpoints: readonly string[] = RUNTIME_MOUNTPOINTS): Promise<Change[]> {
  const dirs = await snapshotDirs(svc, key)
  return (await diffUpper({ ...dirs, mountpoints })).changes
}

export async function commitSnapshot(svc: ImageService, o: CommitOptions): Promise<CommitResult> {
  const target = o.ref ? commitTarget(o.ref) : undefined
  const parent = o.parentImageId ? svc.resolve(o.parentImageId) : undefined
  const dirs = await snapshotDirs(svc, o.snapshotKey)
  const diff = await diffUpper({ ...dirs, mountpoints: o.mountpoints ?? RUNTIME_MOUNTPOINTS })
  o.signal?.throwIfAborted()

  let chains = parent?.chainIds ?? []
  let diffId = EMPTY_LAYER_DIFF_ID
  if (diff.members.length > 0) {
    const blob = await svc.content.ingest(layerTar(dirs.upper, diff.members), { signal: o.signal })
    diffId = blob.digest
    if (diffId !== EMPTY_LAYER_DIFF_ID) {
      const layer = await svc.commitLayerFromBlob(chains.at(-1) ?? null, diffId, o.signal)
      chains = [...chains, layer.chainId]
    }
  }
  const emptyLayer = diffId === EMPTY_LAYER_DIFF_ID

  const created = new Date().toISOString()
  const entry: HistoryEntry = { created }
  if (o.author) entry.author = o.author
  const createdBy = o.createdBy ?? (o.containerConfig?.Cmd ?? []).join(' ')
  if (createdBy) entry.created_by = createdBy
  if (o.comment) entry.comment = o.comment
  if (emptyLayer) entry.empty_layer = true
  const pc = parent?.config
  const plat = hostPlatform()
  // Key order as docker writes an image config (image.V1Image, then image.Image).
  const config: ImageConfig = {
    created,
    ...(o.containerId ? { container: o.containerId } : {}),
    ...(o.containerConfig ? { container_config: o.containerConfig } : {}),
    ...(o.author ? { author: o.author } : {}),
    config: o.config,
    architecture: pc?.architecture || plat.architecture,
    ...(pc?.variant ? { variant: pc.variant } : {}),
    os: pc?.os || plat.os,
    rootfs: { type: 'layers', diff_ids: [...(pc?.rootfs.diff_ids ?? []), ...(emptyLayer ? [] : [diffId])] },
    history: [...(pc?.history ?? []), entry],
    ...(pc?.['os.version'] ? { 'os.version': pc['os.version'] } : {}),
  }
  const id = await svc.createImage(Buffer.from(JSON.stringify(config)), chains, parent?.id ?? '')
  svc.events.publish('image', 'create', id, { name: id })
  if (target) svc.tag(id, formatReference(target))
  return { id, diffId, emptyLayer, ...(target ? { tagged: familiarString(target) } : {}) }
}

/**
 * moby daemon/commit.go merge(): fill what the new config leaves unset from
 * the container's config (env and labels key by key, exposed ports and
 * volumes as sets, cmd only without an entrypoint). Returns a new config.
 */
export function mergeCommitConfig(user: RunConfig, base: RunConfig): RunConfig {
  const out: RunConfig = structuredClone(user)
  if (!out.User) out.User = base.User ?? ''
  if (!out.ExposedPorts || Object.keys(out.ExposedPorts).length === 0) out.ExposedPorts = base.ExposedPorts ?? null
  else if (base.ExposedPorts) out.ExposedPorts = { ...base.ExposedPorts, ...out.ExposedPorts }
  if (!out.Env || out.Env.length === 0) out.Env = base.Env ?? null
  else {
    const keys = new Set(out.Env.map((e) => e.split('=', 1)[0]))
    out.Env = [...out.Env, ...(base.Env ?? []).filter((e) => !keys.has(e.split('=', 1)[0]))]
  }
  out.Labels = { ...(base.Labels ?? {}), ...(out.Labels ?? {}) }
  if (!out.Entrypoint || out.Entrypoint.length === 0) {
    if (!out.Cmd || out.Cmd.length === 0) out.Cmd = base.Cmd ?? null
    if (out.Entrypoint === undefined || out.Entrypoint === null) out.Entrypoint = base.Entrypoint ?? null
  }
  if (base.Healthcheck) {
    if (!out.Healthcheck) out.Healthcheck = base.Healthcheck
    else {
      const h = { ...out.Healthcheck }
      if (!h.Test || h.Test.length === 0) h.Test = base.Healthcheck.Test
      for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) if (!h[k] && base.Healthcheck[k] !== undefined) h[k] = base.Healthcheck[k]
      out.Healthcheck = h
    }
  }
  if (!out.WorkingDir) out.WorkingDir = base.WorkingDir ?? ''
  if (!out.Volumes || Object.keys(out.Volumes).length === 0) out.Volumes = base.Volumes ?? null
  else out.Volumes = { ...out.Volumes, ...(base.Volumes ?? {}) }
  if (!out.StopSignal && base.StopSignal) out.StopSignal = base.StopSignal
  return out
}
