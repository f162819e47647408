import { mkdtempSync, promises as fsp, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import { applyLayer, cleanMemberName } from './apply.js'
import { tarDirectory } from './export.js'
import { encodeHeader, END_OF_ARCHIVE, newHeader, padding, TarReader, type TarHeader } from './tar.js'

const isRoot = process.getuid?.() === 0

type Spec = Partial<TarHeader> & { name: string; type?: TarHeader['type']; data?: string }

function makeTar(entries: Spec[]): Buffer {
  const parts: Buffer[] = []
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '')
    const h = newHeader(e.name, e.type ?? 'file', { ...e, size: e.type === undefined || e.type === 'file' ? data.length : 0 })
    parts.push(encodeHeader(h))
    if (h.type === 'file' && data.length) parts.push(data, padding(data.length))
  }
  parts.push(END_OF_ARCHIVE)
  return Buffer.concat(parts)
}

let work: string
let target: string
let sentinel: string

beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'berth-apply-'))
  target = path.join(work, 'layer')
  sentinel = path.join(work, 'sentinel')
  writeFileSync(sentinel, 'untouched')
  return fsp.mkdir(target)
})
afterEach(() => fsp.rm(work, { recursive: true, force: true }))

const apply = (tar: Buffer) => applyLayer(target, Readable.from([tar]))

describe('cleanMemberName', () => {
  it('strips leading slashes and cleans', () => {
    expect(cleanMemberName('/etc//passwd')).toBe('etc/passwd')
    expect(cleanMemberName('./a/./b/')).toBe('a/b')
    expect(cleanMemberName('a/../b')).toBe('b')
    expect(cleanMemberName('./')).toBe('')
  })
  it('refuses names that climb out', () => {
    expect(() => cleanMemberName('../x')).toThrow(/outside the layer/)
    expect(() => cleanMemberName('a/../../x')).toThrow(/outside the layer/)
  })
})

describe('tar codec', () => {
  it('round-trips long names and binary xattrs', async () => {
    const long = 'd/' + 'x'.repeat(150)
    const cap = Buffer.from([1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0xff])
    const tar = Buffer.concat([encodeHeader(newHeader(long, 'file', { size: 3, pax: new Map([['SCHILY.xattr.security.capability', cap]]) })), Buffer.from('abc'), padding(3), END_OF_ARCHIVE])
    const r = new TarReader(Readable.from([tar]))
    const h = await r.next()
    expect(h?.name).toBe(long)
    expect(h?.pax.get('SCHILY.xattr.security.capability')).toEqual(cap)
    const body: Buffer[] = []
    for await (const c of r.body()) body.push(c)
    expect(Buffer.concat(body).toString()).toBe('abc')
    expect(await r.next()).toBeNull()
  })
  it('rejects a corrupt header checksum', async () => {
    const tar = makeTar([{ name: 'a', data: 'x' }])
    tar[0] = 0x62
    await expect(new TarReader(Readable.from([tar])).next()).rejects.toThrow(/checksum/)
  })
})

describe.skipIf(!isRoot)('applyLayer (needs root for devices and ownership)', () => {
  it('unpacks files, dirs, symlinks, hardlinks and computes the diffID', async () => {
    const tar = makeTar([
      { name: 'etc/', type: 'dir' },
      { name: 'etc/hostname', data: 'box\n', uid: 1000, gid: 1000, mode: 0o600 },
      { name: 'etc/link', type: 'link', linkname: 'etc/hostname' },
      { name: 'etc/sym', type: 'symlink', linkname: '/etc/hostname' },
    ])
    const res = await apply(tar)
    expect(res.diffId).toBe('sha256:' + createHash('sha256').update(tar).digest('hex'))
    expect(res.size).toBe(4 + '/etc/hostname'.length)
    expect(res.tarSize).toBe(tar.length)
    expect(readFileSync(path.join(target, 'etc/hostname'), 'utf8')).toBe('box\n')
    const st = await fsp.stat(path.join(target, 'etc/hostname'))
    expect([st.uid, st.gid, st.mode & 0o777, st.nlink]).toEqual([1000, 1000, 0o600, 2])
    expect(await fsp.readlink(path.join(target, 'etc/sym'))).toBe('/etc/hostname')
  })

  it('turns whiteouts into overlay whiteouts and back', async () => {
    const tar = makeTar([
      { name: 'a/', type: 'dir' },
      { name: 'a/.wh.gone', data: '' },
      { name: 'o/', type: 'dir', mode: 0o750 },
      { name: 'o/.wh..wh..opq', data: '' },
      { name: 'o/kept', data: 'k' },
    ])
    await apply(tar)
    const wh = await fsp.stat(path.join(target, 'a/gone'))
    expect(wh.isCharacterDevice()).toBe(true)
    expect(wh.rdev).toBe(0)
    await expect(fsp.stat(path.join(target, 'a/.wh.gone'))).rejects.toThrow()
    expect((await fsp.stat(path.join(target, 'o'))).mode & 0o777).toBe(0o750)
    const names: string[] = []
    const r = new TarReader(tarDirectory(target))
    for (let h = await r.next(); h; h = await r.next()) names.push(h.name)
    expect(names).toContain('a/.wh.gone')
    expect(names).toContain('o/.wh..wh..opq')
    expect(names).not.toContain('a/gone')
  })

  it('strips absolute paths into the layer', async () => {
    await apply(makeTar([{ name: path.join(work, 'sentinel'), data: 'pwned' }]))
    expect(readFileSync(sentinel, 'utf8')).toBe('untouched')
    expect(readFileSync(path.join(target, work, 'sentinel'), 'utf8')).toBe('pwned')
  })

  it('refuses .. escapes', async () => {
    await expect(apply(makeTar([{ name: '../sentinel', data: 'pwned' }]))).rejects.toThrow(/outside the layer/)
    expect(readFileSync(sentinel, 'utf8')).toBe('untouched')
  })

  it('refuses writing through a symlink the layer made', async () => {
    const tar = makeTar([
      { name: 'evil', type: 'symlink', linkname: work },
      { name: 'evil/sentinel', data: 'pwned' },
    ])
    await expect(apply(tar)).rejects.toThrow(/goes through symlink/)
    expect(readFileSync(sentinel, 'utf8')).toBe('untouched')
  })

  it('refuses a relative symlink escape too', async () => {
    const tar = makeTar([
      { name: 'up', type: 'symlink', linkname: '..' },
      { name: 'up/sentinel', data: 'pwned' },
    ])
    await expect(apply(tar)).rejects.toThrow(/goes through symlink/)
    expect(readFileSync(sentinel, 'utf8')).toBe('untouched')
  })

  it('refuses hard links to outside or missing targets', async () => {
    await expect(apply(makeTar([{ name: 'h', type: 'link', linkname: '../sentinel' }]))).rejects.toThrow(/outside/)
    await expect(apply(makeTar([{ name: 'h', type: 'link', linkname: sentinel }]))).rejects.toThrow(/does not contain/)
    await expect(apply(makeTar([
      { name: 's', type: 'symlink', linkname: work },
      { name: 'h', type: 'link', linkname: 's/sentinel' },
    ]))).rejects.toThrow(/goes through symlink/)
    expect(readFileSync(sentinel, 'utf8')).toBe('untouched')
    expect((await fsp.stat(sentinel)).nlink).toBe(1)
  })

  it('refuses absurd sizes and truncated data', async () => {
    const h = encodeHeader(newHeader('big', 'file', { size: 2 ** 43 }))
    await expect(apply(Buffer.concat([h, Buffer.alloc(512)]))).rejects.toThrow(/claims/)
    const t = makeTar([{ name: 'f', data: 'x'.repeat(1000) }])
    await expect(apply(t.subarray(0, 700))).rejects.toThrow(/end of archive/)
  })

  it('drops overlay xattrs the layer tries to set itself', async () => {
    const tar = makeTar([{ name: 'd/', type: 'dir', pax: new Map([['SCHILY.xattr.trusted.overlay.opaque', Buffer.from('y')], ['SCHILY.xattr.trusted.berth-keep', Buffer.from('v')]]) }])
    await apply(tar)
    const names: Map<string, Buffer> = new Map()
    const r = new TarReader(tarDirectory(target))
    for (let h = await r.next(); h; h = await r.next()) if (h.name === 'd/') for (const [k, v] of h.pax) names.set(k, v)
    expect(names.has('SCHILY.xattr.trusted.overlay.opaque')).toBe(false)
    expect(names.get('SCHILY.xattr.trusted.berth-keep')?.toString()).toBe('v')
  })

  it('refuses zstd by name', async () => {
    const { decompress } = await import('./compression.js')
    await expect(decompress(Readable.from([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0])]))).rejects.toThrow(/zstd/)
  })
})

describe.skipIf(!isRoot)('applyLayer writes to tar in batches', () => {
  it('unpacks many small files, empty ones and ones whose size is a multiple of 512, fed in small chunks', async () => {
    const entries: Spec[] = [{ name: 'd/', type: 'dir' }]
    for (let i = 0; i < 600; i++) entries.push({ name: `d/f${i}`, data: 'x'.repeat([0, 1, 512, 1024, 700][i % 5] as number) })
    const tar = makeTar(entries)
    const chunks: Buffer[] = []
    for (let off = 0; off < tar.length; off += 1000) chunks.push(tar.subarray(off, off + 1000))
    const res = await applyLayer(target, Readable.from(chunks))
    expect(res.diffId).toBe('sha256:' + createHash('sha256').update(tar).digest('hex'))
    expect(res.tarSize).toBe(tar.length)
    expect((await fsp.readdir(path.join(target, 'd'))).length).toBe(600)
    expect((await fsp.stat(path.join(target, 'd/f3'))).size).toBe(1024)
  })
})
