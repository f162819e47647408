import { spawnSync } from 'node:child_process'
import { promises as fsp } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { encodeHeader, END_OF_ARCHIVE, newHeader, padding, type TarHeader } from '../archive/index.js'
import { extractContext, readDockerfile } from './context.js'
import { SourceHashes } from './tarsum.js'

const isRoot = process.getuid?.() === 0
const hasTool = (t: string) => spawnSync(t, ['--version'], { stdio: 'ignore' }).status === 0

type Spec = Partial<TarHeader> & { name: string; type?: TarHeader['type']; data?: string | Buffer }

function makeTar(entries: Spec[]): Buffer {
  const parts: Buffer[] = []
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '')
    const type = e.type ?? 'file'
    const { data: _d, ...fields } = e
    const h = newHeader(e.name, type, { mtime: 1_600_000_000, ...fields, size: type === 'file' ? data.length : 0 })
    parts.push(encodeHeader(h))
    if (type === 'file' && data.length) parts.push(data, padding(data.length))
  }
  parts.push(END_OF_ARCHIVE)
  return Buffer.concat(parts)
}

let work: string
let ctx: string
let sentinelDir: string

beforeEach(async () => {
  work = await fsp.mkdtemp(path.join(os.tmpdir(), 'berth-context-'))
  // The context dir sits next to a sentinel that no tar may touch.
  ctx = path.join(work, 'a', 'b', 'ctx')
  sentinelDir = path.join(work, 'a')
  await fsp.mkdir(ctx, { recursive: true })
  await fsp.writeFile(path.join(sentinelDir, 'sentinel'), 'untouched')
})
afterEach(() => fsp.rm(work, { recursive: true, force: true }))

const extract = (tar: Buffer, signal?: AbortSignal) => extractContext(Readable.from([tar]), ctx, signal ? { signal } : {})

async function outsideUntouched(): Promise<void> {
  expect(await fsp.readFile(path.join(sentinelDir, 'sentinel'), 'utf8')).toBe('untouched')
  expect((await fsp.readdir(sentinelDir)).sort()).toEqual(['b', 'sentinel'])
  expect(await fsp.readdir(path.join(sentinelDir, 'b'))).toEqual(['ctx'])
}

describe('extractContext', () => {
  it('unpacks files, directories, symlinks and hard links with their modes and mtimes', async () => {
    await extract(makeTar([
      { name: 'dir/', type: 'dir', mode: 0o750, mtime: 1_500_000_000 },
      { name: 'dir/file', data: 'hello', mode: 0o640, mtime: 1_500_000_001 },
      { name: 'run.sh', data: '#!/bin/sh\n', mode: 0o4755 },
      { name: 'link', type: 'symlink', linkname: 'dir/file' },
      { name: 'out', type: 'symlink', linkname: '../../../../etc/passwd' },
      { name: 'hard', type: 'link', linkname: 'dir/file' },
      { name: 'implied/deep/f', data: 'x' },
      { name: 'dev', type: 'char', devmajor: 1, devminor: 3 },
    ]))
    expect(await fsp.readFile(path.join(ctx, 'dir/file'), 'utf8')).toBe('hello')
    const dst = await fsp.stat(path.join(ctx, 'dir'))
    expect(dst.mode & 0o7777).toBe(0o750)
    expect(dst.mtimeMs).toBe(1_500_000_000_000)
    const fst = await fsp.stat(path.join(ctx, 'dir/file'))
    expect(fst.mode & 0o7777).toBe(0o640)
    expect(fst.mtimeMs).toBe(1_500_000_001_000)
    expect((await fsp.stat(path.join(ctx, 'run.sh'))).mode & 0o7777).toBe(0o4755)
    expect(await fsp.readlink(path.join(ctx, 'link'))).toBe('dir/file')
    // A symlink's target is only text: it may point anywhere, it is never written through.
    expect(await fsp.readlink(path.join(ctx, 'out'))).toBe('../../../../etc/passwd')
    expect((await fsp.stat(path.join(ctx, 'hard'))).ino).toBe(fst.ino)
    expect((await fsp.stat(path.join(ctx, 'implied/deep'))).mode & 0o7777).toBe(0o755)
    // Device nodes are skipped.
    await expect(fsp.lstat(path.join(ctx, 'dev'))).rejects.toThrow()
    await outsideUntouched()
  })

  it.skipIf(!isRoot)('keeps the owners in the tar (needs root)', async () => {
    await extract(makeTar([{ name: 'd/', type: 'dir', uid: 1000, gid: 1001 }, { name: 'd/f', data: 'x', uid: 1234, gid: 5678 }]))
    const st = await fsp.stat(path.join(ctx, 'd/f'))
    expect([st.uid, st.gid]).toEqual([1234, 5678])
    const dst = await fsp.stat(path.join(ctx, 'd'))
    expect([dst.uid, dst.gid]).toEqual([1000, 1001])
  })

  it('records docker\'s tarsum of each entry (moby tarsum_test vectors)', async () => {
    const { sums } = await extract(makeTar([
      { name: 'test', data: 'contents test', mode: 0o755 },
      { name: 'builder-tarsum-test-subdir/', type: 'dir' },
      { name: 'builder-tarsum-test-subdir/test', data: 'contents test', mode: 0o755 },
    ]))
    expect(sums.get('test')).toBe('55dfeb344351ab27f59aa60ebb0ed12025a2f2f4677bf77d26ea7a671274a9ca')
    expect(sums.get('builder-tarsum-test-subdir/test')).toBe('74a3326b8e766ce63a8e5232f22e9dd895be647fb3ca7d337e5e0a9b3da8ef28')
  })

  it.skipIf(!isRoot)('gives the same sums as hashing the unpacked files from disk (needs root)', async () => {
    const { sums } = await extract(makeTar([
      { name: 'd/', type: 'dir', mode: 0o711, uid: 7 },
      { name: 'd/f', data: 'abc', mode: 0o600, uid: 12, gid: 34 },
      { name: 'd/l', type: 'symlink', linkname: 'f' },
      { name: 'empty', data: '' },
    ]))
    const lazy = new SourceHashes(ctx)
    for (const p of ['d', 'd/f', 'empty']) expect(await lazy.hash(p)).toBe(sums.get(p))
  })

  const compressors: Array<[string, (b: Buffer) => Buffer, boolean]> = [
    ['gzip', (b) => gzipSync(b), true],
    ['bzip2', (b) => spawnSync('bzip2', ['-c'], { input: b }).stdout, hasTool('bzip2')],
    ['xz', (b) => spawnSync('xz', ['-c'], { input: b }).stdout, hasTool('xz')],
    ['zstd', (b) => spawnSync('zstd', ['-c', '-q'], { input: b }).stdout, hasTool('zstd')],
  ]
  for (const [name, compress, available] of compressors) {
    it.skipIf(!available)(`reads a ${name}-compressed context (needs the ${name} program)`, async () => {
      const { sums } = await extract(compress(makeTar([{ name: 'Dockerfile', data: 'FROM scratch\n' }])))
      expect(await fsp.readFile(path.join(ctx, 'Dockerfile'), 'utf8')).toBe('FROM scratch\n')
      expect(sums.has('Dockerfile')).toBe(true)
    })
  }

  describe('refuses hostile tars and writes nothing outside', () => {
    const hostile: Array<[string, Spec[], RegExp]> = [
      ['a name climbing out', [{ name: '../evil', data: 'x' }], /invalid build context: "..\/evil" points outside/],
      ['a name climbing out after a directory', [{ name: 'x/../../../sentinel', data: 'x' }], /points outside/],
      ['a path through a symlink it made', [{ name: 'l', type: 'symlink', linkname: '../..' }, { name: 'l/sentinel', data: 'pwned' }], /goes through symlink "l"/],
      ['a path through an absolute symlink', [{ name: 'l', type: 'symlink', linkname: '/' }, { name: 'l/tmp/x', data: 'pwned' }], /goes through symlink/],
      ['a directory through a symlink', [{ name: 'l', type: 'symlink', linkname: '../..' }, { name: 'l/newdir/', type: 'dir' }], /goes through symlink/],
      ['a hard link outside', [{ name: 'h', type: 'link', linkname: '../../sentinel' }], /points outside|does not contain/],
      ['a hard link to something it did not make', [{ name: 'h', type: 'link', linkname: 'nothere' }], /does not contain/],
      ['a hard link through a symlink', [{ name: 'l', type: 'symlink', linkname: '../..' }, { name: 'h', type: 'link', linkname: 'l/sentinel' }], /does not contain|goes through/],
      ['a hard link to a directory', [{ name: 'd/', type: 'dir' }, { name: 'h', type: 'link', linkname: 'd' }], /hard link "h" to directory/],
      ['a file below a file', [{ name: 'f', data: 'x' }, { name: 'f/g', data: 'y' }], /below non-directory/],
      ['a symlink without a target', [{ name: 'l', type: 'symlink', linkname: '' }], /has no target/],
    ]
    it.each(hostile)('%s', async (_what, entries, msg) => {
      await expect(extract(makeTar(entries))).rejects.toMatchObject({ kind: 'invalid-argument', message: expect.stringMatching(msg) })
      await outsideUntouched()
    })

    it('an absolute name lands inside', async () => {
      await extract(makeTar([{ name: '/abs/file', data: 'x' }]))
      expect(await fsp.readFile(path.join(ctx, 'abs/file'), 'utf8')).toBe('x')
      await outsideUntouched()
    })

    it('a file replacing a symlink replaces the link, not its target', async () => {
      await extract(makeTar([{ name: 'l', type: 'symlink', linkname: '../../sentinel' }, { name: 'l', data: 'replaced' }]))
      expect(await fsp.readFile(path.join(ctx, 'l'), 'utf8')).toBe('replaced')
      expect((await fsp.lstat(path.join(ctx, 'l'))).isFile()).toBe(true)
      await outsideUntouched()
    })

    it('a file replacing a directory it made, with files in it, and a hard link to itself', async () => {
      await extract(makeTar([
        { name: 'd/', type: 'dir', mtime: 1_500_000_000 },
        { name: 'd/sub/f', data: 'x' },
        { name: 'keep/', type: 'dir', mtime: 1_500_000_002 },
        { name: 'keep/f', data: 'k' },
        { name: 'keep/f', type: 'link', linkname: 'keep/f' },
        { name: 'd', data: 'now a file' },
        { name: 'd2/g', data: 'y' },
      ]))
      expect(await fsp.readFile(path.join(ctx, 'd'), 'utf8')).toBe('now a file')
      expect(await fsp.readFile(path.join(ctx, 'keep/f'), 'utf8')).toBe('k')
      expect(await fsp.readFile(path.join(ctx, 'd2/g'), 'utf8')).toBe('y')
      // Directory mtimes are the archive's even though a later tar process wrote into them.
      expect((await fsp.stat(path.join(ctx, 'keep'))).mtimeMs).toBe(1_500_000_002_000)
      await outsideUntouched()
    })

    it('a hard link to a skipped device', async () => {
      await expect(extract(makeTar([{ name: 'dev', type: 'char' }, { name: 'h', type: 'link', linkname: 'dev' }]))).rejects.toMatchObject({ kind: 'invalid-argument', message: expect.stringMatching(/does not contain/) })
    })

    it('a name that is not UTF-8', async () => {
      const tar = makeTar([{ name: Buffer.from([0x61, 0xff, 0x62]).toString('latin1'), data: 'x' }])
      await expect(extract(tar)).rejects.toMatchObject({ kind: 'invalid-argument', message: expect.stringMatching(/not valid UTF-8/) })
    })

    it('a tar cut off inside a later entry', async () => {
      const tar = makeTar([{ name: 'a', data: 'x'.repeat(3000) }, { name: 'b', data: 'y'.repeat(5000) }])
      await expect(extract(tar.subarray(0, 4096 + 512 + 1000))).rejects.toMatchObject({ kind: 'invalid-argument' })
      await outsideUntouched()
    })

    it('a truncated tar', async () => {
      const tar = makeTar([{ name: 'f', data: 'x'.repeat(2000) }])
      await expect(extract(tar.subarray(0, 1024))).rejects.toMatchObject({ kind: 'invalid-argument' })
    })

    it('a corrupt gzip stream', async () => {
      const gz = gzipSync(makeTar([{ name: 'f', data: 'x'.repeat(5000) }]))
      gz.fill(0x55, 20, 60)
      await expect(extract(gz)).rejects.toMatchObject({ kind: 'invalid-argument' })
    })

    it('garbage', async () => {
      await expect(extract(Buffer.from('not a tar at all, but long enough to be read as a header block? no: '.repeat(20)))).rejects.toMatchObject({ kind: 'invalid-argument' })
    })
  })

  it('stops when aborted', async () => {
    const ac = new AbortController()
    ac.abort()
    await expect(extract(makeTar([{ name: 'f', data: 'x' }]), ac.signal)).rejects.toThrow(/abort/i)
  })
})

describe('readDockerfile', () => {
  const write = async (files: Record<string, string>) => {
    for (const [name, data] of Object.entries(files)) {
      await fsp.mkdir(path.dirname(path.join(ctx, name)), { recursive: true })
      await fsp.writeFile(path.join(ctx, name), data)
    }
  }
  const ls = async () => (await fsp.readdir(ctx)).sort()

  it('reads the Dockerfile, falling back to dockerfile', async () => {
    await write({ dockerfile: 'FROM lower\n' })
    expect(await readDockerfile(ctx, 'Dockerfile')).toBe('FROM lower\n')
    await write({ Dockerfile: 'FROM upper\n' })
    expect(await readDockerfile(ctx)).toBe('FROM upper\n')
  })

  it('reads a Dockerfile elsewhere in the context, through a symlink inside it', async () => {
    await write({ 'ci/Dockerfile.test': 'FROM ci\n' })
    await fsp.symlink('/ci/Dockerfile.test', path.join(ctx, 'df'))
    expect(await readDockerfile(ctx, 'ci/Dockerfile.test')).toBe('FROM ci\n')
    expect(await readDockerfile(ctx, './ci/Dockerfile.test')).toBe('FROM ci\n')
    expect(await readDockerfile(ctx, 'df')).toBe('FROM ci\n')
  })

  it('says docker\'s errors', async () => {
    await expect(readDockerfile(ctx, 'Dockerfile')).rejects.toMatchObject({ kind: 'invalid-argument', message: 'Cannot locate specified Dockerfile: Dockerfile' })
    await expect(readDockerfile(ctx, 'ci/Dockerfile')).rejects.toThrow('Cannot locate specified Dockerfile: ci/Dockerfile')
    await expect(readDockerfile(ctx, '../sentinel')).rejects.toThrow('forbidden path outside the build context: ../sentinel ()')
    await write({ Dockerfile: '' })
    await expect(readDockerfile(ctx)).rejects.toThrow('the Dockerfile (Dockerfile) cannot be empty')
  })

  it('does not follow a symlink out of the context', async () => {
    await fsp.symlink('../../sentinel', path.join(ctx, 'Dockerfile'))
    await expect(readDockerfile(ctx)).rejects.toThrow('Cannot locate specified Dockerfile: Dockerfile')
  })

  it('removes the Dockerfile and .dockerignore when .dockerignore excludes them', async () => {
    await write({ Dockerfile: 'FROM x\n', '.dockerignore': 'Dockerfile\n.dockerignore\n', keep: 'k' })
    expect(await readDockerfile(ctx)).toBe('FROM x\n')
    expect(await ls()).toEqual(['keep'])
  })

  it('keeps them otherwise', async () => {
    await write({ Dockerfile: 'FROM x\n', '.dockerignore': 'input1\ninput2\n', keep: 'k' })
    await readDockerfile(ctx)
    expect(await ls()).toEqual(['.dockerignore', 'Dockerfile', 'keep'])
    await fsp.rm(path.join(ctx, '.dockerignore'))
    await readDockerfile(ctx)
    expect(await ls()).toEqual(['Dockerfile', 'keep'])
  })

  it('removes the generated Dockerfile the CLI lists in .dockerignore, and one excluded by its directory', async () => {
    await write({ '.dockerfile.0123456789abcdef0123': 'FROM x\n', '.dockerignore': 'node_modules\n.dockerfile.0123456789abcdef0123\n', keep: 'k' })
    await readDockerfile(ctx, '.dockerfile.0123456789abcdef0123')
    expect(await ls()).toEqual(['.dockerignore', 'keep'])
    await write({ 'ci/Dockerfile': 'FROM x\n', 'ci/other': 'o', '.dockerignore': 'ci\n' })
    await readDockerfile(ctx, 'ci/Dockerfile')
    expect(await fsp.readdir(path.join(ctx, 'ci'))).toEqual(['other'])
  })
})
