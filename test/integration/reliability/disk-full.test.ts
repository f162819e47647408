/**
 * Disk full: a berthd of the test's own whose data root is a small tmpfs
 * (mounted here, removed after). A pull, a load, a build, a commit and a
 * container filling its rootfs each run out of space: each fails with
 * docker's "no space left on device", leaves no blob, layer, image row,
 * container or temp file behind (the store is compared before and after),
 * and berthd keeps serving; with the disk completely full, SQLite writes
 * (tag, network, volume, create) fail cleanly and berthd does not crash.
 * Free space is set exactly by a filler file before each case. ~30 s.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, promises as fsp, readdirSync, statfsSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRegistry, type RegistryServer } from '../../../src/registry/index.js'
import { missing, ok, waitFor, type CmdResult } from '../../helpers.js'
import { dockerArchive, sha256, tarOf } from '../hostile/tars.js'
import { PrivateDaemon } from '../system/helpers.js'

const skip = missing('root')
const MB = 1 << 20
const DISK = 96 * MB
const NOSPACE = /no space left on device/i

let d: PrivateDaemon
let data: string
let reg: RegistryServer
let regRoot: string
let work: string

const filler = () => path.join(data, 'filler')

function avail(): number {
  const s = statfsSync(data)
  return s.bavail * s.bsize
}

/** Leaves about `bytes` free on the data root (0: full, down to the last page). */
function setFree(bytes: number): void {
  execFileSync('rm', ['-f', filler(), `${filler()}2`])
  const n = avail() - bytes
  if (n > 0) execFileSync('fallocate', ['-l', String(n), filler()])
  if (bytes === 0) {
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${filler()}2`, 'bs=4k'], { stdio: 'ignore' })
    } catch {
      // stops at ENOSPC, as meant
    }
  }
}

function freeAll(): void {
  execFileSync('rm', ['-f', filler(), `${filler()}2`])
}

/** Entries of dir, none if it was never made (berthd makes some directories on first use). */
function ls(dir: string): string[] {
  try {
    return readdirSync(dir).sort()
  } catch {
    return []
  }
}

/** Files under dir, recursively: empty directories berthd keeps for reuse don't count. */
function files(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => !e.isDirectory()).map((e) => path.join(path.relative(dir, e.parentPath), e.name)).sort()
  } catch {
    return []
  }
}

/** What a failed operation must not change: blobs, temp files, layers, containers, image rows. */
async function store(): Promise<Record<string, string[]>> {
  const lines = (r: CmdResult) => ok(r).stdout.split('\n').filter(Boolean).sort()
  return {
    blobs: files(path.join(data, 'blobs')),
    layers: ls(path.join(data, 'overlay2')),
    tmp: files(path.join(data, 'tmp')),
    containers: ls(path.join(data, 'containers')),
    volumes: ls(path.join(data, 'volumes')),
    images: lines(await d.berth(['images', '-a', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}'])),
    ps: lines(await d.berth(['ps', '-aq', '--no-trunc'])),
  }
}

/** berthd still answers and can still run a container (once there is room again). */
async function serving(): Promise<void> {
  ok(await d.berth(['version']))
  ok(await d.berth(['ps', '-a']))
  freeAll()
  const was = ls(path.join(data, 'containers'))
  const r = ok(await d.berth(['run', '--rm', 'busybox', 'echo', 'still-here']))
  expect(r.stdout.trim()).toBe('still-here')
  // --rm removes in the background: the next case's "before" must not catch it half gone.
  await waitFor(() => ls(path.join(data, 'containers')).join() === was.join(), 15_000, 'the --rm container to go')
}

/** `args` run with `free` bytes left: they fail naming the lack of space, keep nothing, and berthd goes on serving. */
async function failsKeepingNothing(args: string[], free: number): Promise<void> {
  const before = await store()
  setFree(free)
  const r = await d.berth(args)
  expect(r.code).not.toBe(0)
  expect(r.stderr + r.stdout).toMatch(NOSPACE)
  expect(await store()).toEqual(before)
  await serving()
}

async function pushImage(name: string, layer: Buffer): Promise<string> {
  const up = async (b: Buffer) => {
    const r = await fetch(`${reg.url}/v2/${name}/blobs/uploads/?digest=${sha256(b)}`, { method: 'POST', body: b })
    expect(r.status).toBe(201)
  }
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: [sha256(layer)] }, history: [{ created_by: 'disk-full' }],
  }))
  await up(layer)
  await up(config)
  const manifest = JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(layer), size: layer.length }],
  })
  const r = await fetch(`${reg.url}/v2/${name}/manifests/latest`, { method: 'PUT', body: manifest, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } })
  expect(r.status).toBe(201)
  return `127.0.0.1:${reg.port}/${name}:latest`
}

/** Random bytes compress to themselves: no layout of the layer can make them fit. */
const randomFile = (name: string, size: number) => tarOf([{ name, data: execFileSync('head', ['-c', String(size), '/dev/urandom'], { maxBuffer: size + 1 }) }])

describe.skipIf(skip)('disk full', () => {
  beforeAll(async () => {
    d = new PrivateDaemon()
    data = path.join(d.base, 'data')
    mkdirSync(data)
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${DISK},mode=0711`, 'berth-disk-full', data])
    await d.start()
    regRoot = mkdtempSync('/var/tmp/berth-df-registry-')
    reg = await startRegistry({ root: regRoot, addr: '127.0.0.1:0' })
    work = mkdtempSync('/var/tmp/berth-df-work-')
  }, 60_000)

  afterAll(async (ctx) => {
    if (ctx.tasks.some((t) => t.result?.state === 'fail')) {
      const log = await fsp.readFile(path.join(d.base, 'berthd.log'), 'utf8').catch(() => '')
      console.warn(`berthd log (tail):\n${log.split('\n').slice(-60).join('\n')}`)
    }
    if (data && existsSync(filler())) freeAll()
    await d?.stop()
    // stop() unmounts everything under the base lazily; make sure the tmpfs is gone before the directory is.
    try {
      execFileSync('umount', [data], { stdio: 'ignore' })
    } catch {
      // already unmounted
    }
    await fsp.rm(d.base, { recursive: true, force: true })
    await reg?.close()
    if (regRoot) await fsp.rm(regRoot, { recursive: true, force: true })
    if (work) await fsp.rm(work, { recursive: true, force: true })
  }, 60_000)

  it('a pull of a layer bigger than the free space fails, keeping nothing', async () => {
    const ref = await pushImage('df/random', randomFile('big', 40 * MB))
    await failsKeepingNothing(['pull', ref], 20 * MB)
  }, 60_000)

  it('a pull whose layer fits but whose unpacked files do not fails, keeping nothing', async () => {
    // 60 MB of zeros in a tar of ~60 MB: the blob needs 60 MB and so does the unpacked layer.
    const layer = tarOf([{ name: 'zeros', data: Buffer.alloc(60 * MB) }])
    const ref = await pushImage('df/zeros', layer)
    await failsKeepingNothing(['pull', ref], 80 * MB)
  }, 60_000)

  it('a load of an archive bigger than the free space fails, keeping nothing', async () => {
    // From a file: berth stops reading stdin at the daemon's error, and the test's write would then fail.
    const archive = path.join(work, 'load.tar')
    await fsp.writeFile(archive, dockerArchive([randomFile('big', 30 * MB)], 'df-load:1'))
    await failsKeepingNothing(['load', '-i', archive], 20 * MB)
  }, 60_000)

  it('a build whose step writes more than the free space fails, keeping nothing', async () => {
    const ctx = path.join(work, 'build')
    mkdirSync(ctx, { recursive: true })
    // The step itself fits (30 MB in the container's upper dir); its layer blob does not.
    await fsp.writeFile(path.join(ctx, 'Dockerfile'), 'FROM busybox\nRUN head -c 31457280 /dev/urandom > /big\n')
    // --force-rm: a failed step's container stays otherwise, for inspection, as in docker.
    await failsKeepingNothing(['build', '--force-rm', '-t', 'df-build:1', ctx], 45 * MB)
  }, 60_000)

  it('a commit of a container with more changes than the free space fails, keeping nothing', async () => {
    ok(await d.berth(['run', '--name', 'df-commit', 'busybox', 'sh', '-c', 'head -c 31457280 /dev/urandom > /big']))
    await failsKeepingNothing(['commit', 'df-commit', 'df-committed:1'], 15 * MB)
    ok(await d.berth(['rm', 'df-commit']))
  }, 60_000)

  it('a container writing to its rootfs until the disk is full gets ENOSPC; berthd keeps serving', async () => {
    const before = await store()
    setFree(10 * MB)
    const r = await d.berth(['run', '--name', 'df-fill', 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/fill bs=65536; echo "dd exit $?"'], { timeoutMs: 30_000 })
    expect(r.stdout + r.stderr).toMatch(NOSPACE)
    expect(r.stdout).toMatch(/dd exit 1/)
    // With the disk full: reads still work, and so does removing the container that filled it.
    ok(await d.berth(['version']))
    ok(await d.berth(['ps', '-a']))
    ok(await d.berth(['logs', 'df-fill']))
    ok(await d.berth(['rm', 'df-fill']))
    freeAll()
    expect(await store()).toEqual(before)
    await serving()
  }, 60_000)

  it('with the disk completely full, metadata writes fail cleanly and berthd does not crash', async () => {
    const before = await store()
    const nets = ok(await d.berth(['network', 'ls', '-q'])).stdout
    const vols = ok(await d.berth(['volume', 'ls', '-q'])).stdout
    setFree(0)
    // Each either fails saying why, or succeeds (SQLite may still have room in its WAL); none takes berthd down.
    const tries = [
      ['tag', 'busybox', 'df-tag:1'],
      ['network', 'create', 'df-net'],
      ['volume', 'create', 'df-vol'],
      ['create', '--name', 'df-created', 'busybox'],
      ['run', '--rm', 'busybox', 'true'],
    ]
    let failed = 0
    for (const t of tries) {
      const r = await d.berth(t)
      if (r.code !== 0) {
        failed++
        // SQLite's own words for SQLITE_FULL, from berth.db; ENOSPC's from files.
        expect(r.stderr, t.join(' ')).toMatch(/no space left on device|database or disk is full/i)
      }
      ok(await d.berth(['version']))
    }
    expect(failed).toBeGreaterThan(0)
    freeAll()
    await serving()
    // Whatever failed left nothing; whatever worked is whole and can be removed.
    await d.berth(['rmi', 'df-tag:1'])
    await d.berth(['network', 'rm', 'df-net'])
    await d.berth(['volume', 'rm', 'df-vol'])
    await d.berth(['rm', '-f', 'df-created'])
    expect(await store()).toEqual(before)
    expect(ok(await d.berth(['network', 'ls', '-q'])).stdout).toBe(nets)
    expect(ok(await d.berth(['volume', 'ls', '-q'])).stdout).toBe(vols)
  }, 90_000)
})
