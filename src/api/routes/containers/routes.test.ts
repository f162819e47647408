import { describe, expect, it } from 'vitest'
import { timeParamNano } from './routes.js'

describe('timeParamNano', () => {
  it('reads unix seconds with fractions, RFC3339 and Go durations', () => {
    expect(timeParamNano('1700000000.5')).toBe(1_700_000_000_500_000_000n)
    expect(timeParamNano('2023-11-14T22:13:20Z')).toBe(1_700_000_000_000_000_000n)
    expect(timeParamNano('1h30m', 10_000_000)).toBe(BigInt(10_000_000 - 5_400_000) * 1_000_000n)
    expect(timeParamNano('0')).toBeUndefined()
    expect(() => timeParamNano('yesterday')).toThrow(/invalid value for time/)
  })
})
