import http from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { forbidden, notFound } from '../../../errors/index.js'
import { nullLogger } from '../../../lib/index.js'
import type { EndpointConfig, NetworkCreateRequest, NetworkRecord } from '../../../network/index.js'
import { ApiServer, Router } from '../../server/index.js'
import type { NetworksBackend } from './backend.js'
import { findNetwork, networkRoutes } from './routes.js'

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

function rec(id: string, name: string, over: Partial<NetworkRecord> = {}): NetworkRecord {
  return {
    id: id.padEnd(64, '0'), name, driver: 'bridge', created: '2025-06-01T10:00:00.000000001Z', scope: 'local',
    enableIPv4: true, enableIPv6: false, internal: false, attachable: false,
    ipam: { driver: 'default', options: {}, config: [] }, options: {}, labels: {}, ifname: '', ...over,
  }
}

/** An in-memory backend recording what the routes asked of it. */
class FakeBackend implements NetworksBackend {
  nets: NetworkRecord[] = []
  used = new Set<string>()
  calls: unknown[][] = []
  list(): NetworkRecord[] {
    return this.nets
  }
  inspect(ref: string) {
    const n = this.nets.find((x) => x.id === ref)
    if (!n) throw notFound(`network ${ref} not found`)
    const endpoints = this.used.has(n.id)
      ? [{ id: 'ep1', networkId: n.id, containerId: 'c1', ipv4: '10.0.0.2/24', ipv6: '', gateway: '', gateway6: '', mac: '02:42:0a:00:00:02', aliases: [], dnsNames: [], hostIfname: '', ifname: 'eth0', containerName: 'web' }]
      : []
    return { network: n, endpoints }
  }
  inUse(id: string): boolean {
    return this.used.has(id)
  }
  async create(req: NetworkCreateRequest) {
    this.calls.push(['create', req])
    if (this.nets.some((n) => n.name === req.name)) throw forbidden(`network with name ${req.name} already exists`)
    return { id: 'f'.repeat(64), warning: '' }
  }
  async remove(id: string) {
    this.calls.push(['remove', id])
  }
  async prune(keep: (n: NetworkRecord) => boolean) {
    return this.nets.filter((n) => keep(n) && !this.used.has(n.id)).map((n) => n.name)
  }
  async connect(network: string, container: string, cfg: EndpointConfig) {
    this.calls.push(['connect', network, container, cfg])
  }
  async disconnect(network: string, container: string, force: boolean) {
    this.calls.push(['disconnect', network, container, force])
  }
}

describe('network routes', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-net-'))
  const sock = path.join(dir, 'api.sock')
  const b = new FakeBackend()
  const router = new Router()
  networkRoutes(router, b)
  const server = new ApiServer({ router, logger: nullLogger, serverName: 'berth/test (linux)' })
  beforeAll(() => server.listenUnix(sock))
  afterAll(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })
  beforeEach(() => {
    b.nets = [
      rec('b1', 'bridge', { options: { 'com.docker.network.bridge.name': 'berth0' } }),
      rec('h1', 'host', { driver: 'host' }),
      rec('n1', 'none', { driver: 'null' }),
      rec('abc1', 'front', { labels: { tier: 'web' } }),
      rec('abc2', 'back'),
    ]
    b.used = new Set([b.nets[3]?.id ?? ''])
    b.calls = []
  })
  const q = (f: object) => `?filters=${encodeURIComponent(JSON.stringify(f))}`
  const names = (j: unknown) => (j as Array<{ Name: string }>).map((n) => n.Name)

  it('lists with Containers empty, and with them before API 1.28', async () => {
    const r = await request(sock, 'GET', '/v1.50/networks')
    expect(r.status).toBe(200)
    expect(names(r.json)).toEqual(['bridge', 'host', 'none', 'front', 'back'])
    expect((r.json as Array<{ Containers: object }>)[3]?.Containers).toEqual({})
    const old = await request(sock, 'GET', '/v1.27/networks')
    expect(Object.keys((old.json as Array<{ Containers: object }>)[3]?.Containers ?? {})).toEqual(['c1'])
  })

  it('filters as dockerd', async () => {
    expect(names((await request(sock, 'GET', `/networks${q({ name: { ro: true } })}`)).json)).toEqual(['front'])
    expect(names((await request(sock, 'GET', `/networks${q({ id: { abc: true } })}`)).json)).toEqual(['front', 'back'])
    expect(names((await request(sock, 'GET', `/networks${q({ type: { custom: true } })}`)).json)).toEqual(['front', 'back'])
    expect(names((await request(sock, 'GET', `/networks${q({ type: { builtin: true } })}`)).json)).toEqual(['bridge', 'host', 'none'])
    expect(names((await request(sock, 'GET', `/networks${q({ dangling: { true: true } })}`)).json)).toEqual(['back'])
    expect(names((await request(sock, 'GET', `/networks${q({ label: { 'tier=web': true } })}`)).json)).toEqual(['front'])
    expect(names((await request(sock, 'GET', `/networks${q({ driver: { null: true } })}`)).json)).toEqual(['none'])
    const bad = await request(sock, 'GET', `/networks${q({ color: { red: true } })}`)
    expect(bad.status).toBe(400)
    expect(bad.json).toEqual({ message: "invalid filter 'color'" })
    expect((await request(sock, 'GET', '/networks?filters=%7Bnope')).json).toEqual({ message: 'invalid filter' })
    expect((await request(sock, 'GET', `/networks${q({ dangling: { maybe: true } })}`)).json).toEqual({ message: `invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")` })
  })

  it('inspects by ID, name and unique prefix', async () => {
    const byName = await request(sock, 'GET', '/networks/front')
    expect(byName.status).toBe(200)
    expect(byName.json).toMatchObject({ Name: 'front', Containers: { c1: { Name: 'web', IPv4Address: '10.0.0.2/24' } } })
    expect((await request(sock, 'GET', '/networks/abc2')).json).toMatchObject({ Name: 'back' })
    const amb = await request(sock, 'GET', '/networks/abc')
    expect(amb.status).toBe(400)
    expect(amb.json).toEqual({ message: '2 matches found based on ID prefix: network abc is ambiguous' })
    const nf = await request(sock, 'GET', '/networks/nope')
    expect(nf.status).toBe(404)
    expect(nf.json).toEqual({ message: 'network nope not found' })
    expect((await request(sock, 'GET', '/networks/front?scope=swarm')).status).toBe(404)
    expect((await request(sock, 'GET', '/networks/front?verbose=maybe')).status).toBe(400)
  })

  it('creates from docker’s body and checks it as dockerd', async () => {
    const ok = await request(sock, 'POST', '/v1.50/networks/create', JSON.stringify({ Name: 'n9', Driver: 'bridge', EnableIPv4: false, CheckDuplicate: true, IPAM: { Driver: 'default', Config: [{ Subnet: '10.9.0.0/16' }] } }))
    expect(ok.status).toBe(201)
    expect(ok.json).toEqual({ Id: 'f'.repeat(64), Warning: '' })
    expect(b.calls[0]?.[1]).toMatchObject({ name: 'n9', driver: 'bridge', enableIPv4: false, ipam: { config: [{ subnet: '10.9.0.0/16' }] } })
    await request(sock, 'POST', '/v1.47/networks/create', JSON.stringify({ Name: 'n8', EnableIPv4: false }))
    expect(b.calls[1]?.[1]).not.toHaveProperty('enableIPv4')
    const empty = await request(sock, 'POST', '/networks/create', '{"Name":" "}')
    expect(empty.status).toBe(400)
    expect(empty.json).toEqual({ message: 'invalid name: name is empty' })
    const predefined = await request(sock, 'POST', '/networks/create', '{"Name":"host"}')
    expect(predefined.status).toBe(403)
    expect(predefined.json).toEqual({ message: 'operation is not permitted on predefined host network ' })
    const wrong = await request(sock, 'POST', '/networks/create', '{"Name":"x","Attachable":"yes"}')
    expect(wrong.json).toEqual({ message: 'invalid JSON: json: cannot unmarshal string into Go struct field CreateRequest.Attachable of type bool' })
    expect((await request(sock, 'POST', '/networks/create', '{"Name":')).json).toEqual({ message: 'invalid JSON: unexpected EOF' })
    expect((await request(sock, 'POST', '/networks/create', '{"Name":"back"}')).status).toBe(403)
  })

  it('removes by resolved ID and keeps predefined networks', async () => {
    const r = await request(sock, 'DELETE', '/networks/back')
    expect(r.status).toBe(204)
    expect(b.calls).toEqual([['remove', 'abc2'.padEnd(64, '0')]])
    const pre = await request(sock, 'DELETE', '/networks/bridge')
    expect(pre.status).toBe(403)
    expect(pre.json).toEqual({ message: 'bridge is a pre-defined network and cannot be removed' })
    expect((await request(sock, 'DELETE', '/networks/abc')).json).toEqual({ message: 'network abc is ambiguous (2 matches found based on ID prefix)' })
    expect((await request(sock, 'DELETE', '/networks/nope')).status).toBe(404)
  })

  it('connects and disconnects with the references as given', async () => {
    const c = await request(sock, 'POST', '/networks/front/connect', JSON.stringify({ Container: 'web', EndpointConfig: { Aliases: ['db'], IPAMConfig: { IPv4Address: '10.0.0.9' } } }))
    expect(c.status).toBe(200)
    expect(c.text).toBe('')
    expect(b.calls[0]).toEqual(['connect', 'front', 'web', { aliases: ['db'], links: [], ipv4: '10.0.0.9', ipv6: '', mac: '', driverOpts: {}, gwPriority: 0 }])
    const d = await request(sock, 'POST', '/networks/front/disconnect', '{"Container":"web","Force":true}')
    expect(d.status).toBe(200)
    expect(b.calls[1]).toEqual(['disconnect', 'front', 'web', true])
    const bad = await request(sock, 'POST', '/networks/front/connect', '{"Container":"web","EndpointConfig":{"Aliases":"db"}}')
    expect(bad.json).toEqual({ message: 'invalid JSON: json: cannot unmarshal string into Go struct field EndpointSettings.EndpointConfig.Aliases of type []string' })
  })

  it('prunes unused user networks the filters select', async () => {
    const all = await request(sock, 'POST', '/networks/prune')
    expect(all.json).toEqual({ NetworksDeleted: ['back'] })
    b.nets = b.nets.filter((n) => n.name !== 'back')
    expect((await request(sock, 'POST', '/networks/prune')).json).toEqual({ NetworksDeleted: null })
    b.used.clear()
    expect((await request(sock, 'POST', `/networks/prune${q({ 'label!': { tier: true } })}`)).json).toEqual({ NetworksDeleted: null })
    expect((await request(sock, 'POST', `/networks/prune${q({ until: { '2025-01-01T00:00:00Z': true } })}`)).json).toEqual({ NetworksDeleted: null })
    expect((await request(sock, 'POST', `/networks/prune${q({ until: { '2026-01-01T00:00:00Z': true } })}`)).json).toEqual({ NetworksDeleted: ['front'] })
    expect((await request(sock, 'POST', `/networks/prune${q({ dangling: { true: true } })}`)).json).toEqual({ message: "invalid filter 'dangling'" })
  })
})

describe('findNetwork', () => {
  it('prefers a full ID, then a name, then a unique prefix', () => {
    const nets = [rec('aa', 'x'), rec('bb', 'aa')]
    expect(findNetwork(nets, 'aa', 'inspect').name).toBe('aa')
    expect(findNetwork(nets, 'aa'.padEnd(64, '0'), 'inspect').name).toBe('x')
    expect(findNetwork(nets, 'b', 'delete').name).toBe('aa')
  })
})
