import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { encodeHeader, END_OF_ARCHIVE, newHeader, padding, TarReader } from '../archive/index.js'
import { mapTarOwners } from './userns-storage.js'
import { idMapsOf, toContainer } from './userns.js'

async function entries(tar: AsyncIterable<Uint8Array>): Promise<Array<{ name: string; uid: number; gid: number; body: string }>> {
  const r = new TarReader(tar)
  const out: Array<{ name: string; uid: number; gid: number; body: string }> = []
  for (let h = await r.next(); h; h = await r.next()) {
    const chunks: Buffer[] = []
    if (h.type === 'file') for await (const c of r.body()) chunks.push(Buffer.from(c))
    out.push({ name: h.name, uid: h.uid, gid: h.gid, body: Buffer.concat(chunks).toString() })
  }
  return out
}

describe('tar owners through an id mapping', () => {
  it('maps owners inside the range, keeps others, and keeps every body', async () => {
    const body = Buffer.from('hello')
    const tar = Readable.from([
      encodeHeader(newHeader('dir', 'dir', { uid: 100000, gid: 100000, mode: 0o755 })),
      encodeHeader(newHeader('dir/f', 'file', { uid: 100005, gid: 100006, mode: 0o644, size: body.length })),
      body,
      padding(body.length),
      encodeHeader(newHeader('outside', 'file', { uid: 0, gid: 0, mode: 0o644, size: 0 })),
      END_OF_ARCHIVE,
    ])
    const maps = idMapsOf([{ start: 100000, count: 65536 }])
    const got = await entries(mapTarOwners(tar, (id) => toContainer(id, maps)))
    expect(got).toEqual([
      { name: 'dir/', uid: 0, gid: 0, body: '' },
      { name: 'dir/f', uid: 5, gid: 6, body: 'hello' },
      { name: 'outside', uid: 0, gid: 0, body: '' },
    ])
  })
})
