/**
 * `berth registry gc` beside a running server on the same root: blobs of
 * pushes in flight (put to use since the run, or within the margin before
 * the oldest open upload) are kept, old orphans go, the server's temp files
 * and upload sessions survive, and a push finishes afterwards. Blob ages are
 * set with utimes, never waited for.
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collectGarbage, pushesInFlightSince, RegistryStorage, startRegistry, type RegistryServer } from '../../../src/registry/index.js'
import { berthBin, repo } from '../../helpers.js'

const run = promisify(execFile)
const sha = (b: string | Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex')
const HOUR = 3600_000
const noBuild = existsSync(path.join(repo, 'dist/cmd/berth.js')) ? undefined : 'berth is not built (npm run build)'
if (noBuild) console.warn(`skipping online gc tests: ${noBuild}`)

describe.skipIf(noBuild !== undefined)('registry gc beside a running server', () => {
  let root = ''
  let reg: RegistryServer
  const url = (p: string) => reg.url + p
  const blobFile = (d: string) => path.join(root, 'blobs', 'sha256', d.slice(7))
  const link = (name: string, d: string) => path.join(root, 'repositories', name, '_layers', 'sha256', d.slice(7))

  async function pushBlob(name: string, data: string): Promise<string> {
    const d = sha(data)
    const r = await fetch(url(`/v2/${name}/blobs/uploads/?digest=${d}`), { method: 'POST', body: data })
    expect(r.status).toBe(201)
    return d
  }

  /** Make a blob look last used `ms` before `at`: its file and its link in `name`. */
  async function age(name: string, d: string, at: number, ms: number): Promise<void> {
    const t = new Date(at - ms)
    await fsp.utimes(blobFile(d), t, t)
    await fsp.utimes(link(name, d), t, t)
  }

  async function manifest(name: string, tag: string, config: string, layers: string[]): Promise<Response> {
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(l), size: l.length })),
    })
    return fetch(url(`/v2/${name}/manifests/${tag}`), { method: 'PUT', body, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } })
  }

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'berth-gc-online-'))
    reg = await startRegistry({ root, addr: '127.0.0.1:0' })
  })
  afterAll(async () => {
    await reg?.close()
    if (root) await fsp.rm(root, { recursive: true, force: true })
  })

  it('keeps what pushes in flight use, frees old orphans, and leaves the server working', async () => {
    const now = Date.now()
    const orphan = await pushBlob('app', 'an old orphan')
    await age('app', orphan, now, 3 * HOUR)
    // Layers of a push whose manifest is not there yet: one finished just now, one a while before.
    const fresh = await pushBlob('app', 'layer one')
    const earlier = await pushBlob('app', 'layer two')
    await age('app', earlier, now, HOUR / 2)
    const config = await pushBlob('app', '{"config":true}')
    // The push's next layer is still uploading.
    const open = await fetch(url('/v2/app/blobs/uploads/'), { method: 'POST' })
    expect(open.status).toBe(202)
    const location = open.headers.get('location')!
    const part = await fetch(url(location), { method: 'PATCH', body: 'layer ' })
    expect(part.status).toBe(202)
    // A temp file of an ingest in progress must survive gc opening the root.
    const ingestTmp = path.join(root, 'blobs', 'ingest', 'in-flight')
    await fsp.writeFile(ingestTmp, 'partial')

    const out = (await run(process.execPath, [berthBin, 'registry', 'gc', '--root', root])).stdout
    expect(out).toContain(`blob eligible for deletion: ${orphan}`)
    expect(out).toContain('1 blobs eligible for deletion')
    expect(out).toContain('3 unreferenced blobs kept: in use by pushes in flight')
    for (const d of [fresh, earlier, config]) expect(out).toContain(`blob in use by a push in flight, kept: ${d}`)
    expect(existsSync(blobFile(orphan))).toBe(false)
    expect(existsSync(link('app', orphan))).toBe(false)
    expect(existsSync(ingestTmp)).toBe(true)

    // The push goes on: the open session finishes and the manifest finds its blobs.
    const done = await fetch(url(`${location}?digest=${sha('layer three')}`), { method: 'PUT', body: 'three' })
    expect(done.status).toBe(201)
    expect((await manifest('app', '1', '{"config":true}', ['layer one', 'layer two', 'layer three'])).status).toBe(201)
  })

  it('keeps an old orphan a manifest push has just put to use', async () => {
    const cfg = await pushBlob('reuse', '{"reuse":true}')
    const layer = await pushBlob('reuse', 'reused layer')
    const now = Date.now()
    await age('reuse', cfg, now, 3 * HOUR)
    await age('reuse', layer, now, 3 * HOUR)
    const storage = await RegistryStorage.openForGc(root)
    // A second's slack: the link times are judged against it, and some filesystems keep whole seconds.
    const since = (await pushesInFlightSince(storage)) - 1000
    // The manifest lands after gc chose its cutoff; pushing it touched the links.
    expect((await manifest('reuse', '1', '{"reuse":true}', ['reused layer'])).status).toBe(201)
    const dry = await collectGarbage(storage, { keepUsedSince: since, dryRun: true })
    expect(dry.deleted.map((d) => d.digest)).not.toContain(layer)
    const del = await fetch(url('/v2/reuse/manifests/1'), { method: 'HEAD' })
    const digest = del.headers.get('docker-content-digest')!
    expect((await fetch(url(`/v2/reuse/manifests/${digest}`), { method: 'DELETE' })).status).toBe(202)
    // Unreferenced now, but used since the cutoff: kept by an online run, freed by an offline one.
    const online = await collectGarbage(storage, { keepUsedSince: since })
    expect(online.kept.map((d) => d.digest)).toEqual(expect.arrayContaining([cfg, layer]))
    expect(existsSync(blobFile(layer))).toBe(true)
    const offline = await collectGarbage(storage)
    expect(offline.deleted.map((d) => d.digest)).toEqual(expect.arrayContaining([cfg, layer]))
  })

  it('puts back a blob a gc that died had set aside', async () => {
    const d = await pushBlob('aside', 'set aside by a crashed gc')
    expect((await manifest('aside', '1', 'set aside by a crashed gc', [])).status).toBe(201)
    await fsp.rename(blobFile(d), path.join(root, 'blobs', 'sha256', `.gc-${d.slice(7)}`))
    expect((await fetch(url(`/v2/aside/blobs/${d}`), { method: 'HEAD' })).status).toBe(404)
    const out = (await run(process.execPath, [berthBin, 'registry', 'gc', '--root', root])).stdout
    expect(out).toContain(`aside: marking ${d}`)
    expect((await fetch(url(`/v2/aside/blobs/${d}`), { method: 'HEAD' })).status).toBe(200)
    expect((await fsp.readdir(path.join(root, 'blobs', 'sha256'))).filter((n) => n.startsWith('.gc-'))).toEqual([])
  })
})
