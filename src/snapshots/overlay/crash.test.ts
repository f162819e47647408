// What a crash can leave in overlay2 and how open() and prune() deal with
// it (docs/design/crash-consistency.md): an interrupted removal (short link
// gone, directory still there), a dangling short link, an unpacked layer or
// snapshot no record keeps.
import { mkdtempSync, promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { nullLogger } from '../../lib/index.js'
import { layerTar } from '../testsuite.js'
import { OverlaySnapshotter } from './overlay.js'

const root = process.getuid?.() === 0

describe.skipIf(!root)('overlay2 after a crash (GNU tar keeps owners as root)', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'berth-snap-crash-'))
  })
  afterEach(async () => {
    await fsp.rm(dir, { recursive: true, force: true })
  })
  const open = () => OverlaySnapshotter.open({ root: dir, logger: nullLogger })
  const commit = async (sn: OverlaySnapshotter, data: string) => sn.commitLayer(null, Readable.from([layerTar([{ name: 'f', data }])]))

  it('finishes a removal a crash interrupted, so the layer is unpacked again rather than reused without its link', async () => {
    let sn = await open()
    const info = await commit(sn, 'one')
    const hex = info.chainId.replace('sha256:', '')
    const link = (await fsp.readFile(path.join(dir, 'overlay2', hex, 'link'), 'utf8')).trim()
    await fsp.rm(path.join(dir, 'overlay2', 'l', link))
    sn = await open()
    expect(await sn.hasLayer(info.chainId)).toBe(false)
    const again = await sn.commitLayer(null, Readable.from([layerTar([{ name: 'f', data: 'one' }])]), { expectedDiffId: info.diffId })
    expect(again.chainId).toBe(info.chainId)
    expect(await fsp.readFile(path.join(sn.layerDir(info.chainId), 'f'), 'utf8')).toBe('one')
    const newLink = (await fsp.readFile(path.join(dir, 'overlay2', hex, 'link'), 'utf8')).trim()
    expect((await fsp.stat(path.join(dir, 'overlay2', 'l', newLink))).isDirectory()).toBe(true)
  })

  it('drops dangling short links', async () => {
    await open()
    await fsp.symlink('../' + 'a'.repeat(64) + '/diff', path.join(dir, 'overlay2', 'l', 'DANGLING'))
    await open()
    expect(await fsp.readdir(path.join(dir, 'overlay2', 'l'))).not.toContain('DANGLING')
  })

  it('prune keeps what is listed and removes the rest', async () => {
    const sn = await open()
    const kept = await commit(sn, 'kept')
    const stray = await commit(sn, 'stray')
    await sn.prepare('c1', kept.chainId)
    await sn.prepare('c2', kept.chainId)
    await fsp.mkdir(path.join(dir, 'overlay2', 'b'.repeat(64), 'diff'), { recursive: true })
    const removed = await sn.prune({ layers: new Set([kept.chainId]), snapshots: new Set(['c1']) })
    expect(removed.sort()).toEqual(['b'.repeat(64), 'c2', stray.chainId.replace('sha256:', '')].sort())
    expect(await sn.hasLayer(kept.chainId)).toBe(true)
    expect(await sn.exists('c1')).toBe(true)
    // The kept layer's short link and the empty lower's.
    expect((await fsp.readdir(path.join(dir, 'overlay2', 'l'))).length).toBe(2)
  })
})
