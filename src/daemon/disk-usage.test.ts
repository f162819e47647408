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

  it('makes records of untagged cache images; what builder prune would remove is what is not shared or in use', () => {
    const rs = byId(buildCacheUsage(graph(), entries('s1', 's2', 's3', 's4'), none, describeStep))
    // s2 is tagged: an image, not cache.
    expect(Object.keys(rs).sort()).toEqual(['s1', 's3', 's4'])
    // s4 then s3 go (children first); s1 stays for the tagged s2, its layers are s2's.
    expect(rs.s4).toMatchObject({ inUse: false, shared: false, size: 0, parents: ['s3'], description: 'step s4', type: 'regular' })
    expect(rs.s3).toMatchObject({ inUse: false, shared: false, size: 3 * KB, parents: ['s1'] })
    expect(rs.s1).toMatchObject({ inUse: false, shared: true, size: 0, parents: [] })
  })

  it('marks a record a container uses, and the records under it, in use', () => {
    const rs = byId(buildCacheUsage(graph(), entries('s1', 's3', 's4'), (id) => (id === 's4' ? 1 : 0), describeStep))
    expect(rs.s4).toMatchObject({ inUse: true, shared: false })
    expect(rs.s3).toMatchObject({ inUse: true, shared: false, size: 3 * KB })
    // s1 is kept by the tagged s2 as well as by s3, which is in use.
    expect(rs.s1).toMatchObject({ inUse: true, shared: false })
  })

  it('counts a layer only when nothing outside the removable records holds it', () => {
    // An unrelated tagged image with the same chain as s3 keeps L3.
    const g = graph()
    g.images.push({ id: 'twin', parent: '', chainIds: ['L0', 'L1', 'L3'], referenced: true })
    const rs = byId(buildCacheUsage(g, entries('s3', 's4'), none, describeStep))
    expect(rs.s3?.size).toBe(0)
    expect(rs.s4?.size).toBe(0)
  })

  it('forgets entries whose image is gone', () => {
    expect(buildCacheUsage(graph(), entries('gone'), none, describeStep)).toEqual([])
  })

  it('reports a step from scratch with its whole chain', () => {
    const g: LayerGraph = { images: [{ id: 'x', parent: '', chainIds: ['A', 'B'], referenced: false }], layerSizes: new Map([['A', 5], ['B', 7]]) }
    expect(buildCacheUsage(g, entries('x'), none, describeStep)[0]).toMatchObject({ size: 12, createdAt: 1_700_000_000_000, lastUsedAt: 1_700_000_000_000, usageCount: 1 })
  })
})
