import { describe, expect, it } from 'vitest'
import { encodeHeader, newHeader, TarReader } from './tar.js'

async function entries(buf: Buffer): Promise<Array<[string, string]>> {
  const r = new TarReader((async function* () { yield buf })())
  const out: Array<[string, string]> = []
  for (let h = await r.next(); h; h = await r.next()) {
    const parts: Buffer[] = []
    for await (const c of r.body()) parts.push(c)
    out.push([h.name, Buffer.concat(parts).toString()])
  }
  return out
}

describe('TarReader', () => {
  const data = Buffer.from('hello\n')
  const header = encodeHeader(newHeader('a.txt', 'file', { size: data.length }))

  it('takes an archive that stops right after the last file\'s data as ended (the docker CLI\'s build context)', async () => {
    expect(await entries(Buffer.concat([header, data]))).toEqual([['a.txt', 'hello\n']])
  })

  it('still refuses padding cut short and data cut short', async () => {
    await expect(entries(Buffer.concat([header, data, Buffer.alloc(10)]))).rejects.toThrow(/unexpected end of archive/)
    await expect(entries(Buffer.concat([header, data.subarray(0, 3)]))).rejects.toThrow(/unexpected end of archive/)
  })
})
