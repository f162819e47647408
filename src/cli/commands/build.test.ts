import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { rewriteShortEquals } from '../app.js'
import { parseUlimit, ramInBytes, uploadProgress, validateExtraHost, withProxyArgs } from './build.js'

describe('build flag values', () => {
  it('reads sizes as go-units RAMInBytes', () => {
    expect(ramInBytes('512m')).toBe(512 * 1024 ** 2)
    expect(ramInBytes('1.5g')).toBe(1.5 * 1024 ** 3)
    expect(ramInBytes('64MiB')).toBe(64 * 1024 ** 2)
    expect(ramInBytes('100')).toBe(100)
    expect(ramInBytes('10b')).toBe(10)
    expect(ramInBytes('2 k')).toBe(2048)
    expect(() => ramInBytes('5x')).toThrow("invalid suffix: 'x'")
    expect(() => ramInBytes('5kbb')).toThrow("invalid suffix: 'kbb'")
    expect(() => ramInBytes('abc')).toThrow("invalid size: 'abc'")
  })

  it('reads ulimits as go-units ParseUlimit', () => {
    expect(parseUlimit('nofile=1024:2048')).toEqual({ Name: 'nofile', Soft: 1024, Hard: 2048 })
    expect(parseUlimit('nproc=10')).toEqual({ Name: 'nproc', Soft: 10, Hard: 10 })
    expect(parseUlimit('core=1:-1')).toEqual({ Name: 'core', Soft: 1, Hard: -1 })
    expect(() => parseUlimit('nofile')).toThrow('invalid ulimit argument: nofile')
    expect(() => parseUlimit('bogus=1')).toThrow('invalid ulimit type: bogus')
    expect(() => parseUlimit('nofile=5:2')).toThrow('ulimit soft limit must be less than or equal to hard limit: 5 > 2')
  })

  it('reads --add-host as opts.ValidateExtraHost', () => {
    expect(validateExtraHost('h:1.2.3.4')).toBe('h:1.2.3.4')
    expect(validateExtraHost('h=::1')).toBe('h:::1')
    expect(validateExtraHost('h=[::1]')).toBe('h:::1')
    expect(validateExtraHost('gw:host-gateway')).toBe('gw:host-gateway')
    expect(() => validateExtraHost('foo')).toThrow('bad format for add-host: "foo"')
    expect(() => validateExtraHost('foo:bar')).toThrow('invalid IP address in add-host: "bar"')
  })

  it('adds config.json proxies as build args unless given', () => {
    const cfg = { proxies: { default: { httpProxy: 'http://p:3128', noProxy: 'localhost' } } }
    expect(withProxyArgs(cfg, 'unix:///run/berth/berth.sock', { HTTP_PROXY: 'mine', A: null })).toEqual({
      HTTP_PROXY: 'mine', http_proxy: 'http://p:3128', NO_PROXY: 'localhost', no_proxy: 'localhost', A: null,
    })
    expect(withProxyArgs({ proxies: { 'unix:///x.sock': { httpsProxy: 'h' }, default: { httpProxy: 'd' } } }, 'unix:///x.sock', {})).toEqual({ HTTPS_PROXY: 'h', https_proxy: 'h' })
    expect(withProxyArgs({}, 'unix:///x.sock', { A: '1' })).toEqual({ A: '1' })
  })
})

describe('upload progress', () => {
  it('prints the final size as docker does off a terminal', async () => {
    let text = ''
    const t = uploadProgress((s) => { text += s }, false)
    const sink = new PassThrough()
    t.pipe(sink)
    sink.resume()
    t.end(Buffer.alloc(3072))
    await new Promise((r) => sink.on('end', r))
    expect(text).toBe('Sending build context to Docker daemon  3.072kB\r\r\n')
  })
})

describe('optional bool flags', () => {
  it('never take the next word, as pflag bools (`berth build --rm .`)', () => {
    const takes = (f: string): boolean | undefined => ({ '-t': true, '--rm': false, '-H': false } as Record<string, boolean>)[f]
    const optional = (f: string): boolean => f === '--rm' || f === '-H'
    expect(rewriteShortEquals(['--rm', '.'], takes, true, optional)).toEqual(['--rm=true', '.'])
    expect(rewriteShortEquals(['--rm=false', '-t', '--rm', '.'], takes, true, optional)).toEqual(['--rm=false', '-t', '--rm', '.'])
    expect(rewriteShortEquals(['-H', 'img'], takes, true, optional)).toEqual(['-Htrue', 'img'])
  })
})
