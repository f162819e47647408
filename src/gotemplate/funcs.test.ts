import { describe, expect, it } from 'vitest'
import { dockerFuncs, parseTemplate } from './index.js'

const run = (text: string, data?: unknown) => parseTemplate(text, { funcs: dockerFuncs }).execute(data)

describe('docker json', () => {
  it('encodes like encoding/json without HTML escaping (docker sets SetEscapeHTML(false))', () => {
    expect(run('{{json .Ports}}', { Ports: '0.0.0.0:2->8/udp' })).toBe('"0.0.0.0:2->8/udp"')
    expect(run('{{json .}}', { A: '<&>', B: [1, 1.5, true, null], C: {} })).toBe(
      '{"A":"<&>","B":[1,1.5,true,null],"C":{}}',
    )
    expect(run('{{json .Nope}}', {})).toBe('null')
    expect(run('{{json .}}', 'a\u2028b\n"\\\u0001\t')).toBe('"a\\u2028b\\n\\"\\\\\\u0001\\t"')
    expect(run('{{json .}}', [1e21, 1e-7, 2n ** 63n - 1n])).toBe('[1e+21,1e-7,9223372036854775807]')
  })

  it('keeps struct field order and sorts map keys', () => {
    expect(run('{{json .}}', { Zeta: 1, Alpha: 2 })).toBe('{"Zeta":1,"Alpha":2}')
    expect(run('{{json .}}', { 'com.z': '1', 'com.a': '2' })).toBe('{"com.a":"2","com.z":"1"}')
    expect(run('{{json .Config}}', { Config: { Env: ['A=1'], Labels: { b: '2', a: '1' } } })).toBe(
      '{"Env":["A=1"],"Labels":{"a":"1","b":"2"}}',
    )
  })

  it('skips methods and prints nothing for unsupported values, as docker ignores the error', () => {
    expect(run('{{json .}}', { Name: 'n', Label: () => 'x' })).toBe('{"Name":"n"}')
    expect(run('[{{json .}}]', NaN)).toBe('[]')
  })
})

describe('docker string functions', () => {
  it('split and join', () => {
    expect(run('{{join (split . ":") "/"}}', 'text:with:colon')).toBe('text/with/colon')
    expect(run('{{split . ":"}}', 'a:b')).toBe('[a b]')
    expect(run('{{split . ""}}', 'héj')).toBe('[h é j]')
    expect(run('{{len (split . ",")}}', '')).toBe('1')
    expect(run('{{join .Args " "}}', { Args: ['sh', '-c', 'true'] })).toBe('sh -c true')
    expect(run('[{{join .Args ","}}]', { Args: null })).toBe('[]')
  })

  it('title, lower, upper', () => {
    expect(run('{{title .}}', 'hello world-foo_bar')).toBe('Hello World-Foo_bar')
    expect(run('{{lower .}}', 'ÀB Cd')).toBe('àb cd')
    expect(run('{{upper .}}', 'straße')).toBe('STRAßE')
  })

  it('pad pads non-empty strings on both sides', () => {
    expect(run('{{pad . 3 3}}', 'tupx5')).toBe('   tupx5   ')
    expect(run('[{{pad . 3 3}}]', '')).toBe('[]')
  })

  it('truncate cuts to n runes', () => {
    const source = 'tupx5xzf6hvsrhnruz5cr8gwp'
    expect(run('{{truncate . 5}}', source)).toBe('tupx5')
    expect(run('{{truncate . 25}}', source)).toBe(source)
    expect(run('{{truncate . 30}}', source)).toBe(source)
    expect(run('{{truncate . 2}}', 'héllo')).toBe('hé')
    expect(run('[{{truncate . 5}}]', '')).toBe('[]')
  })

  it('refuses arguments of the wrong type, as Go does before the call', () => {
    expect(() => run('{{truncate . 5}}', null)).toThrow('invalid value; expected string')
    expect(() => run('{{truncate . "5"}}', 'abc')).toThrow('wrong type for value; expected int; got string')
    expect(() => run('{{upper .}}', 5)).toThrow('template: :1:2: executing "" at <upper .>: wrong type for value')
    expect(() => run('{{join . ","}}', 'abc')).toThrow('expected []string; got string')
    expect(() => run('{{lower}}')).toThrow('wrong number of args for lower: want 1 got 0')
  })
})
