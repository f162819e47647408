import { mkdtempSync, promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { sha256 } from '../oci/index.js'
import { LocalContentStore } from './local.js'

let root: string
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'berth-content-'))
})
afterEach(() => fsp.rm(root, { recursive: true, force: true }))

async function* chunks(...parts: string[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield Buffer.from(p)
}

describe('LocalContentStore', () => {
  it('ingests a stream under its digest and reads it back', async () => {
    const s = await LocalContentStore.open(root)
    const info = await s.ingest(chunks('hello ', 'world'))
    expect(info).toEqual({ digest: sha256('hello world'), size: 11 })
    expect((await s.readAll(info.digest)).toString()).toBe('hello world')
    expect(s.path(info.digest)).toBe(path.join(root, 'blobs/sha256', info.digest.slice(7)))
    const parts: Buffer[] = []
    for await (const c of await s.read(info.digest)) parts.push(c as Buffer)
    expect(Buffer.concat(parts).toString()).toBe('hello world')
    expect(await s.list()).toEqual([info])
  })

  it('keeps nothing when the digest does not match', async () => {
    const s = await LocalContentStore.open(root)
    await expect(s.ingest(chunks('abc'), { expected: sha256('xyz') })).rejects.toThrow(/digest mismatch/)
    expect(await s.list()).toEqual([])
    expect(await fsp.readdir(path.join(root, 'blobs/ingest'))).toEqual([])
  })

  it('lets two writers of one blob both succeed', async () => {
    const s = await LocalContentStore.open(root)
    const [a, b] = await Promise.all([s.ingestBytes(Buffer.from('same')), s.ingestBytes(Buffer.from('same'))])
    expect(a).toEqual(b)
    expect(await s.list()).toHaveLength(1)
  })

  it('enforces a size limit, stats, deletes and reports missing blobs', async () => {
    const s = await LocalContentStore.open(root)
    await expect(s.ingest(chunks('toolong'), { maxSize: 3 })).rejects.toThrow(/larger than 3/)
    const info = await s.ingestBytes(Buffer.from('x'))
    expect(await s.stat(info.digest)).toEqual(info)
    await s.delete(info.digest)
    expect(await s.stat(info.digest)).toBeNull()
    await expect(s.readAll(info.digest)).rejects.toThrow(/not found/)
    expect(() => s.path('sha256:../../etc')).toThrow(/invalid digest/)
  })

  it('clears temp files a crash left behind', async () => {
    await LocalContentStore.open(root)
    await fsp.writeFile(path.join(root, 'blobs/ingest/partial'), 'half')
    await LocalContentStore.open(root)
    expect(await fsp.readdir(path.join(root, 'blobs/ingest'))).toEqual([])
  })

  it('adopts a file by linking it: hashed unless verified, refused when it is not the digest, once when two adopt it', async () => {
    const s = await LocalContentStore.open(root)
    const file = path.join(root, 'spooled')
    await fsp.writeFile(file, 'layer bytes', { mode: 0o600 })
    const digest = sha256('layer bytes')
    await expect(s.adopt(file, sha256('other bytes'))).rejects.toThrow(/digest mismatch: expected sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}/)
    expect(await s.stat(sha256('other bytes'))).toBeNull()
    expect(await s.adopt(file, digest)).toEqual({ digest, size: 11 })
    const st = await fsp.stat(s.path(digest))
    expect(st.ino).toBe((await fsp.stat(file)).ino)
    expect(st.mode & 0o777).toBe(0o644)
    // A second adopter of the same bytes (verified elsewhere) finds the blob there.
    const again = path.join(root, 'again')
    await fsp.writeFile(again, 'layer bytes')
    expect(await s.adopt(again, digest, { verified: true })).toEqual({ digest, size: 11 })
    await fsp.rm(file)
    expect((await s.readAll(digest)).toString()).toBe('layer bytes')
  })
})
