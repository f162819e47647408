/**
 * berth's registry server driven through the distribution spec's flows with
 * Node's fetch: a real server on 127.0.0.1 over a temp root, no mocks.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collectGarbage, startRegistry, type RegistryServer } from '../../../src/registry/index.js'

const sha = (b: string | Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex')
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'

let reg: RegistryServer
let root: string
const url = (p: string) => reg.url + p
const blobFile = (d: string) => path.join(root, 'blobs', 'sha256', d.slice(7))

async function errCode(r: Response): Promise<string | undefined> {
  const body = (await r.json()) as { errors?: Array<{ code: string }> }
  return body.errors?.[0]?.code
}

async function pushBlob(name: string, data: Buffer | string): Promise<string> {
  const d = sha(data)
  const r = await fetch(url(`/v2/${name}/blobs/uploads/?digest=${d}`), { method: 'POST', body: data })
  expect(r.status).toBe(201)
  return d
}

function imageManifest(config: Buffer, layers: Buffer[], mediaType = OCI_MANIFEST, extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(l), size: l.length })),
      ...extra,
    }),
  )
}

async function putManifest(name: string, ref: string, body: Buffer, type = OCI_MANIFEST): Promise<Response> {
  return fetch(url(`/v2/${name}/manifests/${ref}`), { method: 'PUT', body, headers: { 'Content-Type': type } })
}

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'berth-registry-'))
  reg = await startRegistry({ root, addr: '127.0.0.1:0' })
})

afterAll(async () => {
  await reg?.close()
  await fsp.rm(root, { recursive: true, force: true })
})

describe('registry server: distribution API', () => {
  it('answers GET /v2/ with the API version header', async () => {
    const r = await fetch(url('/v2/'))
    expect(r.status).toBe(200)
    expect(r.headers.get('docker-distribution-api-version')).toBe('registry/2.0')
    expect(await r.json()).toEqual({})
  })

  it('stores a monolithic upload and serves it with HEAD, GET and ranges', async () => {
    const data = Buffer.from('hello registry')
    const d = await pushBlob('tools/busybox', data)
    expect(existsSync(blobFile(d))).toBe(true)
    const head = await fetch(url(`/v2/tools/busybox/blobs/${d}`), { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-length')).toBe(String(data.length))
    expect(head.headers.get('docker-content-digest')).toBe(d)
    const get = await fetch(url(`/v2/tools/busybox/blobs/${d}`))
    expect(Buffer.from(await get.arrayBuffer()).toString()).toBe('hello registry')
    const part = await fetch(url(`/v2/tools/busybox/blobs/${d}`), { headers: { Range: 'bytes=6-13' } })
    expect(part.status).toBe(206)
    expect(part.headers.get('content-range')).toBe(`bytes 6-13/${data.length}`)
    expect(await part.text()).toBe('registry')
    const bad = await fetch(url(`/v2/tools/busybox/blobs/${d}`), { headers: { Range: 'bytes=100-' } })
    expect(bad.status).toBe(416)
    // Another repository does not see the blob without a push or mount.
    const other = await fetch(url(`/v2/other/blobs/${d}`), { method: 'HEAD' })
    expect(other.status).toBe(404)
  })

  it('does chunked uploads with status, and refuses an out-of-order chunk with 416', async () => {
    const data = Buffer.from('0123456789abcdefghij')
    const start = await fetch(url('/v2/chunky/blobs/uploads/'), { method: 'POST' })
    expect(start.status).toBe(202)
    const loc = start.headers.get('location')!
    expect(loc).toMatch(/^\/v2\/chunky\/blobs\/uploads\/[0-9a-f-]{36}$/)
    expect(start.headers.get('docker-upload-uuid')).toBe(loc.split('/').pop())
    expect(start.headers.get('range')).toBe('0-0')

    const p1 = await fetch(url(loc), {
      method: 'PATCH',
      body: data.subarray(0, 10),
      headers: { 'Content-Range': '0-9', 'Content-Type': 'application/octet-stream' },
    })
    expect(p1.status).toBe(202)
    expect(p1.headers.get('range')).toBe('0-9')

    const skip = await fetch(url(loc), { method: 'PATCH', body: data.subarray(15), headers: { 'Content-Range': '15-19' } })
    expect(skip.status).toBe(416)
    expect(skip.headers.get('range')).toBe('0-9')

    const status = await fetch(url(loc))
    expect(status.status).toBe(204)
    expect(status.headers.get('range')).toBe('0-9')

    const p2 = await fetch(url(loc), { method: 'PATCH', body: data.subarray(10, 15), headers: { 'Content-Range': '10-14' } })
    expect(p2.headers.get('range')).toBe('0-14')
    // The last chunk rides on the closing PUT.
    const put = await fetch(url(`${loc}?digest=${sha(data)}`), { method: 'PUT', body: data.subarray(15) })
    expect(put.status).toBe(201)
    expect(put.headers.get('docker-content-digest')).toBe(sha(data))
    expect(put.headers.get('location')).toBe(`/v2/chunky/blobs/${sha(data)}`)
    const got = await fetch(url(`/v2/chunky/blobs/${sha(data)}`))
    expect(await got.text()).toBe(data.toString())
    // The session is gone.
    expect((await fetch(url(loc))).status).toBe(404)
  })

  it('rejects a wrong digest and stores nothing', async () => {
    const data = Buffer.from('these bytes')
    const wrong = sha('other bytes')
    const mono = await fetch(url(`/v2/bad/blobs/uploads/?digest=${wrong}`), { method: 'POST', body: data })
    expect(mono.status).toBe(400)
    expect(await errCode(mono)).toBe('DIGEST_INVALID')
    expect(existsSync(blobFile(sha(data)))).toBe(false)
    expect(existsSync(blobFile(wrong))).toBe(false)

    const start = await fetch(url('/v2/bad/blobs/uploads/'), { method: 'POST' })
    const loc = start.headers.get('location')!
    await fetch(url(loc), { method: 'PATCH', body: data })
    const put = await fetch(url(`${loc}?digest=${wrong}`), { method: 'PUT' })
    expect(put.status).toBe(400)
    expect(await errCode(put)).toBe('DIGEST_INVALID')
    expect(existsSync(blobFile(sha(data)))).toBe(false)
    expect(await fsp.readdir(path.join(root, '_uploads'))).toEqual([])
    expect(await fsp.readdir(path.join(root, 'blobs', 'ingest'))).toEqual([])
  })

  it('cancels an upload with DELETE', async () => {
    const start = await fetch(url('/v2/cancel/blobs/uploads/'), { method: 'POST' })
    const loc = start.headers.get('location')!
    expect((await fetch(url(loc), { method: 'DELETE' })).status).toBe(204)
    const again = await fetch(url(loc))
    expect(again.status).toBe(404)
    expect(await errCode(again)).toBe('BLOB_UPLOAD_UNKNOWN')
  })

  it('mounts a blob from another repository', async () => {
    const d = await pushBlob('mount/src', 'mount me')
    const r = await fetch(url(`/v2/mount/dst/blobs/uploads/?mount=${d}&from=mount/src`), { method: 'POST' })
    expect(r.status).toBe(201)
    expect(r.headers.get('location')).toBe(`/v2/mount/dst/blobs/${d}`)
    expect((await fetch(url(`/v2/mount/dst/blobs/${d}`), { method: 'HEAD' })).status).toBe(200)
    // A blob the source lacks: the client gets an upload session instead.
    const miss = await fetch(url(`/v2/mount/dst/blobs/uploads/?mount=${sha('nope')}&from=mount/src`), { method: 'POST' })
    expect(miss.status).toBe(202)
    await fetch(url(miss.headers.get('location')!), { method: 'DELETE' })
  })

  it('puts and gets manifests by tag and digest, and refuses missing blobs', async () => {
    const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}')
    const layer = Buffer.from('layer bytes')
    const manifest = imageManifest(config, [layer])
    const md = sha(manifest)

    const missing = await putManifest('app', 'v1', manifest)
    expect(missing.status).toBe(400)
    expect(await errCode(missing)).toBe('MANIFEST_BLOB_UNKNOWN')

    await pushBlob('app', config)
    await pushBlob('app', layer)
    const put = await putManifest('app', 'v1', manifest)
    expect(put.status).toBe(201)
    expect(put.headers.get('docker-content-digest')).toBe(md)
    expect(put.headers.get('location')).toBe(`/v2/app/manifests/${md}`)

    for (const ref of ['v1', md]) {
      const get = await fetch(url(`/v2/app/manifests/${ref}`), { headers: { Accept: OCI_MANIFEST } })
      expect(get.status).toBe(200)
      expect(get.headers.get('content-type')).toBe(OCI_MANIFEST)
      expect(get.headers.get('docker-content-digest')).toBe(md)
      expect(Buffer.from(await get.arrayBuffer()).equals(manifest)).toBe(true)
      const head = await fetch(url(`/v2/app/manifests/${ref}`), { method: 'HEAD' })
      expect(head.status).toBe(200)
      expect(head.headers.get('content-length')).toBe(String(manifest.length))
    }
    const unknown = await fetch(url('/v2/app/manifests/nope'))
    expect(unknown.status).toBe(404)
    expect(await errCode(unknown)).toBe('MANIFEST_UNKNOWN')

    // The same bytes put by digest with the wrong digest are refused.
    const wrong = await putManifest('app', sha('x'), manifest)
    expect(await errCode(wrong)).toBe('DIGEST_INVALID')

    // A Docker schema2 manifest keeps its Content-Type.
    const dm = imageManifest(config, [layer], DOCKER_MANIFEST)
    expect((await putManifest('app', 'docker', dm, DOCKER_MANIFEST)).status).toBe(201)
    const dget = await fetch(url('/v2/app/manifests/docker'))
    expect(dget.headers.get('content-type')).toBe(DOCKER_MANIFEST)

    // An index may list only manifests the repository has.
    const index = (children: string[]) =>
      Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: children.map((digest) => ({ mediaType: OCI_MANIFEST, digest, size: manifest.length })) }))
    expect(await errCode(await putManifest('app', 'multi', index([sha('absent')]), OCI_INDEX))).toBe('MANIFEST_BLOB_UNKNOWN')
    expect((await putManifest('app', 'multi', index([md]), OCI_INDEX)).status).toBe(201)

    // Media type contradicting the Content-Type, bad JSON, too large.
    expect(await errCode(await putManifest('app', 'bad', manifest, DOCKER_MANIFEST))).toBe('MANIFEST_INVALID')
    expect(await errCode(await putManifest('app', 'bad', Buffer.from('{nope'), OCI_MANIFEST))).toBe('MANIFEST_INVALID')
    const big = await putManifest('app', 'big', Buffer.alloc(5 << 20, 0x20), OCI_MANIFEST)
    expect(big.status).toBe(413)
  })

  it('lists referrers of a manifest', async () => {
    const config = Buffer.from('{}')
    const subject = (await fetch(url('/v2/app/manifests/v1'))).headers.get('docker-content-digest')!
    await pushBlob('app', config)
    const sig = imageManifest(config, [], OCI_MANIFEST, {
      artifactType: 'application/vnd.example.sig',
      subject: { mediaType: OCI_MANIFEST, digest: subject, size: 1 },
    })
    const put = await putManifest('app', sha(sig), sig)
    expect(put.status).toBe(201)
    expect(put.headers.get('oci-subject')).toBe(subject)
    const r = await fetch(url(`/v2/app/referrers/${subject}`))
    expect(r.headers.get('content-type')).toBe(OCI_INDEX)
    const idx = (await r.json()) as { manifests: Array<{ digest: string; artifactType: string }> }
    expect(idx.manifests).toEqual([expect.objectContaining({ digest: sha(sig), artifactType: 'application/vnd.example.sig' })])
    const filtered = await fetch(url(`/v2/app/referrers/${subject}?artifactType=other`))
    expect(filtered.headers.get('oci-filters-applied')).toBe('artifactType')
    expect(((await filtered.json()) as { manifests: unknown[] }).manifests).toEqual([])
  })

  it('paginates tags and the catalog', async () => {
    const config = Buffer.from('{"tags":true}')
    await pushBlob('paged/repo', config)
    const m = imageManifest(config, [])
    for (const t of ['c', 'a', 'e', 'b', 'd']) expect((await putManifest('paged/repo', t, m)).status).toBe(201)
    const all = await fetch(url('/v2/paged/repo/tags/list'))
    expect(await all.json()).toEqual({ name: 'paged/repo', tags: ['a', 'b', 'c', 'd', 'e'] })
    const p1 = await fetch(url('/v2/paged/repo/tags/list?n=2'))
    expect(((await p1.json()) as { tags: string[] }).tags).toEqual(['a', 'b'])
    expect(p1.headers.get('link')).toBe('</v2/paged/repo/tags/list?n=2&last=b>; rel="next"')
    const p3 = await fetch(url('/v2/paged/repo/tags/list?n=2&last=d'))
    expect(((await p3.json()) as { tags: string[] }).tags).toEqual(['e'])
    expect(p3.headers.get('link')).toBeNull()
    const unknown = await fetch(url('/v2/no/such/tags/list'))
    expect(await errCode(unknown)).toBe('NAME_UNKNOWN')

    const cat = (await (await fetch(url('/v2/_catalog'))).json()) as { repositories: string[] }
    expect(cat.repositories).toEqual(expect.arrayContaining(['app', 'paged/repo', 'tools/busybox', 'mount/dst']))
    expect([...cat.repositories].sort()).toEqual(cat.repositories)
    const c1 = await fetch(url('/v2/_catalog?n=1'))
    expect(((await c1.json()) as { repositories: string[] }).repositories).toEqual([cat.repositories[0]])
    expect(c1.headers.get('link')).toContain('rel="next"')
  })

  it('validates repository names', async () => {
    const r = await fetch(url('/v2/Bad_Name/tags/list'))
    expect(r.status).toBe(400)
    expect(await errCode(r)).toBe('NAME_INVALID')
  })

  it('deletes tags, manifests and blobs', async () => {
    const config = Buffer.from('{"del":1}')
    await pushBlob('del', config)
    const m = imageManifest(config, [])
    const d = sha(m)
    await putManifest('del', 'one', m)
    await putManifest('del', 'two', m)
    expect((await fetch(url('/v2/del/manifests/one'), { method: 'DELETE' })).status).toBe(202)
    expect((await fetch(url('/v2/del/manifests/one'))).status).toBe(404)
    expect((await fetch(url('/v2/del/manifests/two'))).status).toBe(200)
    expect((await fetch(url(`/v2/del/manifests/${d}`), { method: 'DELETE' })).status).toBe(202)
    expect((await fetch(url('/v2/del/manifests/two'))).status).toBe(404)
    expect((await fetch(url(`/v2/del/manifests/${d}`))).status).toBe(404)
    expect((await fetch(url(`/v2/del/blobs/${sha(config)}`), { method: 'DELETE' })).status).toBe(202)
    expect((await fetch(url(`/v2/del/blobs/${sha(config)}`), { method: 'HEAD' })).status).toBe(404)
    expect((await fetch(url(`/v2/del/blobs/${sha(config)}`), { method: 'DELETE' })).status).toBe(404)
  })

  it('keeps concurrent pushes of one blob safe', async () => {
    const data = Buffer.alloc(256 << 10, 7)
    const d = sha(data)
    const rs = await Promise.all(
      Array.from({ length: 8 }, (_, i) => fetch(url(`/v2/race${i}/blobs/uploads/?digest=${d}`), { method: 'POST', body: data })),
    )
    expect(rs.map((r) => r.status)).toEqual(Array(8).fill(201))
    const got = Buffer.from(await (await fetch(url(`/v2/race3/blobs/${d}`))).arrayBuffer())
    expect(sha(got)).toBe(d)
  })

  it('gc removes only unreferenced blobs', async () => {
    const orphan = await pushBlob('gc', 'nobody references me')
    const keptConfig = await pushBlob('gc', '{"kept":true}')
    await putManifest('gc', 'kept', imageManifest(Buffer.from('{"kept":true}'), []))
    const dry = await collectGarbage(reg.storage, { dryRun: true })
    expect(dry.deleted.map((x) => x.digest)).toContain(orphan)
    expect(existsSync(blobFile(orphan))).toBe(true)

    const res = await collectGarbage(reg.storage)
    const gone = res.deleted.map((x) => x.digest)
    expect(gone).toContain(orphan)
    expect(gone).not.toContain(keptConfig)
    expect(res.freedBytes).toBeGreaterThanOrEqual('nobody references me'.length)
    expect(existsSync(blobFile(orphan))).toBe(false)
    expect(existsSync(blobFile(keptConfig))).toBe(true)
    expect((await fetch(url('/v2/gc/manifests/kept'))).status).toBe(200)
    // Everything a stored manifest references is still there.
    const m = (await (await fetch(url('/v2/app/manifests/v1'))).json()) as { config: { digest: string }; layers: Array<{ digest: string }> }
    for (const d of [m.config.digest, ...m.layers.map((l) => l.digest)]) expect(existsSync(blobFile(d))).toBe(true)
    // The orphan's repository no longer claims it.
    expect((await fetch(url(`/v2/gc/blobs/${orphan}`), { method: 'HEAD' })).status).toBe(404)
  })
})
