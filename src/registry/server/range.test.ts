import { describe, expect, it } from 'vitest'
import { parseContentRange, parseRange, uploadRange } from './range.js'

describe('parseRange', () => {
  it('reads single byte ranges', () => {
    expect(parseRange('bytes=0-4', 10)).toEqual({ start: 0, end: 4 })
    expect(parseRange('bytes=5-', 10)).toEqual({ start: 5, end: 9 })
    expect(parseRange('bytes=-3', 10)).toEqual({ start: 7, end: 9 })
    expect(parseRange('bytes=8-100', 10)).toEqual({ start: 8, end: 9 })
  })
  it('serves the whole blob for no or unusable ranges', () => {
    expect(parseRange(undefined, 10)).toBeNull()
    expect(parseRange('bytes=0-1,3-4', 10)).toBeNull()
    expect(parseRange('items=0-1', 10)).toBeNull()
    expect(parseRange('bytes=5-2', 10)).toBeNull()
  })
  it('refuses ranges past the end', () => {
    expect(parseRange('bytes=10-', 10)).toBe('unsatisfiable')
    expect(parseRange('bytes=100-200', 10)).toBe('unsatisfiable')
    expect(parseRange('bytes=-0', 10)).toBe('unsatisfiable')
  })
})

describe('parseContentRange', () => {
  it('takes the spec form and the bytes-unit forms clients send', () => {
    expect(parseContentRange('0-9')).toEqual({ start: 0, end: 9 })
    expect(parseContentRange('bytes 10-19/*')).toEqual({ start: 10, end: 19 })
    expect(parseContentRange('bytes=10-19')).toEqual({ start: 10, end: 19 })
  })
  it('rejects malformed ranges', () => {
    for (const h of ['', 'bogus', '0-x', '9-0', '-5', '1-2-3']) expect(parseContentRange(h)).toBeNull()
  })
})

describe('uploadRange', () => {
  it('says 0-0 for an empty upload and the last byte otherwise', () => {
    expect(uploadRange(0)).toBe('0-0')
    expect(uploadRange(1)).toBe('0-0')
    expect(uploadRange(10)).toBe('0-9')
  })
})
