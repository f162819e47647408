import { describe, expect, it } from 'vitest'
import type { ImageSummary } from '../images/index.js'
import { buildCacheUsage, imagesUsage, type CacheEntry, type GraphImage, type LayerGraph } from './disk-usage.js'

const KB = 1000

/** base ← s1 ← s2 (tagged app) and s1 ← s3 (dangling, a rebuilt step): the shape classic builds leave. */
function graph(over: Partial<Record<string, Partial<GraphImage>>> = {}): LayerGraph {
  const images: GraphImage[] = [
    { id: 'base', parent: '', chainIds: ['L0'], referenced: true },
    { id: 's1', parent: 'base', chainIds: ['L0', 'L1'], referenced: false },
    { id: 's2', parent: 's1', chainIds: ['L0', 'L1', 'L2'], referenced: true },
    { id: 's3', parent: 's1', chainIds: ['L0', 'L1', 'L3'], referenced: false },
    { id: 's4', parent: 's3', chainIds: ['L0', 'L1', 'L3'], referenced: false },
  ].map((i) => ({ ...i, ...over[i.id] }))
  return { images, layerSizes: new Map([['L0', 100 * KB], ['L1', 10 * KB], ['L2', 2 * KB], ['L3', 3 * KB]]) }
}

const entries = (...ids: string[]): CacheEntry[] => ids.map((imageId, i) => ({ imageId, createdAt: 1_700_000_000_000 + i, keys: 1 }))
const none = (): number => 0

describe('imagesUsage', () => {
  const summary = (id: string, size: number): ImageSummary => ({ id, parentId: '', repoTags: [], repoDigests: [], created: 0, size, labels: null, containers: -1 })

  it('counts containers, shared layers across all images, and the layers top-level images hold', () => {
    const list = [summary('s2', 112 * KB), summary('s4', 113 * KB), summary('base', 100 * KB)]
    const r = imagesUsage(graph(), list, (id) => (id === 'base' ? 2 : 0))
    // Top-level: base, s2, s4 (s1 and s3 are untagged with children): L0..L3 once.
    expect(r.layersSize).toBe(115 * KB)
    expect(r.images.map((i) => [i.id, i.containers, i.sharedSize])).toEqual([
      ['s2', 0, 110 * KB],
      ['s4', 0, 113 * KB],
      ['base', 2, 100 * KB],
    ])
  })
})

describe('buildCacheUsage', () => {
  const describeStep = (id: string) => `step ${id}`
  const byId = (rs: ReturnType<typeof buildCacheUsage>) => Object.fromEntries(rs.map((r) => [r.id, r]))
  const list = (g: LayerGraph): ImageSummary[] => {
    const parents = new Set(g.images.map((i) => i.parent))
    return g.images.filter((i) => i.referenced || !parents.has(i.id)).map((i) => ({ id: i.id, parentId: i.parent, repoTags: [], repoDigests: [], created: 0, size: 0, labels: null, containers: -1 }))
  }
  const total = (g: LayerGraph, ids: string[]) => [...new Set(g.images.filter((i) => ids.includes(i.id)).flatMap((i) => i.chainIds))].reduce((n, c) => n + (g.layerSizes.get(c) ?? 0), 0)

  it('makes records of the untagged cache images with children; a dangling last step is an image, as `docker images` lists it', () => {
    const rs = byId(buildCacheUsage(graph(), entries('s1', 's2', 's3', 's4'), none, describeStep))
    // s2 is tagged, s4 untagged without children: images, not cache.
    expect(Object.keys(rs).sort()).toEqual(['s1', 's3'])
    // builder prune would take s4 then s3; s1 stays for the tagged s2.
    expect(rs.s3).toMatchObject({ inUse: false, shared: false, size: 0, parents: ['s1'], description: 'step s3', type: 'regular' })
    expect(rs.s1).toMatchObject({ inUse: false, shared: true, size: 0, parents: [] })
  })

  it('counts every byte once: LayersSize and the records together are the distinct layers', () => {
    for (const g of [graph(), graph({ s2: { referenced: false } })]) {
      const records = buildCacheUsage(g, entries('s1', 's2', 's3', 's4'), none, describeStep)
      const { layersSize } = imagesUsage(g, list(g), none)
      expect(layersSize + records.reduce((n, r) => n + r.size, 0)).toBe(total(g, g.images.map((i) => i.id)))
    }
  })

  it('marks a record a container uses, and the records under it, in use', () => {
    const rs = byId(buildCacheUsage(graph(), entries('s1', 's3', 's4'), (id) => (id === 's3' ? 1 : 0), describeStep))
    expect(rs.s3).toMatchObject({ inUse: true, shared: false })
    // s1 is kept by the tagged s2 as well as by s3, which is in use.
    expect(rs.s1).toMatchObject({ inUse: true, shared: false })
  })

  it('a container on a dangling last step keeps the records under it, shared with that image', () => {
    const rs = byId(buildCacheUsage(graph(), entries('s1', 's3', 's4'), (id) => (id === 's4' ? 1 : 0), describeStep))
    expect(rs.s4).toBeUndefined()
    expect(rs.s3).toMatchObject({ inUse: false, shared: true, size: 0 })
  })

  it('forgets entries whose image is gone', () => {
    expect(buildCacheUsage(graph(), entries('gone'), none, describeStep)).toEqual([])
  })

  it('reports a step from scratch, built on by a tagged image', () => {
    const g: LayerGraph = {
      images: [{ id: 'x', parent: '', chainIds: ['A', 'B'], referenced: false }, { id: 'y', parent: 'x', chainIds: ['A', 'B', 'C'], referenced: true }],
      layerSizes: new Map([['A', 5], ['B', 7], ['C', 1]]),
    }
    expect(buildCacheUsage(g, entries('x'), none, describeStep)).toEqual([
      { id: 'x', parents: [], type: 'regular', description: 'step x', inUse: false, shared: true, size: 0, createdAt: 1_700_000_000_000, lastUsedAt: 1_700_000_000_000, usageCount: 1 },
    ])
  })
})
