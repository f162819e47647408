// docker cp's local half on temporary directories: the A–J cases of
// go-archive's copy tests (CopyResource), symlinks followed or not, and the
// checks Untar makes on what it extracts.
import { chmodSync, chownSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { encodeHeader, END_OF_ARCHIVE, newHeader, padding, type TarHeader } from '../../archive/index.js'
import { AtomicFileWriter } from './atomic-writer.js'
import { copyResource, copyTo } from './copy.js'
import { readEntries, type TarEntry } from './entries.js'
import { copyInfoDestinationPath, copyInfoSourcePath, evalSymlinks, validateOutputPath } from './info.js'
import { tarResource } from './tar-resource.js'

let base = ''
let a = ''
let b = ''

const read = (p: string): string => readFileSync(p, 'utf8')

beforeEach(() => {
  base = mkdtempSync(path.join(os.tmpdir(), 'berth-cp-'))
  a = path.join(base, 'a')
  b = path.join(base, 'b')
  mkdirSync(a)
  mkdirSync(b)
  writeFileSync(path.join(a, 'file1'), 'file1\n')
  writeFileSync(path.join(a, 'file2'), 'file2\n')
  mkdirSync(path.join(a, 'dir1'))
  writeFileSync(path.join(a, 'dir1', 'file1-1'), 'file1-1\n')
  mkdirSync(path.join(a, 'dir1', 'sub'))
  writeFileSync(path.join(a, 'dir1', 'sub', 'deep'), 'deep\n')
  symlinkSync('file1', path.join(a, 'symlinkToFile1'))
  symlinkSync('dir1', path.join(a, 'symlinkToDir1'))
  symlinkSync('fileX', path.join(a, 'brokenSymlinkToFileX'))
  symlinkSync('dirX', path.join(a, 'brokenSymlinkToDirX'))
})

afterEach(() => {
  rmSync(base, { recursive: true, force: true })
})

describe('copy cases A–J', () => {
  it('A: a file to a new name', async () => {
    await copyResource(`${a}/file1`, `${b}/itWorks.txt`, false)
    expect(read(`${b}/itWorks.txt`)).toBe('file1\n')
  })

  it('B: a file to a missing directory', async () => {
    await expect(copyResource(`${a}/file1`, `${b}/testDir/`, false)).rejects.toThrow(/^no such directory$/)
    await expect(copyResource(`${a}/symlinkToFile1`, `${b}/testDir/`, true)).rejects.toThrow(/^no such directory$/)
  })

  it('C: a file over a file', async () => {
    writeFileSync(`${b}/file2`, 'old\n')
    await copyResource(`${a}/file1`, `${b}/file2`, false)
    expect(read(`${b}/file2`)).toBe('file1\n')
  })

  it('D: a file into a directory, with or without a trailing slash', async () => {
    mkdirSync(`${b}/dir1`)
    await copyResource(`${a}/file1`, `${b}/dir1`, false)
    expect(read(`${b}/dir1/file1`)).toBe('file1\n')
    await copyResource(`${a}/file2`, `${b}/dir1/`, false)
    expect(read(`${b}/dir1/file2`)).toBe('file2\n')
  })

  it('E: a directory to a new name', async () => {
    await copyResource(`${a}/dir1`, `${b}/new`, false)
    expect(read(`${b}/new/sub/deep`)).toBe('deep\n')
    await copyResource(`${a}/dir1`, `${b}/new2/`, false)
    expect(read(`${b}/new2/file1-1`)).toBe('file1-1\n')
  })

  it('F: a directory over a file', async () => {
    writeFileSync(`${b}/file1`, 'x')
    await expect(copyResource(`${a}/dir1`, `${b}/file1`, false)).rejects.toThrow(/^cannot copy directory$/)
  })

  it('G: a directory into a directory', async () => {
    mkdirSync(`${b}/dst`)
    await copyResource(`${a}/dir1`, `${b}/dst`, false)
    expect(read(`${b}/dst/dir1/sub/deep`)).toBe('deep\n')
  })

  it('H: the contents of a directory to a new name', async () => {
    await copyResource(`${a}/dir1/.`, `${b}/new`, false)
    expect(read(`${b}/new/file1-1`)).toBe('file1-1\n')
  })

  it('I: the contents of a directory over a file', async () => {
    writeFileSync(`${b}/file1`, 'x')
    await expect(copyResource(`${a}/dir1/.`, `${b}/file1`, false)).rejects.toThrow(/^cannot copy directory$/)
  })

  it('J: the contents of a directory into a directory, which keeps its own mode', async () => {
    mkdirSync(`${b}/dst`, 0o700)
    chmodSync(`${b}/dst`, 0o700)
    writeFileSync(`${b}/dst/kept`, 'k')
    await copyResource(`${a}/dir1/.`, `${b}/dst`, false)
    expect(read(`${b}/dst/file1-1`)).toBe('file1-1\n')
    expect(read(`${b}/dst/kept`)).toBe('k')
    expect(statSync(`${b}/dst`).mode & 0o7777).toBe(0o700)
  })
})

describe('symlinks', () => {
  it('copies a symlink as a symlink unless told to follow it', async () => {
    await copyResource(`${a}/symlinkToDir1`, `${b}/link`, false)
    expect(readlinkSync(`${b}/link`)).toBe('dir1')
    await copyResource(`${a}/symlinkToDir1`, `${b}/followed`, true)
    expect(read(`${b}/followed/sub/deep`)).toBe('deep\n')
  })

  it('keeps the link name for a followed link copied into a directory', async () => {
    await copyResource(`${a}/symlinkToDir1`, b, true)
    expect(lstatSync(`${b}/symlinkToDir1`).isDirectory()).toBe(true)
    await copyResource(`${a}/symlinkToFile1`, `${b}/`, true)
    expect(read(`${b}/symlinkToFile1`)).toBe('file1\n')
  })

  it('follows a trailing slash on a symlink to a directory', async () => {
    const src = await copyInfoSourcePath(`${a}/symlinkToDir1/`, false)
    expect(src).toEqual({ path: `${a}/dir1/`, exists: true, isDir: true, rebaseName: 'symlinkToDir1' })
    await copyResource(`${a}/symlinkToDir1/`, `${b}/x`, false)
    expect(read(`${b}/x/file1-1`)).toBe('file1-1\n')
  })

  it('writes through a destination symlink without touching it', async () => {
    writeFileSync(`${b}/target`, 'old')
    symlinkSync('target', `${b}/toFile`)
    symlinkSync('dirX', `${b}/broken`)
    mkdirSync(`${b}/d`)
    symlinkSync('d', `${b}/toDir`)
    await copyResource(`${a}/file2`, `${b}/toFile`, false)
    expect(readlinkSync(`${b}/toFile`)).toBe('target')
    expect(read(`${b}/target`)).toBe('file2\n')
    await copyResource(`${a}/dir1`, `${b}/broken`, false)
    expect(read(`${b}/dirX/file1-1`)).toBe('file1-1\n')
    await copyResource(`${a}/file1`, `${b}/toDir`, false)
    expect(read(`${b}/d/file1`)).toBe('file1\n')
    expect(await copyInfoDestinationPath(`${b}/toDir`)).toEqual({ path: `${b}/d`, exists: true, isDir: true, rebaseName: '' })
  })

  it('evaluates symlinks element by element as Go does', async () => {
    expect(await evalSymlinks(`${a}/symlinkToDir1/sub/../file1-1`)).toBe(`${a}/dir1/file1-1`)
    await expect(evalSymlinks(`${a}/nope/x`)).rejects.toThrow(`lstat ${a}/nope: no such file or directory`)
    await expect(evalSymlinks(`${a}/file1/`)).rejects.toThrow(/^not a directory$/)
  })
})

describe('errors as docker prints them', () => {
  it('names the missing source, a file used as a directory, and a missing parent', async () => {
    await expect(copyResource(`${a}/nope`, `${b}/x`, false)).rejects.toThrow(`lstat ${a}/nope: no such file or directory`)
    // EvalSymlinks' bare ENOTDIR, without a path.
    await expect(copyResource(`${a}/file1/`, `${b}/x`, false)).rejects.toThrow(/^not a directory$/)
    await expect(copyResource(`${a}/file1`, `${b}/fakeParent/file1`, false)).rejects.toThrow(`stat ${b}/fakeParent: no such file or directory`)
    writeFileSync(`${b}/file`, 'x')
    await expect(copyResource(`${a}/file1`, `${b}/file/`, false)).rejects.toThrow(`lstat ${b}/file/: not a directory`)
  })

  it('checks a local destination as ValidateOutputPath', async () => {
    await expect(validateOutputPath(`${b}/none/x`)).rejects.toThrow(`invalid output path: directory "${b}/none" does not exist`)
    await expect(validateOutputPath('/dev/null')).rejects.toThrow('invalid output path: "/dev/null" must be a directory or a regular file: got a device')
    await expect(validateOutputPath(`${b}/new`)).resolves.toBeUndefined()
    await expect(validateOutputPath(`${b}/`)).resolves.toBeUndefined()
  })

  it('never replaces a directory by a file nor the reverse; what came before is extracted', async () => {
    mkdirSync(`${b}/dir1/sub/deep`, { recursive: true })
    await expect(copyResource(`${a}/dir1`, b, false)).rejects.toThrow(`cannot overwrite directory "${b}/dir1/sub/deep" with non-directory "${b}"`)
    expect(read(`${b}/dir1/file1-1`)).toBe('file1-1\n')
    rmSync(`${b}/dir1`, { recursive: true })
    writeFileSync(`${b}/dir1`, 'x')
    await expect(copyResource(`${a}/dir1`, b, false)).rejects.toThrow(`cannot overwrite non-directory "${b}/dir1" with directory "${b}"`)
  })
})

/** A synthetic archive, as a daemon might send it. */
function entriesOf(headers: TarHeader[]): AsyncGenerator<TarEntry> {
  const parts: Buffer[] = []
  for (const h of headers) {
    const body = h.type === 'file' ? Buffer.from('data') : Buffer.alloc(0)
    parts.push(encodeHeader({ ...h, size: body.length }), body, padding(body.length))
  }
  parts.push(END_OF_ARCHIVE)
  return readEntries(Readable.from([Buffer.concat(parts)]))
}

describe('extraction', () => {
  const dirInfo = { path: '/c/d', exists: true, isDir: true, rebaseName: '' }

  it('keeps modes, mtimes and hard links; owners are the caller', async () => {
    chmodSync(`${a}/dir1/file1-1`, 0o640)
    utimesSync(`${a}/dir1/file1-1`, 1_000_000, 1_000_000)
    linkSync(`${a}/dir1/file1-1`, `${a}/dir1/hard`)
    await copyResource(`${a}/dir1`, `${b}/out`, false)
    const st = statSync(`${b}/out/file1-1`)
    expect(st.mode & 0o7777).toBe(0o640)
    expect(st.mtimeMs).toBe(1_000_000_000)
    expect(st.ino).toBe(statSync(`${b}/out/hard`).ino)
    expect(st.uid).toBe(process.getuid?.())
  })

  it('leaves the owner of a directory it merges into', async (ctx) => {
    if (process.getuid?.() !== 0) return ctx.skip()
    mkdirSync(`${b}/dir1`)
    chownSync(`${b}/dir1`, 1234, 1235)
    await copyResource(`${a}/dir1`, b, false)
    expect(statSync(`${b}/dir1`)).toMatchObject({ uid: 1234, gid: 1235 })
    expect(statSync(`${b}/dir1/sub`)).toMatchObject({ uid: 0, gid: 0 })
  })

  it('refuses names and links that leave the destination', async () => {
    await expect(copyTo(entriesOf([newHeader('../x', 'file')]), dirInfo, b)).rejects.toThrow(`"../x" is outside of "${b}"`)
    await expect(copyTo(entriesOf([newHeader('d/', 'dir'), newHeader('d/up', 'symlink', { linkname: '../../x' })]), dirInfo, b)).rejects.toThrow(`invalid symlink "${b}/d/up" -> "../../x"`)
    await expect(copyTo(entriesOf([newHeader('h', 'link', { linkname: '../x' })]), dirInfo, b)).rejects.toThrow(`invalid hardlink "${base}/x" -> "../x"`)
    expect(existsSync(`${base}/x`)).toBe(false)
  })

  it('takes absolute names and absolute symlinks as inside the destination', async () => {
    await copyTo(entriesOf([newHeader('/d/', 'dir'), newHeader('/d/f', 'file'), newHeader('/d/abs', 'symlink', { linkname: '/etc/passwd' })]), dirInfo, b)
    expect(read(`${b}/d/f`)).toBe('data')
    expect(readlinkSync(`${b}/d/abs`)).toBe('/etc/passwd')
  })
})

describe('the uploaded tar (TarResource)', () => {
  const names = async (p: string, rebase = ''): Promise<string[]> => {
    const out: string[] = []
    for await (const e of tarResource(p, rebase)) out.push(e.header.name)
    return out
  }

  it('names entries from the parent, "./" for a "dir/." source, in lexical order', async () => {
    expect(await names(`${a}/dir1`)).toEqual(['dir1/', 'dir1/file1-1', 'dir1/sub/', 'dir1/sub/deep'])
    expect(await names(`${a}/dir1/.`)).toEqual(['./', './file1-1', './sub/', './sub/deep'])
    expect(await names(`${a}/dir1`, 'renamed')).toEqual(['renamed/', 'renamed/file1-1', 'renamed/sub/', 'renamed/sub/deep'])
    expect(await names(`${a}/file1`)).toEqual(['file1'])
    expect(await names(`${a}/symlinkToDir1`)).toEqual(['symlinkToDir1'])
  })

  it('sends owners and whole-second mtimes as on disk', async () => {
    utimesSync(`${a}/file1`, 5.5, 5.5)
    const entries: TarEntry[] = []
    for await (const e of tarResource(`${a}/file1`)) entries.push(e)
    expect(entries[0]?.header).toMatchObject({ type: 'file', size: 6, mtime: 5, uid: process.getuid?.(), mode: statSync(`${a}/file1`).mode & 0o7777 })
  })
})

describe('export -o (atomicwriter)', () => {
  it('renames into place only after data was written', async () => {
    const w = await AtomicFileWriter.open(`${b}/out.tar`, 0o600)
    await w.write(Buffer.from('tar'))
    expect(existsSync(`${b}/out.tar`)).toBe(false)
    await w.close()
    expect(read(`${b}/out.tar`)).toBe('tar')
    expect(statSync(`${b}/out.tar`).mode & 0o777).toBe(0o600)
    const empty = await AtomicFileWriter.open(`${b}/empty.tar`, 0o600)
    await empty.close()
    expect(existsSync(`${b}/empty.tar`)).toBe(false)
    symlinkSync('out.tar', `${b}/link.tar`)
    await expect(AtomicFileWriter.open(`${b}/link.tar`, 0o600)).rejects.toThrow('cannot write to a symbolic link directly')
  })
})
