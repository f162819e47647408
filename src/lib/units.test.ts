import { describe, expect, it } from 'vitest'
import { bytesSize, formatG, humanDuration, humanSizeWithPrecision } from './units.js'

describe('humanSizeWithPrecision', () => {
  it('formats like go-units with 3 significant digits', () => {
    expect(humanSizeWithPrecision(4261000, 3)).toBe('4.26MB')
    expect(humanSizeWithPrecision(0, 3)).toBe('0B')
    expect(humanSizeWithPrecision(999, 3)).toBe('999B')
    expect(humanSizeWithPrecision(1000, 3)).toBe('1kB')
    expect(humanSizeWithPrecision(100_000_000, 3)).toBe('100MB')
    expect(humanSizeWithPrecision(999_600, 3)).toBe('1e+03kB')
  })
  it('binary sizes for info', () => {
    expect(bytesSize(2087354368)).toBe('1.944GiB')
  })
  it('formatG strips zeros', () => {
    expect(formatG(4, 3)).toBe('4')
    expect(formatG(1.5, 3)).toBe('1.5')
  })
})

describe('humanDuration', () => {
  it.each([
    [500, 'Less than a second'], [1000, '1 second'], [5000, '5 seconds'], [60_000, 'About a minute'],
    [3 * 60_000, '3 minutes'], [3600_000, 'About an hour'], [5 * 3600_000, '5 hours'], [3 * 86400_000, '3 days'],
    [20 * 86400_000, '2 weeks'], [90 * 86400_000, '3 months'], [800 * 86400_000, '2 years'],
  ])('%d ms → %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text)
  })
})
