/**
 * Behaviour every Snapshotter must show, run by each implementation's test
 * (containerd core/snapshots/testsuite). Needs root to mount; skips with the
 * reason otherwise.
 */
import { mkdtempSync, promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeHeader, END_OF_ARCHIVE, newHeader, padding, type EntryType } from '../archive/index.js'
import { run } from '../lib/index.js'
import type { Mount, Snapshotter } from './snapshotter.js'

export type SnapshotterFactory = (root: string) => Promise<Snapshotter>

interface E { name: string; type?: EntryType; data?: string; linkname?: string }

export function layerTar(entries: E[]): Buffer {
  const parts: Buffer[] = []
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '')
    const type = e.type ?? 'file'
    parts.push(encodeHeader(newHeader(e.name, type, { size: type === 'file' ? data.length : 0, linkname: e.linkname ?? '' })))
    if (type === 'file' && data.length) parts.push(data, padding(data.length))
  }
  parts.push(END_OF_ARCHIVE)
  return Buffer.concat(parts)
}

async function mountAll(mounts: Mount[], target: string): Promise<void> {
  for (const m of mounts) await run('mount', ['-t', m.type, '-o', m.options.join(','), m.source, target], { cwd: m.cwd })
}

const umount = (target: string) => run('umount', [target])

export function snapshotterSuite(name: string, factory: SnapshotterFactory): void {
  const root = process.getuid?.() === 0
  describe.skipIf(!root)(`snapshotter ${name} (needs root to mount)`, () => {
    let dir: string
    let sn: Snapshotter
    let base: string
    let top: string
    const mounted: string[] = []

    const mountKey = async (key: string, parent: string | null): Promise<string> => {
      const mounts = await sn.prepare(key, parent)
      const target = sn.mountpoint(key)
      await mountAll(mounts, target)
      mounted.push(target)
      return target
    }
    const unmountKey = async (key: string) => {
      const t = sn.mountpoint(key)
      await umount(t)
      mounted.splice(mounted.indexOf(t), 1)
    }

    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'berth-snap-'))
      sn = await factory(dir)
      const l1 = await sn.commitLayer(null, Readable.from([layerTar([
        { name: 'etc/', type: 'dir' },
        { name: 'etc/motd', data: 'hello\n' },
        { name: 'etc/gone', data: 'x' },
        { name: 'opq/', type: 'dir' },
        { name: 'opq/old', data: 'old' },
      ])]))
      base = l1.chainId
      const l2 = await sn.commitLayer(base, Readable.from([layerTar([
        { name: 'etc/.wh.gone' },
        { name: 'opq/', type: 'dir' },
        { name: 'opq/.wh..wh..opq' },
        { name: 'opq/new', data: 'new' },
      ])]))
      top = l2.chainId
    })
    afterAll(async () => {
      for (const t of mounted) await umount(t).catch(() => {})
      await fsp.rm(dir, { recursive: true, force: true })
    })

    it('commits a layer once per chainID, even when raced', async () => {
      const tar = layerTar([{ name: 'x', data: 'same' }])
      const [a, b] = await Promise.all([
        sn.commitLayer(null, Readable.from([tar])),
        sn.commitLayer(null, Readable.from([tar])),
      ])
      expect(a.chainId).toBe(b.chainId)
      expect(await sn.hasLayer(a.chainId)).toBe(true)
      const again = await sn.commitLayer(null, Readable.from([tar]), { expectedDiffId: a.diffId })
      expect(again).toEqual(a)
      // The tar's length is kept with the layer: save sends that many bytes for it.
      expect(a.tarSize).toBe(tar.length)
      expect(await sn.layerInfo(a.chainId)).toEqual(a)
      await sn.removeLayer(a.chainId)
      expect(await sn.hasLayer(a.chainId)).toBe(false)
      await expect(sn.layerInfo(a.chainId)).rejects.toThrow(/does not exist/)
    })

    it('prepares, mounts, writes and unmounts', async () => {
      const t = await mountKey('c-write', base)
      expect(await fsp.readFile(path.join(t, 'etc/motd'), 'utf8')).toBe('hello\n')
      await fsp.writeFile(path.join(t, 'etc/new'), 'written')
      await unmountKey('c-write')
      expect(await fsp.readFile(path.join(sn.upperDir('c-write'), 'etc/new'), 'utf8')).toBe('written')
      expect((await sn.usage('c-write')).size).toBeGreaterThanOrEqual(7)
      await sn.remove('c-write')
      expect(await sn.exists('c-write')).toBe(false)
    })

    it('hides files whited out in a lower layer and honours opaque dirs', async () => {
      const t = await mountKey('c-wh', top)
      await expect(fsp.stat(path.join(t, 'etc/gone'))).rejects.toThrow()
      expect(await fsp.readFile(path.join(t, 'etc/motd'), 'utf8')).toBe('hello\n')
      expect((await fsp.readdir(path.join(t, 'opq'))).sort()).toEqual(['new'])
      await unmountKey('c-wh')
      await sn.remove('c-wh')
    })

    it('keeps two containers from one image apart and the layers untouched', async () => {
      const a = await mountKey('c-a', top)
      const b = await mountKey('c-b', top)
      await fsp.writeFile(path.join(a, 'etc/motd'), 'from a\n')
      await fsp.rm(path.join(b, 'etc/motd'))
      expect(await fsp.readFile(path.join(a, 'etc/motd'), 'utf8')).toBe('from a\n')
      await expect(fsp.stat(path.join(b, 'etc/motd'))).rejects.toThrow()
      await unmountKey('c-a')
      await unmountKey('c-b')
      expect(await fsp.readFile(path.join(sn.layerDir(base), 'etc/motd'), 'utf8')).toBe('hello\n')
      await sn.remove('c-a')
      await sn.remove('c-b')
    })

    it('mounts an image with no layers over an empty lower', async () => {
      const t = await mountKey('c-empty', null)
      expect(await fsp.readdir(t)).toEqual([])
      await fsp.writeFile(path.join(t, 'f'), 'x')
      await unmountKey('c-empty')
      await sn.remove('c-empty')
    })

    it('stays under a page of mount options for deep images', async () => {
      let parent = top
      for (let i = 0; i < 60; i++) parent = (await sn.commitLayer(parent, Readable.from([layerTar([{ name: `f${i}`, data: String(i) }])]))).chainId
      const mounts = await sn.prepare('c-deep', parent)
      expect(mounts[0]?.options.join(',').length).toBeLessThan(4096)
      const t = sn.mountpoint('c-deep')
      await mountAll(mounts, t)
      mounted.push(t)
      expect(await fsp.readFile(path.join(t, 'f59'), 'utf8')).toBe('59')
      expect(await fsp.readFile(path.join(t, 'etc/motd'), 'utf8')).toBe('hello\n')
      await unmountKey('c-deep')
      await sn.remove('c-deep')
    })

    it('reports GraphDriver data', async () => {
      const d = await sn.layerDriverData(top)
      expect(d.UpperDir).toBe(sn.layerDir(top))
      expect(d.LowerDir).toBe(sn.layerDir(base))
    })
  })
}
