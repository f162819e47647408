import { describe, expect, it } from 'vitest'
import { capabilityV2, computeDiff, layerHeaders, MergedLower, sameFsTime, statDifferent, type FileNode, type LayerSource, type UpperEntry } from './diff.js'
import { newHeader } from './tar.js'

const S = 1_000_000_000n
const dir = (o: Partial<FileNode> = {}): FileNode => ({ mode: 0o040755, uid: 0, gid: 0, rdev: 0, size: 4096, mtimeNs: 100n * S, ...o })
const file = (o: Partial<FileNode> = {}): FileNode => ({ mode: 0o100644, uid: 0, gid: 0, rdev: 0, size: 10, mtimeNs: 100n * S, ...o })
const whiteout = (): FileNode => ({ mode: 0o020000, uid: 0, gid: 0, rdev: 0, size: 0, mtimeNs: 200n * S })

/** A layer directory from a flat map of relative paths; parents must be listed. */
class FakeLayer implements LayerSource {
  constructor(private readonly entries: Record<string, FileNode>, private readonly opaque: string[] = []) {}
  async lstat(p: string): Promise<FileNode | null> {
    return p === '' ? dir() : this.entries[p] ?? null
  }
  async readdir(p: string): Promise<string[]> {
    const prefix = p === '' ? '' : `${p}/`
    return Object.keys(this.entries).filter((k) => k.startsWith(prefix) && !k.slice(prefix.length).includes('/')).map((k) => k.slice(prefix.length)).sort()
  }
  async isOpaque(p: string): Promise<boolean> {
    return this.opaque.includes(p)
  }
}

function upperTree(entries: Record<string, FileNode>, opaque: string[] = []): UpperEntry {
  const root: UpperEntry = { name: '', path: '', node: dir(), opaque: false, children: [] }
  const byPath = new Map<string, UpperEntry>([['', root]])
  for (const p of Object.keys(entries).sort()) {
    const i = p.lastIndexOf('/')
    const parent = byPath.get(i < 0 ? '' : p.slice(0, i))
    if (!parent) throw new Error(`no parent for ${p}`)
    const node = entries[p] as FileNode
    const e: UpperEntry = { name: p.slice(i + 1), path: p, node, opaque: opaque.includes(p), ...((node.mode & 0o170000) === 0o040000 ? { children: [] } : {}) }
    parent.children?.push(e)
    parent.children?.sort((a, b) => (a.name < b.name ? -1 : 1))
    byPath.set(p, e)
  }
  return root
}

const lines = (d: { changes: Array<{ kind: string; path: string }> }) => d.changes.map((c) => `${c.kind} ${c.path}`)

describe('computeDiff', () => {
  const image = new FakeLayer({
    bin: dir(), 'bin/sh': file(), etc: dir(), 'etc/group': file(), 'etc/passwd': file(), var: dir(), 'var/log': dir(), 'var/tmp': dir({ mode: 0o041777 }), 'var/tmp/x': file(), opt: dir(), 'opt/d': dir(), 'opt/d/f': file(),
  })

  it('reports additions, changes and whiteouts, each changed parent first', async () => {
    const up = upperTree({ etc: dir({ mtimeNs: 300n * S }), 'etc/group': whiteout(), 'etc/passwd': file({ size: 11, mtimeNs: 300n * S }), new: dir(), 'new/a': file() })
    const d = await computeDiff(up, new MergedLower([image]))
    expect(lines(d)).toEqual(['C /etc', 'D /etc/group', 'C /etc/passwd', 'A /new', 'A /new/a'])
    expect(d.members).toEqual(['etc', 'etc/group', 'etc/passwd', 'new', 'new/a'])
  })

  it('reports a deleted directory once', async () => {
    const d = await computeDiff(upperTree({ opt: dir(), 'opt/d': whiteout() }), new MergedLower([image]))
    expect(lines(d)).toEqual(['C /opt', 'D /opt/d'])
  })

  it('keeps a copy-up with unchanged metadata in the layer but not in the list', async () => {
    const d = await computeDiff(upperTree({ bin: dir({ mtimeNs: 500n * S }), 'bin/sh': file() }), new MergedLower([image]))
    expect(lines(d)).toEqual([])
    expect(d.members).toEqual(['bin', 'bin/sh'])
  })

  it('lists what an opaque directory hides as deleted, down its new subdirectories', async () => {
    const up = upperTree({ var: dir(), 'var/new': file(), 'var/tmp': dir({ mode: 0o041777 }), 'var/tmp/y': file() }, ['var'])
    const d = await computeDiff(up, new MergedLower([image]))
    expect(lines(d)).toEqual(['C /var', 'D /var/log', 'A /var/new', 'C /var/tmp', 'D /var/tmp/x', 'A /var/tmp/y'])
    expect(d.members).toEqual(['var', 'var/new', 'var/tmp', 'var/tmp/y'])
  })

  it('an emptied opaque directory', async () => {
    const d = await computeDiff(upperTree({ opt: dir() }, ['opt']), new MergedLower([image]))
    expect(lines(d)).toEqual(['C /opt', 'D /opt/d'])
    expect(d.members).toEqual(['opt'])
  })

  it('a directory where a file was, and a changed mode', async () => {
    const up = upperTree({ bin: dir(), 'bin/sh': dir(), 'bin/sh/x': file(), etc: dir(), 'etc/passwd': file({ mode: 0o100600 }) }, ['bin/sh'])
    const d = await computeDiff(up, new MergedLower([image]))
    expect(lines(d)).toEqual(['C /bin', 'C /bin/sh', 'A /bin/sh/x', 'C /etc', 'C /etc/passwd'])
  })

  it('leaves out mountpoints the runtime made', async () => {
    const up = upperTree({ etc: dir(), 'etc/hosts': file({ size: 0 }), 'etc/hostname': file({ size: 0 }), proc: dir(), run: dir(), 'run/secrets': dir() })
    const d = await computeDiff(up, new MergedLower([image]), ['/etc/hosts', '/etc/hostname', '/proc', '/run/secrets/x'])
    expect(lines(d)).toEqual([])
    expect(d.members).toEqual([])
    // Written to, or holding more than mountpoints: a real change.
    const up2 = upperTree({ etc: dir(), 'etc/hosts': file({ size: 3 }), proc: dir(), 'proc/x': file() })
    expect(lines(await computeDiff(up2, new MergedLower([image]), ['/etc/hosts', '/proc']))).toEqual(['C /etc', 'A /etc/hosts', 'A /proc', 'A /proc/x'])
  })

  it('reports nothing for an empty upper dir', async () => {
    expect(await computeDiff(upperTree({}), new MergedLower([image]))).toEqual({ changes: [], members: [] })
  })

  it('decodes UTF-8 names for the list and keeps their bytes for the layer', async () => {
    const name = Buffer.from('café', 'utf8').toString('latin1')
    const d = await computeDiff(upperTree({ [name]: file() }), new MergedLower([image]))
    expect(lines(d)).toEqual(['A /café'])
    expect(d.members).toEqual([name])
  })
})

describe('MergedLower', () => {
  const top = new FakeLayer({ etc: dir(), 'etc/old': whiteout(), opt: dir(), 'opt/b': file(), srv: file() }, ['opt'])
  const base = new FakeLayer({ etc: dir(), 'etc/old': file(), 'etc/keep': file(), opt: dir(), 'opt/a': file(), srv: dir(), 'srv/x': file() })
  const lower = new MergedLower([top, base])

  it('hides what a whiteout, an opaque directory or a file over a directory covers', async () => {
    expect(await lower.lookup('etc/old')).toBeNull()
    expect(await lower.lookup('etc/keep')).not.toBeNull()
    expect(await lower.lookup('opt/a')).toBeNull()
    expect(await lower.lookup('opt/b')).not.toBeNull()
    expect(await lower.lookup('srv/x')).toBeNull()
    expect([...(await lower.children('etc'))]).toEqual(['keep'])
    expect([...(await lower.children('opt'))]).toEqual(['b'])
    expect([...(await lower.children(''))].sort()).toEqual(['etc', 'opt', 'srv'])
  })

  it('a path re-added over a lower whiteout is an addition', async () => {
    const d = await computeDiff(upperTree({ etc: dir(), 'etc/old': file() }), lower)
    expect(lines(d)).toEqual(['C /etc', 'A /etc/old'])
  })
})

describe('stat comparison', () => {
  it('treats a whole-second time as the same second', () => {
    expect(sameFsTime(5n * S, 5n * S + 123n)).toBe(true)
    expect(sameFsTime(5n * S + 1n, 5n * S + 123n)).toBe(false)
    expect(sameFsTime(5n * S, 6n * S)).toBe(false)
  })

  it('ignores size and mtime of directories', () => {
    expect(statDifferent(dir(), dir({ size: 1, mtimeNs: 1n }))).toBe(false)
    expect(statDifferent(dir(), dir({ uid: 1 }))).toBe(true)
    expect(statDifferent(file(), file({ mtimeNs: 1n }))).toBe(true)
    expect(statDifferent(file(), file({ size: 1 }))).toBe(true)
  })
})

describe('layerHeaders', () => {
  it('turns a whiteout device into .wh.NAME', () => {
    const [h, ...rest] = layerHeaders(newHeader('./etc/group', 'char', { mode: 0, uid: 5, gid: 6, mtime: 7.5 }))
    expect(rest).toEqual([])
    expect(h).toMatchObject({ name: 'etc/.wh.group', type: 'file', mode: 0o600, uid: 5, gid: 6, mtime: 7, size: 0 })
    expect(layerHeaders(newHeader('./top', 'char'))[0]?.name).toBe('.wh.top')
  })

  it('follows an opaque directory with .wh..wh..opq and drops overlay xattrs, times and names', () => {
    const pax = new Map([
      ['SCHILY.xattr.trusted.overlay.opaque', Buffer.from('y')],
      ['SCHILY.xattr.trusted.overlay.origin', Buffer.from('x')],
      ['SCHILY.xattr.user.foo', Buffer.from('bar')],
      ['atime', Buffer.from('1.5')],
      ['ctime', Buffer.from('1.5')],
    ])
    const out = layerHeaders(newHeader('./var/', 'dir', { mode: 0o1755, mtime: 9.99, uname: 'root', gname: 'root', pax }))
    expect(out.map((h) => h.name)).toEqual(['var', 'var/.wh..wh..opq'])
    expect(out[0]).toMatchObject({ type: 'dir', mtime: 9, uname: '', gname: '' })
    expect([...(out[0]?.pax.keys() ?? [])]).toEqual(['SCHILY.xattr.user.foo'])
    expect(out[1]).toMatchObject({ type: 'file', mode: 0o755, size: 0 })
  })

  it('drops the root and the ./ of hard link targets', () => {
    expect(layerHeaders(newHeader('./', 'dir'))).toEqual([])
    expect(layerHeaders(newHeader('./b', 'link', { linkname: './a' }))[0]?.linkname).toBe('a')
    expect(layerHeaders(newHeader('./s', 'symlink', { linkname: './a' }))[0]?.linkname).toBe('./a')
  })

  it('stores file capabilities as revision 2', () => {
    const v3 = Buffer.alloc(24)
    v3.writeUInt32LE(0x03000000, 0)
    v3.writeUInt32LE(0x2000, 4)
    const v2 = capabilityV2(v3)
    expect(v2.length).toBe(20)
    expect(v2.readUInt32LE(0)).toBe(0x02000000)
    expect(v2.readUInt32LE(4)).toBe(0x2000)
    const h = layerHeaders(newHeader('./ping', 'file', { pax: new Map([['SCHILY.xattr.security.capability', v3]]) }))[0]
    expect(h?.pax.get('SCHILY.xattr.security.capability')?.length).toBe(20)
    const already = Buffer.alloc(20)
    already[3] = 2
    expect(capabilityV2(already)).toBe(already)
  })
})
