import { promises as fsp } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { encodeHeader, END_OF_ARCHIVE, newHeader, padding, type EntryType, type TarHeader } from '../archive/index.js'
import { extractTar } from './untar.js'

type Entry = Partial<TarHeader> & { name: string; type?: EntryType; data?: string }

function tarOf(entries: Entry[]): Readable {
  const parts: Buffer[] = []
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '')
    const type = e.type ?? 'file'
    const { data: _d, ...fields } = e
    parts.push(encodeHeader(newHeader(e.name, type, { mtime: 1_600_000_000, ...fields, size: type === 'file' ? data.length : 0 })))
    if (type === 'file' && data.length) parts.push(data, padding(data.length))
  }
  parts.push(END_OF_ARCHIVE)
  return Readable.from([Buffer.concat(parts)])
}

let work: string
let root: string
const isRoot = process.getuid?.() === 0

beforeEach(async () => {
  work = await fsp.mkdtemp(path.join(os.tmpdir(), 'berth-untar-'))
  root = path.join(work, 'root')
  await fsp.mkdir(path.join(root, 'dest/sub'), { recursive: true })
  await fsp.mkdir(path.join(root, 'etc'))
  // A container's own link out: absolute, as a container would have it.
  await fsp.symlink('/etc', path.join(root, 'dest/etclink'))
  await fsp.writeFile(path.join(work, 'sentinel'), 'untouched')
})

afterEach(async () => {
  await fsp.rm(work, { recursive: true, force: true })
})

describe('extractTar under a directory of the root (docker cp PUT)', () => {
  test('names land under the directory; symlinks on the way resolve inside the root', async () => {
    await extractTar(tarOf([{ name: 'a', data: 'A' }, { name: 'etclink/conf', data: 'C' }, { name: '/abs/b', data: 'B' }]), root, { mode: 'chroot', under: '/dest' })
    expect(await fsp.readFile(path.join(root, 'dest/a'), 'utf8')).toBe('A')
    expect(await fsp.readFile(path.join(root, 'etc/conf'), 'utf8')).toBe('C')
    expect(await fsp.readFile(path.join(root, 'dest/abs/b'), 'utf8')).toBe('B')
    expect(await fsp.readFile(path.join(work, 'sentinel'), 'utf8')).toBe('untouched')
  })

  test('a name climbing out of the directory is refused, as go-archive refuses it', async () => {
    await expect(extractTar(tarOf([{ name: '../escape', data: 'x' }]), root, { mode: 'chroot', under: '/dest' })).rejects.toThrow('"../escape" is outside of "/dest"')
    await expect(fsp.stat(path.join(root, 'escape'))).rejects.toThrow()
  })

  test('noOverwriteDirNonDir refuses to swap a directory and a file, with the container paths', async () => {
    await expect(extractTar(tarOf([{ name: 'sub', data: 'file now' }]), root, { mode: 'chroot', under: '/dest', noOverwriteDirNonDir: true }))
      .rejects.toThrow('cannot overwrite directory "/dest/sub" with non-directory "/dest"')
    await fsp.writeFile(path.join(root, 'dest/f'), 'x')
    await expect(extractTar(tarOf([{ name: 'f/', type: 'dir' }]), root, { mode: 'chroot', under: '/dest', noOverwriteDirNonDir: true }))
      .rejects.toThrow('cannot overwrite non-directory "/dest/f" with directory "/dest"')
    // Without the option the archive wins, as docker's Untar.
    await extractTar(tarOf([{ name: 'sub', data: 'file now' }]), root, { mode: 'chroot', under: '/dest' })
    expect(await fsp.readFile(path.join(root, 'dest/sub'), 'utf8')).toBe('file now')
  })

  test.runIf(isRoot)('owner replaces the archive\'s ids', async () => {
    await extractTar(tarOf([{ name: 'o', data: 'x', uid: 7, gid: 8 }, { name: 'k', data: 'y', uid: 7, gid: 8 }]), root, { mode: 'chroot', under: '/dest', owner: { uid: 1000, gid: 1001 } })
    const st = await fsp.stat(path.join(root, 'dest/o'))
    expect([st.uid, st.gid]).toEqual([1000, 1001])
  })
})
