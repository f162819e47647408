import { describe, expect, it } from 'vitest'
import { basicAuthorization, decodeRegistryAuth, parseChallenges } from './auth.js'

const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')

describe('parseChallenges', () => {
  it('parses a bearer challenge with quoted parameters', () => {
    expect(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } },
    ])
  })
  it('parses several challenges, token values and escapes', () => {
    expect(parseChallenges('Basic realm="Registry Realm", Bearer realm=x,error="a\\"b"')).toEqual([
      { scheme: 'basic', params: { realm: 'Registry Realm' } },
      { scheme: 'bearer', params: { realm: 'x', error: 'a"b' } },
    ])
  })
  it('stops at malformed input instead of throwing', () => {
    expect(parseChallenges('')).toEqual([])
    expect(parseChallenges('Bearer realm="unterminated')).toEqual([{ scheme: 'bearer', params: {} }])
  })
})

describe('decodeRegistryAuth', () => {
  it('treats empty headers as anonymous', () => {
    expect(decodeRegistryAuth(undefined)).toBeUndefined()
    expect(decodeRegistryAuth('e30=')).toBeUndefined()
    expect(decodeRegistryAuth(enc({ serveraddress: 'x' }))).toBeUndefined()
  })
  it('reads username/password in any key case, and the auth field', () => {
    expect(decodeRegistryAuth(enc({ username: 'u', password: 'p?>', serveraddress: 'r' }))).toEqual({ username: 'u', password: 'p?>', serverAddress: 'r' })
    expect(decodeRegistryAuth(enc({ Username: 'u', Password: 'p' }))).toEqual({ username: 'u', password: 'p' })
    expect(decodeRegistryAuth(enc({ auth: Buffer.from('me:se:cret').toString('base64') }))).toEqual({ username: 'me', password: 'se:cret' })
    expect(decodeRegistryAuth(Buffer.from(JSON.stringify({ registrytoken: 't' })).toString('base64'))).toEqual({ registryToken: 't' })
  })
  it('rejects garbage', () => {
    expect(() => decodeRegistryAuth('!!!')).toThrow(/X-Registry-Auth/)
    expect(() => decodeRegistryAuth(enc([1]))).toThrow(/not a JSON object/)
  })
  it('builds a Basic authorization', () => {
    expect(basicAuthorization({ username: 'a', password: 'b' })).toBe('Basic YTpi')
    expect(basicAuthorization(undefined)).toBeUndefined()
  })
})
