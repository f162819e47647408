import { describe, expect, it } from 'vitest'
import { MediaType } from '../../oci/index.js'
import { RegistryError } from './errors.js'
import { parseManifest } from './manifest.js'

const d = (c: string) => 'sha256:' + c.repeat(64)
const enc = (v: unknown) => Buffer.from(JSON.stringify(v))
const desc = (c: string, extra: Record<string, unknown> = {}) => ({ mediaType: 'x', digest: d(c), size: 1, ...extra })

function code(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (e) {
    return e instanceof RegistryError ? e.code : 'other'
  }
  return undefined
}

describe('parseManifest', () => {
  it('lists config and layers of an image manifest, skipping foreign layers', () => {
    const m = parseManifest(
      enc({ schemaVersion: 2, config: desc('a'), layers: [desc('b'), desc('c', { urls: ['https://example.invalid/l'] })] }),
      MediaType.dockerManifest,
    )
    expect(m.mediaType).toBe(MediaType.dockerManifest)
    expect(m.blobs.map((b) => b.digest)).toEqual([d('a'), d('b')])
    expect(m.manifests).toEqual([])
  })
  it('lists the children of an index and reads subject and artifactType', () => {
    const m = parseManifest(
      enc({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [desc('a')], subject: desc('f'), artifactType: 'x/y' }),
      undefined,
    )
    expect(m.mediaType).toBe(MediaType.ociIndex)
    expect(m.manifests.map((x) => x.digest)).toEqual([d('a')])
    expect(m.subject?.digest).toBe(d('f'))
    expect(m.artifactType).toBe('x/y')
  })
  it('takes the config media type as artifactType when none is given', () => {
    const m = parseManifest(enc({ schemaVersion: 2, config: desc('a', { mediaType: 'cfg/type' }), layers: [] }), MediaType.ociManifest)
    expect(m.artifactType).toBe('cfg/type')
  })
  it('refuses bad manifests with MANIFEST_INVALID', () => {
    expect(code(() => parseManifest(Buffer.from('nope'), undefined))).toBe('MANIFEST_INVALID')
    expect(code(() => parseManifest(enc([]), undefined))).toBe('MANIFEST_INVALID')
    expect(code(() => parseManifest(enc({ schemaVersion: 1, config: desc('a') }), MediaType.ociManifest))).toBe('MANIFEST_INVALID')
    expect(code(() => parseManifest(enc({ schemaVersion: 2, config: desc('a') }), 'text/plain'))).toBe('MANIFEST_INVALID')
    expect(
      code(() => parseManifest(enc({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: desc('a') }), MediaType.dockerManifest)),
    ).toBe('MANIFEST_INVALID')
    expect(code(() => parseManifest(enc({ schemaVersion: 2, config: { digest: 'sha256:zz', size: 1 } }), undefined))).toBe('MANIFEST_INVALID')
    expect(code(() => parseManifest(enc({ schemaVersion: 2, mediaType: MediaType.ociIndex }), undefined))).toBe('MANIFEST_INVALID')
  })
})
