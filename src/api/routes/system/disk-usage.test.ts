import http from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EventBus } from '../../../events/index.js'
import { nullLogger } from '../../../lib/index.js'
import { ApiServer, Router } from '../../server/index.js'
import { goTimeJson, type BuildCacheUsage, type DiskUsageBackend, type ImageUsage, type VolumeUsage } from './disk-usage.js'
import { systemRoutes } from './routes.js'

function get(sock: string, p: string): Promise<{ status: number; text: string; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    http.get({ socketPath: sock, path: p }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        resolve({ status: res.statusCode ?? 0, text, json: JSON.parse(text) as Record<string, unknown> })
      })
    }).on('error', reject)
  })
}

const image: ImageUsage = {
  id: 'sha256:' + 'a'.repeat(64), parentId: '', repoTags: [], repoDigests: [], created: 1700000000, size: 2000, labels: null, containers: 1, sharedSize: 500,
}
const volume: VolumeUsage = {
  detail: { volume: { name: 'data', driver: 'local', created: '2025-06-01T10:00:00Z', labels: {}, options: {}, scope: 'local', anonymous: false }, mountpoint: '/v/data/_data', usedBy: ['c1', 'c2'] },
  size: 1234,
}
const records: BuildCacheUsage[] = [
  { id: 'sha256:' + 'b'.repeat(64), parents: [], type: 'regular', description: '/bin/sh -c echo', inUse: false, shared: true, size: 0, createdAt: Date.UTC(2025, 0, 2, 3, 4, 5, 120), lastUsedAt: null, usageCount: 1 },
  { id: 'sha256:' + 'c'.repeat(64), parents: ['sha256:' + 'b'.repeat(64)], type: 'regular', description: '', inUse: true, shared: false, size: 300, createdAt: Date.UTC(2025, 0, 2), lastUsedAt: Date.UTC(2025, 0, 2), usageCount: 1 },
]

describe('GET /system/df', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-df-'))
  const sock = path.join(dir, 'api.sock')
  const asked: string[] = []
  const backend: DiskUsageBackend = {
    images: async () => (asked.push('image'), { layersSize: 5000, images: [image] }),
    containers: async () => (asked.push('container'), []),
    volumePath: (n) => `/v/${n}/_data`,
    volumes: async () => (asked.push('volume'), [volume]),
    buildCache: async () => (asked.push('build-cache'), records),
  }
  const router = new Router()
  systemRoutes(router, { info: async () => { throw new Error('unused') }, version: async () => { throw new Error('unused') }, events: new EventBus(), diskUsage: backend })
  const server = new ApiServer({ router, logger: nullLogger, serverName: 'berth/test (linux)' })
  beforeAll(() => server.listenUnix(sock))
  afterAll(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('answers every part in moby’s order and shapes', async () => {
    const r = await get(sock, '/v1.50/system/df')
    expect(r.status).toBe(200)
    expect(Object.keys(r.json)).toEqual(['LayersSize', 'Images', 'Containers', 'Volumes', 'BuildCache'])
    expect(r.json.LayersSize).toBe(5000)
    expect(r.json.Images).toEqual([{ Containers: 1, Created: 1700000000, Id: image.id, Labels: null, ParentId: '', RepoDigests: null, RepoTags: null, SharedSize: 500, Size: 2000 }])
    expect(r.json.Containers).toEqual([])
    expect(r.json.Volumes).toEqual([{ CreatedAt: '2025-06-01T10:00:00Z', Driver: 'local', Labels: null, Mountpoint: '/v/data/_data', Name: 'data', Options: null, Scope: 'local', UsageData: { RefCount: 2, Size: 1234 } }])
    // moby's tag for Parents is `json:" Parents,omitempty"`: the docker CLI reads that key.
    expect(r.text).toContain(`"ID":"${records[1]?.id}"," Parents":["${records[0]?.id}"],"Type":"regular"`)
    expect(r.json.BuildCache).toMatchObject([
      { ID: records[0]?.id, Type: 'regular', Description: '/bin/sh -c echo', InUse: false, Shared: true, Size: 0, CreatedAt: '2025-01-02T03:04:05.12Z', LastUsedAt: null, UsageCount: 1 },
      { InUse: true, Size: 300, CreatedAt: '2025-01-02T00:00:00Z', LastUsedAt: '2025-01-02T00:00:00Z' },
    ])
    expect(r.json).not.toHaveProperty('BuilderSize')
  })

  it('measures only the parts `type` names (API 1.42+), others null', async () => {
    asked.length = 0
    const r = await get(sock, '/v1.42/system/df?type=volume&type=build-cache')
    expect(asked.sort()).toEqual(['build-cache', 'volume'])
    expect(r.json).toMatchObject({ LayersSize: 0, Images: null, Containers: null })
    expect(r.json.Volumes).toHaveLength(1)
    const bad = await get(sock, '/v1.42/system/df?type=image&type=bogus')
    expect(bad.status).toBe(400)
    expect(bad.json).toEqual({ message: 'unknown object type: bogus' })
    expect((await get(sock, '/v1.42/system/df?type=')).json).toEqual({ message: 'unknown object type: ' })
  })

  it('ignores `type` before 1.42, with the old Parent field and BuilderSize', async () => {
    asked.length = 0
    const r = await get(sock, '/v1.41/system/df?type=volume')
    expect(asked.sort()).toEqual(['build-cache', 'container', 'image', 'volume'])
    expect((r.json.Images as Array<Record<string, unknown>>)[0]?.VirtualSize).toBe(2000)
    const cache = r.json.BuildCache as Array<Record<string, unknown>>
    expect(cache[1]?.Parent).toBe(records[0]?.id)
    expect(cache[1]).not.toHaveProperty(' Parents')
    expect(r.json.BuilderSize).toBe(300)
  })

  it('adds VirtualSize to images before 1.44 only', async () => {
    expect((await get(sock, '/v1.43/system/df?type=image')).json.Images).toMatchObject([{ VirtualSize: 2000 }])
    expect((await get(sock, '/v1.44/system/df?type=image')).json.Images).not.toMatchObject([{ VirtualSize: 2000 }])
  })

  it('encodes times as Go does', () => {
    expect(goTimeJson(Date.UTC(2025, 0, 2, 3, 4, 5, 100))).toBe('2025-01-02T03:04:05.1Z')
    expect(goTimeJson(Date.UTC(2025, 0, 2, 3, 4, 0))).toBe('2025-01-02T03:04:00Z')
  })
})
