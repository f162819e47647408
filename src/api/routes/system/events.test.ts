import { describe, expect, it } from 'vitest'
import type { EngineEvent } from '../../../events/index.js'
import { eventMatcher } from './routes.js'

const ev = (type: EngineEvent['type'], action: string, id: string, attributes: Record<string, string> = {}): EngineEvent => ({ type, action, actor: { id, attributes }, scope: 'local', timeNano: 1n })
const f = (o: Record<string, string[]>) => eventMatcher(new Map(Object.entries(o)))

describe('event filters as moby daemon/events/filter.go', () => {
  const start = ev('container', 'start', 'abc123', { name: 'web-1', image: 'busybox:latest', team: 'a', tier: 'x' })
  const probe = ev('container', 'health_status: healthy', 'abc123', { name: 'web-1', image: 'busybox:latest' })
  const mount = ev('volume', 'mount', 'data', { container: 'abc123', driver: 'local' })
  const tag = ev('image', 'tag', 'sha256:fff', { name: 'docker.io/library/busybox:1' })

  it('matches names and IDs by prefix, across types', () => {
    expect(f({ container: ['web'] })(start)).toBe(true)
    expect(f({ container: ['abc'] })(start)).toBe(true)
    expect(f({ container: ['web-2'] })(start)).toBe(false)
    expect(f({ container: ['web'] })(mount)).toBe(false)
    expect(f({ volume: ['da'] })(mount)).toBe(true)
  })

  it('matches events exactly, by prefix when health_status or exec_* is asked', () => {
    expect(f({ event: ['start'] })(start)).toBe(true)
    expect(f({ event: ['health_status: healthy'] })(probe)).toBe(true)
    expect(f({ event: ['health_status'] })(probe)).toBe(true)
    expect(f({ event: ['health'] })(probe)).toBe(false)
    expect(f({ event: ['stop', 'start'] })(start)).toBe(true)
  })

  it('matches images with or without the tag, labels all together, unknown keys not at all', () => {
    expect(f({ image: ['busybox'] })(start)).toBe(true)
    expect(f({ image: ['busybox:latest'] })(start)).toBe(true)
    expect(f({ image: ['busybox'] })(tag)).toBe(true)
    expect(f({ image: ['sha256:fff'] })(tag)).toBe(true)
    expect(f({ image: ['alpine'] })(start)).toBe(false)
    expect(f({ label: ['team=a', 'tier'] })(start)).toBe(true)
    expect(f({ label: ['team=a', 'tier=y'] })(start)).toBe(false)
    expect(f({ type: ['volume', 'image'] })(start)).toBe(false)
    expect(f({ scope: ['local'] })(start)).toBe(true)
    expect(f({ nonsense: ['x'] })(start)).toBe(true)
  })
})
