import { promises as fsp } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { busyboxTar, collect, engine, isRoot, stream, type TestEngine } from './helpers.js'

describe.skipIf(!isRoot)('image service (root: unpacks layers with owners and devices)', () => {
  let e: TestEngine
  let id: string

  beforeAll(async () => {
    e = await engine('service')
    id = await e.svc.importRootfs(stream(await busyboxTar()), { ref: 'busybox', changes: ['CMD ["sh"]', 'ENV A=1'] })
  }, 60_000)
  afterAll(() => e?.close())

  it('imports a rootfs as a one-layer image with docker import config', () => {
    expect(id).toMatch(/^sha256:[a-f0-9]{64}$/)
    const img = e.svc.inspect('busybox')
    expect(img.id).toBe(id)
    expect(img.repoTags).toEqual(['busybox:latest'])
    expect(img.config.config?.Cmd).toEqual(['sh'])
    expect(img.config.config?.Env).toEqual(['A=1'])
    expect(img.config.os).toBe('linux')
    expect(img.config.architecture).toBe('amd64')
    expect(img.config.rootfs.diff_ids).toHaveLength(1)
    expect(img.size).toBeGreaterThan(500_000)
    expect(img.lastTagTime).not.toBeNull()
  })

  it('resolves names, IDs and prefixes like docker', () => {
    for (const r of ['busybox', 'busybox:latest', 'docker.io/library/busybox:latest', id, id.slice(7), id.slice(7, 19), `sha256:${id.slice(7, 19)}`]) {
      expect(e.svc.resolve(r).id).toBe(id)
    }
    expect(() => e.svc.resolve('nothere')).toThrow('No such image: nothere:latest')
    expect(() => e.svc.resolve('Bad:Ref')).toThrow(/invalid reference format/)
  })

  it('renders history with the import comment', () => {
    const h = e.svc.history('busybox')
    expect(h).toHaveLength(1)
    expect(h[0]).toMatchObject({ id, comment: 'Imported from -', createdBy: '', tags: ['busybox:latest'] })
    expect(h[0]?.size).toBe(e.svc.inspect(id).size)
  })

  it('tags, lists and filters', () => {
    e.svc.tag('busybox', '127.0.0.1:5000/bb:1')
    e.svc.tag(id, 'other/bb')
    const img = e.svc.inspect(id)
    expect(img.repoTags.sort()).toEqual(['127.0.0.1:5000/bb:1', 'busybox:latest', 'other/bb:latest'])
    expect(e.svc.list().map((i) => i.id)).toEqual([id])
    expect(e.svc.list({ filters: new Map([['reference', ['busy*']]]) })[0]?.repoTags).toEqual(['busybox:latest'])
    expect(e.svc.list({ filters: new Map([['reference', ['nomatch']]]) })).toEqual([])
    expect(e.svc.list({ filters: new Map([['dangling', ['true']]]) })).toEqual([])
    expect(() => e.svc.list({ filters: new Map([['bogus', ['x']]]) })).toThrow("invalid filter 'bogus'")
  })

  it('removes tags one at a time, then refuses an ID with many repositories', async () => {
    expect(await e.svc.remove('other/bb')).toEqual([{ untagged: 'other/bb:latest' }])
    await expect(e.svc.remove(id.slice(7, 19))).rejects.toThrow(`conflict: unable to delete ${id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`)
    expect(await e.svc.remove('127.0.0.1:5000/bb:1')).toEqual([{ untagged: '127.0.0.1:5000/bb:1' }])
  })

  it('refuses to untag the last tag of an image a container uses', async () => {
    e.containers.set('c'.repeat(64), { image: id, running: false })
    await expect(e.svc.remove('busybox')).rejects.toThrow(`conflict: unable to remove repository reference "busybox" (must force) - container cccccccccccc is using its referenced image ${id.slice(7, 19)}`)
    await expect(e.svc.remove(id)).rejects.toThrow(`conflict: unable to delete ${id.slice(7, 19)} (must be forced) - image is being used by stopped container cccccccccccc`)
    e.containers.get('c'.repeat(64))!.running = true
    await expect(e.svc.remove(id, { force: true })).rejects.toThrow(`conflict: unable to delete ${id.slice(7, 19)} (cannot be forced) - image is being used by running container cccccccccccc`)
    e.containers.clear()
  })

  it('gives a container a writable rootfs that pins its layers', async () => {
    const mounts = await e.svc.rootfsFor('ctr1', id)
    expect(mounts[0]?.type).toBe('overlay')
    expect(mounts[0]?.options.some((o) => o.startsWith('lowerdir=l/'))).toBe(true)
    const upper = path.join(e.root, 'overlay2', 'ctr1', 'diff')
    await fsp.writeFile(path.join(upper, 'x'), '12345')
    expect(await e.svc.rootfsUsage('ctr1')).toBe(5)
    const dd = await e.svc.rootfsDriverData('ctr1')
    expect(dd.UpperDir).toBe(upper)
    expect(dd.LowerDir).toContain(path.join(e.root, 'overlay2'))
  })

  it('saves, deletes and loads back to the same ID', async () => {
    const tar = await collect(await e.svc.save(['busybox']))
    const chain = e.svc.inspect(id).chainIds[0] as string
    const res = await e.svc.remove('busybox', { force: true })
    expect(res).toEqual([{ untagged: 'busybox:latest' }, { deleted: id }])
    // The container's snapshot still holds the layer.
    expect(await e.svc.snapshotter.hasLayer(chain)).toBe(true)
    await e.svc.releaseRootfs('ctr1')
    expect(await e.svc.snapshotter.hasLayer(chain)).toBe(false)
    expect(() => e.svc.resolve(id)).toThrow(/No such image/)
    const lines = await e.svc.load(stream(tar))
    expect(lines).toEqual(['Loaded image: busybox:latest\n'])
    expect(e.svc.inspect('busybox').id).toBe(id)
    expect(await fsp.readlink(path.join(e.svc.snapshotter.layerDir(chain), 'bin/sh'))).toBe('busybox')
  })

  it('renames the old image when a load takes its tag, and prune removes it', async () => {
    const other = await e.svc.importRootfs(stream(await busyboxTar()), { changes: ['CMD ["true"]'], message: 'second' })
    e.svc.tag(other, 'busybox:latest')
    const tar = await collect(await e.svc.save(['busybox:latest']))
    e.svc.tag(id, 'busybox:latest')
    const lines = await e.svc.load(stream(tar))
    expect(lines).toEqual([`The image busybox:latest already exists, renaming the old one with ID ${id} to empty string\n`, 'Loaded image: busybox:latest\n'])
    expect(e.svc.list({ filters: new Map([['dangling', ['true']]]) }).map((i) => i.id)).toEqual([id])
    const report = await e.svc.prune()
    expect(report.imagesDeleted).toEqual([{ deleted: id }])
    // Both images share the layer: nothing reclaimed.
    expect(report.spaceReclaimed).toBe(0)
    const all = await e.svc.prune({ all: true })
    expect(all.imagesDeleted[0]).toEqual({ untagged: 'busybox:latest' })
    expect(all.imagesDeleted.filter((d) => 'deleted' in d)).toHaveLength(2)
    expect(all.spaceReclaimed).toBeGreaterThan(500_000)
    expect(e.svc.list()).toEqual([])
  })

  it('publishes docker image events', () => {
    const actions = e.events.history(0n).map((ev) => ev.action)
    for (const a of ['import', 'tag', 'untag', 'delete', 'save', 'load']) expect(actions).toContain(a)
  })
})
