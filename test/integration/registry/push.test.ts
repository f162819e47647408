/**
 * Push to real registries on loopback — berth's own (`berth registry serve`,
 * in-process) and Debian's docker-registry (its own config, started here) —
 * with the berth CLI and the docker CLI against the test berthd, and with an
 * ImageService of its own for chunked uploads. skopeo reads back what landed.
 */
import { execFile, spawnSync } from 'node:child_process'
import { mkdtempSync, promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDb } from '../../../src/db/index.js'
import { EventBus } from '../../../src/events/index.js'
import { ImageService, type PushProgress } from '../../../src/images/index.js'
import { nullLogger } from '../../../src/lib/index.js'
import { startRegistry, type RegistryServer } from '../../../src/registry/index.js'
import { berth, docker, dockerBin, loadBcrypt, missing, ok, repo } from '../../helpers.js'
import { startDockerRegistry } from './docker-registry.js'

const run = promisify(execFile)

function why(): string | undefined {
  if (spawnSync('skopeo', ['--version']).status !== 0) return 'skopeo is not installed (apt-get install skopeo)'
  return missing('root', 'daemon')
}
const skip = why()
if (skip) console.warn(`skipping registry push tests: ${skip}`)
const noDistribution = spawnSync('docker-registry', ['--version']).status !== 0 ? 'docker-registry is not installed (apt-get install docker-registry)' : undefined
if (noDistribution) console.warn(`skipping push to docker-registry: ${noDistribution}`)


interface Registry { host: string; stop(): Promise<void> }

async function berthRegistry(dir: string): Promise<Registry> {
  const reg: RegistryServer = await startRegistry({ root: path.join(dir, 'berth-registry'), addr: '127.0.0.1:0' })
  return { host: new URL(reg.url).host, stop: () => reg.close() }
}

async function distributionRegistry(dir: string): Promise<Registry> {
  const reg = await startDockerRegistry(path.join(dir, 'distribution'))
  return { host: reg.host, stop: async () => reg.stop() }
}

interface RawManifest { mediaType: string; config: { digest: string; mediaType: string }; layers: Array<{ digest: string; mediaType: string; size: number }> }

async function skopeoManifest(ref: string): Promise<RawManifest> {
  const r = await run('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${ref}`], { timeout: 60_000 })
  return JSON.parse(r.stdout) as RawManifest
}

const lines = (s: string) => s.trim().split('\n')

for (const [kind, start, skipKind] of [
  ['berth registry serve', berthRegistry, undefined],
  ['docker-registry', distributionRegistry, noDistribution],
] as const) {
  describe.skipIf(skip ?? skipKind)(`push to ${kind} (root)`, () => {
    let dir: string
    let reg: Registry
    let host: string
    let busyboxId: string
    let diffId: string
    const tags: string[] = []

    const tag = async (target: string) => {
      ok(await berth(['tag', 'busybox', target]))
      tags.push(target)
    }

    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'berth-push-'))
      reg = await start(dir)
      host = reg.host
      busyboxId = ok(await berth(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).stdout.trim()
      diffId = ok(await berth(['image', 'inspect', '-f', '{{index .RootFS.Layers 0}}', 'busybox'])).stdout.trim()
    })

    afterAll(async () => {
      if (tags.length) await berth(['rmi', '-f', ...tags])
      await reg?.stop()
      if (dir) await fsp.rm(dir, { recursive: true, force: true })
    })

    it('berth push uploads, pushes again as "Layer already exists", pulls back and runs', async () => {
      const ref = `${host}/tools/busybox:1.35`
      await tag(ref)
      const lid = diffId.slice(7, 19)
      const r = ok(await berth(['push', ref], { timeoutMs: 120_000 }))
      const out = lines(r.stdout)
      expect(out[0]).toBe(`The push refers to repository [${host}/tools/busybox]`)
      expect(out).toContain(`${lid}: Preparing`)
      expect(out).toContain(`${lid}: Pushed`)
      const last = out.at(-1) ?? ''
      expect(last).toMatch(/^1\.35: digest: sha256:[a-f0-9]{64} size: \d+$/)
      const digest = last.split(' ')[2] as string

      // What landed: a schema2 manifest, gzip layers, the image ID as config digest.
      const m = await skopeoManifest(ref)
      expect(m.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json')
      expect(m.config.digest).toBe(busyboxId)
      expect(m.layers.map((l) => l.mediaType)).toEqual(['application/vnd.docker.image.rootfs.diff.tar.gzip'])
      for (const l of m.layers) {
        expect(l.digest).not.toBe(diffId)
        const blob = Buffer.from(await (await fetch(`http://${host}/v2/tools/busybox/blobs/${l.digest}`)).arrayBuffer())
        expect([blob[0], blob[1]]).toEqual([0x1f, 0x8b])
        expect(blob.length).toBe(l.size)
      }
      const inspect = JSON.parse((await run('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`], { timeout: 60_000 })).stdout) as { Digest: string; Layers: string[] }
      expect(inspect.Digest).toBe(digest)
      expect(ok(await berth(['image', 'inspect', '-f', '{{json .RepoDigests}}', ref])).stdout).toContain(`${host}/tools/busybox@${digest}`)

      const again = lines(ok(await berth(['push', ref])).stdout)
      expect(again).toContain(`${lid}: Layer already exists`)
      expect(again.at(-1)).toBe(last)

      ok(await berth(['rmi', ref]))
      const pulled = ok(await berth(['pull', ref], { timeoutMs: 120_000 }))
      expect(pulled.stdout).toContain(`Digest: ${digest}`)
      expect(ok(await berth(['image', 'inspect', '-f', '{{.Id}}', ref])).stdout.trim()).toBe(busyboxId)
      expect(ok(await berth(['run', '--rm', ref, 'echo', 'pushed'])).stdout).toBe('pushed\n')
    })

    it('mounts layers from another repository of the same registry', async () => {
      const first = `${host}/tools/mountsrc:1`
      const second = `${host}/tools/mountdst:1`
      await tag(first)
      await tag(second)
      ok(await berth(['push', first], { timeoutMs: 120_000 }))
      const out = lines(ok(await berth(['push', second], { timeoutMs: 120_000 })).stdout)
      // The newest RepoDigest on this registry is the source: the push just before.
      expect(out).toContain(`${diffId.slice(7, 19)}: Mounted from tools/mountsrc`)
      expect((await skopeoManifest(second)).config.digest).toBe(busyboxId)
    })

    it('-a pushes every tag, -q prints only the name, and unknown images are 404s', async () => {
      await tag(`${host}/tools/all:a`)
      await tag(`${host}/tools/all:b`)
      const out = lines(ok(await berth(['push', '-a', `${host}/tools/all`], { timeoutMs: 120_000 })).stdout)
      expect(out.filter((l) => /^(a|b): digest: sha256:/.test(l))).toHaveLength(2)
      expect(ok(await berth(['push', '-q', `${host}/tools/all:a`])).stdout).toBe(`${host}/tools/all:a\n`)
      const bad = await berth(['push', `${host}/tools/nothere:1`])
      expect(bad.code).toBe(1)
      expect(bad.stderr).toContain(`No such image: ${host}/tools/nothere:1`)
      const tagged = await berth(['push', '-a', `${host}/tools/all:a`])
      expect(tagged.code).not.toBe(0)
      expect(tagged.stderr).toContain("tag can't be used with --all-tags/-a")
    })

    it.skipIf(!dockerBin)('docker push shows docker output', async () => {
      const ref = `${host}/tools/bydocker:2`
      await tag(ref)
      const r = ok(await docker(['push', ref], { timeoutMs: 120_000 }))
      const out = lines(r.stdout)
      expect(out[0]).toBe(`The push refers to repository [${host}/tools/bydocker]`)
      expect(out.some((l) => l.startsWith(`${diffId.slice(7, 19)}: `) && /Pushed|Layer already exists|Mounted from/.test(l))).toBe(true)
      expect(out.at(-1)).toMatch(/^2: digest: sha256:[a-f0-9]{64} size: \d+$/)
      const bad = await docker(['push', `${host}/tools/nothere:1`])
      expect(bad.code).toBe(1)
      expect(bad.stderr).toContain('No such image')
    })

    it('uploads in chunks from an ImageService and the image pulls back intact', async () => {
      const root = path.join(dir, 'engine')
      await fsp.mkdir(root, { recursive: true })
      const db = openDb(path.join(root, 'berth.db'))
      try {
        const svc = await ImageService.open({ db, dataRoot: root, logger: nullLogger, events: new EventBus(), containersUsing: () => [] })
        const tar = (await run(path.join(repo, 'scripts/busybox-rootfs'), [], { encoding: 'buffer', maxBuffer: 64 << 20 })).stdout
        const { Readable } = await import('node:stream')
        const ref = `${host}/tools/chunked:1`
        const id = await svc.importRootfs(Readable.from([tar]), { ref, changes: ['CMD ["sh"]'] })
        const events: PushProgress[] = []
        const [pushed] = await svc.push(ref, { chunkSize: 256 * 1024, progress: (ev) => events.push(ev) })
        expect(events.filter((ev) => ev.status === 'Pushing').length).toBeGreaterThan(2)
        expect(events.at(-1)).toEqual({ progressDetail: {}, aux: { Tag: '1', Digest: pushed?.digest, Size: pushed?.size } })
        // The gzip blob was recorded: the next push reuses the same digest.
        const again: PushProgress[] = []
        const [second] = await svc.push(ref, { progress: (ev) => again.push(ev) })
        expect(second?.digest).toBe(pushed?.digest)
        expect(again.some((ev) => ev.status === 'Layer already exists')).toBe(true)
        await svc.remove(ref)
        expect(svc.find(ref)).toBeUndefined()
        expect((await svc.pull(ref)).id).toBe(id)
        await expect(svc.push(`${host}/tools/chunked:nope`)).rejects.toThrow(`No such image: ${host}/tools/chunked:nope`)
      } finally {
        db.close()
      }
    })
  })
}

describe.skipIf(missing('root'))('push with Basic auth to berth registry serve --htpasswd', () => {
  it('is refused without credentials and succeeds with them', async (t) => {
    const bcrypt = await loadBcrypt()
    if (!bcrypt) {
      t.skip('bcryptjs is not installed (the registry needs it for htpasswd)')
      return
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'berth-push-auth-'))
    const htpasswd = path.join(dir, 'htpasswd')
    await fsp.writeFile(htpasswd, `pusher:${bcrypt.hashSync('s3cret', 4)}\n`)
    const reg = await startRegistry({ root: path.join(dir, 'reg'), addr: '127.0.0.1:0', htpasswd })
    const root = path.join(dir, 'engine')
    await fsp.mkdir(root, { recursive: true })
    const db = openDb(path.join(root, 'berth.db'))
    try {
      const svc = await ImageService.open({ db, dataRoot: root, logger: nullLogger, events: new EventBus(), containersUsing: () => [] })
      const { Readable } = await import('node:stream')
      const ref = `${new URL(reg.url).host}/private/x:1`
      await svc.importRootfs(Readable.from([Buffer.alloc(1024)]), { ref })
      await expect(svc.push(ref)).rejects.toThrow(/denied|unauthorized/)
      await expect(svc.push(ref, { auth: { username: 'pusher', password: 'wrong' } })).rejects.toThrow(/denied|unauthorized/)
      const [pushed] = await svc.push(ref, { auth: { username: 'pusher', password: 's3cret' } })
      expect(pushed?.tag).toBe('1')
      // The password never appears in what a failure says.
      const err = await svc.push(ref, { auth: { username: 'pusher', password: 'wrong' } }).catch((e: Error) => e)
      expect(String(err)).not.toContain('wrong')
    } finally {
      db.close()
      await reg.close()
      await fsp.rm(dir, { recursive: true, force: true })
    }
  })
})
