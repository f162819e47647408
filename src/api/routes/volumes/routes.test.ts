import http from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { conflict, notFound } from '../../../errors/index.js'
import { nullLogger } from '../../../lib/index.js'
import type { VolumeCreateRequest, VolumeRecord } from '../../../volumes/index.js'
import { ApiServer, Router } from '../../server/index.js'
import type { VolumeDetail, VolumesBackend } from './backend.js'
import { volumeRoutes } from './routes.js'

function request(sock: string, method: string, p: string, body?: string): Promise<{ status: number; json: unknown; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = body === undefined ? {} : { 'Content-Type': 'application/json' }
    const req = http.request({ socketPath: sock, method, path: p, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        resolve({ status: res.statusCode ?? 0, text, json: text.trim() ? JSON.parse(text) as unknown : undefined })
      })
    })
    req.on('error', reject)
    req.end(body)
  })
}

function vol(name: string, over: Partial<VolumeRecord> = {}): VolumeRecord {
  return { name, driver: 'local', created: '2025-06-01T10:00:00Z', labels: {}, options: {}, scope: 'local', anonymous: false, ...over }
}

/** An in-memory backend recording what the routes asked of it. */
class FakeBackend implements VolumesBackend {
  vols: VolumeRecord[] = []
  used = new Map<string, string[]>()
  calls: unknown[][] = []
  private detail(v: VolumeRecord): VolumeDetail {
    return { volume: v, mountpoint: `/var/lib/berth/volumes/${v.name}/_data`, usedBy: this.used.get(v.name) ?? [] }
  }
  list(): VolumeDetail[] {
    return this.vols.map((v) => this.detail(v))
  }
  inspect(name: string): VolumeDetail {
    const v = this.vols.find((x) => x.name === name)
    if (!v) throw notFound(`get ${name}: no such volume`)
    return this.detail(v)
  }
  async create(req: VolumeCreateRequest): Promise<VolumeDetail> {
    this.calls.push(['create', req])
    const existing = this.vols.find((x) => x.name === req.name)
    if (existing) return this.detail(existing)
    const v = vol(req.name || 'f'.repeat(64), { labels: req.labels, options: req.options, anonymous: req.name === '' })
    this.vols.push(v)
    return this.detail(v)
  }
  async remove(name: string, force: boolean): Promise<void> {
    this.calls.push(['remove', name, force])
    const users = this.used.get(name)
    if (users?.length) throw conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`)
    if (!this.vols.some((v) => v.name === name) && !force) throw notFound(`get ${name}: no such volume`)
    this.vols = this.vols.filter((v) => v.name !== name)
  }
  async prune(keep: (v: VolumeRecord) => boolean): Promise<{ deleted: string[]; reclaimed: number }> {
    const gone = this.vols.filter((v) => keep(v) && !this.used.get(v.name)?.length)
    this.vols = this.vols.filter((v) => !gone.includes(v))
    return { deleted: gone.map((v) => v.name), reclaimed: gone.length * 100 }
  }
}

describe('volume routes', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-vol-'))
  const sock = path.join(dir, 'api.sock')
  const b = new FakeBackend()
  const router = new Router()
  volumeRoutes(router, b)
  const server = new ApiServer({ router, logger: nullLogger, serverName: 'berth/test (linux)' })
  beforeAll(() => server.listenUnix(sock))
  afterAll(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })
  beforeEach(() => {
    b.vols = [
      vol('data', { labels: { tier: 'db' } }),
      vol('cache'),
      vol('a'.repeat(64), { anonymous: true }),
      vol('tmp', { options: { type: 'tmpfs', device: 'tmpfs' } }),
    ]
    b.used = new Map([['data', ['c1']]])
    b.calls = []
  })
  const q = (f: object) => `?filters=${encodeURIComponent(JSON.stringify(f))}`
  const names = (j: unknown) => (j as { Volumes: Array<{ Name: string }> }).Volumes.map((v) => v.Name)

  it('lists in docker’s shape, without UsageData', async () => {
    const r = await request(sock, 'GET', '/v1.50/volumes')
    expect(r.status).toBe(200)
    expect(r.text.startsWith('{"Volumes":[{"CreatedAt":"2025-06-01T10:00:00Z","Driver":"local","Labels":{"tier":"db"},"Mountpoint":"/var/lib/berth/volumes/data/_data","Name":"data","Options":null,"Scope":"local"}')).toBe(true)
    expect((r.json as { Warnings: unknown }).Warnings).toBeNull()
    expect((r.json as { Volumes: Array<{ Labels: unknown }> }).Volumes[2]?.Labels).toEqual({ 'com.docker.volume.anonymous': '' })
    b.vols = []
    expect((await request(sock, 'GET', '/volumes')).text).toBe('{"Volumes":[],"Warnings":null}\n')
  })

  it('filters as dockerd', async () => {
    expect(names((await request(sock, 'GET', `/volumes${q({ dangling: { true: true } })}`)).json)).toEqual(['cache', 'a'.repeat(64), 'tmp'])
    expect(names((await request(sock, 'GET', `/volumes${q({ dangling: { 0: true } })}`)).json)).toEqual(['data'])
    expect(names((await request(sock, 'GET', `/volumes${q({ name: { ca: true } })}`)).json)).toEqual(['cache'])
    expect(names((await request(sock, 'GET', `/volumes${q({ name: { '^d.t': true } })}`)).json)).toEqual(['data'])
    expect(names((await request(sock, 'GET', `/volumes${q({ label: { 'tier=db': true } })}`)).json)).toEqual(['data'])
    expect(names((await request(sock, 'GET', `/volumes${q({ label: { 'com.docker.volume.anonymous': true } })}`)).json)).toEqual(['a'.repeat(64)])
    expect(names((await request(sock, 'GET', `/volumes${q({ driver: { local: true } })}`)).json)).toHaveLength(4)
    expect(names((await request(sock, 'GET', `/volumes${q({ driver: { loc: true } })}`)).json)).toEqual([])
    const bad = await request(sock, 'GET', `/volumes${q({ color: { red: true } })}`)
    expect(bad.status).toBe(400)
    expect(bad.json).toEqual({ message: "invalid filter 'color'" })
    expect((await request(sock, 'GET', `/volumes${q({ 'label!': { a: true } })}`)).json).toEqual({ message: "invalid filter 'label!'" })
    expect((await request(sock, 'GET', `/volumes${q({ dangling: { maybe: true } })}`)).json).toEqual({ message: "invalid filter 'dangling=[maybe]'" })
    expect((await request(sock, 'GET', `/volumes${q({ dangling: { true: true, false: true } })}`)).json).toEqual({ message: "invalid filter 'dangling=[true false]'" })
    expect((await request(sock, 'GET', `/volumes${q({ dangling: {} })}`)).json).toEqual({ message: "invalid filter 'dangling'" })
    const broken = await request(sock, 'GET', '/volumes?filters=%7Bnope')
    expect(broken.status).toBe(400)
    expect(broken.json).toEqual({ message: 'error reading volume filters: invalid filter' })
  })

  it('inspects by name', async () => {
    const r = await request(sock, 'GET', '/v1.50/volumes/data')
    expect(r.status).toBe(200)
    expect(Object.keys(r.json as object)).toEqual(['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope'])
    expect(r.json).toMatchObject({ Name: 'data', Labels: { tier: 'db' }, Options: null })
    expect((await request(sock, 'GET', '/volumes/tmp')).json).toMatchObject({ Options: { type: 'tmpfs', device: 'tmpfs' }, Labels: null })
    const nf = await request(sock, 'GET', '/volumes/nope')
    expect(nf.status).toBe(404)
    expect(nf.json).toEqual({ message: 'get nope: no such volume' })
  })

  it('creates from the docker CLI’s body', async () => {
    const r = await request(sock, 'POST', '/v1.50/volumes/create', JSON.stringify({ Driver: 'local', DriverOpts: { type: 'tmpfs' }, Labels: { a: 'b' }, Name: 'v9' }))
    expect(r.status).toBe(201)
    expect(r.json).toEqual({ CreatedAt: '2025-06-01T10:00:00Z', Driver: 'local', Labels: { a: 'b' }, Mountpoint: '/var/lib/berth/volumes/v9/_data', Name: 'v9', Options: { type: 'tmpfs' }, Scope: 'local' })
    expect(b.calls[0]).toEqual(['create', { name: 'v9', driver: 'local', options: { type: 'tmpfs' }, labels: { a: 'b' } }])
    const anon = await request(sock, 'POST', '/volumes/create', '')
    expect(anon.status).toBe(201)
    expect(b.calls[1]).toEqual(['create', { name: '', driver: 'local', options: {}, labels: {} }])
    expect(anon.json).toMatchObject({ Labels: { 'com.docker.volume.anonymous': '' } })
    expect((await request(sock, 'POST', '/volumes/create', '{"Name":"cache","Driver":""}')).status).toBe(201)
  })

  it('refuses bad bodies, drivers and names as dockerd', async () => {
    const cases: Array<[string, number, string]> = [
      ['{"Name":', 400, 'invalid JSON: unexpected EOF'],
      ['{"Name":1}', 400, 'invalid JSON: json: cannot unmarshal number into Go struct field CreateOptions.Name of type string'],
      ['{"Labels":{"a":true}}', 400, 'invalid JSON: json: cannot unmarshal bool into Go struct field CreateOptions.Labels of type string'],
      ['{"DriverOpts":[]}', 400, 'invalid JSON: json: cannot unmarshal array into Go struct field CreateOptions.DriverOpts of type map[string]string'],
      ['{"ClusterVolumeSpec":{"Availability":1}}', 400, 'invalid JSON: json: cannot unmarshal number into Go struct field ClusterVolumeSpec.ClusterVolumeSpec.Availability of type volume.Availability'],
      ['{"Name":"v","Driver":"nfs"}', 404, 'create v: error looking up volume plugin nfs: plugin "nfs" not found'],
      ['{"Name":"x"}', 400, 'create x: volume name is too short, names should be at least two alphanumeric characters'],
      ['{"Name":"a/b"}', 400, 'create a/b: "a/b" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path'],
      ['{"Name":"_ab"}', 400, 'create _ab: "_ab" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path'],
      ['{"Name":"é"}', 400, 'create é: "é" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path'],
      ['{"Name":"v1","ClusterVolumeSpec":{}}', 503, 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.'],
    ]
    for (const [body, status, message] of cases) {
      const r = await request(sock, 'POST', '/v1.50/volumes/create', body)
      expect([body, r.status, r.json]).toEqual([body, status, { message }])
    }
    const anon = await request(sock, 'POST', '/volumes/create', '{"Driver":"nfs"}')
    expect((anon.json as { message: string }).message).toMatch(/^create [0-9a-f]{64}: error looking up volume plugin nfs: plugin "nfs" not found$/)
    // Before API 1.42 the spec is ignored and a local volume made.
    expect((await request(sock, 'POST', '/v1.41/volumes/create', '{"Name":"v1","ClusterVolumeSpec":{}}')).status).toBe(201)
    expect(b.calls.length).toBe(1)
  })

  it('removes, with force passed on as dockerd reads it', async () => {
    const r = await request(sock, 'DELETE', '/v1.50/volumes/cache')
    expect(r.status).toBe(204)
    expect(r.text).toBe('')
    expect((await request(sock, 'DELETE', '/volumes/gone?force=1')).status).toBe(204)
    expect((await request(sock, 'DELETE', '/volumes/gone?force=no')).status).toBe(404)
    expect(b.calls).toEqual([['remove', 'cache', false], ['remove', 'gone', true], ['remove', 'gone', false]])
    const busy = await request(sock, 'DELETE', '/volumes/data?force=true')
    expect(busy.status).toBe(409)
    expect(busy.json).toEqual({ message: 'remove data: volume is in use - [c1]' })
  })

  it('prunes anonymous local volumes, all of them with all=true or before API 1.42', async () => {
    b.vols.push(vol('b'.repeat(64), { anonymous: true, labels: { keep: '1' } }))
    const r = await request(sock, 'POST', `/v1.50/volumes/prune${q({ 'label!': { keep: true } })}`)
    expect(r.status).toBe(200)
    expect(r.json).toEqual({ VolumesDeleted: ['a'.repeat(64)], SpaceReclaimed: 100 })
    expect((await request(sock, 'POST', '/v1.50/volumes/prune')).json).toEqual({ VolumesDeleted: ['b'.repeat(64)], SpaceReclaimed: 100 })
    expect((await request(sock, 'POST', '/v1.50/volumes/prune')).json).toEqual({ VolumesDeleted: [], SpaceReclaimed: 0 })
    // Named ones: `tmp` has driver options and `data` is in use, so only `cache` goes.
    expect((await request(sock, 'POST', '/v1.41/volumes/prune')).json).toEqual({ VolumesDeleted: ['cache'], SpaceReclaimed: 100 })
    b.vols.push(vol('named'))
    expect((await request(sock, 'POST', `/v1.50/volumes/prune${q({ all: { true: true }, label: { tier: true } })}`)).json).toEqual({ VolumesDeleted: [], SpaceReclaimed: 0 })
    expect((await request(sock, 'POST', `/v1.50/volumes/prune${q({ all: { 1: true } })}`)).json).toEqual({ VolumesDeleted: ['named'], SpaceReclaimed: 100 })
  })

  it('checks prune filters as dockerd, `all` first', async () => {
    const msg = async (f: object, v = '1.50') => (await request(sock, 'POST', `/v${v}/volumes/prune${q(f)}`)).json
    expect(await msg({ dangling: { true: true } })).toEqual({ message: "invalid filter 'dangling'" })
    expect(await msg({ all: { maybe: true }, dangling: { true: true } })).toEqual({ message: `invalid filter 'all': strconv.ParseBool: parsing "maybe": invalid syntax` })
    expect(await msg({ all: { true: true, false: true } })).toEqual({ message: "invalid filter 'all=[true false]': only one value is expected" })
    expect(await msg({ all: { false: true } }, '1.41')).toEqual({ message: "invalid filter 'all=[false true]': only one value is expected" })
    expect(await msg({ until: { '24h': true } })).toEqual({ message: "invalid filter 'until'" })
    expect((await request(sock, 'POST', '/volumes/prune?filters=nope')).json).toEqual({ message: 'invalid filter' })
  })

  it('answers volume update as a node outside a swarm', async () => {
    const r = await request(sock, 'PUT', '/v1.50/volumes/data?version=1', '{"Spec":{}}')
    expect(r.status).toBe(503)
    expect(r.json).toEqual({ message: 'volume update only valid for cluster volumes, but swarm is unavailable' })
  })
})
