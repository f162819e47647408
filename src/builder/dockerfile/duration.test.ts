import { describe, expect, it } from 'vitest'
import { parseGoDuration } from './duration.js'

describe('parseGoDuration', () => {
  it.each([
    ['0', 0],
    ['-0', 0],
    ['1ns', 1],
    ['1.5s', 1.5e9],
    ['.5m', 30e9],
    ['1.s', 1e9],
    ['2h45m10.5s', (2 * 3600 + 45 * 60 + 10.5) * 1e9],
    ['300ms', 300e6],
    ['7us', 7000],
    ['7µs', 7000],
    ['7μs', 7000],
    ['-1.5h', -5400e9],
    ['+10s', 10e9],
  ])('%s = %d ns', (s, ns) => {
    expect(parseGoDuration(s)).toBe(ns)
  })

  it.each([
    ['', 'time: invalid duration ""'],
    ['s', 'time: invalid duration "s"'],
    ['.s', 'time: invalid duration ".s"'],
    ['1', 'time: missing unit in duration "1"'],
    ['1h2', 'time: missing unit in duration "1h2"'],
    ['3d', 'time: unknown unit "d" in duration "3d"'],
  ])('%j fails', (s, message) => {
    expect(() => parseGoDuration(s)).toThrow(message)
  })
})
