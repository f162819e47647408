import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { encodeHeader, END_OF_ARCHIVE, newHeader, padding, TarReader, type TarHeader } from '../../archive/index.js'
import { GO_MODE } from '../../lib/index.js'
import { encodeEntries, prepareArchiveCopy, readEntries, rebaseEntries, splitCpArg, successLine, type CopyInfo } from '../copy/index.js'
import { cpCommand, exportCommand, fileModeProblem } from './cp.js'

const ctx = { path: 'cp', globals: {} }

const info = (path: string, o: Partial<CopyInfo> = {}): CopyInfo => ({ path, exists: false, isDir: false, rebaseName: '', ...o })

/** A tar of the given entries; files carry their name as content. */
function tarOf(headers: TarHeader[]): Buffer {
  const parts: Buffer[] = []
  for (const h of headers) {
    const body = h.type === 'file' ? Buffer.from(h.name) : Buffer.alloc(0)
    parts.push(encodeHeader({ ...h, size: body.length }), body, padding(body.length))
  }
  parts.push(END_OF_ARCHIVE)
  return Buffer.concat(parts)
}

async function listTar(bytes: AsyncIterable<Buffer>): Promise<Array<{ name: string; type: string; linkname: string; body: string }>> {
  const r = new TarReader(bytes)
  const out: Array<{ name: string; type: string; linkname: string; body: string }> = []
  for (let h = await r.next(); h; h = await r.next()) {
    const chunks: Buffer[] = []
    for await (const c of r.body()) chunks.push(c)
    out.push({ name: h.name, type: h.type, linkname: h.linkname, body: Buffer.concat(chunks).toString() })
  }
  return out
}

describe('cp arguments', () => {
  it('refuses what docker refuses before talking to the daemon', async () => {
    await expect(cpCommand(['', 'c:/x'], {}, ctx)).rejects.toThrow('source can not be empty')
    await expect(cpCommand(['c:/x', ''], {}, ctx)).rejects.toThrow('destination can not be empty')
    await expect(cpCommand(['a:/x', 'b:/y'], {}, ctx)).rejects.toThrow('copying between containers is not supported')
    await expect(cpCommand(['/x', './y:z'], {}, ctx)).rejects.toThrow('must specify at least one container source')
    await expect(cpCommand([':x', 'y'], {}, ctx)).rejects.toThrow('must specify at least one container source')
  })

  it('tells a container path from a local one', () => {
    expect(splitCpArg('c1:/etc')).toEqual({ container: 'c1', path: '/etc' })
    expect(splitCpArg('/tmp/a:b')).toEqual({ container: '', path: '/tmp/a:b' })
    expect(splitCpArg('.hidden:b')).toEqual({ container: '', path: '.hidden:b' })
  })

  it('tells what was copied in go-units sizes', () => {
    expect(successLine(2048, 'c:/tmp/')).toBe('Successfully copied 2.05kB to c:/tmp/\n')
    expect(successLine(0, '/x')).toBe('Successfully copied 0B to /x\n')
    expect(successLine(300_011_520, '/x')).toBe('Successfully copied 300MB to /x\n')
  })

  it('refuses a container destination that is a device or irregular', () => {
    expect(fileModeProblem(GO_MODE.device + GO_MODE.charDevice + 0o666)).toBe('got a device')
    expect(fileModeProblem(GO_MODE.irregular)).toBe('got an irregular file')
    expect(fileModeProblem(GO_MODE.dir + 0o755)).toBeUndefined()
    expect(fileModeProblem(GO_MODE.symlink + 0o777)).toBeUndefined()
    expect(fileModeProblem(0o644)).toBeUndefined()
  })

  it('checks export -o before asking for the container, and leaves no file on failure', async () => {
    await expect(exportCommand(['c'], { output: '/nonexistent-dir/x.tar' }, ctx)).rejects.toThrow('failed to export container: invalid output path: stat /nonexistent-dir: no such file or directory')
    await expect(exportCommand(['c'], { output: '/' }, ctx)).rejects.toThrow('failed to export container: cannot write to a directory')
    const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-export-'))
    try {
      await expect(exportCommand(['  '], { output: path.join(dir, 'x.tar') }, ctx)).rejects.toThrow('invalid container name or ID: value is empty')
      expect(readdirSync(dir)).toEqual([])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('where a copy lands (PrepareArchiveCopy)', () => {
  // The ten cases of docker's integration-cli cp tests, A to J.
  it('extracts into an existing directory as is', () => {
    expect(prepareArchiveCopy(info('/src/f', { exists: true }), info('/dst', { exists: true, isDir: true }))).toEqual({ dstDir: '/dst' })
    expect(prepareArchiveCopy(info('/src/d', { exists: true, isDir: true }), info('/dst/', { exists: true, isDir: true }))).toEqual({ dstDir: '/dst/' })
    expect(prepareArchiveCopy(info('/src/d/.', { exists: true, isDir: true }), info('/dst/.', { exists: true, isDir: true }))).toEqual({ dstDir: '/dst/.' })
  })

  it('renames a file to a new or existing file name', () => {
    expect(prepareArchiveCopy(info('/src/f', { exists: true }), info('/dst/new'))).toEqual({ dstDir: '/dst', rebase: { from: 'f', to: 'new' } })
    expect(prepareArchiveCopy(info('/src/f', { exists: true }), info('/dst/old', { exists: true }))).toEqual({ dstDir: '/dst', rebase: { from: 'f', to: 'old' } })
  })

  it('makes a directory under the new name, its contents only for "dir/."', () => {
    expect(prepareArchiveCopy(info('/src/d', { exists: true, isDir: true }), info('/dst/new'))).toEqual({ dstDir: '/dst', rebase: { from: 'd', to: 'new' } })
    expect(prepareArchiveCopy(info('/src/d/.', { exists: true, isDir: true }), info('/dst/new/'))).toEqual({ dstDir: '/dst', rebase: { from: '.', to: 'new' } })
  })

  it('takes a followed link under the link name', () => {
    expect(prepareArchiveCopy(info('/data/target', { exists: true, rebaseName: 'link' }), info('/dst/x'))).toEqual({ dstDir: '/dst', rebase: { from: 'link', to: 'x' } })
  })

  it('refuses a directory over a file and a file into a missing directory', () => {
    expect(() => prepareArchiveCopy(info('/src/d', { exists: true, isDir: true }), info('/dst/file', { exists: true }))).toThrow(/^cannot copy directory$/)
    expect(() => prepareArchiveCopy(info('/src/d/.', { exists: true, isDir: true }), info('/dst/file', { exists: true }))).toThrow(/^cannot copy directory$/)
    expect(() => prepareArchiveCopy(info('/src/f', { exists: true }), info('/dst/missing/'))).toThrow(/^no such directory$/)
    expect(() => prepareArchiveCopy(info('/src/f', { exists: true }), info('/dst/missing/.'))).toThrow(/^no such directory$/)
  })
})

describe('rebasing a tar (RebaseArchiveEntries)', () => {
  it('renames the top element, hard-link targets too, and keeps the data', async () => {
    const long = `dir/${'x'.repeat(150)}/file`
    const src = tarOf([
      newHeader('dir/', 'dir'),
      newHeader('dir/a', 'file', { mode: 0o640, uid: 7, gid: 8, mtime: 1234 }),
      newHeader('dir/hard', 'link', { linkname: 'dir/a' }),
      newHeader('dir/sym', 'symlink', { linkname: 'dir/a' }),
      newHeader(long, 'file'),
      newHeader('dirx', 'file'),
    ])
    const out = await listTar(encodeEntries(rebaseEntries(readEntries(Readable.from([src])), 'dir', `n${'y'.repeat(120)}`)))
    const n = `n${'y'.repeat(120)}`
    expect(out.map((e) => e.name)).toEqual([`${n}/`, `${n}/a`, `${n}/hard`, `${n}/sym`, `${n}/${'x'.repeat(150)}/file`, 'dirx'])
    expect(out[1]?.body).toBe('dir/a')
    expect(out[2]).toMatchObject({ type: 'link', linkname: `${n}/a` })
    // A symlink's target is a path in the file system, not an entry name.
    expect(out[3]).toMatchObject({ type: 'symlink', linkname: 'dir/a' })
    expect(out[4]?.body).toBe(long)
  })

  it('rebases "./" names of a "dir/." archive', async () => {
    const src = tarOf([newHeader('./', 'dir'), newHeader('./f', 'file')])
    const out = await listTar(encodeEntries(rebaseEntries(readEntries(Readable.from([src])), '.', 'copy')))
    expect(out.map((e) => e.name)).toEqual(['copy/', 'copy/f'])
  })
})
