import { describe, expect, it } from 'vitest'
import { parseNormalizedNamed, withDefaultTag } from '../oci/index.js'
import { pullingFrom, pullStatus } from './pull.js'

describe('pull progress messages', () => {
  it('are docker JSON messages', () => {
    const ref = withDefaultTag(parseNormalizedNamed('busybox'))
    expect(pullingFrom(ref)).toEqual({ status: 'Pulling from library/busybox', id: 'latest' })
    expect(pullStatus(ref, true)).toEqual({ status: 'Status: Downloaded newer image for busybox:latest' })
    const local = parseNormalizedNamed('127.0.0.1:5000/tools/busybox:1')
    expect(pullingFrom(local)).toEqual({ status: 'Pulling from tools/busybox', id: '1' })
    expect(pullStatus(local, false)).toEqual({ status: 'Status: Image is up to date for 127.0.0.1:5000/tools/busybox:1' })
    const d = `sha256:${'a'.repeat(64)}`
    expect(pullingFrom(parseNormalizedNamed(`x@${d}`)).id).toBe(d)
  })
})
