/**
 * Pull against the real distribution registry (Debian's docker-registry),
 * populated with skopeo from OCI layouts the test writes by hand: through the
 * ImageService, through berthd with the berth CLI, and with the docker CLI.
 */
import { execFile, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PullProgress } from '../../../src/images/index.js'
import { sha256 } from '../../../src/oci/index.js'
import { berth, docker, dockerBin, missing, ok, repo } from '../../helpers.js'
import { engine, type TestEngine } from '../images/index.js'
import { startDockerRegistry } from './docker-registry.js'

const run = promisify(execFile)

function why(): string | undefined {
  if (spawnSync('docker-registry', ['--version']).status !== 0) return 'docker-registry is not installed (apt-get install docker-registry)'
  if (spawnSync('skopeo', ['--version']).status !== 0) return 'skopeo is not installed (apt-get install skopeo)'
  return missing('root')
}
const skip = why()
if (skip) console.warn(`skipping registry pull tests: ${skip}`)

interface Blob { digest: string; size: number; data: Buffer }
const blob = (data: Buffer): Blob => ({ digest: sha256(data), size: data.length, data })

interface TestImage { config: Blob; manifest: Blob; layers: Blob[]; diffIds: string[] }

/** An image from uncompressed layer tars: gzip layers, a config with their diffIDs, an OCI manifest. */
function makeImage(tars: Buffer[], arch = 'amd64', label = 'x'): TestImage {
  const layers = tars.map((t) => blob(gzipSync(t)))
  const diffIds = tars.map((t) => sha256(t))
  const config = blob(Buffer.from(JSON.stringify({
    architecture: arch, os: 'linux', created: '2024-01-01T00:00:00Z',
    config: { Cmd: ['sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Labels: { test: label } },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: tars.map(() => ({ created: '2024-01-01T00:00:00Z', created_by: 'test' })),
  })))
  const manifest = blob(Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size })),
  })))
  return { config, manifest, layers, diffIds }
}

/** Write an OCI layout with one entry named `tag` (an image, or an index over several images). */
async function writeLayout(dir: string, tag: string, images: Array<{ img: TestImage; arch: string }>): Promise<Blob> {
  await fsp.mkdir(path.join(dir, 'blobs/sha256'), { recursive: true })
  const put = (b: Blob) => fsp.writeFile(path.join(dir, 'blobs/sha256', b.digest.slice(7)), b.data)
  for (const { img } of images) for (const b of [img.config, img.manifest, ...img.layers]) await put(b)
  let top: Blob
  let mediaType: string
  if (images.length === 1) {
    top = (images[0] as { img: TestImage }).img.manifest
    mediaType = 'application/vnd.oci.image.manifest.v1+json'
  } else {
    mediaType = 'application/vnd.oci.image.index.v1+json'
    top = blob(Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType,
      manifests: images.map(({ img, arch }) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: img.manifest.digest, size: img.manifest.size, platform: { os: 'linux', architecture: arch } })),
    })))
    await put(top)
  }
  await fsp.writeFile(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')
  await fsp.writeFile(path.join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2, manifests: [{ mediaType, digest: top.digest, size: top.size, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  }))
  return top
}

/** A one-file layer tar made by GNU tar. */
async function fileLayer(dir: string, name: string, content: string): Promise<Buffer> {
  const src = path.join(dir, `src-${name}`)
  await fsp.mkdir(src, { recursive: true })
  await fsp.writeFile(path.join(src, name), content)
  const out = path.join(dir, `${name}.tar`)
  await run('tar', ['-c', '-f', out, '--numeric-owner', '--owner=0', '--group=0', '-C', src, name])
  return fsp.readFile(out)
}

describe.skipIf(skip)('pull from the distribution registry (root)', () => {
  let dir: string
  let registry: ChildProcess
  let storage: string
  let host: string
  let plain: TestImage
  let amd: TestImage
  let arm: TestImage
  let indexDigest: string
  let corrupt: TestImage
  const engines: TestEngine[] = []

  async function push(name: string, tag: string, images: Array<{ img: TestImage; arch: string }>): Promise<string> {
    const layout = path.join(dir, `layout-${name.replace(/\//g, '-')}`)
    const top = await writeLayout(layout, tag, images)
    const args = ['copy', '--insecure-policy', '--dest-tls-verify=false', ...(images.length > 1 ? ['--all'] : []), '--preserve-digests', `oci:${layout}:${tag}`, `docker://${host}/${name}:${tag}`]
    await run('skopeo', args, { timeout: 60_000 })
    return top.digest
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'berth-registry-pull-'))
    // Its log (every 404 skopeo's HEADs provoke) goes to a file beside the storage.
    const reg = await startDockerRegistry(dir, { deletes: true })
    registry = reg.process
    host = reg.host
    storage = reg.storage
    const rootfs = path.join(dir, 'rootfs.tar')
    await run(path.join(repo, 'scripts/busybox-rootfs'), [rootfs])
    const base = await fsp.readFile(rootfs)
    const extra = await fileLayer(dir, 'hello.txt', 'hello from the registry\n')
    plain = makeImage([base, extra])
    await push('tools/busybox', '1', [{ img: plain, arch: 'amd64' }])
    amd = makeImage([base, extra], 'amd64', 'multi')
    arm = makeImage([base, extra], 'arm64', 'multi')
    indexDigest = await push('tools/multi', '1', [{ img: amd, arch: 'amd64' }, { img: arm, arch: 'arm64' }])
    corrupt = makeImage([await fileLayer(dir, 'corrupt.txt', `only here ${Math.random()}\n`.repeat(2000))], 'amd64', 'corrupt')
    await push('tools/corrupt', '1', [{ img: corrupt, arch: 'amd64' }])
  }, 120_000)

  afterAll(async () => {
    registry?.kill('SIGTERM')
    for (const e of engines) await e.close()
    if (dir) await fsp.rm(dir, { recursive: true, force: true })
  })

  async function fresh(name: string): Promise<TestEngine> {
    const e = await engine(name)
    engines.push(e)
    return e
  }

  it('pulls an image through the ImageService with docker progress, then finds it up to date', async () => {
    const e = await fresh('pull')
    const events: PullProgress[] = []
    const ref = `${host}/tools/busybox:1`
    const res = await e.svc.pull(ref, { progress: (ev) => events.push(ev) })
    expect(res.id).toBe(plain.config.digest)
    expect(res.updated).toBe(true)
    const statuses = events.map((ev) => (ev.id ? `${ev.id}: ${ev.status}` : ev.status))
    expect(statuses[0]).toBe('1: Pulling from tools/busybox')
    for (const l of plain.layers) {
      const id = l.digest.slice(7, 19)
      for (const s of ['Pulling fs layer', 'Downloading', 'Verifying Checksum', 'Download complete', 'Extracting', 'Pull complete']) expect(statuses).toContain(`${id}: ${s}`)
    }
    const dl = events.find((ev) => ev.status === 'Downloading')
    expect(dl?.progressDetail?.total).toBeGreaterThan(0)
    expect(statuses.slice(-2)).toEqual([`Digest: ${plain.manifest.digest}`, `Status: Downloaded newer image for ${ref}`])

    const img = e.svc.inspect(ref)
    expect(img.id).toBe(plain.config.digest)
    expect(img.config.rootfs.diff_ids).toEqual(plain.diffIds)
    expect(img.repoTags).toEqual([ref])
    expect(img.repoDigests).toEqual([`${host}/tools/busybox@${plain.manifest.digest}`])
    // Compressed blobs by digest, recorded as the layers' stored form: unpacked in one pass, no diffID tar.
    for (const d of [...plain.layers.map((l) => l.digest), plain.config.digest]) expect(await e.svc.content.stat(d)).not.toBeNull()
    for (const d of plain.diffIds) expect(await e.svc.content.stat(d)).toBeNull()
    plain.layers.forEach((l, i) => expect(e.svc.store.layerBlobsOf(plain.diffIds[i] as string)).toEqual([l.digest]))

    const before = await e.svc.content.list()
    const again: PullProgress[] = []
    const res2 = await e.svc.pull(ref, { progress: (ev) => again.push(ev) })
    expect(res2).toMatchObject({ id: res.id, updated: false })
    expect(again.map((ev) => ev.status)).toEqual(['Pulling from tools/busybox', `Digest: ${plain.manifest.digest}`, `Status: Image is up to date for ${ref}`])
    expect(await e.svc.content.list()).toEqual(before)

    // save gunzips the blobs into the layers' exact tars; they load back to the same image,
    // also when the tar sizes were not recorded (then save counts them first).
    for (const forget of [false, true]) {
      if (forget) e.svc.store.db.prepare('UPDATE layer_blobs SET tar_size = NULL').run()
      const other = await fresh(`pull-save-${forget}`)
      await other.svc.load(await e.svc.save([ref]))
      expect(other.svc.inspect(ref).id).toBe(res.id)
    }
  })

  it('selects a platform from a manifest list, reusing layers it has', async () => {
    const e = await fresh('multi')
    const ref = `${host}/tools/multi:1`
    const res = await e.svc.pull(ref)
    expect(res).toMatchObject({ id: amd.config.digest, digest: indexDigest })
    expect(e.svc.inspect(ref).repoDigests).toEqual([`${host}/tools/multi@${indexDigest}`])
    const events: PullProgress[] = []
    const armRes = await e.svc.pull(ref, { platform: 'linux/arm64', progress: (ev) => events.push(ev) })
    expect(armRes.id).toBe(arm.config.digest)
    expect(events.filter((ev) => ev.status === 'Already exists')).toHaveLength(2)
    expect(events.some((ev) => ev.status === 'Downloading')).toBe(false)
    await expect(e.svc.pull(ref, { platform: 'linux/s390x' })).rejects.toThrow('no matching manifest for linux/s390x in the manifest list entries')
    await expect(e.svc.pull(`${host}/tools/busybox:1`, { platform: 'linux/arm64' })).rejects.toThrow(/does not match the specified platform: wanted linux\/arm64\/v8, actual: linux\/amd64/)
    // With the image already here, the wrong platform is still refused, never "up to date".
    await e.svc.pull(`${host}/tools/busybox:1`)
    await expect(e.svc.pull(`${host}/tools/busybox:1`, { platform: 'linux/arm64' })).rejects.toThrow(/does not match the specified platform/)
  })

  it('pulls by digest and reports unknown manifests as docker does', async () => {
    const e = await fresh('digest')
    const res = await e.svc.pull(`${host}/tools/busybox@${plain.manifest.digest}`)
    expect(res.id).toBe(plain.config.digest)
    expect(e.svc.inspect(`${host}/tools/busybox@${plain.manifest.digest}`).id).toBe(res.id)
    await expect(e.svc.pull(`${host}/tools/busybox:nope`)).rejects.toThrow(`manifest for ${host}/tools/busybox:nope not found: manifest unknown: manifest unknown`)
    await expect(e.svc.pull(`${host}/tools/nothere:1`)).rejects.toThrow(/not found: (manifest|name) unknown/)
  })

  it('refuses a corrupt blob, keeps the store unchanged, and succeeds once the blob is fixed', async () => {
    const e = await fresh('corrupt')
    const layer = corrupt.layers[0] as Blob
    const file = path.join(storage, 'docker/registry/v2/blobs/sha256', layer.digest.slice(7, 9), layer.digest.slice(7), 'data')
    const good = await fsp.readFile(file)
    const bad = Buffer.from(good)
    bad[bad.length >> 1] ^= 0xff
    await fsp.writeFile(file, bad)
    const ref = `${host}/tools/corrupt:1`
    const before = await e.svc.content.list()
    try {
      await expect(e.svc.pull(ref)).rejects.toThrow(`filesystem layer verification failed for digest ${layer.digest}`)
    } finally {
      await fsp.writeFile(file, good)
    }
    expect(await e.svc.content.list()).toEqual(before)
    expect(e.svc.find(ref)).toBeUndefined()
    expect(await fsp.readdir(path.join(e.root, 'blobs/ingest'))).toEqual([])
    expect((await e.svc.pull(ref)).id).toBe(corrupt.config.digest)
  })

  describe.skipIf(missing('daemon'))('through berthd', () => {
    afterAll(async () => {
      await berth(['rmi', '-f', `${host}/tools/busybox:1`, `${host}/tools/multi:1`, `${host}/tools/corrupt:1`])
    })

    it('berth pull shows progress, then berth run uses the image', async () => {
      const ref = `${host}/tools/busybox:1`
      await berth(['rmi', '-f', ref])
      const r = ok(await berth(['pull', ref], { timeoutMs: 120_000 }))
      expect(r.stdout).toContain('1: Pulling from tools/busybox')
      expect(r.stdout).toContain(`Digest: ${plain.manifest.digest}`)
      expect(r.stdout).toContain(`Status: Downloaded newer image for ${ref}`)
      expect(r.stdout.trim().split('\n').at(-1)).toBe(ref)
      expect(ok(await berth(['image', 'inspect', '-f', '{{.Id}} {{json .RepoDigests}}', ref])).stdout.trim())
        .toBe(`${plain.config.digest} ["${host}/tools/busybox@${plain.manifest.digest}"]`)
      expect(ok(await berth(['pull', ref])).stdout).toContain(`Status: Image is up to date for ${ref}`)
      expect(ok(await berth(['run', '--rm', ref, 'cat', '/hello.txt'])).stdout).toBe('hello from the registry\n')
      expect(ok(await berth(['run', '--rm', ref, 'echo', 'ok'])).stdout).toBe('ok\n')
      const bad = await berth(['pull', `${host}/tools/busybox:nope`])
      expect(bad.code).toBe(1)
      expect(bad.stderr).toContain(`manifest for ${host}/tools/busybox:nope not found: manifest unknown: manifest unknown`)
    })

    it('berth run pulls a missing image', async () => {
      const ref = `${host}/tools/multi:1`
      await berth(['rmi', '-f', ref])
      const r = ok(await berth(['run', '--rm', ref, 'echo', 'ok'], { timeoutMs: 120_000 }))
      expect(r.stdout).toBe('ok\n')
      expect(r.stderr).toContain(`Unable to find image '${ref}' locally`)
    })

    it.skipIf(!dockerBin)('docker pull shows docker progress lines', async () => {
      const ref = `${host}/tools/corrupt:1`
      await berth(['rmi', '-f', ref])
      const r = ok(await docker(['pull', ref], { timeoutMs: 120_000 }))
      const lid = (corrupt.layers[0] as Blob).digest.slice(7, 19)
      expect(r.stdout).toContain('1: Pulling from tools/corrupt')
      expect(r.stdout).toContain(`${lid}: Pull complete`)
      expect(r.stdout).toContain(`Digest: ${corrupt.manifest.digest}`)
      expect(r.stdout).toContain(`Status: Downloaded newer image for ${ref}`)
      expect(ok(await docker(['pull', ref])).stdout).toContain(`Status: Image is up to date for ${ref}`)
      const bad = await docker(['pull', `${host}/tools/corrupt:nope`])
      expect(bad.code).toBe(1)
      expect(bad.stderr).toContain(`Error response from daemon: manifest for ${host}/tools/corrupt:nope not found: manifest unknown: manifest unknown`)
    })
  })
})
