import { describe, expect, it } from 'vitest'

import { fromHumanSize } from './go.js'
import { logFiles, planRotation, rotatedFileExtra, rotatedName, shouldRotate } from './rotate.js'

describe('rotation', () => {
  it('rotates before a write once the file reached max-size', () => {
    expect(shouldRotate(10, -1)).toBe(false)
    expect(shouldRotate(9, 10)).toBe(false)
    expect(shouldRotate(10, 10)).toBe(true)
    expect(fromHumanSize('10m')).toBe(10_000_000)
    expect(fromHumanSize('1g')).toBe(1_000_000_000)
    expect(fromHumanSize('1KiB')).toBe(1000)
  })

  it('names rotated files', () => {
    expect(rotatedName('/c/x-json.log', 1, false)).toBe('/c/x-json.log.1')
    expect(rotatedName('/c/x-json.log', 2, true)).toBe('/c/x-json.log.2.gz')
  })

  it('plans the renames', () => {
    expect(planRotation('/x.log', 1, false)).toEqual({ renames: [], current: 'unlink' })
    expect(planRotation('/x.log', 3, false)).toEqual({
      remove: '/x.log.2',
      renames: [['/x.log.1', '/x.log.2']],
      current: { rename: '/x.log.1' },
    })
    expect(planRotation('/x.log', 4, true)).toEqual({
      remove: '/x.log.3.gz',
      renames: [
        ['/x.log.2.gz', '/x.log.3.gz'],
        ['/x.log.1.gz', '/x.log.2.gz'],
      ],
      current: { rename: '/x.log.1' },
      compress: '/x.log.1',
    })
  })

  it('lists files oldest first', () => {
    expect(logFiles('/x.log', 3, true)).toEqual(['/x.log.2.gz', '/x.log.1.gz', '/x.log'])
    expect(logFiles('/x.log', 1, false)).toEqual(['/x.log'])
    expect(rotatedFileExtra('2026-01-02T03:04:05Z').toString()).toBe('{"lastTime":"2026-01-02T03:04:05Z"}')
  })
})
