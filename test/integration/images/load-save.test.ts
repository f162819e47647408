import { existsSync, promises as fsp, readFileSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeHeader, END_OF_ARCHIVE, newHeader, padding, TarReader } from '../../../src/archive/index.js'
import { busyboxTar, collect, engine, fixtures, isRoot, stream, type TestEngine } from './helpers.js'

const FIXTURE_ID = 'sha256:54d96412f20c9455bf61b2aa9aa176268ebec24d283dee5929a1656cd1b56bd9'

function tarOf(files: Array<{ name: string; data?: string | Buffer; type?: 'file' | 'symlink'; linkname?: string }>): Buffer {
  const parts: Buffer[] = []
  for (const f of files) {
    const data = Buffer.from(f.data ?? '')
    parts.push(encodeHeader(newHeader(f.name, f.type ?? 'file', { size: (f.type ?? 'file') === 'file' ? data.length : 0, linkname: f.linkname ?? '' })))
    if ((f.type ?? 'file') === 'file') parts.push(data, padding(data.length))
  }
  parts.push(END_OF_ARCHIVE)
  return Buffer.concat(parts)
}

async function members(tar: Buffer): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>()
  const r = new TarReader(stream(tar))
  for (let h = await r.next(); h; h = await r.next()) {
    const parts: Buffer[] = []
    for await (const c of r.body()) parts.push(c)
    out.set(h.name, Buffer.concat(parts))
  }
  return out
}

describe.skipIf(!isRoot)('docker-archive load and save (root)', () => {
  let e: TestEngine
  beforeAll(async () => {
    e = await engine('loadsave')
  })
  afterAll(() => e?.close())

  it('loads docker 20.10 save output to the ID docker computed', async () => {
    const lines = await e.svc.load(stream(readFileSync(path.join(fixtures, 'docker-20.10-save.tar'))))
    expect(lines).toEqual(['Loaded image: tiny:1\n'])
    const img = e.svc.inspect('tiny:1')
    expect(img.id).toBe(FIXTURE_ID)
    expect(img.config.config?.Cmd).toEqual(['/bin/cat', '/srv/data/hello.txt'])
    const dir = e.svc.snapshotter.layerDir(img.chainIds[0] as string)
    expect(readFileSync(path.join(dir, 'srv/data/hello.txt'), 'utf8')).toBe('hello from a docker 20.10 archive\n')
    expect(await fsp.readlink(path.join(dir, 'srv/data/link.txt'))).toBe('hello.txt')
    expect(e.svc.history('tiny:1')[0]?.comment).toBe('berth fixture')
  })

  it('saves both layouts, reproducing the layer bytes', async () => {
    const tar = await collect(await e.svc.save(['tiny']))
    const m = await members(tar)
    const manifest = JSON.parse(m.get('manifest.json')!.toString()) as Array<{ Config: string; RepoTags: string[]; Layers: string[] }>
    expect(manifest).toEqual([{
      Config: `blobs/sha256/${FIXTURE_ID.slice(7)}`,
      RepoTags: ['tiny:1'],
      Layers: ['blobs/sha256/38966a502dcb8a3e33d41b753aee3716ca47f1c5b930bca3474d456d41a94af0'],
    }])
    const original = await members(readFileSync(path.join(fixtures, 'docker-20.10-save.tar')))
    expect(m.get(manifest[0]!.Layers[0]!)!.equals(original.get('1e70e3d2373519075fd222a013196d143e6ba2bb4f2397dd95bdc42baec21d75/layer.tar')!)).toBe(true)
    const index = JSON.parse(m.get('index.json')!.toString()) as { manifests: Array<{ digest: string; annotations: Record<string, string> }> }
    expect(index.manifests[0]?.annotations).toEqual({ 'io.containerd.image.name': 'docker.io/library/tiny:1', 'org.opencontainers.image.ref.name': '1' })
    const ociManifest = JSON.parse(m.get(`blobs/sha256/${index.manifests[0]!.digest.slice(7)}`)!.toString()) as { config: { digest: string } }
    expect(ociManifest.config.digest).toBe(FIXTURE_ID)
    expect(m.get('oci-layout')!.toString()).toBe('{"imageLayoutVersion": "1.0.0"}')
    expect(JSON.parse(m.get('repositories')!.toString())).toEqual({ tiny: { '1': '38966a502dcb8a3e33d41b753aee3716ca47f1c5b930bca3474d456d41a94af0' } })
  })

  it('loads an OCI layout without manifest.json', async () => {
    const tar = await collect(await e.svc.save(['tiny:1']))
    const m = await members(tar)
    const files = [...m].filter(([n]) => n !== 'manifest.json' && n !== 'repositories' && !n.endsWith('/')).map(([name, data]) => ({ name, data }))
    await e.svc.remove('tiny:1')
    expect(await e.svc.load(stream(tarOf(files)))).toEqual(['Loaded image: tiny:1\n'])
    expect(e.svc.inspect('tiny:1').id).toBe(FIXTURE_ID)
  })

  it('loads gzip-compressed archives and symlinked layers', async () => {
    const { gzipSync } = await import('node:zlib')
    const tar = await collect(await e.svc.save(['tiny:1']))
    const m = await members(tar)
    const layer = 'blobs/sha256/38966a502dcb8a3e33d41b753aee3716ca47f1c5b930bca3474d456d41a94af0'
    const files = [
      { name: 'manifest.json', data: JSON.stringify([{ Config: `cfg.json`, RepoTags: ['tiny:gz'], Layers: ['abc/layer.tar'] }]) },
      { name: 'cfg.json', data: m.get(`blobs/sha256/${FIXTURE_ID.slice(7)}`) },
      { name: layer, data: gzipSync(m.get(layer)!) },
      { name: 'abc/layer.tar', type: 'symlink' as const, linkname: `../${layer}` },
    ]
    expect(await e.svc.load(stream(gzipSync(tarOf(files))))).toEqual(['Loaded image: tiny:gz\n'])
    expect(e.svc.inspect('tiny:gz').id).toBe(FIXTURE_ID)
  })

  it('refuses hostile or inconsistent archives', async () => {
    await expect(e.svc.load(stream(tarOf([{ name: '../escape', data: 'x' }])))).rejects.toThrow(/outside/)
    await expect(e.svc.load(stream(tarOf([{ name: 'x', data: 'x' }])))).rejects.toThrow(/no manifest.json/)
    const cfg = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: ['sha256:' + '0'.repeat(64)] } })
    const bad = tarOf([
      { name: 'manifest.json', data: JSON.stringify([{ Config: 'c.json', RepoTags: ['evil:1'], Layers: ['l.tar'] }]) },
      { name: 'c.json', data: cfg },
      { name: 'l.tar', data: tarOf([{ name: 'f', data: 'x' }]) },
    ])
    await expect(e.svc.load(stream(bad))).rejects.toThrow(/invalid diffID for layer 0/)
    const escape = tarOf([
      { name: 'manifest.json', data: JSON.stringify([{ Config: '../../etc/passwd', RepoTags: null, Layers: [] }]) },
    ])
    await expect(e.svc.load(stream(escape))).rejects.toThrow(/outside/)
    const viaLink = tarOf([
      { name: 'manifest.json', data: JSON.stringify([{ Config: 'c.json', RepoTags: null, Layers: [] }]) },
      { name: 'c.json', type: 'symlink', linkname: '/etc/passwd' },
    ])
    await expect(e.svc.load(stream(viaLink))).rejects.toThrow(/missing/)
    expect(() => e.svc.resolve('evil:1')).toThrow(/No such image/)
    expect(await fsp.readdir(e.svc.tmpDir)).toEqual([])
  })
})

const DOCKER_SOCK = '/var/run/docker.sock'

function dockerRequest(method: string, p: string, body?: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: DOCKER_SOCK, method, path: p, headers: body ? { 'Content-Type': 'application/x-tar', 'Content-Length': body.length } : {} }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (c: Buffer) => parts.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

async function dockerReachable(): Promise<boolean> {
  if (!existsSync(DOCKER_SOCK)) return false
  try {
    return (await dockerRequest('GET', '/_ping')).status === 200
  } catch {
    return false
  }
}

const docker = isRoot && (await dockerReachable())

describe.skipIf(!docker)(`berth save → docker load (needs a docker daemon at unix://${DOCKER_SOCK})`, () => {
  let e: TestEngine
  beforeAll(async () => {
    e = await engine('todocker')
  })
  afterAll(() => e?.close())

  it('docker loads what berth saved, to the same image ID', async () => {
    const id = await e.svc.importRootfs(stream(await busyboxTar()), { ref: 'berth-roundtrip/busybox:1', changes: ['CMD ["sh"]'] })
    const tar = await collect(await e.svc.save(['berth-roundtrip/busybox:1']))
    await dockerRequest('DELETE', '/images/berth-roundtrip%2Fbusybox:1?force=1')
    const res = await dockerRequest('POST', '/images/load?quiet=1', tar)
    expect(res.status).toBe(200)
    expect(res.body.toString()).toContain('Loaded image: berth-roundtrip/busybox:1')
    const inspect = await dockerRequest('GET', '/images/berth-roundtrip%2Fbusybox:1/json')
    expect((JSON.parse(inspect.body.toString()) as { Id: string }).Id).toBe(id)
    // And back: docker's save of it loads into berth to the same ID.
    const back = await dockerRequest('GET', '/images/berth-roundtrip%2Fbusybox:1/get')
    await e.svc.remove('berth-roundtrip/busybox:1')
    await e.svc.load(stream(back.body))
    expect(e.svc.inspect('berth-roundtrip/busybox:1').id).toBe(id)
    await dockerRequest('DELETE', '/images/berth-roundtrip%2Fbusybox:1?force=1')
  })
})
if (!docker) describe.skip(`berth save → docker load: skipped, no docker daemon answers at unix://${DOCKER_SOCK}`, () => { it('needs docker', () => {}) })
