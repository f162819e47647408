import { describe, expect, it } from 'vitest'
import type { VolumeRecord } from '../../../volumes/index.js'
import { createSpecOf, goQuote, toVolume, validateVolumeName } from './convert.js'
import { listSelector, pruneSelector } from './filters.js'

const rec = (name: string, over: Partial<VolumeRecord> = {}): VolumeRecord => ({
  name, driver: 'local', created: '2025-06-01T10:00:00Z', labels: {}, options: {}, scope: 'local', anonymous: false, ...over,
})

describe('toVolume', () => {
  it('has Go’s key order and gives UsageData only when sized', () => {
    const d = { volume: rec('v', { labels: { a: 'b' } }), mountpoint: '/m', usedBy: ['c1', 'c2'] }
    expect(Object.keys(toVolume(d))).toEqual(['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope'])
    expect(toVolume(d, 42).UsageData).toEqual({ RefCount: 2, Size: 42 })
    expect(JSON.stringify(toVolume(d, -1).UsageData)).toBe('{"RefCount":2,"Size":-1}')
  })
  it('shows an anonymous volume’s label once', () => {
    expect(toVolume({ volume: rec('a', { anonymous: true }), mountpoint: '', usedBy: [] }).Labels).toEqual({ 'com.docker.volume.anonymous': '' })
    expect(toVolume({ volume: rec('a', { anonymous: true, labels: { 'com.docker.volume.anonymous': '' } }), mountpoint: '', usedBy: [] }).Labels).toEqual({ 'com.docker.volume.anonymous': '' })
  })
})

describe('create checks', () => {
  it('quotes as Go’s %q', () => {
    expect(goQuote('a"b\\c\n\x01é')).toBe('"a\\"b\\\\c\\n\\x01é"')
  })
  it('accepts docker’s local names and defaults the driver', () => {
    for (const n of ['ab', 'a.b-c_d', '0x', 'A'.repeat(200)]) expect(() => validateVolumeName(n)).not.toThrow()
    expect(createSpecOf({ Name: 'ab', Driver: '' })).toEqual({ name: 'ab', driver: 'local', options: {}, labels: {} })
    expect(createSpecOf({})).toEqual({ name: '', driver: 'local', options: {}, labels: {} })
  })
  it('refuses with dockerd’s words and kinds', () => {
    expect(() => validateVolumeName('.a')).toThrow('create .a: ".a" includes invalid characters')
    expect(() => validateVolumeName('a b')).toThrow('"a b" includes invalid characters')
    expect(() => validateVolumeName('/abs')).toThrow('If you intended to pass a host directory, use absolute path')
    expect(() => validateVolumeName('1')).toThrow('create 1: volume name is too short')
    expect(() => createSpecOf({ Name: 'v', Driver: 'rexray' })).toThrow('create v: error looking up volume plugin rexray: plugin "rexray" not found')
  })
})

describe('filters', () => {
  const f = (o: Record<string, string[]>) => new Map(Object.entries(o))
  const d = (v: VolumeRecord, usedBy: string[] = []) => ({ volume: v, mountpoint: '', usedBy })
  it('list: name is a pattern, driver exact, dangling by users', () => {
    expect(listSelector(f({ name: ['^we'] }))(d(rec('web')))).toBe(true)
    expect(listSelector(f({ name: ['[bad'] }))(d(rec('web')))).toBe(false)
    expect(listSelector(f({ name: ['[bad'] }))(d(rec('[bad')))).toBe(true)
    expect(listSelector(f({ driver: ['local', 'nfs'] }))(d(rec('web')))).toBe(true)
    expect(listSelector(f({ dangling: ['false'] }))(d(rec('web'), ['c']))).toBe(true)
    expect(listSelector(f({ dangling: ['1'] }))(d(rec('web'), ['c']))).toBe(false)
  })
  it('prune: only local volumes without options, anonymous unless all', () => {
    const keep = pruneSelector(f({}), 50)
    expect(keep(rec('a', { anonymous: true }))).toBe(true)
    expect(keep(rec('n'))).toBe(false)
    expect(keep(rec('t', { anonymous: true, options: { type: 'tmpfs' } }))).toBe(false)
    expect(pruneSelector(f({ all: ['1'] }), 50)(rec('n'))).toBe(true)
    expect(pruneSelector(f({}), 41)(rec('n'))).toBe(true)
    expect(pruneSelector(f({ all: ['true'], 'label!': ['keep'] }), 50)(rec('n', { labels: { keep: 'x' } }))).toBe(false)
  })
})
