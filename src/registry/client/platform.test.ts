import { describe, expect, it } from 'vitest'
import type { Descriptor } from '../../oci/index.js'
import { formatPlatform, parsePlatform, platformMatches, selectManifest } from './platform.js'

const host = { os: 'linux', architecture: 'amd64' }
const d = (architecture: string, variant?: string, os = 'linux'): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${architecture}${variant ?? ''}`.padEnd(71, '0'), size: 1,
  platform: variant ? { os, architecture, variant } : { os, architecture },
})

describe('platforms', () => {
  it('parses and normalizes platform strings', () => {
    expect(parsePlatform('linux/amd64', host)).toEqual({ os: 'linux', architecture: 'amd64' })
    expect(parsePlatform('linux/arm64', host)).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' })
    expect(parsePlatform('linux/x86_64', host)).toEqual({ os: 'linux', architecture: 'amd64' })
    expect(parsePlatform('arm', host)).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' })
    expect(parsePlatform('linux', host)).toEqual(host)
    expect(() => parsePlatform('linux//x', host)).toThrow(/invalid platform/)
    expect(formatPlatform({ os: 'linux', architecture: 'arm', variant: 'v6' })).toBe('linux/arm/v6')
  })
  it('selects the matching manifest of a list', () => {
    const list = [d('arm', 'v6'), d('arm', 'v7'), d('arm64', 'v8'), d('amd64'), { ...d('unknown'), platform: undefined }]
    expect(selectManifest(list, host)).toBe(list[3])
    expect(selectManifest(list, parsePlatform('linux/arm/v7', host))).toBe(list[1])
    expect(selectManifest(list, parsePlatform('linux/arm64', host))).toBe(list[2])
    expect(selectManifest(list, parsePlatform('linux/s390x', host))).toBeUndefined()
    expect(selectManifest([d('amd64', undefined, 'windows')], host)).toBeUndefined()
  })
  it('matches an image config without a variant against a wanted one', () => {
    expect(platformMatches(parsePlatform('linux/arm64', host), { os: 'linux', architecture: 'arm64' })).toBe(true)
    expect(platformMatches(host, { os: 'linux', architecture: 'arm64' })).toBe(false)
  })
})
