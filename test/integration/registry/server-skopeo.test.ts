/**
 * A real client against `berth registry serve`: skopeo (containers/image)
 * copies a busybox image from an OCI layout written here into the server and
 * back out, then `berth registry gc` runs on the same root. The server runs as
 * the CLI runs it, in its own process.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { berthBin, repo, waitFor } from '../../helpers.js'

const run = promisify(execFile)
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

function whyNot(): string | undefined {
  if (spawnSync('skopeo', ['--version']).status !== 0) return 'skopeo is not installed (apt-get install skopeo)'
  if (!existsSync(path.join(repo, 'dist/cmd/berth.js'))) return 'berth is not built (npm run build)'
  if (spawnSync('busybox', ['true']).status !== 0) return 'busybox-static is not installed'
  return undefined
}
const skip = whyNot()
if (skip) console.warn(`skipping skopeo interop: ${skip}`)

/** Run a client asynchronously: the server's log pipe must keep draining meanwhile. */
async function ok(bin: string, args: string[]): Promise<string> {
  try {
    const r = await run(bin, args, { timeout: 120_000, maxBuffer: 16 << 20 })
    return r.stdout + r.stderr
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string }
    throw new Error(`${bin} ${args.join(' ')}: exit ${e.code}\n${e.stdout ?? ''}${e.stderr ?? ''}`)
  }
}

describe.skipIf(skip !== undefined)('registry server: skopeo copies in and out', () => {
  let dir: string
  let root: string
  let server: ChildProcess | undefined
  let addr = ''
  let log = ''
  const layout = () => path.join(dir, 'layout')
  const image: { layer?: Buffer; config?: Buffer; manifest?: Buffer } = {}

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'berth-skopeo-'))
    root = path.join(dir, 'root')
    // An OCI layout by hand: one gzip layer of busybox, a config, a manifest.
    const tar = spawnSync(path.join(repo, 'scripts/busybox-rootfs'), [], { maxBuffer: 64 << 20 })
    if (tar.status !== 0) throw new Error(`busybox-rootfs: ${tar.stderr.toString()}`)
    const layer = gzipSync(tar.stdout)
    const config = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Cmd: ['sh'] },
        rootfs: { type: 'layers', diff_ids: [`sha256:${sha(tar.stdout)}`] },
      }),
    )
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${sha(layer)}`, size: layer.length }],
      }),
    )
    Object.assign(image, { layer, config, manifest })
    const blobs = path.join(layout(), 'blobs', 'sha256')
    await fsp.mkdir(blobs, { recursive: true })
    for (const b of [layer, config, manifest]) await fsp.writeFile(path.join(blobs, sha(b)), b)
    await fsp.writeFile(path.join(layout(), 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')
    await fsp.writeFile(
      path.join(layout(), 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: `sha256:${sha(manifest)}`,
            size: manifest.length,
            annotations: { 'org.opencontainers.image.ref.name': '1' },
          },
        ],
      }),
    )

    const child = spawn(process.execPath, [berthBin, 'registry', 'serve', '--addr', '127.0.0.1:0', '--root', root], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    server = child
    child.stdout.on('data', (b: Buffer) => (log += b.toString()))
    child.stderr.on('data', (b: Buffer) => (log += b.toString()))
    const end = Date.now() + 20_000
    while (!addr) {
      const m = /listening on (127\.0\.0\.1:\d+)/.exec(log)
      if (m) addr = m[1]!
      else if (child.exitCode !== null || Date.now() > end) throw new Error(`registry did not start:\n${log}`)
      else await new Promise((r) => setTimeout(r, 50))
    }
  })

  afterAll(async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM')
      await new Promise((r) => server!.once('exit', r))
    }
    if (dir) await fsp.rm(dir, { recursive: true, force: true })
  })

  it('pushes from an OCI layout and pulls into a dir', async () => {
    await ok('skopeo', ['--insecure-policy', 'copy', '--dest-tls-verify=false', `oci:${layout()}:1`, `docker://${addr}/tools/busybox:1`])
    // The access line is written after the answer: it may reach the pipe just after skopeo exits.
    await waitFor(() => (/"PUT \/v2\/tools\/busybox\/manifests\/1 HTTP\/1.1" 201/.test(log) ? true : undefined), 5000, 'the manifest PUT in the server log')

    const tags = JSON.parse(await ok('skopeo', ['list-tags', '--tls-verify=false', `docker://${addr}/tools/busybox`])) as { Tags: string[] }
    expect(tags.Tags).toEqual(['1'])
    const inspect = JSON.parse(await ok('skopeo', ['inspect', '--tls-verify=false', `docker://${addr}/tools/busybox:1`])) as {
      Digest: string
      Layers: string[]
    }
    expect(inspect.Digest).toBe(`sha256:${sha(image.manifest!)}`)
    expect(inspect.Layers).toEqual([`sha256:${sha(image.layer!)}`])

    const out = path.join(dir, 'out')
    await ok('skopeo', ['--insecure-policy', 'copy', '--src-tls-verify=false', `docker://${addr}/tools/busybox:1`, `dir:${out}`])
    expect((await fsp.readFile(path.join(out, 'manifest.json'))).equals(image.manifest!)).toBe(true)
    expect((await fsp.readFile(path.join(out, sha(image.layer!)))).equals(image.layer!)).toBe(true)
    expect((await fsp.readFile(path.join(out, sha(image.config!)))).equals(image.config!)).toBe(true)
  })

  it('copies between repositories by mounting blobs', async () => {
    await ok('skopeo', [
      '--insecure-policy', 'copy', '--src-tls-verify=false', '--dest-tls-verify=false',
      `docker://${addr}/tools/busybox:1`, `docker://${addr}/tools/copy:1`,
    ])
    // skopeo mounts the layer it knows came from tools/busybox instead of uploading it again.
    await waitFor(() => (/"POST \/v2\/tools\/copy\/blobs\/uploads\/\?[^"]*mount=sha256%3A[0-9a-f]{64}[^"]* HTTP\/1.1" 201/.test(log) ? true : undefined), 5000, 'the mount POST in the server log')
    const cat = await fetch(`http://${addr}/v2/_catalog`)
    expect(((await cat.json()) as { repositories: string[] }).repositories).toEqual(['tools/busybox', 'tools/copy'])
  })

  it('keeps referenced blobs in gc, frees them after skopeo delete', async () => {
    const keep = await ok(berthBin, ['registry', 'gc', '--root', root])
    expect(keep).toContain('0 blobs eligible for deletion')
    await ok('skopeo', ['delete', '--tls-verify=false', `docker://${addr}/tools/busybox:1`])
    expect(await ok(berthBin, ['registry', 'gc', '--root', root])).toContain('0 blobs eligible for deletion')
    await ok('skopeo', ['delete', '--tls-verify=false', `docker://${addr}/tools/copy:1`])
    const freed = await ok(berthBin, ['registry', 'gc', '--root', root])
    expect(freed).toContain('3 blobs eligible for deletion')
    expect(freed).toMatch(new RegExp(`freed ${image.layer!.length + image.config!.length + image.manifest!.length} bytes`))
    expect(await fsp.readdir(path.join(root, 'blobs', 'sha256'))).toEqual([])
  })
})
