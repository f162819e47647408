import { gunzipSync, inflateSync } from 'node:zlib'

import { describe, expect, it } from 'vitest'

import { chunkGelf, compressGelf, encodeGelfMessage, frameGelfTCP, gelfChunkCount, gelfExtra } from './gelf.js'
import { LogInfo } from './info.js'

const ID = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'
const info = new LogInfo({
  config: { labels: 'com.x', env: '_PRE', tag: '{{.Name}}' },
  containerID: ID,
  containerName: '/web',
  containerEntrypoint: 'sh',
  containerArgs: ['-c', 'echo hi'],
  containerImageID: 'sha256:abc',
  containerImageName: 'busybox',
  containerCreated: new Date(Date.UTC(2026, 0, 1)),
  containerLabels: { 'com.x': 'y' },
  containerEnv: ['_PRE=<v>'],
})
const ts = { ms: 1767225600123, nanos: 999999 }

describe('gelf', () => {
  it('builds the extra fields, sorted, attrs prefixed with _', () => {
    expect(gelfExtra(info)).toBe(
      `{"_PRE":"\\u003cv\\u003e","_com.x":"y","_command":"sh -c echo hi","_container_id":"${ID}","_container_name":"web",` +
        `"_created":"2026-01-01T00:00:00Z","_image_id":"sha256:abc","_image_name":"busybox","_tag":"web"}`,
    )
  })

  it('encodes a GELF 1.1 document', () => {
    const extra = gelfExtra(info)
    const doc = encodeGelfMessage({ line: Buffer.from('hello <b>'), source: 'stderr', timestamp: ts }, 'node1', extra)
    expect(doc?.toString()).toBe(
      '{"version":"1.1","host":"node1","short_message":"hello \\u003cb\\u003e","timestamp":1767225600.123,"level":3,' +
        extra.slice(1),
    )
    const out = encodeGelfMessage({ line: Buffer.from('x'), source: 'stdout', timestamp: { ms: 1767225600000 } }, 'h', '{}')
    expect(out?.toString()).toBe('{"version":"1.1","host":"h","short_message":"x","timestamp":1767225600,"level":6}')
    expect(encodeGelfMessage({ line: Buffer.alloc(0), source: 'stdout', timestamp: ts }, 'h', '{}')).toBeUndefined()
  })

  it('compresses as the receiver expects', () => {
    const doc = Buffer.from('{"version":"1.1"}')
    const gz = compressGelf(doc)
    expect([...gz.subarray(0, 2)]).toEqual([0x1f, 0x8b])
    expect(gunzipSync(gz).toString()).toBe(doc.toString())
    const z = compressGelf(doc, 'zlib', 9)
    expect(z[0]).toBe(0x78)
    expect(inflateSync(z).toString()).toBe(doc.toString())
    expect(compressGelf(doc, 'none')).toEqual(doc)
    expect(gunzipSync(compressGelf(doc, 'gzip', -1)).toString()).toBe(doc.toString())
  })

  it('chunks like go-gelf', () => {
    const id = Buffer.from('0102030405060708', 'hex')
    expect(chunkGelf(Buffer.alloc(1420, 1), id)).toEqual([Buffer.alloc(1420, 1)])
    const payload = Buffer.alloc(1421)
    for (let i = 0; i < payload.length; i++) payload[i] = i & 0xff
    const chunks = chunkGelf(payload, id)
    expect(chunks.map((c) => c.length)).toEqual([1420, 12 + 13])
    expect([...chunks[0]!.subarray(0, 12)]).toEqual([0x1e, 0x0f, 1, 2, 3, 4, 5, 6, 7, 8, 0, 2])
    expect([...chunks[1]!.subarray(0, 12)]).toEqual([0x1e, 0x0f, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2])
    expect(Buffer.concat(chunks.map((c) => c.subarray(12)))).toEqual(payload)
    // A multiple of 1408 gets an empty final chunk, as go-gelf's count does.
    expect(gelfChunkCount(2816)).toBe(3)
    expect(chunkGelf(Buffer.alloc(2816), id).map((c) => c.length)).toEqual([1420, 1420, 12])
    expect(gelfChunkCount(128 * 1408 - 1)).toBe(128)
    expect(() => chunkGelf(Buffer.alloc(128 * 1408), id)).toThrow('msg too large, would need 129 chunks')
  })

  it('frames TCP with a NUL', () => {
    expect([...frameGelfTCP(Buffer.from('{}'))]).toEqual([0x7b, 0x7d, 0])
  })
})
