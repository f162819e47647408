/**
 * `system df` against the shared berthd: the numbers agree with what the
 * test made (a container's writable layer against `du` of its upper
 * directory, a volume's file and its users), through the API, berth and
 * docker. Other files run beside this one, so only this file's objects are
 * looked at, and nothing is pruned.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { DiskUsage } from '../../../src/api/types/index.js'
import { humanSize, humanSizeWithPrecision } from '../../../src/lib/index.js'
import { berth, containerNames, docker, dockerBin, missing, ok, sock, uniq, type CmdResult } from '../../helpers.js'
import { api } from './helpers.js'

const skip = missing('root', 'daemon')

describe.skipIf(skip)('system df', () => {
  const name = containerNames()
  const volumes: string[] = []
  const images: string[] = []
  afterAll(async () => {
    if (volumes.length) await berth(['volume', 'rm', '-f', ...volumes])
    if (images.length) await berth(['rmi', '-f', ...images])
  })
  const df = async (query = ''): Promise<DiskUsage> => {
    const r = await api(sock(), 'GET', `/v1.50/system/df${query}`)
    expect(r.status).toBe(200)
    return r.json as DiskUsage
  }
  /** The same command through berth and, when installed, docker: same stdout. */
  const both = async (args: string[]): Promise<CmdResult> => {
    const b = ok(await berth(args))
    if (dockerBin) expect(ok(await docker(args)).stdout).toBe(b.stdout)
    return b
  }

  it('counts a container’s writable layer as du does', async () => {
    const c = name('df-rw')
    const N = 50_000
    ok(await berth(['run', '--name', c, 'busybox', 'dd', 'if=/dev/urandom', 'of=/data.bin', `bs=${N}`, 'count=1']))
    const id = ok(await berth(['inspect', '-f', '{{.Id}}', c])).stdout.trim()
    const summary = (await df('?type=container')).Containers?.find((x) => x.Id === id)
    expect(summary?.State).toBe('exited')
    const sizeRw = summary?.SizeRw ?? 0
    expect(sizeRw).toBeGreaterThanOrEqual(N)
    // du also counts the directories (a block each); the files are what SizeRw counts.
    const upper = ok(await berth(['inspect', '-f', '{{.GraphDriver.Data.UpperDir}}', c])).stdout.trim()
    const du = Number(execFileSync('du', ['-s', '-b', upper]).toString().split(/\s/)[0])
    expect(du).toBeGreaterThanOrEqual(sizeRw)
    expect(du - sizeRw).toBeLessThan(64 * 1024)
    expect(summary?.SizeRootFs).toBeGreaterThan(sizeRw)
    const shown = await both(['system', 'df', '-v', '--format', `{{range .Containers}}{{if eq .Names "${c}"}}{{.Size}}{{end}}{{end}}`])
    expect(shown.stdout).toBe(humanSizeWithPrecision(sizeRw, 3))
  })

  it('measures a volume’s files and counts the containers that mount it', async () => {
    const v = uniq('df-vol')
    volumes.push(v)
    ok(await berth(['volume', 'create', v]))
    const c = name('df-vol')
    ok(await berth(['run', '--name', c, '-v', `${v}:/data`, 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/data/f bs=1000 count=30 && mkdir /data/d && echo -n 12345 > /data/d/g && ln /data/f /data/hard']))
    const vol = (await df('?type=volume')).Volumes?.find((x) => x.Name === v)
    // Files once each (the hard link is not counted twice), directories not at all: dockerd's directory.Size.
    expect(vol?.UsageData).toEqual({ RefCount: 1, Size: 30_005 })
    const fmt = `{{range .Volumes}}{{if eq .Name "${v}"}}{{.Links}} {{.Size}}{{end}}{{end}}`
    expect((await both(['system', 'df', '-v', '--format', fmt])).stdout).toBe(`1 ${humanSize(30_005)}`)
    ok(await berth(['rm', c]))
    expect((await df('?type=volume')).Volumes?.find((x) => x.Name === v)?.UsageData).toEqual({ RefCount: 0, Size: 30_005 })
  })

  it('lists images with their containers and sizes, and LayersSize', async () => {
    const c = name('df-img')
    ok(await berth(['create', '--name', c, 'busybox']))
    const busybox = JSON.parse(ok(await berth(['image', 'inspect', 'busybox'])).stdout) as Array<{ Id: string; Size: number }>
    const du = await df('?type=image')
    const img = du.Images?.find((i) => i.Id === busybox[0]?.Id)
    expect(img?.Containers).toBeGreaterThanOrEqual(1)
    expect(img?.Size).toBe(busybox[0]?.Size)
    expect(img?.SharedSize).toBeGreaterThanOrEqual(0)
    expect(du.LayersSize).toBeGreaterThanOrEqual(img?.Size ?? Infinity)
    expect(du).toMatchObject({ Containers: null, Volumes: null, BuildCache: null })
  })

  it('reports a build’s intermediate images as build cache shared with the image built', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'berth-df-'))
    try {
      const tag = `${uniq('df-build')}:1`
      images.push(tag)
      const step = uniq('step')
      writeFileSync(path.join(dir, 'Dockerfile'), `FROM busybox\nRUN echo ${step} > /step\nENV STEP=${step}\n`)
      ok(await berth(['build', '-q', '-t', tag, dir]))
      const parent = ok(await berth(['image', 'inspect', '-f', '{{.Parent}}', tag])).stdout.trim()
      const record = (await df('?type=build-cache')).BuildCache?.find((b) => b.ID === parent)
      expect(record).toMatchObject({ Type: 'regular', Description: `/bin/sh -c echo ${step} > /step`, InUse: false, Shared: true, UsageCount: 1 })
      const cli = await both(['system', 'df', '-v', '--format', `{{range .BuildCache}}{{if eq .ID "${parent}"}}{{.CacheType}} {{.Shared}} {{.Description}}{{end}}{{end}}`])
      expect(cli.stdout).toBe(`regular true /bin/sh -c echo ${step} > /step`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('prints docker’s table of the four parts', async () => {
    const lines = (r: CmdResult) => r.stdout.split('\n').map((l) => l.split(/ {2,}/)[0])
    const b = ok(await berth(['system', 'df']))
    expect(lines(b)).toEqual(['TYPE', 'Images', 'Containers', 'Local Volumes', 'Build Cache', ''])
    expect(b.stdout.split('\n')[0]).toBe('TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE')
    if (dockerBin) expect(lines(ok(await docker(['system', 'df'])))).toEqual(lines(b))
    const bad = await api(sock(), 'GET', '/v1.50/system/df?type=layers')
    expect(bad.status).toBe(400)
    expect(bad.json).toEqual({ message: 'unknown object type: layers' })
  })
})
