import { describe, expect, it } from 'vitest'
import { RegistryError } from './errors.js'
import { isRepositoryName, isTag, parseRoute } from './routes.js'

const D = 'sha256:' + 'a'.repeat(64)

describe('isRepositoryName', () => {
  it('accepts the spec grammar', () => {
    for (const n of ['busybox', 'tools/busybox', 'a/b/c/d', 'my-app', 'my__app', 'my.app', 'a--b', 'x0/y_1']) {
      expect(isRepositoryName(n), n).toBe(true)
    }
  })
  it('rejects everything else', () => {
    for (const n of ['', 'Busybox', '/a', 'a/', 'a//b', '_a', 'a___b', 'a..b', '..', 'a/../b', 'a:b', 'a'.repeat(256)]) {
      expect(isRepositoryName(n), n).toBe(false)
    }
  })
})

describe('isTag', () => {
  it('follows the tag grammar', () => {
    expect(isTag('latest')).toBe(true)
    expect(isTag('1.35.0_rc-1')).toBe(true)
    expect(isTag('.hidden')).toBe(false)
    expect(isTag('-x')).toBe(false)
    expect(isTag('a'.repeat(129))).toBe(false)
  })
})

describe('parseRoute', () => {
  it('routes the base and catalog', () => {
    expect(parseRoute('/v2/')).toEqual({ kind: 'base' })
    expect(parseRoute('/v2/_catalog')).toEqual({ kind: 'catalog' })
  })
  it('matches multi-component names greedily', () => {
    expect(parseRoute('/v2/tools/busybox/manifests/1.35')).toEqual({ kind: 'manifest', name: 'tools/busybox', reference: '1.35' })
    expect(parseRoute('/v2/a/b/c/tags/list')).toEqual({ kind: 'tags', name: 'a/b/c' })
    expect(parseRoute(`/v2/x/blobs/${D}`)).toEqual({ kind: 'blob', name: 'x', digest: D })
    expect(parseRoute('/v2/x/blobs/uploads/')).toEqual({ kind: 'uploads', name: 'x' })
    expect(parseRoute('/v2/x/blobs/uploads/abc')).toEqual({ kind: 'upload', name: 'x', uuid: 'abc' })
    expect(parseRoute(`/v2/x/y/referrers/${D}`)).toEqual({ kind: 'referrers', name: 'x/y', digest: D })
    // Route words are valid name components too.
    expect(parseRoute('/v2/blobs/manifests/tags/list')).toEqual({ kind: 'tags', name: 'blobs/manifests' })
  })
  it('returns null for paths outside the API', () => {
    expect(parseRoute('/')).toBeNull()
    expect(parseRoute('/v1/_ping')).toBeNull()
    expect(parseRoute('/v2/x/unknown')).toBeNull()
  })
  it('refuses invalid names with NAME_INVALID', () => {
    expect(() => parseRoute('/v2/UPPER/tags/list')).toThrow(RegistryError)
    try {
      parseRoute('/v2/a/../b/tags/list')
    } catch (e) {
      expect((e as RegistryError).code).toBe('NAME_INVALID')
    }
  })
})
