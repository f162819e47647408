import { describe, expect, it } from 'vitest'
import { encodeHeader, END_OF_ARCHIVE, newHeader, padding, TarReader } from './tar.js'

function archive(files: Array<[string, Buffer]>): Buffer {
  return Buffer.concat([...files.flatMap(([name, data]) => [encodeHeader(newHeader(name, 'file', { size: data.length })), data, padding(data.length)]), END_OF_ARCHIVE])
}

async function read(chunks: Iterable<Uint8Array>): Promise<Array<[string, Buffer]>> {
  const r = new TarReader((async function* () { yield* chunks })())
  const out: Array<[string, Buffer]> = []
  for (let h = await r.next(); h; h = await r.next()) {
    const parts: Buffer[] = []
    for await (const c of r.body()) parts.push(c)
    out.push([h.name, Buffer.concat(parts)])
  }
  return out
}

/** The same bytes cut every n bytes, as plain Uint8Arrays (views on one buffer) or as Buffers. */
function cut(b: Buffer, n: number, plain: boolean): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let i = 0; i < b.length; i += n) {
    const s = b.subarray(i, i + n)
    out.push(plain ? new Uint8Array(s.buffer, s.byteOffset, s.length) : s)
  }
  return out
}

describe('TarReader over chunks', () => {
  const files: Array<[string, Buffer]> = [
    ['a', Buffer.from('x'.repeat(700))],
    ['b/' + 'long/'.repeat(30) + 'name', Buffer.from('hello')],
    ['c', Buffer.alloc(0)],
    ['d', Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251))],
  ]
  const tar = archive(files)

  it.each([1, 7, 511, 512, 513, 1000, 4096, tar.length])('reads the same entries whatever the chunk size (%i)', async (n) => {
    expect(await read(cut(tar, n, false))).toEqual(files)
    expect(await read(cut(tar, n, true))).toEqual(files)
  })

  it('skips empty chunks', async () => {
    const chunks = cut(tar, 300, false).flatMap((c) => [Buffer.alloc(0), c])
    expect(await read(chunks)).toEqual(files)
  })

  it('hands out data without copying the chunks it came in', async () => {
    const chunk = Buffer.from(tar)
    const r = new TarReader((async function* () { yield chunk })())
    await r.next()
    for await (const c of r.body()) expect(c.buffer).toBe(chunk.buffer)
  })
})
