import { describe, expect, it } from 'vitest'
import { MediaType, sha256 } from '../../oci/index.js'
import { Parts, pushScopes, schema2Manifest, withDigest } from './push.js'

describe('push client', () => {
  it('serializes a schema2 manifest as docker does (three-space indent, docker key order)', () => {
    const config = { mediaType: MediaType.dockerConfig, digest: `sha256:${'1'.repeat(64)}`, size: 1457 }
    const layer = { mediaType: MediaType.dockerLayerGzip, digest: `sha256:${'2'.repeat(64)}`, size: 2590377 }
    const raw = schema2Manifest(config, [layer])
    expect(raw.toString()).toBe([
      '{',
      '   "schemaVersion": 2,',
      '   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",',
      '   "config": {',
      '      "mediaType": "application/vnd.docker.container.image.v1+json",',
      '      "size": 1457,',
      `      "digest": "${config.digest}"`,
      '   },',
      '   "layers": [',
      '      {',
      '         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",',
      '         "size": 2590377,',
      `         "digest": "${layer.digest}"`,
      '      }',
      '   ]',
      '}',
    ].join('\n'))
    // No trailing newline: Go's MarshalIndent adds none, and the size line counts these bytes.
    expect(raw.at(-1)).toBe(0x7d)
    expect(sha256(raw)).toMatch(/^sha256:[a-f0-9]{64}$/)
  })

  it('asks for push on the target and pull on mount sources', () => {
    expect(pushScopes('tools/b', ['tools/a', 'tools/b', 'tools/a'])).toEqual(['repository:tools/b:pull,push', 'repository:tools/a:pull'])
  })

  it('adds the digest to an upload URL, keeping the registry state query', () => {
    const d = `sha256:${'3'.repeat(64)}`
    expect(withDigest('http://127.0.0.1:5000/v2/x/blobs/uploads/u?_state=abc', d)).toBe(`http://127.0.0.1:5000/v2/x/blobs/uploads/u?_state=abc&digest=sha256%3A${'3'.repeat(64)}`)
    expect(() => withDigest('http://h/u', 'nope')).toThrow('invalid blob digest')
  })
})

describe('upload parts', () => {
  const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256))
  const chunks = (n: number) => Array.from({ length: Math.ceil(bytes.length / n) }, (_, i) => bytes.subarray(i * n, (i + 1) * n))
  const collect = async (it: AsyncIterable<Uint8Array>) => {
    const out: Uint8Array[] = []
    for await (const c of it) out.push(c)
    return out
  }

  it('cuts a source into parts of the asked lengths, splitting chunks without copying', async () => {
    const src = chunks(300)
    const p = new Parts(src)
    const a = await collect(p.take(450))
    const b = await collect(p.take(550))
    expect(Buffer.concat(a)).toEqual(bytes.subarray(0, 450))
    expect(Buffer.concat(b)).toEqual(bytes.subarray(450))
    expect(a[1]?.buffer).toBe(bytes.buffer)
    expect(p.read).toBe(1000)
    expect(await p.atEnd()).toBe(true)
  })

  it('says when the source is short or holds more', async () => {
    const short = new Parts(chunks(300))
    await expect(collect(short.take(1001))).rejects.toThrow(/source ended 1 bytes/)
    expect(short.short).toBe(true)
    const long = new Parts(chunks(300))
    await collect(long.take(999))
    expect(await long.atEnd()).toBe(false)
  })
})
