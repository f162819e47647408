/**
 * `system df` after classic builds counts every byte once (a berthd of its
 * own, so the totals are this file's alone). As on dockerd, a step image
 * `docker images` lists — the tagged result, or a rebuild's dangling former
 * result — is an image, its layers in LayersSize; the build cache records
 * are the hidden intermediate steps, whose layers those images already
 * count. The docker CLI and the berth CLI print the same.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DiskUsage } from '../../../src/api/types/index.js'
import { humanSize } from '../../../src/lib/index.js'
import { dockerBin, missing, ok, type CmdResult } from '../../helpers.js'
import { api, PrivateDaemon } from './helpers.js'

const skip = missing('root', 'daemon')

describe.skipIf(skip)('system df after a build (a berthd of its own)', () => {
  const d = new PrivateDaemon()
  let dir = ''
  beforeAll(async () => {
    await d.start()
    dir = mkdtempSync(path.join(d.base, 'ctx-'))
  }, 90_000)
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true })
    await d.stop()
  }, 60_000)

  const df = async (): Promise<DiskUsage> => {
    const r = await api(d.sock, 'GET', '/v1.50/system/df')
    expect(r.status).toBe(200)
    return r.json as DiskUsage
  }
  const size = async (ref: string) => Number(ok(await d.berth(['image', 'inspect', '-f', '{{.Size}}', ref])).stdout.trim())
  const id = async (ref: string, field = '.Id') => ok(await d.berth(['image', 'inspect', '-f', `{{${field}}}`, ref])).stdout.trim()
  const build = async (kb: number) => {
    writeFileSync(path.join(dir, 'Dockerfile'), `FROM busybox\nRUN dd if=/dev/zero of=/a bs=1000 count=300\nRUN dd if=/dev/zero of=/b bs=1000 count=${kb}\n`)
    ok(await d.berth(['build', '-q', '-t', 'app:1', dir]))
  }
  /** The same command through berth and, when installed, docker: the same output. */
  const both = async (args: string[]): Promise<CmdResult> => {
    const b = ok(await d.berth(args))
    if (dockerBin) expect(ok(await d.docker(args)).stdout).toBe(b.stdout)
    return b
  }
  /** LayersSize plus the build cache: what the daemon says the images and the cache hold. */
  const counted = (du: DiskUsage) => du.LayersSize + (du.BuildCache ?? []).reduce((n, r) => n + r.Size, 0)
  const rows = async () => {
    const r = await both(['system', 'df', '--format', '{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Size}}|{{.Reclaimable}}'])
    return Object.fromEntries(r.stdout.trim().split('\n').map((l) => { const [type = '', ...rest] = l.split('|'); return [type, rest] }))
  }
  const verbose = () => both(['system', 'df', '-v', '--format', '{{range .Images}}{{.ID}} {{.Size}} {{.SharedSize}} {{.UniqueSize}} {{.Containers}}\n{{end}}{{range .BuildCache}}{{.ID}} {{.Size}} {{.Shared}} {{.Description}}\n{{end}}'])

  it('a two-step build: the result and its base are the images, the intermediate step a 0-byte record shared with them', async () => {
    await build(200)
    const app = await id('app:1')
    const step = await id('app:1', '.Parent')
    const du = await df()
    expect((du.Images ?? []).map((i) => i.Id).sort()).toEqual([app, await id('busybox')].sort())
    expect((du.BuildCache ?? []).map((r) => [r.ID, r.Size, r.Shared, r.InUse])).toEqual([[step, 0, true, false]])
    // The distinct bytes: app:1's layers, busybox's among them.
    expect(du.LayersSize).toBe(await size('app:1'))
    expect(counted(du)).toBe(await size('app:1'))
    const r = await rows()
    expect(r.Images).toEqual(['2', '0', humanSize(du.LayersSize), `${humanSize(du.LayersSize)} (100%)`])
    expect(r['Build Cache']).toEqual(['1', '0', '0B', '0B'])
    expect((await verbose()).stdout).toContain(`${step} 0B true /bin/sh -c dd if=/dev/zero of=/a bs=1000 count=300\n`)
  })

  it('a rebuild: the former result, dangling and childless, counts as an image only', async () => {
    const before = await id('app:1')
    const step = await id('app:1', '.Parent')
    await build(250)
    const after = await id('app:1')
    expect(after).not.toBe(before)
    const du = await df()
    const dangling = (du.Images ?? []).find((i) => i.Id === before)
    expect(dangling).toMatchObject({ RepoTags: null, Containers: 0 })
    expect((du.BuildCache ?? []).map((r) => r.ID)).toEqual([step])
    expect((du.BuildCache ?? []).some((r) => (du.Images ?? []).some((i) => i.Id === r.ID))).toBe(false)
    // Both results share busybox and the first RUN (the intermediate step's layers).
    const distinct = (await size(after)) + (await size(before)) - (await size(step))
    expect(du.LayersSize).toBe(distinct)
    expect(counted(du)).toBe(distinct)
    expect(dangling?.Size && dangling.Size - dangling.SharedSize).toBe((await size(before)) - (await size(step)))
    const r = await rows()
    expect(r.Images?.slice(0, 2)).toEqual(['3', '0'])
    expect(r.Images?.[2]).toBe(humanSize(distinct))
    expect(r['Build Cache']).toEqual(['1', '0', '0B', '0B'])
    await verbose()
    // The default tables too (no times in the summary).
    await both(['system', 'df'])
  })
})
