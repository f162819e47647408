/**
 * What GET /system/df reads, composed from the services: images and their
 * layers from the image service, containers with their writable layers,
 * local volumes measured as dockerd measures them, and the build cache.
 *
 * Every byte counts once. berth's build cache is the classic builder's:
 * step images the builder recorded (builder/cache.ts). A step image `docker
 * images` lists — tagged, or untagged without children, as the last step of
 * an earlier build or of an untagged one is — is an image, in Images and
 * LayersSize, as dockerd counts it; the records are the untagged step
 * images with children, which only `images -a` shows. Their layers are
 * also their descendants', so the Images part already counts them: a record
 * counts no layer that part counts, which leaves records at 0 bytes (dockerd,
 * whose classic builder has no build cache at all, shows none). `builder
 * prune` removes, children first, the cache images no tag, container or
 * other image needs (removeCacheImage below), dangling last steps included:
 * the bytes it frees are in the Images part's RECLAIMABLE. A record is
 * InUse when a container uses it or a record built on it, Shared when
 * something else keeps it (that prune would not remove it).
 */
import type { BuildCacheUsage, ContainerUsage, DiskUsageBackend, ImageUsage, VolumeUsage } from '../api/routes/system/index.js'
import type { ContainerService } from '../containers/index.js'
import type { ImageService, ImageSummary } from '../images/index.js'
import type { NetworkService } from '../network/index.js'
import type { VolumeService } from '../volumes/index.js'
import { networkView } from './network-port.js'
import { volumeUsers } from './volume-port.js'

/** One image of the layer graph (ImageService.layerGraph). */
export interface GraphImage {
  id: string
  parent: string
  chainIds: string[]
  referenced: boolean
}

export interface LayerGraph {
  images: GraphImage[]
  layerSizes: Map<string, number>
}

/** One image the build cache points at (Builder.cacheEntries). */
export interface CacheEntry {
  imageId: string
  createdAt: number
  /** When a build last took it from the cache (ms); createdAt if never. */
  usedAt?: number
  keys: number
}

function childrenOf(graph: LayerGraph): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const i of graph.images) {
    if (!i.parent) continue
    const list = out.get(i.parent) ?? []
    list.push(i.id)
    out.set(i.parent, list)
  }
  return out
}

/** Images `docker images` lists (moby's top-level images): tagged, or without children. */
function topLevel(graph: LayerGraph, children: Map<string, string[]>): GraphImage[] {
  return graph.images.filter((i) => i.referenced || (children.get(i.id)?.length ?? 0) === 0)
}

/**
 * df's Images part (moby SystemDiskUsage): each listed image with its
 * container count and SharedSize — its layers that more than one image
 * lists, intermediate images included — and LayersSize, the layers of
 * top-level images (tagged, or without children) counted once.
 */
export function imagesUsage(graph: LayerGraph, list: ImageSummary[], containers: (imageId: string) => number): { layersSize: number; images: ImageUsage[] } {
  const refs = new Map<string, number>()
  for (const i of graph.images) for (const c of new Set(i.chainIds)) refs.set(c, (refs.get(c) ?? 0) + 1)
  const byId = new Map(graph.images.map((i) => [i.id, i]))
  const children = childrenOf(graph)
  const size = (c: string) => graph.layerSizes.get(c) ?? 0
  const held = new Set<string>()
  for (const i of topLevel(graph, children)) for (const c of i.chainIds) held.add(c)
  let layersSize = 0
  for (const c of held) layersSize += size(c)
  const images = list.map((s) => {
    const chain = byId.get(s.id)?.chainIds ?? []
    const sharedSize = chain.filter((c) => (refs.get(c) ?? 0) > 1).reduce((n, c) => n + size(c), 0)
    return { ...s, containers: containers(s.id), sharedSize }
  })
  return { layersSize, images }
}

/**
 * The build cache records: the untagged cache images with children, with
 * what `builder prune` would do to each (see the module comment). `describe`
 * gives a record's step (its image's last history line).
 */
export function buildCacheUsage(graph: LayerGraph, entries: CacheEntry[], containers: (imageId: string) => number, describe: (imageId: string) => string): BuildCacheUsage[] {
  const byId = new Map(graph.images.map((i) => [i.id, i]))
  const children = childrenOf(graph)
  const entryOf = new Map(entries.map((e) => [e.imageId, e]))
  const cached = entries.map((e) => byId.get(e.imageId)).filter((i): i is GraphImage => i !== undefined && !i.referenced)
  const images = new Set(topLevel(graph, children).map((i) => i.id))
  const records = cached.filter((i) => !images.has(i.id))
  const isRecord = new Set(records.map((r) => r.id))

  // What builder prune removes: repeatedly, cache images with no container and no child left.
  const removable = new Set<string>()
  for (let progress = true; progress;) {
    progress = false
    for (const r of cached) {
      if (removable.has(r.id) || containers(r.id) > 0) continue
      if ((children.get(r.id) ?? []).every((c) => removable.has(c))) {
        removable.add(r.id)
        progress = true
      }
    }
  }
  const inUse = new Map<string, boolean>()
  const isInUse = (id: string): boolean => {
    const known = inUse.get(id)
    if (known !== undefined) return known
    inUse.set(id, false)
    const v = !removable.has(id) && (containers(id) > 0 || (children.get(id) ?? []).some((c) => isRecord.has(c) && isInUse(c)))
    inUse.set(id, v)
    return v
  }

  // The layers the Images part counts (imagesUsage's LayersSize) are never counted again here.
  const counted = new Set<string>()
  for (const id of images) for (const c of byId.get(id)?.chainIds ?? []) counted.add(c)
  const sizeOf = (r: GraphImage): number => {
    const below = new Set(byId.get(r.parent)?.chainIds ?? [])
    let n = 0
    for (const c of r.chainIds) {
      if (below.has(c) || counted.has(c)) continue
      counted.add(c)
      n += graph.layerSizes.get(c) ?? 0
    }
    return n
  }

  return records.map((r) => {
    const e = entryOf.get(r.id) as CacheEntry
    const used = isInUse(r.id)
    return {
      id: r.id,
      parents: isRecord.has(r.parent) ? [r.parent] : [],
      type: 'regular',
      description: describe(r.id),
      inUse: used,
      shared: !removable.has(r.id) && !used,
      size: sizeOf(r),
      createdAt: e.createdAt,
      lastUsedAt: e.usedAt ?? e.createdAt,
      // berth does not count cache hits, only when the last one was.
      usageCount: 1,
    }
  })
}

export interface DiskUsageServices {
  images: ImageService
  containers: Pick<ContainerService, 'list' | 'sizeRw'>
  volumes: VolumeService
  network: NetworkService
  builder: { cacheEntries(): CacheEntry[] }
}

export function diskUsageBackend(s: DiskUsageServices): DiskUsageBackend {
  const containerCount = () => {
    const n = new Map<string, number>()
    for (const c of s.containers.list()) n.set(c.imageId, (n.get(c.imageId) ?? 0) + 1)
    return (id: string) => n.get(id) ?? 0
  }
  return {
    images: async () => imagesUsage(s.images.layerGraph(), s.images.list(), containerCount()),
    containers: async () => {
      const recs = s.containers.list().sort((x, y) => (x.created < y.created ? 1 : x.created > y.created ? -1 : 0))
      const out: ContainerUsage[] = []
      for (const rec of recs) {
        const sizeRw = await s.containers.sizeRw(rec)
        out.push({ record: rec, imageName: rec.spec.image, network: networkView(s.network, rec), sizeRw, sizeRootFs: sizeRw + s.images.imageSize(rec.imageId) })
      }
      return out
    },
    volumePath: (name) => s.volumes.mountpoint(name),
    volumes: async () => {
      const all = s.containers.list()
      const out: VolumeUsage[] = []
      // dockerd measures only local volumes without driver options (moby LocalVolumesSize).
      for (const v of s.volumes.list().filter((x) => x.driver === 'local' && Object.keys(x.options).length === 0)) {
        const size = await s.volumes.dataSize(v.name).catch(() => -1)
        out.push({ detail: { volume: v, mountpoint: s.volumes.mountpoint(v.name), usedBy: volumeUsers(all, v.name) }, size })
      }
      return out
    },
    buildCache: async () => buildCacheUsage(s.images.layerGraph(), s.builder.cacheEntries(), containerCount(), (id) => {
      const history = s.images.find(id)?.config.history ?? []
      return history.at(-1)?.created_by ?? ''
    }),
  }
}

/**
 * builder prune's removal of one cache image: only an untagged image no
 * container or child image uses, without its parent (the prune reaches it
 * on a later pass). Returns the bytes of the layers that went with it, or
 * null when it stays.
 */
export async function removeCacheImage(images: ImageService, id: string): Promise<number | null> {
  const img = images.find(id)
  if (!img || img.repoTags.length > 0 || img.repoDigests.length > 0) return null
  const { layerSizes } = images.layerGraph()
  try {
    const items = await images.remove(img.id, { noPrune: true })
    return items.reduce((n, d) => n + ('deleted' in d ? layerSizes.get(d.deleted) ?? 0 : 0), 0)
  } catch {
    return null
  }
}
