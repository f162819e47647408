/**
 * GET /system/df (moby api/server/router/system getDiskUsage,
 * daemon/disk_usage.go): the `type` parameters pick the parts (API 1.42+),
 * and what the daemon measured becomes docker's types.DiskUsage for the
 * request's API version.
 */
import type { ContainerRecord } from '../../../containers/index.js'
import { invalidArgument } from '../../../errors/index.js'
import type { ImageSummary as ImageListItem } from '../../../images/index.js'
import type { BuildCacheRecord, DiskUsage, DiskUsageType, ImageSummary } from '../../types/index.js'
import { summaryOf, type NetworkView } from '../containers/index.js'
import { toVolume, type VolumeDetail } from '../volumes/index.js'

/** A top-level image (docker's list without `all`) with its container count and the bytes it shares with other images. */
export interface ImageUsage extends ImageListItem {
  sharedSize: number
}

/** A container of any state with what `ps -s` shows of it. */
export interface ContainerUsage {
  record: ContainerRecord
  imageName: string
  network: NetworkView
  sizeRw: number
  sizeRootFs: number
}

/** A local volume without driver options (the only kind dockerd measures); size -1 when it could not be measured. */
export interface VolumeUsage {
  detail: VolumeDetail
  size: number
}

/** One build cache record as the daemon accounts it (see daemon/disk-usage.ts). */
export interface BuildCacheUsage {
  id: string
  /** Build cache records this one was built on. */
  parents: string[]
  type: string
  description: string
  inUse: boolean
  shared: boolean
  size: number
  /** Milliseconds since the epoch. */
  createdAt: number
  lastUsedAt: number | null
  usageCount: number
}

/** What GET /system/df needs; each part is measured only when asked for. */
export interface DiskUsageBackend {
  /** Top-level images newest first, and LayersSize: the layers those images hold, each once. */
  images(): Promise<{ layersSize: number; images: ImageUsage[] }>
  containers(): Promise<ContainerUsage[]>
  /** Where a named volume's data is on the host (a container's Mounts Source). */
  volumePath(name: string): string
  volumes(): Promise<VolumeUsage[]>
  buildCache(): Promise<BuildCacheUsage[]>
}

const TYPES: readonly DiskUsageType[] = ['container', 'image', 'volume', 'build-cache']

/** The parts asked for: all of them before API 1.42 or with no `type` parameter at all. */
export function diskUsageTypes(version: number, query: URLSearchParams): Set<DiskUsageType> {
  if (version < 42 || !query.has('type')) return new Set(TYPES)
  const out = new Set<DiskUsageType>()
  for (const t of query.getAll('type')) {
    if (!(TYPES as readonly string[]).includes(t)) throw invalidArgument(`unknown object type: ${t}`)
    out.add(t as DiskUsageType)
  }
  return out
}

/** Go's encoding of a time.Time in UTC: RFC 3339, fraction without trailing zeros. */
export function goTimeJson(ms: number): string {
  return new Date(ms).toISOString().replace(/\.?0*Z$/, 'Z')
}

/** An item of df's Images: moby's image.Summary as the df path leaves it (nil tags stay null; VirtualSize before 1.44). */
export function imageUsageJson(i: ImageUsage, version: number): ImageSummary {
  const out: ImageSummary = {
    Containers: i.containers,
    Created: i.created,
    Id: i.id,
    Labels: i.labels,
    ParentId: i.parentId,
    RepoDigests: i.repoDigests.length ? i.repoDigests : null,
    RepoTags: i.repoTags.length ? i.repoTags : null,
    SharedSize: i.sharedSize,
    Size: i.size,
  }
  if (version < 44) out.VirtualSize = i.size
  return out
}

/** A build cache record: Parents since 1.42 (under moby's " Parents" key), the deprecated Parent before. */
export function buildCacheJson(r: BuildCacheUsage, version: number): BuildCacheRecord {
  const out: BuildCacheRecord = { ID: r.id } as BuildCacheRecord
  if (version < 42) {
    if (r.parents[0]) out.Parent = r.parents[0]
  } else if (r.parents.length) {
    out[' Parents'] = r.parents
  }
  return Object.assign(out, {
    Type: r.type,
    Description: r.description,
    InUse: r.inUse,
    Shared: r.shared,
    Size: r.size,
    CreatedAt: goTimeJson(r.createdAt),
    LastUsedAt: r.lastUsedAt === null ? null : goTimeJson(r.lastUsedAt),
    UsageCount: r.usageCount,
  })
}

export async function diskUsage(b: DiskUsageBackend, version: number, types: Set<DiskUsageType>): Promise<DiskUsage> {
  const [images, containers, volumes, buildCache] = await Promise.all([
    types.has('image') ? b.images() : undefined,
    types.has('container') ? b.containers() : undefined,
    types.has('volume') ? b.volumes() : undefined,
    types.has('build-cache') ? b.buildCache() : undefined,
  ])
  const out: DiskUsage = {
    LayersSize: images?.layersSize ?? 0,
    Images: images ? images.images.map((i) => imageUsageJson(i, version)) : null,
    Containers: containers
      ? containers.map((c) => summaryOf(c.record, { imageName: c.imageName, network: c.network, volumePath: (n) => b.volumePath(n), sizeRw: c.sizeRw, sizeRootFs: c.sizeRootFs }))
      : null,
    Volumes: volumes ? volumes.map((v) => toVolume(v.detail, v.size)) : null,
    BuildCache: buildCache ? buildCache.map((r) => buildCacheJson(r, version)) : null,
  }
  // Before 1.42 clients read the build cache's total here (moby sums every record).
  const builderSize = version < 42 ? (buildCache ?? []).reduce((n, r) => n + r.size, 0) : 0
  if (builderSize !== 0) out.BuilderSize = builderSize
  return out
}
