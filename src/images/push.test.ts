import { describe, expect, it } from 'vitest'
import { parseNormalizedNamed } from '../oci/index.js'
import { layerStatus, pushDone, pushRefersTo } from './push.js'

describe('push progress messages', () => {
  it('are docker JSON messages', () => {
    expect(pushRefersTo(parseNormalizedNamed('busybox'))).toEqual({ status: 'The push refers to repository [docker.io/library/busybox]' })
    expect(pushRefersTo(parseNormalizedNamed('127.0.0.1:5000/tools/busybox:1.35'))).toEqual({ status: 'The push refers to repository [127.0.0.1:5000/tools/busybox]' })
    const diffId = `sha256:${'ab'.repeat(32)}`
    expect(layerStatus(diffId, 'Preparing')).toEqual({ status: 'Preparing', progressDetail: {}, id: 'abababababab' })
    const d = `sha256:${'c'.repeat(64)}`
    expect(pushDone('1.35', d, 527)).toEqual([
      { status: `1.35: digest: ${d} size: 527` },
      { progressDetail: {}, aux: { Tag: '1.35', Digest: d, Size: 527 } },
    ])
  })
})
