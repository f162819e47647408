import { describe, expect, it } from 'vitest'
import { decodePlatform } from './platform.js'

describe('decodePlatform (moby httputils.DecodePlatform)', () => {
  it('takes the OCI platform as JSON', () => {
    expect(decodePlatform('{"architecture":"arm64","os":"linux","variant":"v8"}')).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' })
    expect(decodePlatform('{"os":"linux","architecture":"amd64"}')).toEqual({ os: 'linux', architecture: 'amd64' })
  })

  it('refuses with moby’s words, as a 400', () => {
    const refused = (t: string) => {
      try {
        decodePlatform(t)
        return ''
      } catch (e) {
        return `${(e as { kind?: string }).kind}: ${(e as Error).message}`
      }
    }
    expect(refused('{"os":')).toMatch(/^invalid-argument: failed to parse platform: /)
    expect(refused('[1]')).toMatch(/^invalid-argument: failed to parse platform: /)
    expect(refused('{"os":"linux"}')).toBe('invalid-argument: both OS and Architecture must be provided')
    expect(refused('{"variant":"v7"}')).toBe('invalid-argument: optional platform fields provided, but OS and Architecture are missing')
  })
})
