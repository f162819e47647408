import { createHash } from 'node:crypto'
import { promises as fsp } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { encodeHeader, END_OF_ARCHIVE, newHeader, padding, type TarHeader } from '../archive/index.js'
import { extractContext } from './context.js'
import { copyInto, describeSources, normalizeDest, parseChmod, planCopy, treeHashes, treeSums, type CopySpec } from './copy.js'
import { SourceHashes } from './tarsum.js'

const isRoot = process.getuid?.() === 0

type Spec = Partial<TarHeader> & { name: string; type?: TarHeader['type']; data?: string }

function makeTar(entries: Spec[]): Buffer {
  const parts: Buffer[] = []
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '')
    const type = e.type ?? 'file'
    const { data: _d, ...fields } = e
    parts.push(encodeHeader(newHeader(e.name, type, { mtime: 1_600_000_000, ...fields, size: type === 'file' ? data.length : 0 })))
    if (type === 'file' && data.length) parts.push(data, padding(data.length))
  }
  parts.push(END_OF_ARCHIVE)
  return Buffer.concat(parts)
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

let work: string
/** The build context. */
let ctx: string
/** The image root being built. */
let rootfs: string

beforeEach(async () => {
  work = await fsp.mkdtemp(path.join(os.tmpdir(), 'berth-copy-'))
  ctx = path.join(work, 'ctx')
  rootfs = path.join(work, 'rootfs')
  await fsp.mkdir(ctx)
  await fsp.mkdir(path.join(rootfs, 'etc'), { recursive: true })
  await fsp.writeFile(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\nalice:x:1001:1001::/home/alice:/bin/sh\n')
  await fsp.writeFile(path.join(rootfs, 'etc/group'), 'root:x:0:\nbob:x:1000:\nstaff:x:50:\n')
  await fsp.writeFile(path.join(work, 'sentinel'), 'untouched')
})
afterEach(() => fsp.rm(work, { recursive: true, force: true }))

async function files(tree: Record<string, string | { data?: string; mode?: number; mtime?: number; link?: string; dir?: true }>, root = ctx): Promise<void> {
  for (const [name, v] of Object.entries(tree)) {
    const p = path.join(root, name)
    await fsp.mkdir(path.dirname(p), { recursive: true })
    const e = typeof v === 'string' ? { data: v } : v
    if (e.link !== undefined) await fsp.symlink(e.link, p)
    else if (e.dir) await fsp.mkdir(p, { recursive: true })
    else await fsp.writeFile(p, e.data ?? '')
    if (e.mode !== undefined) await fsp.chmod(p, e.mode)
    if (e.mtime !== undefined) await fsp.utimes(p, e.mtime, e.mtime)
  }
}

const spec = (over: Partial<CopySpec>): CopySpec => ({
  kind: 'copy', sources: [], contents: [], dest: '/', workdir: '/', srcRoot: ctx, fromContext: true, ...over,
})
const read = (p: string) => fsp.readFile(path.join(rootfs, p), 'utf8')
const stat = (p: string) => fsp.lstat(path.join(rootfs, p))
const copy = (over: Partial<CopySpec>) => copyInto(rootfs, spec(over))

describe('describeSources', () => {
  it.skipIf(!isRoot)('is docker\'s file:<tarsum> for one file (moby vector) (needs root)', async () => {
    await files({ test: { data: 'contents test', mode: 0o755 } })
    expect((await describeSources(spec({ sources: ['test'] }))).description).toBe('file:55dfeb344351ab27f59aa60ebb0ed12025a2f2f4677bf77d26ea7a671274a9ca')
    // Leading "/" and "./" are the same source.
    expect((await describeSources(spec({ sources: ['./test'] }))).description).toBe('file:55dfeb344351ab27f59aa60ebb0ed12025a2f2f4677bf77d26ea7a671274a9ca')
    expect((await describeSources(spec({ sources: ['/test'] }))).description).toBe('file:55dfeb344351ab27f59aa60ebb0ed12025a2f2f4677bf77d26ea7a671274a9ca')
  })

  it('hashes a directory as dir:<sha256 of its sorted entry sums>, several sources as multi:', async () => {
    await files({ 'd/a': 'A', 'd/sub/b': 'B', 'd/l': { link: 'a' }, top: 'T' })
    const h = new SourceHashes(ctx)
    const entries = await Promise.all(['d', 'd/a', 'd/l', 'd/sub', 'd/sub/b'].map((p) => h.hash(p)))
    const dir = `dir:${sha256([...entries].sort().join(','))}`
    expect((await describeSources(spec({ sources: ['d'] }))).description).toBe(dir)
    const top = `file:${await h.hash('top')}`
    expect((await describeSources(spec({ sources: ['d', 'top'], dest: '/x/' }))).description).toBe(`multi:${sha256([dir, top].join(','))}`)
    // "." is the whole context, without the root itself.
    const all = await Promise.all(['d', 'd/a', 'd/l', 'd/sub', 'd/sub/b', 'top'].map((p) => h.hash(p)))
    expect((await describeSources(spec({ sources: ['.'] }))).description).toBe(`dir:${sha256(all.sort().join(','))}`)
  })

  it('follows content and mode but not mtime (tarsum v1)', async () => {
    await files({ f: { data: 'one', mode: 0o644, mtime: 1000 } })
    const d = async () => (await describeSources(spec({ sources: ['f'] }))).description
    const first = await d()
    await fsp.utimes(path.join(ctx, 'f'), 2000, 2000)
    expect(await d()).toBe(first)
    await fsp.chmod(path.join(ctx, 'f'), 0o600)
    const second = await d()
    expect(second).not.toBe(first)
    await fsp.writeFile(path.join(ctx, 'f'), 'two')
    expect(await d()).not.toBe(second)
  })

  it.skipIf(!isRoot)('gives the same description from the context\'s tar sums as from disk (needs root)', async () => {
    const tar = makeTar([
      { name: 'd/', type: 'dir' }, { name: 'd/a', data: 'A', mode: 0o600 }, { name: 'd/l', type: 'symlink', linkname: 'a' },
      { name: 'f', data: 'F' }, { name: 'lf', type: 'symlink', linkname: 'f' },
    ])
    const { sums } = await extractContext(Readable.from([tar]), ctx)
    for (const sources of [['d'], ['f'], ['lf'], ['d', 'f'], ['*'], ['.']]) {
      const s = spec({ sources, dest: '/x/' })
      expect((await describeSources({ ...s, sums })).description).toBe((await describeSources(s)).description)
    }
  })

  it('lists a context directory from readdir and the sums as the full walk does', async () => {
    const tar = makeTar([
      { name: 'd/', type: 'dir' }, { name: 'd/a', data: 'A', mode: 0o600 }, { name: 'd/l', type: 'symlink', linkname: 'a' },
      { name: 'd/implied/deep/x', data: 'X' }, { name: 'd/dev', type: 'char' }, { name: 'd/ldev', type: 'symlink', linkname: 'dev' },
      { name: 'd/gone/', type: 'dir' }, { name: 'd/gone/g', data: 'G' }, { name: 'd/gone', data: 'now a file' },
      { name: 'd/dangling', type: 'symlink', linkname: '/nowhere' }, { name: 'd/up', type: 'symlink', linkname: '../f' },
      { name: 'f', data: 'F' }, { name: 'Dockerfile', data: 'FROM x' },
    ])
    const { sums } = await extractContext(Readable.from([tar]), ctx)
    await fsp.rm(path.join(ctx, 'Dockerfile'))
    const hashes = new SourceHashes(ctx, sums)
    for (const dir of [ctx, path.join(ctx, 'd'), path.join(ctx, 'd/implied')]) {
      const fast = (await treeSums(ctx, dir, hashes, sums)).sort()
      expect(fast).toEqual((await treeHashes(ctx, dir, hashes)).sort())
      expect(fast.length).toBeGreaterThan(0)
    }
  })

  it('matches wildcards with Go\'s filepath.Match, in walk order', async () => {
    await files({ 'a.txt': 'a', 'b.txt': 'b', 'c.md': 'c', 'sub/d.txt': 'd', 'sub/deeper/e.txt': 'e' })
    const h = new SourceHashes(ctx)
    const f = async (p: string) => `file:${await h.hash(p)}`
    expect((await describeSources(spec({ sources: ['*.txt'], dest: '/x/' }))).description).toBe(`multi:${sha256([await f('a.txt'), await f('b.txt')].join(','))}`)
    expect((await describeSources(spec({ sources: ['*/*.txt'] }))).description).toBe(await f('sub/d.txt'))
    // `**` is not recursive in the classic builder.
    expect((await describeSources(spec({ sources: ['**/e.txt'] })).catch((e: Error) => e.message))).toBe('COPY failed: no source files were specified')
    expect((await describeSources(spec({ sources: ['sub/*/e.txt'] }))).description).toBe(await f('sub/deeper/e.txt'))
    expect((await describeSources(spec({ sources: ['[ab].txt'], dest: '/x/' }))).description).toBe(`multi:${sha256([await f('a.txt'), await f('b.txt')].join(','))}`)
  })

  it('says docker\'s errors', async () => {
    await files({ a: 'a', b: 'b' })
    const err = (s: Partial<CopySpec>) => describeSources(spec(s)).then(() => undefined, (e: Error & { kind: string }) => `${e.kind}: ${e.message}`)
    expect(await err({ sources: ['missing.txt'] })).toBe('invalid-argument: COPY failed: file not found in build context or excluded by .dockerignore: stat missing.txt: file does not exist')
    expect(await err({ kind: 'add', sources: ['missing.txt'] })).toBe('invalid-argument: ADD failed: file not found in build context or excluded by .dockerignore: stat missing.txt: file does not exist')
    expect(await err({ sources: ['missing.txt'], fromContext: false })).toBe('invalid-argument: COPY failed: stat missing.txt: file does not exist')
    expect(await err({ sources: ['a/x'] })).toBe('invalid-argument: COPY failed: stat a/x: not a directory')
    expect(await err({ sources: ['*.none'] })).toBe('invalid-argument: COPY failed: no source files were specified')
    expect(await err({ sources: ['../sentinel'] })).toBe('invalid-argument: COPY failed: forbidden path outside the build context: ../sentinel ()')
    expect(await err({ sources: ['a', 'b'], dest: '/x' })).toBe('invalid-argument: When using COPY with more than one source file, the destination must be a directory and end with a /')
    // "." is not "./" (the classic builder looks at the text).
    expect(await err({ sources: ['a', 'b'], dest: '.' })).toMatch(/must be a directory and end with a \//)
    expect(await err({ sources: ['?'], dest: '/x' })).toMatch(/must be a directory and end with a \//)
    expect(await err({ sources: ['http://127.0.0.1:1/x'] })).toBe("invalid-argument: COPY failed: source can't be a URL for COPY")
    expect(await err({ sources: ['a'], chmod: '64a' })).toBe("invalid-argument: invalid chmod parameter: '64a'. it should be octal string and between 0 and 07777")
    expect(await err({ sources: ['a'], chmod: '10000' })).toMatch(/invalid chmod parameter: '10000'/)
    expect(await err({ kind: 'add', sources: ['a'], checksum: 'sha256:' + 'a'.repeat(64) })).toBe('invalid-argument: checksum requires HTTP(S) or Git sources')
    expect(await err({ sources: ['a'], checksum: 'sha256:' + 'a'.repeat(64) })).toBe("invalid-argument: checksum can't be specified for COPY")
  })

  it('never leaves the context through a symlink', async () => {
    await files({ abs: { link: '/etc/passwd' }, rel: { link: '../sentinel' }, up: { link: '../../../../..' } })
    for (const s of ['abs', 'rel', 'up/sentinel']) {
      await expect(describeSources(spec({ sources: [s] }))).rejects.toThrow(/file not found in build context/)
    }
    // A link to a directory inside resolves inside: "/" is the context root.
    await files({ real: 'r', root: { link: '/' } })
    expect((await describeSources(spec({ sources: ['root/real'] }))).description).toBe((await describeSources(spec({ sources: ['real'] }))).description)
  })

  it('a heredoc counts as a file source', async () => {
    const one = await describeSources(spec({ contents: [{ path: 'EOF', data: 'hi\n' }] }))
    expect(one.description).toMatch(/^file:[0-9a-f]{64}$/)
    const other = await describeSources(spec({ contents: [{ path: 'EOF', data: 'ho\n' }] }))
    expect(other.description).not.toBe(one.description)
    await expect(describeSources(spec({ contents: [{ path: 'A', data: '' }, { path: 'B', data: '' }], dest: '/x' }))).rejects.toThrow(/must be a directory/)
  })
})

describe('copyInto', () => {
  it('puts a file into a directory dest, or makes it the dest', async () => {
    await files({ 'sub/f.txt': { data: 'F', mode: 0o640, mtime: 1_234_567_890.7 } })
    await copy({ sources: ['sub/f.txt'], dest: '/into/' })
    expect(await read('into/f.txt')).toBe('F')
    expect((await stat('into')).mode & 0o7777).toBe(0o755)
    await copy({ sources: ['sub/f.txt'], dest: '/as' })
    expect(await read('as')).toBe('F')
    // An existing directory is a directory dest even without the slash.
    await copy({ sources: ['sub/f.txt'], dest: '/into' })
    expect((await stat('into/f.txt')).isFile()).toBe(true)
    // Relative to WORKDIR; mode kept, mtime kept to the second.
    await copy({ sources: ['sub/f.txt'], dest: 'rel/', workdir: '/app' })
    const st = await stat('app/rel/f.txt')
    expect(st.mode & 0o7777).toBe(0o640)
    expect(st.mtimeMs).toBe(1_234_567_890_000)
    // Missing parents are created.
    await copy({ sources: ['sub/f.txt'], dest: '/a/b/c/d' })
    expect(await read('a/b/c/d')).toBe('F')
  })

  it('copies a directory\'s contents, not the directory', async () => {
    await files({
      'd/a': { data: 'A', mode: 0o600, mtime: 1_000_000 },
      'd/sub/b': 'B',
      'd/sub': { dir: true, mode: 0o711, mtime: 2_000_000 },
      'd/l': { link: 'sub/b' },
      'd/abs': { link: '/etc/passwd' },
    })
    await fsp.link(path.join(ctx, 'd/a'), path.join(ctx, 'd/hard'))
    await copy({ sources: ['d'], dest: '/dst' })
    expect((await fsp.readdir(path.join(rootfs, 'dst'))).sort()).toEqual(['a', 'abs', 'hard', 'l', 'sub'])
    expect(await read('dst/sub/b')).toBe('B')
    expect((await stat('dst/a')).mode & 0o7777).toBe(0o600)
    expect((await stat('dst/a')).mtimeMs).toBe(1_000_000_000)
    expect((await stat('dst/sub')).mode & 0o7777).toBe(0o711)
    expect((await stat('dst/sub')).mtimeMs).toBe(2_000_000_000)
    // Symlinks stay symlinks, hard links stay linked.
    expect(await fsp.readlink(path.join(rootfs, 'dst/l'))).toBe('sub/b')
    expect(await fsp.readlink(path.join(rootfs, 'dst/abs'))).toBe('/etc/passwd')
    expect((await stat('dst/hard')).ino).toBe((await stat('dst/a')).ino)
    // The same with a trailing slash, and "." is the whole context.
    await copy({ sources: ['d/'], dest: '/dst2/' })
    expect(await read('dst2/a')).toBe('A')
    await copy({ sources: ['.'], dest: '/all' })
    expect(await read('all/d/sub/b')).toBe('B')
  })

  it('copies what a source symlink points to, under the link\'s name', async () => {
    await files({ real: 'R', link: { link: 'real' }, ldir: { link: 'd' }, 'd/x': 'X' })
    await copy({ sources: ['link'], dest: '/out/' })
    expect((await stat('out/link')).isFile()).toBe(true)
    expect(await read('out/link')).toBe('R')
    await copy({ sources: ['ldir'], dest: '/out2' })
    expect(await read('out2/x')).toBe('X')
  })

  it('copies wildcard matches: files by name, directories by contents', async () => {
    await files({ 'a.txt': 'a', 'b.txt': 'b', 'dir1/x': 'x', 'dir2/y': 'y' })
    await copy({ sources: ['*.txt', 'dir*'], dest: '/w/' })
    expect((await fsp.readdir(path.join(rootfs, 'w'))).sort()).toEqual(['a.txt', 'b.txt', 'x', 'y'])
  })

  it('resolves the dest through symlinks inside the image root only', async () => {
    await files({ f: 'F' })
    await files({ 'real/.keep': '', abs: { link: '/real' }, esc: { link: '../../../../../../..' } }, rootfs)
    await copy({ sources: ['f'], dest: '/abs/' })
    expect(await read('real/f')).toBe('F')
    await copy({ sources: ['f'], dest: '/esc/sentinel' })
    expect(await read('sentinel')).toBe('F')
    expect(await fsp.readFile(path.join(work, 'sentinel'), 'utf8')).toBe('untouched')
  })

  it('replaces what stands in the way instead of writing through it', async () => {
    await files({ 'd/a': 'new', 'd/sub/b': 'B', f: 'F' })
    await files({ 'etc/shadow': 'secret', 'dst/a': { link: '/etc/shadow' }, 'dst/sub': { link: path.join(work) }, 'dst2/f': { link: '/etc/shadow' } }, rootfs)
    await copy({ sources: ['d'], dest: '/dst' })
    expect(await read('dst/a')).toBe('new')
    expect(await read('etc/shadow')).toBe('secret')
    expect((await stat('dst/sub')).isDirectory()).toBe(true)
    expect(await fsp.readFile(path.join(work, 'sentinel'), 'utf8')).toBe('untouched')
    await copy({ sources: ['f'], dest: '/dst2/' })
    expect((await stat('dst2/f')).isFile()).toBe(true)
    expect(await read('etc/shadow')).toBe('secret')
  })

  it('fails on a dest that is in the way', async () => {
    await files({ 'd/a': 'A' })
    await files({ file: 'x' }, rootfs)
    await expect(copy({ sources: ['d'], dest: '/file' })).rejects.toThrow('failed to copy files: mkdir /file: not a directory')
    await expect(copy({ sources: ['d'], dest: '/file/sub' })).rejects.toThrow(/not a directory/)
  })

  it('applies --chmod to everything copied', async () => {
    await files({ 'd/a': { data: 'A', mode: 0o600 }, 'd/s/b': 'B', f: 'F' })
    await copy({ sources: ['d'], dest: '/m', chmod: '751' })
    expect((await stat('m')).mode & 0o7777).toBe(0o751)
    expect((await stat('m/a')).mode & 0o7777).toBe(0o751)
    expect((await stat('m/s')).mode & 0o7777).toBe(0o751)
    await copy({ sources: ['f'], dest: '/n/p/', chmod: '0400' })
    expect((await stat('n/p/f')).mode & 0o7777).toBe(0o400)
    // New parents stay 0755.
    expect((await stat('n/p')).mode & 0o7777).toBe(0o755)
    expect(parseChmod('4755')).toBe(0o4755)
    await expect(copy({ sources: ['f'], dest: '/x', chmod: 'u+x' })).rejects.toMatchObject({ kind: 'not-implemented' })
  })

  it('writes heredoc files', async () => {
    await copy({ contents: [{ path: 'EOF', data: 'hello\n' }], dest: '/h/' })
    expect(await read('h/EOF')).toBe('hello\n')
    expect((await stat('h/EOF')).mode & 0o7777).toBe(0o644)
    await copy({ contents: [{ path: 'EOF', data: 'as dest\n' }], dest: '/h/named', chmod: '755' })
    expect(await read('h/named')).toBe('as dest\n')
    expect((await stat('h/named')).mode & 0o7777).toBe(0o755)
    // A heredoc called ".." names no file: never the dest's parent.
    await expect(copy({ contents: [{ path: '..', data: 'x' }], dest: '/' })).rejects.toThrow(/has no file name/)
    expect((await stat('h/EOF')).isFile()).toBe(true)
    expect(await fsp.readFile(path.join(work, 'sentinel'), 'utf8')).toBe('untouched')
  })

  describe('ownership', () => {
    beforeEach(async () => {
      await files({ 'd/a': 'A', 'd/s/b': 'B', f: 'F' })
      if (isRoot) {
        for (const p of ['d', 'd/a', 'd/s', 'd/s/b', 'f']) await fsp.lchown(path.join(ctx, p), 4321, 4321)
      }
    })
    const owner = async (p: string) => {
      const st = await stat(p)
      return `${st.uid}:${st.gid}`
    }

    it.skipIf(!isRoot)('is root by default, whoever owned the context files (needs root)', async () => {
      await copy({ sources: ['d'], dest: '/x' })
      await copy({ sources: ['f'], dest: '/y/z/' })
      for (const p of ['x', 'x/a', 'x/s', 'x/s/b', 'y', 'y/z', 'y/z/f']) expect(await owner(p)).toBe('0:0')
    })

    it.skipIf(!isRoot)('--chown owns everything copied, a new dest directory and new parents of a file (needs root)', async () => {
      await files({ existing: { dir: true } }, rootfs)
      await copy({ sources: ['d'], dest: '/new/dst', chown: 'bob' })
      // The parents a directory copy makes stay root's; what it copies and a new dest are bob's.
      expect(await owner('new')).toBe('0:0')
      for (const p of ['new/dst', 'new/dst/a', 'new/dst/s', 'new/dst/s/b']) expect(await owner(p)).toBe('1000:1000')
      await copy({ sources: ['d'], dest: '/existing', chown: '1001:staff' })
      expect(await owner('existing')).toBe('0:0')
      expect(await owner('existing/a')).toBe('1001:50')
      // A file copy makes its missing parents with the owner.
      await copy({ sources: ['f'], dest: '/p/q/', chown: '77:88' })
      expect(await owner('p')).toBe('77:88')
      expect(await owner('p/q/f')).toBe('77:88')
      // A lone id is also the group id.
      await copy({ sources: ['f'], dest: '/lone', chown: '1234' })
      expect(await owner('lone')).toBe('1234:1234')
      await copy({ contents: [{ path: 'EOF', data: 'x' }], dest: '/here/', chown: 'bob:staff' })
      expect(await owner('here/EOF')).toBe('1000:50')
    })

    it('--chown names come from the image\'s passwd and group files', async () => {
      // alice has a passwd entry but no group of that name: docker looks the lone name up as a group too.
      await expect(copy({ sources: ['f'], dest: '/x', chown: 'alice' })).rejects.toThrow('unable to convert uid/gid chown string to host mapping: can\'t find gid for group alice: no such group: alice')
      await expect(copy({ sources: ['f'], dest: '/x', chown: 'nobody:root' })).rejects.toThrow("can't find uid for user nobody: no such user: nobody")
      await expect(copy({ sources: ['f'], dest: '/x', chown: 'a:b:c' })).rejects.toThrow('invalid chown string format: a:b:c')
      await fsp.rm(path.join(rootfs, 'etc/passwd'))
      await expect(copy({ sources: ['f'], dest: '/x', chown: 'bob' })).rejects.toThrow("can't find uid for user bob: open /etc/passwd: no such file or directory")
      // Numbers need no files.
      await copy({ sources: ['f'], dest: '/x', chown: '5:6' })
    })

    it.skipIf(!isRoot)('COPY --from without --chown keeps the owners (needs root)', async () => {
      const stage = path.join(work, 'stage')
      await files({ 'app/bin': 'B' }, stage)
      await fsp.lchown(path.join(stage, 'app/bin'), 1000, 1000)
      await copyInto(rootfs, spec({ sources: ['/app/bin'], dest: '/usr/local/bin/', srcRoot: stage, fromContext: false, preserveOwnership: true }))
      expect(await owner('usr/local/bin/bin')).toBe('1000:1000')
      await copyInto(rootfs, spec({ sources: ['/app/bin'], dest: '/b2', srcRoot: stage, fromContext: false, chown: '5' }))
      expect(await owner('b2')).toBe('5:5')
    })
  })

  describe('ADD', () => {
    const tar = () => makeTar([
      { name: 'top/', type: 'dir', mode: 0o700 },
      { name: 'top/file', data: 'in tar', uid: 1000, gid: 1000 },
      { name: 'top/.wh.gone', data: '' },
      { name: 'top/hard', type: 'link', linkname: '/top/file' },
      { name: 'link', type: 'symlink', linkname: '/' },
      { name: 'link/through', data: 'stays in dest' },
      { name: '../../climb', data: 'clamped' },
    ])

    it('unpacks local tar archives (plain or compressed) into dest, as the archive says', async () => {
      await fsp.writeFile(path.join(ctx, 'a.tar'), tar())
      await fsp.writeFile(path.join(ctx, 'b.tgz'), gzipSync(tar()))
      await copy({ kind: 'add', sources: ['a.tar'], dest: '/x' })
      await copy({ kind: 'add', sources: ['b.tgz'], dest: '/y/' })
      for (const d of ['x', 'y']) {
        expect(await read(`${d}/top/file`)).toBe('in tar')
        expect((await stat(`${d}/top`)).mode & 0o7777).toBe(0o700)
        // Whiteout names are ordinary files here.
        expect((await stat(`${d}/top/.wh.gone`)).isFile()).toBe(true)
        // The archive is unpacked with dest as its root.
        expect(await read(`${d}/through`)).toBe('stays in dest')
        expect(await read(`${d}/climb`)).toBe('clamped')
        expect((await stat(`${d}/top/hard`)).ino).toBe((await stat(`${d}/top/file`)).ino)
        if (isRoot) expect((await stat(`${d}/top/file`)).uid).toBe(1000)
      }
      expect(await fsp.readFile(path.join(work, 'sentinel'), 'utf8')).toBe('untouched')
    })

    it('copies archives as files for COPY, with --unpack=false, and what only looks like one', async () => {
      await fsp.writeFile(path.join(ctx, 'a.tar'), tar())
      await fsp.writeFile(path.join(ctx, 'fake.tar.gz'), gzipSync('not a tar'))
      await copy({ sources: ['a.tar'], dest: '/c/' })
      expect((await stat('c/a.tar')).isFile()).toBe(true)
      await copy({ kind: 'add', sources: ['a.tar'], dest: '/u/', unpack: false })
      expect((await stat('u/a.tar')).isFile()).toBe(true)
      await copy({ kind: 'add', sources: ['fake.tar.gz'], dest: '/f/' })
      expect((await stat('f/fake.tar.gz')).isFile()).toBe(true)
    })
  })

  describe('ADD <url>', () => {
    let server: http.Server
    let base: string
    beforeAll(async () => {
      server = http.createServer((req, res) => {
        if (req.url === '/files/hello.txt') {
          res.writeHead(200, { 'Last-Modified': 'Wed, 21 Oct 2015 07:28:00 GMT', 'Content-Type': 'text/plain' })
          res.end('hello from http\n')
        } else if (req.url === '/dir/') {
          res.end('no name')
        } else if (req.url === '/named/') {
          res.writeHead(200, { 'Content-Disposition': 'attachment; filename="report.csv"' })
          res.end('a,b\n')
        } else if (req.url === '/a.tar') {
          res.end(makeTar([{ name: 'x', data: 'X' }]))
        } else if (req.url === '/redirect') {
          res.writeHead(302, { Location: '/files/hello.txt' })
          res.end()
        } else {
          res.writeHead(404)
          res.end('nope\n')
        }
      })
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    })
    afterAll(() => new Promise<void>((r) => server.close(() => r())))

    it('downloads into dest, 0600, with Last-Modified as mtime', async () => {
      await copy({ kind: 'add', sources: [`${base}/files/hello.txt`], dest: '/dl/' })
      expect(await read('dl/hello.txt')).toBe('hello from http\n')
      const st = await stat('dl/hello.txt')
      expect(st.mode & 0o7777).toBe(0o600)
      expect(st.mtimeMs).toBe(Date.parse('2015-10-21T07:28:00Z'))
      if (isRoot) expect(`${st.uid}:${st.gid}`).toBe('0:0')
      await copy({ kind: 'add', sources: [`${base}/redirect`], dest: '/dl/renamed' })
      expect(await read('dl/renamed')).toBe('hello from http\n')
      await copy({ kind: 'add', sources: [`${base}/named/`], dest: '/dl/' })
      expect(await read('dl/report.csv')).toBe('a,b\n')
      // No name and a file dest: the download is the dest; no Last-Modified: the epoch.
      await copy({ kind: 'add', sources: [`${base}/dir/`], dest: '/dl/plain' })
      expect(await read('dl/plain')).toBe('no name')
      expect((await stat('dl/plain')).mtimeMs).toBe(0)
    })

    it('never unpacks a downloaded archive (unless --unpack)', async () => {
      await copy({ kind: 'add', sources: [`${base}/a.tar`], dest: '/t/' })
      expect((await stat('t/a.tar')).isFile()).toBe(true)
      await copy({ kind: 'add', sources: [`${base}/a.tar`], dest: '/u/', unpack: true })
      expect(await read('u/x')).toBe('X')
    })

    it('describes a download by its bare sum, leaving no temporary files', async () => {
      const tmpDir = path.join(work, 'tmp')
      await fsp.mkdir(tmpDir)
      const d = await describeSources(spec({ kind: 'add', sources: [`${base}/files/hello.txt`], dest: '/' }), { tmpDir })
      expect(d.description).toMatch(/^[0-9a-f]{64}$/)
      expect(await fsp.readdir(tmpDir)).toEqual([])
      const plan = await planCopy(spec({ kind: 'add', sources: [`${base}/files/hello.txt`, `${base}/named/`], dest: '/two/' }), { tmpDir })
      expect(plan.description).toMatch(/^multi:/)
      await plan.copyInto(rootfs)
      await plan.close()
      expect((await fsp.readdir(path.join(rootfs, 'two'))).sort()).toEqual(['hello.txt', 'report.csv'])
      expect(await fsp.readdir(tmpDir)).toEqual([])
    })

    it('says docker\'s errors', async () => {
      await expect(copy({ kind: 'add', sources: [`${base}/missing`], dest: '/x' })).rejects.toMatchObject({ kind: 'not-found', message: `ADD failed: failed to GET ${base}/missing with status 404 Not Found: nope` })
      await expect(copy({ kind: 'add', sources: [`${base}/dir/`], dest: '/x/' })).rejects.toThrow(`ADD failed: cannot determine filename for source ${base}/dir/`)
      const closed = http.createServer()
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r))
      const port = (closed.address() as AddressInfo).port
      await new Promise<void>((r) => closed.close(() => r()))
      await expect(copy({ kind: 'add', sources: [`http://127.0.0.1:${port}/x`], dest: '/x' })).rejects.toMatchObject({
        kind: 'unavailable',
        message: expect.stringMatching(new RegExp(`^ADD failed: Get "http://127.0.0.1:${port}/x": .*ECONNREFUSED`)),
      })
    })

    it('checks --checksum', async () => {
      const good = `sha256:${sha256('hello from http\n')}`
      await copy({ kind: 'add', sources: [`${base}/files/hello.txt`], dest: '/c', checksum: good })
      expect(await read('c')).toBe('hello from http\n')
      const bad = `sha256:${'0'.repeat(64)}`
      await expect(copy({ kind: 'add', sources: [`${base}/files/hello.txt`], dest: '/c', checksum: bad })).rejects.toThrow(`digest mismatch for ${base}/files/hello.txt: ${good} (expected: ${bad})`)
      await expect(copy({ kind: 'add', sources: [`${base}/files/hello.txt`], dest: '/c', checksum: 'md5:abc' })).rejects.toThrow('unsupported digest algorithm')
    })
  })

  it('COPY --from reads another root, wildcards included', async () => {
    const stage = path.join(work, 'stage')
    await files({ 'usr/lib/libx.so.1': 'L1', 'usr/lib/libx.so.2': 'L2', 'usr/lib/other': 'O', etc: { dir: true } }, stage)
    await copyInto(rootfs, spec({ sources: ['/usr/lib/libx.so.*'], dest: '/lib/', srcRoot: stage, fromContext: false }))
    expect((await fsp.readdir(path.join(rootfs, 'lib'))).sort()).toEqual(['libx.so.1', 'libx.so.2'])
  })
})

describe('normalizeDest', () => {
  it.each([
    ['/app', 'x', '/app/x'],
    ['/app', 'x/', '/app/x/'],
    ['/app', '.', '/app'],
    ['/app', './', '/app/'],
    ['/', '.', '/'],
    ['/', './', '/'],
    ['/app', '/abs', '/abs'],
    ['/app', '../up/', '/up/'],
  ])('%s + %s → %s', (workdir, dest, want) => {
    expect(normalizeDest(workdir, dest)).toBe(want)
  })
})
