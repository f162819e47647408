import { describe, expect, it } from 'vitest'
import { chainId, chainIds, parseDigest, sha256 } from './digest.js'
import { familiarMatch, familiarName, familiarString, formatReference, parseAnyReference, parseNormalizedNamed, withDefaultTag, withTag } from './reference.js'

const norm = (s: string) => formatReference(parseNormalizedNamed(s))

describe('parseNormalizedNamed (docker normalization)', () => {
  it('adds docker.io/library to official images', () => {
    expect(norm('busybox')).toBe('docker.io/library/busybox')
    expect(norm('busybox:1.36')).toBe('docker.io/library/busybox:1.36')
    expect(norm('docker.io/busybox')).toBe('docker.io/library/busybox')
    expect(norm('index.docker.io/library/busybox')).toBe('docker.io/library/busybox')
  })
  it('keeps user repos on Docker Hub and other registries', () => {
    expect(norm('user/app')).toBe('docker.io/user/app')
    expect(norm('127.0.0.1:5000/x:1')).toBe('127.0.0.1:5000/x:1')
    expect(norm('localhost/x')).toBe('localhost/x')
    expect(norm('example.com/a/b/c')).toBe('example.com/a/b/c')
    expect(norm('[::1]:5000/x')).toBe('[::1]:5000/x')
  })
  it('parses digests', () => {
    const d = 'sha256:' + 'a'.repeat(64)
    const r = parseNormalizedNamed(`busybox@${d}`)
    expect(r.digest).toBe(d)
    expect(familiarString(r)).toBe(`busybox@${d}`)
  })
  it('uses docker error messages', () => {
    expect(() => parseNormalizedNamed('Busybox')).toThrow('invalid reference format: repository name (library/Busybox) must be lowercase')
    expect(() => parseNormalizedNamed('foo:bar:baz')).toThrow(/^invalid reference format$/)
    expect(() => parseNormalizedNamed('')).toThrow('invalid reference format')
    expect(() => parseNormalizedNamed('a'.repeat(64))).toThrow(/cannot specify 64-byte hexadecimal strings/)
    expect(() => parseNormalizedNamed('x@sha256:abc')).toThrow(/invalid reference format/)
    expect(() => withTag(parseNormalizedNamed('x'), '-bad')).toThrow('invalid tag format')
  })
})

describe('familiar forms', () => {
  it('shortens as docker does', () => {
    expect(familiarString(withDefaultTag(parseNormalizedNamed('busybox')))).toBe('busybox:latest')
    expect(familiarName(parseNormalizedNamed('docker.io/library/a/b'))).toBe('library/a/b')
    expect(familiarString(parseNormalizedNamed('127.0.0.1:5000/x:1'))).toBe('127.0.0.1:5000/x:1')
  })
  it('matches reference filters like FamiliarMatch', () => {
    const r = parseNormalizedNamed('busybox:1.36')
    expect(familiarMatch('busybox', r)).toBe(true)
    expect(familiarMatch('busy*', r)).toBe(true)
    expect(familiarMatch('busybox:1.*', r)).toBe(true)
    expect(familiarMatch('*/busybox', r)).toBe(false)
    expect(familiarMatch('user/*', parseNormalizedNamed('user/app:1'))).toBe(true)
  })
})

describe('parseAnyReference', () => {
  it('treats 64 hex and full digests as IDs', () => {
    const hex = 'b'.repeat(64)
    expect(parseAnyReference(hex)).toEqual({ kind: 'id', id: `sha256:${hex}` })
    expect(parseAnyReference(`sha256:${hex}`)).toEqual({ kind: 'id', id: `sha256:${hex}` })
    expect(parseAnyReference('sha256:abc').kind).toBe('named')
  })
})

describe('digests', () => {
  it('computes chainIDs per the image spec', () => {
    const a = sha256('a')
    const b = sha256('b')
    expect(chainId(null, a)).toBe(a)
    expect(chainIds([a, b])).toEqual([a, sha256(`${a} ${b}`)])
  })
  it('validates digests', () => {
    expect(() => parseDigest('sha256:xyz')).toThrow('invalid digest format')
    expect(parseDigest(sha256(''))).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
  })
})
const problem = (s: string): string => {
  try {
    parseNormalizedNamed(s)
    return ''
  } catch (e) {
    return (e as Error).message
  }
}

describe('ParseNormalizedNamed as the docker CLI runs it (plugin install, upgrade, create)', () => {
  it('normalises names as distribution/reference does', () => {
    expect(formatReference(parseNormalizedNamed('foo'))).toBe('docker.io/library/foo')
    expect(formatReference(parseNormalizedNamed('vieux/sshfs:1'))).toBe('docker.io/vieux/sshfs:1')
    expect(formatReference(parseNormalizedNamed('index.docker.io/x'))).toBe('docker.io/library/x')
    expect(formatReference(parseNormalizedNamed('localhost:5000/x/y'))).toBe('localhost:5000/x/y')
    expect(formatReference(parseNormalizedNamed('Foo/bar'))).toBe('Foo/bar')
    expect(formatReference(withDefaultTag(parseNormalizedNamed('x')))).toBe('docker.io/library/x:latest')
  })

  it('gives back the familiar form', () => {
    expect(familiarString(withDefaultTag(parseNormalizedNamed('docker.io/library/x')))).toBe('x:latest')
    expect(familiarString(parseNormalizedNamed('vieux/sshfs:1'))).toBe('vieux/sshfs:1')
    expect(familiarString(parseNormalizedNamed('docker.io/library/a/b'))).toBe('library/a/b')
    expect(familiarString(parseNormalizedNamed('127.0.0.1:5000/p'))).toBe('127.0.0.1:5000/p')
  })

  it('refuses with its exact words', () => {
    expect(problem('BAD')).toBe('invalid reference format: repository name (library/BAD) must be lowercase')
    expect(problem('a'.repeat(64))).toBe(`invalid repository name (${'a'.repeat(64)}), cannot specify 64-byte hexadecimal strings`)
    expect(problem('x@sha256:abc')).toBe('invalid reference format')
    expect(problem(`x@sha256:${'a'.repeat(40)}`)).toBe('invalid checksum digest length')
    expect(problem(`x@sha256:${'A'.repeat(64)}`)).toBe('invalid checksum digest format')
    expect(problem(`x@md5:${'a'.repeat(32)}`)).toBe('unsupported digest algorithm')
    expect(problem('')).toBe('invalid reference format')
    expect(problem(`x@sha256:${'a'.repeat(64)}`)).toBe('')
  })
})

