/**
 * `system prune` through berth and docker, on a berthd of this file's own:
 * the prune acts on the whole daemon. Each case builds a fresh scene (a
 * running container on a user network with a named volume, a stopped one,
 * an unused network, unused named and anonymous volumes, a dangling and an
 * unused tagged image) and checks what went and what stayed. The build
 * cache case checks that `system df` reports as reclaimable what `builder
 * prune` then frees.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { DiskUsage } from '../../../src/api/types/index.js'
import { dockerBin, missing, ok, repo, uniq, type CmdOptions, type CmdResult } from '../../helpers.js'
import { api, PrivateDaemon } from './helpers.js'

const skip = missing('root', 'daemon')
type Cli = (args: string[], o?: CmdOptions) => Promise<CmdResult>

describe.skipIf(skip)('system prune (a berthd of its own)', () => {
  const d = new PrivateDaemon()
  let rootfs = ''
  const clis: Array<[string, () => Cli]> = [['berth', () => d.berth]]
  if (dockerBin) clis.push(['docker', () => d.docker])

  beforeAll(async () => {
    await d.start()
    rootfs = path.join(d.base, 'rootfs.tar')
    writeFileSync(rootfs, execFileSync(path.join(repo, 'scripts/busybox-rootfs'), { maxBuffer: 64 << 20 }))
  }, 90_000)
  afterAll(() => d.stop(), 60_000)

  const id = async (args: string[]) => ok(await d.berth(args)).stdout.trim()
  const exists = async (kind: string, name: string) => (await d.berth([kind, 'inspect', name])).code === 0

  // Each scene's networks go when its case ends: the host's address pools are shared with every other daemon.
  const scenes: Array<{ running: string; usedNet: string; net: string }> = []
  afterEach(async () => {
    for (const s of scenes.splice(0)) {
      await d.berth(['rm', '-f', s.running])
      await d.berth(['network', 'rm', s.usedNet, s.net])
    }
  })

  /** The objects one case works on, named after it. */
  async function scene(tag: string) {
    const s = {
      running: `run-${tag}`, stopped: `stopped-${tag}`, net: `net-${tag}`, usedNet: `usednet-${tag}`, named: `named-${tag}`, usedVol: `usedvol-${tag}`,
      anon: '', dangling: '', unusedTag: `unused-${tag}:1`,
    }
    scenes.push(s)
    ok(await d.berth(['network', 'create', s.net]))
    ok(await d.berth(['network', 'create', s.usedNet]))
    ok(await d.berth(['volume', 'create', s.named]))
    ok(await d.berth(['run', '-d', '--name', s.running, '--network', s.usedNet, '-v', `${s.usedVol}:/data`, 'busybox', 'sleep', '1d']))
    ok(await d.berth(['run', '--name', s.stopped, 'busybox', 'sh', '-c', 'echo 12345 > /f']))
    // An anonymous volume outlives a container removed without -v.
    const holder = `anon-${tag}`
    ok(await d.berth(['run', '--name', holder, '-v', '/anon', 'busybox', 'sh', '-c', 'echo 12345 > /anon/f']))
    s.anon = await id(['inspect', '-f', '{{range .Mounts}}{{.Name}}{{end}}', holder])
    ok(await d.berth(['rm', holder]))
    // Importing twice under one tag leaves the first image dangling.
    const tmp = `dangling-${tag}:1`
    s.dangling = (await id(['import', '-m', 'one', rootfs, tmp])).replace(/^sha256:/, '')
    ok(await d.berth(['import', '-m', 'two', rootfs, tmp]))
    ok(await d.berth(['import', '-m', 'unused', rootfs, s.unusedTag]))
    return s
  }

  for (const [name, get] of clis) {
    it(`${name} system prune -f: stopped containers, unused networks, dangling images; no volumes`, async () => {
      const s = await scene(uniq(`p-${name}`))
      const stoppedId = await id(['inspect', '-f', '{{.Id}}', s.stopped])
      const r = ok(await get()(['system', 'prune', '-f']))
      expect(r.stdout).toMatch(new RegExp(`^Deleted Containers:\n(.+\n)*${stoppedId}\n`))
      expect(r.stdout).toMatch(new RegExp(`Deleted Networks:\n(.+\n)*${s.net}\n`))
      expect(r.stdout).toContain(`deleted: sha256:${s.dangling}\n`)
      expect(r.stdout).not.toContain('Deleted Volumes')
      expect(r.stdout).toMatch(/\n\nTotal reclaimed space: \S+\n$/)
      expect(await exists('container', s.stopped)).toBe(false)
      expect(await exists('container', s.running)).toBe(true)
      expect(await exists('network', s.net)).toBe(false)
      expect(await exists('network', s.usedNet)).toBe(true)
      for (const v of [s.named, s.usedVol, s.anon]) expect(await exists('volume', v)).toBe(true)
      expect(await exists('image', s.dangling)).toBe(false)
      expect(await exists('image', s.unusedTag)).toBe(true)
      expect(await exists('image', 'busybox')).toBe(true)
    })

    it(`${name} system prune -f --volumes: also unused anonymous volumes, not named ones`, async () => {
      const s = await scene(uniq(`v-${name}`))
      const r = ok(await get()(['system', 'prune', '-f', '--volumes']))
      expect(r.stdout).toMatch(new RegExp(`Deleted Volumes:\n(.+\n)*${s.anon}\n`))
      expect(await exists('volume', s.anon)).toBe(false)
      expect(await exists('volume', s.named)).toBe(true)
      expect(await exists('volume', s.usedVol)).toBe(true)
      expect(r.stdout).not.toMatch(new RegExp(`^${s.named}$`, 'm'))
    })

    it(`${name} system prune -af: also unused tagged images, never used ones`, async () => {
      const s = await scene(uniq(`a-${name}`))
      const r = ok(await get()(['system', 'prune', '-af']))
      expect(r.stdout).toContain(`untagged: ${s.unusedTag}\n`)
      expect(await exists('image', s.unusedTag)).toBe(false)
      expect(await exists('image', 'busybox')).toBe(true)
      expect(await exists('container', s.running)).toBe(true)
    })

    it(`${name} system prune -f --filter label=…: only what carries the label, build cache included`, async () => {
      const tag = uniq(`l-${name}`)
      ok(await d.berth(['run', '--name', `lab-${tag}`, '--label', `sel=${tag}`, 'busybox', 'true']))
      ok(await d.berth(['run', '--name', `nolab-${tag}`, 'busybox', 'true']))
      const r = ok(await get()(['system', 'prune', '-f', '--filter', `label=sel=${tag}`]))
      expect(r.stdout).toMatch(/Total reclaimed space: \S+\n$/)
      expect(await exists('container', `lab-${tag}`)).toBe(false)
      expect(await exists('container', `nolab-${tag}`)).toBe(true)
      ok(await d.berth(['rm', `nolab-${tag}`]))
    })

    it(`${name} system prune asks first and keeps everything on no`, async () => {
      const s = await scene(uniq(`n-${name}`))
      const r = ok(await get()(['system', 'prune', '--volumes'], { input: 'n\n' }))
      expect(r.stdout).toBe('WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n' +
        '  - all anonymous volumes not used by at least one container\n  - all dangling images\n  - unused build cache\n\nAre you sure you want to continue? [y/N] ')
      expect(await exists('container', s.stopped)).toBe(true)
      expect(await exists('network', s.net)).toBe(true)
      expect(await exists('volume', s.anon)).toBe(true)
      const bad = await get()(['system', 'prune', '-f', '--volumes', '--filter', 'until=1h'])
      expect(bad.code).toBe(1)
      expect(bad.stderr).toBe('ERROR: The "until" filter is not supported with "--volumes"\n')
    })
  }

  it.skipIf(!dockerBin)('prints what docker prints', async () => {
    const norm = (r: CmdResult, tag: string) => ({
      code: r.code,
      out: r.stdout.split(tag).join('<TAG>').replace(/(sha256:)?[0-9a-f]{64}/g, '<ID>'),
    })
    const tags = { docker: uniq('pd'), berth: uniq('pb') }
    // What earlier cases left (the declined prune's scene) goes first, so both runs find the same.
    ok(await d.berth(['system', 'prune', '-f', '--volumes']))
    await scene(tags.docker)
    const viaDocker = norm(await d.docker(['system', 'prune', '-f', '--volumes']), tags.docker)
    await scene(tags.berth)
    const viaBerth = norm(await d.berth(['system', 'prune', '-f', '--volumes']), tags.berth)
    expect(viaBerth).toEqual(viaDocker)
  })

  it('builder prune frees the dangling step images df counts under Images (not twice under Build Cache), and keeps tagged images', async () => {
    const dir = mkdtempSync(path.join(d.base, 'ctx-'))
    try {
      const app = `app-${uniq('bc')}`
      const build = async (env: string, kb: number) => {
        writeFileSync(path.join(dir, 'Dockerfile'), `FROM busybox\nRUN echo step > /a\nENV X=${env}\nRUN dd if=/dev/zero of=/big bs=1000 count=${kb}\n`)
        ok(await d.berth(['build', '-q', '-t', app, dir]))
      }
      await build('1', 100)
      const first = await id(['image', 'inspect', '-f', '{{.Id}}', app])
      // Rebuilt after a change: the first build's last steps are cache no tag needs; its result, dangling, is an image (as dockerd lists it).
      await build('2', 50)
      const df = async (): Promise<DiskUsage> => (await api(d.sock, 'GET', '/v1.50/system/df?type=image&type=build-cache')).json as DiskUsage
      const before = await df()
      const cache = before.BuildCache ?? []
      expect(cache.filter((b) => !b.Shared && !b.InUse).reduce((n, b) => n + b.Size, 0)).toBe(0)
      expect(cache.some((b) => b.Shared)).toBe(true)
      const dangling = (before.Images ?? []).find((i) => i.Id === first)
      const unique = (dangling?.Size ?? 0) - (dangling?.SharedSize ?? 0)
      expect(unique).toBeGreaterThanOrEqual(100_000)
      // Both CLIs print that the build cache holds nothing to reclaim.
      const human = (await d.berth(['system', 'df', '--format', '{{if eq .Type "Build Cache"}}{{.Reclaimable}}{{end}}'])).stdout.trim()
      expect(human).toBe('0B')
      if (dockerBin) expect((await d.docker(['system', 'df', '--format', '{{if eq .Type "Build Cache"}}{{.Reclaimable}}{{end}}'])).stdout.trim()).toBe(human)
      const pruned = await api(d.sock, 'POST', '/v1.50/build/prune')
      expect(pruned.json).toMatchObject({ SpaceReclaimed: unique })
      expect(await exists('image', app)).toBe(true)
      const after = await df()
      expect(after.LayersSize).toBe(before.LayersSize - unique)
      expect((after.Images ?? []).some((i) => i.Id === first)).toBe(false)
      expect((after.BuildCache ?? []).filter((b) => !b.Shared && !b.InUse)).toEqual([])
      expect(ok(await d.berth(['system', 'df'])).stdout).toMatch(/\nBuild Cache +\d+ +0 +0B +0B\n/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
