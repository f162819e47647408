import { describe, expect, it } from 'vitest'
import { kindOf } from '../../../errors/index.js'
import { goBoolValue, int64OrZero, parseBuildQuery, remoteKind } from './query.js'

const q = (s: string) => new URLSearchParams(s)

function failure(fn: () => unknown): { kind: string; message: string } {
  try {
    fn()
  } catch (e) {
    return { kind: kindOf(e), message: (e as Error).message }
  }
  throw new Error('expected an error')
}

describe('parseBuildQuery', () => {
  it('takes what docker CLI 28 sends, with dockerd defaults for the rest', () => {
    const b = parseBuildQuery(q('buildargs=%7B%22A%22%3A%221%22%7D&dockerfile=Dockerfile&t=myimg&version=1'), 50, 'e30=')
    expect(b.request).toEqual({
      dockerfile: 'Dockerfile', tags: ['myimg'], buildArgs: { A: '1' }, labels: {}, noCache: false, pull: false,
      rm: true, forceRm: false, quiet: false, cacheFrom: [], networkMode: 'default', encodedRegistryConfig: 'e30=',
    })
    expect(b.version).toBe('1')
    expect(b.remote).toBe('')
    const empty = parseBuildQuery(q(''), 50)
    expect(empty.request.dockerfile).toBe('Dockerfile')
    expect(empty.request.encodedRegistryConfig).toBeUndefined()
  })

  it('repeats t and extrahosts, and drops empty tags', () => {
    const b = parseBuildQuery(q('t=a&t=b:1&t=&extrahosts=h:1.2.3.4&extrahosts=g:::1'), 50)
    expect(b.request.tags).toEqual(['a', 'b:1'])
    expect(b.resources.extraHosts).toEqual(['h:1.2.3.4', 'g:::1'])
  })

  it('reads rm as dockerd: default true, forcerm implies it', () => {
    expect(parseBuildQuery(q('rm=0'), 50).request.rm).toBe(false)
    expect(parseBuildQuery(q('rm=false'), 50).request.rm).toBe(false)
    expect(parseBuildQuery(q('rm=1'), 50).request.rm).toBe(true)
    const f = parseBuildQuery(q('rm=0&forcerm=1'), 50).request
    expect([f.rm, f.forceRm]).toEqual([true, true])
  })

  it('keeps null build args (named without a value) and decodes labels and cache-from', () => {
    const b = parseBuildQuery(q(`buildargs=${encodeURIComponent('{"A":null,"B":""}')}&labels=${encodeURIComponent('{"l":"v","n":null}')}&cachefrom=${encodeURIComponent('["x:1"]')}`), 50)
    expect(b.request.buildArgs).toEqual({ A: null, B: '' })
    expect(b.request.labels).toEqual({ l: 'v', n: '' })
    expect(b.request.cacheFrom).toEqual(['x:1'])
  })

  it('refuses JSON that does not decode into docker\'s types, with its messages', () => {
    expect(failure(() => parseBuildQuery(q(`buildargs=${encodeURIComponent('{"A":1}')}`), 50))).toEqual({
      kind: 'invalid-argument', message: 'error reading build args: json: cannot unmarshal number into Go value of type string',
    })
    expect(failure(() => parseBuildQuery(q(`labels=${encodeURIComponent('["a"]')}`), 50)).message)
      .toBe('error reading labels: json: cannot unmarshal array into Go value of type map[string]string')
    expect(failure(() => parseBuildQuery(q('cachefrom=%7B'), 50)).message).toBe('error reading cache-from: unexpected end of JSON input')
    expect(failure(() => parseBuildQuery(q('buildargs=x'), 50)).message).toBe("error reading build args: invalid character 'x' looking for beginning of value")
    expect(failure(() => parseBuildQuery(q(`ulimits=${encodeURIComponent('[{"Name":"nofile","Soft":"1"}]')}`), 50)).message)
      .toBe('error reading ulimit settings: json: cannot unmarshal string into Go struct field Ulimit.Soft of type int64')
  })

  it('decodes ulimits with any field case, as encoding/json matches names', () => {
    const b = parseBuildQuery(q(`ulimits=${encodeURIComponent('[{"name":"nofile","soft":1024,"HARD":2048}]')}`), 50)
    expect(b.resources.ulimits).toEqual([{ Name: 'nofile', Soft: 1024, Hard: 2048 }])
  })

  it('reads resource numbers leniently, shmsize strictly', () => {
    const b = parseBuildQuery(q('memory=512&memswap=abc&cpushares=-2&cpuquota=1.5&shmsize=67108864'), 50)
    expect(b.resources).toMatchObject({ memory: 512, memorySwap: 0, cpuShares: -2, cpuQuota: 0, shmSize: 67108864 })
    expect(failure(() => parseBuildQuery(q('shmsize=64m'), 50))).toEqual({ kind: 'invalid-argument', message: 'strconv.ParseInt: parsing "64m": invalid syntax' })
  })

  it('refuses what a Linux dockerd refuses', () => {
    expect(failure(() => parseBuildQuery(q('securityopt=credentialspec=x'), 50)).message).toBe('security options are not supported on linux')
    expect(failure(() => parseBuildQuery(q('isolation=hyperv'), 50)).message).toBe('unsupported isolation: "hyperv"')
    expect(parseBuildQuery(q('isolation=default'), 50).resources.isolation).toBe('default')
    expect(failure(() => parseBuildQuery(q('version=3'), 50)).message).toBe('invalid version "3"')
    expect(parseBuildQuery(q('version=2'), 50).version).toBe('2')
  })

  it('validates tags as references without digests', () => {
    expect(failure(() => parseBuildQuery(q('t=Foo'), 50))).toEqual({ kind: 'invalid-argument', message: 'invalid reference format: repository name (library/Foo) must be lowercase' })
    expect(failure(() => parseBuildQuery(q(`t=${encodeURIComponent('x@sha256:' + 'a'.repeat(64))}`), 50)).message).toBe('build tag cannot contain a digest')
  })

  it('reads platform from API 1.32 and outputs from 1.40', () => {
    expect(parseBuildQuery(q('platform=linux/amd64'), 31).request.platform).toBeUndefined()
    expect(parseBuildQuery(q('platform=linux/amd64'), 32).request.platform).toBe('linux/amd64')
    const outputs = `outputs=${encodeURIComponent('[{"Type":"local","Attrs":{"dest":"/x"}}]')}`
    expect(parseBuildQuery(q(outputs), 39).outputs).toEqual([])
    expect(parseBuildQuery(q(outputs), 40).outputs).toEqual([{ Type: 'local', Attrs: { dest: '/x' } }])
    expect(failure(() => parseBuildQuery(q('outputs=%5B1%5D'), 50)).message)
      .toBe('invalid outputs specified: json: cannot unmarshal number into Go value of type build.ImageBuildOutput')
  })

  it('passes target, network mode, pull, nocache, q and the session fields', () => {
    const b = parseBuildQuery(q('target=test&networkmode=host&pull=1&nocache=True&q=1&session=s&buildid=b&squash=1'), 50)
    expect(b.request).toMatchObject({ target: 'test', networkMode: 'host', pull: true, noCache: true, quiet: true })
    expect([b.session, b.buildId, b.squash]).toEqual(['s', 'b', true])
  })
})

describe('query helpers', () => {
  it('goBoolValue: only "", 0, no, false and none are false', () => {
    for (const f of ['', '0', 'no', 'FALSE', ' none ']) expect(goBoolValue(q(`x=${encodeURIComponent(f)}`), 'x')).toBe(false)
    for (const t of ['1', 'yes', 'true', 'anything']) expect(goBoolValue(q(`x=${t}`), 'x')).toBe(true)
    expect(goBoolValue(q(''), 'x')).toBe(false)
  })
  it('int64OrZero', () => {
    expect(int64OrZero(q('m=%2B12'), 'm')).toBe(12)
    expect(int64OrZero(q('m=1e3'), 'm')).toBe(0)
  })
  it('remoteKind tells git, URL and session remotes apart as moby urlutil', () => {
    expect(remoteKind('')).toBe('none')
    expect(remoteKind('client-session')).toBe('client-session')
    expect(remoteKind('https://example.test/ctx.tar.gz')).toBe('url')
    expect(remoteKind('https://example.test/repo.git')).toBe('git')
    expect(remoteKind('https://example.test/repo.git#main:dir')).toBe('git')
    expect(remoteKind('git://example.test/repo')).toBe('git')
    expect(remoteKind('git@example.test:repo')).toBe('git')
    expect(remoteKind('github.com/x/y')).toBe('git')
    expect(remoteKind('ftp://x/y')).toBe('unknown')
  })
})
