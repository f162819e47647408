import { describe, expect, it } from 'vitest'
import { formatFloat, sprint, sprintf, sprintln } from './fmt.js'
import { formatValue, parseTemplate } from './index.js'

const f = (format: string, ...args: unknown[]) => sprintf(format, args)

describe('formatValue (%v)', () => {
  it('prints integers as integers and other numbers in shortest %g', () => {
    expect(formatValue(1000000)).toBe('1000000')
    expect(formatValue(1e15)).toBe('1000000000000000')
    expect(formatValue(-42)).toBe('-42')
    expect(formatValue(-0)).toBe('0')
    expect(formatValue(1.5)).toBe('1.5')
    expect(formatValue(0.1 + 0.2)).toBe('0.30000000000000004')
    expect(formatValue(123456789.5)).toBe('1.234567895e+08')
    expect(formatValue(123456.5)).toBe('123456.5')
    expect(formatValue(0.0001)).toBe('0.0001')
    expect(formatValue(0.00001)).toBe('1e-05')
    expect(formatValue(1e21)).toBe('1e+21')
    expect(formatValue(1e300)).toBe('1e+300')
    expect(formatValue(5e-324)).toBe('5e-324')
    expect(formatValue(2n ** 63n - 1n)).toBe('9223372036854775807')
    expect(formatValue(NaN)).toBe('NaN')
    expect(formatValue(Infinity)).toBe('+Inf')
    expect(formatValue(-Infinity)).toBe('-Inf')
  })

  it('prints strings raw, booleans and nil as Go does', () => {
    expect(formatValue('a "b"')).toBe('a "b"')
    expect(formatValue(true)).toBe('true')
    expect(formatValue(null)).toBe('<nil>')
  })

  it('prints arrays and maps with sorted keys, nested', () => {
    expect(formatValue([1, 'a', null, [2, 3]])).toBe('[1 a <nil> [2 3]]')
    expect(formatValue([])).toBe('[]')
    expect(formatValue({})).toBe('map[]')
    expect(formatValue({ b: { y: 1, x: [] }, a: 'z', B: 1.5 })).toBe('map[B:1.5 a:z b:map[x:[] y:1]]')
  })

  it('uses a String method as a Go Stringer', () => {
    expect(formatValue({ String: () => 'custom' })).toBe('custom')
  })

  it('prints class instances as structs', () => {
    class P {
      constructor(
        readonly x: number,
        readonly y: string,
      ) {}
    }
    expect(formatValue(new P(1, 'a'))).toBe('{1 a}')
    expect(f('%+v', new P(1, 'a'))).toBe('{x:1 y:a}')
  })
})

describe('Sprint and Sprintln', () => {
  it('adds spaces between operands when neither is a string', () => {
    expect(sprint([1, 2, 'a', 'b', 3, true])).toBe('1 2ab3 true')
    expect(sprint([])).toBe('')
    expect(sprintln([1, 'a', null])).toBe('1 a <nil>\n')
  })
})

describe('Sprintf', () => {
  it('formats integers', () => {
    expect(f('%d|%5d|%-5d|%05d|%+d|% d', 42, 42, 42, -42, 5, 5)).toBe('42|   42|42   |-0042|+5| 5')
    expect(f('%x %X %#x %#X %o %#o %O %b %#b', 255, 255, 255, 255, 8, 8, 8, 5, 5)).toBe(
      'ff FF 0xff 0XFF 10 010 0o10 101 0b101',
    )
    expect(f('%x %#08x', -255, 255)).toBe('-ff 0x000000ff')
    expect(f('%.3d|%8.3d|%.0d|%5.0d|', 7, 7, 0, 0)).toBe('007|     007||     |')
    expect(f('%c%c %q %U %#U', 72, 0x1f600, 65, 0x1f600, 65)).toBe("H😀 'A' U+1F600 U+0041 'A'")
    expect(f('%v', 2n ** 63n - 1n)).toBe('9223372036854775807')
  })

  it('formats floats with correct rounding', () => {
    expect(f('%f|%.2f|%8.3f|%-8.3f|%08.3f', 3.14159, 3.14159, 3.14159, 3.14159, -3.14159)).toBe(
      '3.141590|3.14|   3.142|3.142   |-003.142',
    )
    expect(f('%+.1f %.0f %.0f %.0f %.0f', 2.25, 0.5, 1.5, 2.5, 0.6)).toBe('+2.2 0 2 2 1')
    expect(f('%.1f %.2f %.2f', 0.05, 1.005, 0.125)).toBe('0.1 1.00 0.12')
    expect(f('%e %E %.2e %e', 123456.789, 123456.789, 0, 1e-10)).toBe('1.234568e+05 1.234568E+05 0.00e+00 1.000000e-10')
    expect(f('%g %g %.3g %g %G %g', 123456.789, 1e21, 3.14159, 0.00001234, 1e-7, 100000)).toBe(
      '123456.789 1e+21 3.14 1.234e-05 1E-07 100000',
    )
    expect(f('%.3g %.10g %g', 1.0, 1234567.0, 1e6)).toBe('1 1234567 1e+06')
    expect(f('%f', 1e20)).toBe('100000000000000000000.000000')
    expect(f('%.3f', 2 ** -30)).toBe('0.000')
    expect(f('%6.2f%%', 99.5)).toBe(' 99.50%')
    expect(f('%#g %#.3g %#.0f', 1.5, 2, 3)).toBe('1.50000 2.00 3.')
  })

  it('formats infinities and NaN without zero padding', () => {
    expect(f('%f %5.1f %f %05f %+f', NaN, Infinity, -Infinity, Infinity, NaN)).toBe('NaN  +Inf -Inf  +Inf +NaN')
  })

  it('formats floats in binary and hex forms', () => {
    expect(f('%b', 1.5)).toBe('6755399441055744p-52')
    expect(f('%x %X %x', 1.5, -0.75, 0.1)).toBe('0x1.8p+00 -0X1.8P-01 0x1.999999999999ap-04')
    expect(f('%.1x %.1x', 1.9375, 1.96875)).toBe('0x1.fp+00 0x1.0p+01')
    expect(formatFloat(0, 'x', -1)).toBe('0x0p+00')
  })

  it('formats strings', () => {
    expect(f('%s|%10s|%-10s|%.2s|%5.1s', 'hi', 'hi', 'hi', 'hello', 'hello')).toBe('hi|        hi|hi        |he|    h')
    expect(f('%q', 'a"b\n\t\x01é😀')).toBe('"a\\"b\\n\\t\\x01é😀"')
    expect(f('%+q %#q %#q', 'é', 'abc', 'a`b')).toBe('"\\u00e9" `abc` "a`b"')
    expect(f('%x|% x|%#x|% #X|%X', 'hi', 'hi', 'hi', 'hi', 'é')).toBe('6869|68 69|0x6869|0X68 0X69|C3A9')
    expect(f('%q', '\u00ad\u2028')).toBe('"\\u00ad\\u2028"')
    expect(f('%5s|%-4s|', 'é', 'ab')).toBe('    é|ab  |')
  })

  it('formats booleans, nil, types', () => {
    expect(f('%t %v %5t', true, false, true)).toBe('true false  true')
    expect(f('%v %T', null, null)).toBe('<nil> <nil>')
    expect(f('%T %T %T %T %T %T', 'x', 1, 1.5, [], {}, true)).toBe(
      'string int float64 []interface {} map[string]interface {} bool',
    )
  })

  it('applies the verb to elements of arrays and maps', () => {
    expect(f('%s', ['a', 'b'])).toBe('[a b]')
    expect(f('%q', ['a', 'b'])).toBe('["a" "b"]')
    expect(f('%d', [1, 2])).toBe('[1 2]')
    expect(f('%5d', [1, 2])).toBe('[    1     2]')
    expect(f('%x', ['hi', 255])).toBe('[6869 ff]')
    expect(f('%v', { b: 2, a: 1 })).toBe('map[a:1 b:2]')
    expect(f('%d', { a: 'x' })).toBe('map[%!d(string=a):%!d(string=x)]')
    expect(f('%d', [null])).toBe('[<nil>]')
  })

  it('formats Go syntax with %#v', () => {
    expect(f('%#v %#v %#v', 'a', 1, true)).toBe('"a" 1 true')
    expect(f('%#v', [1, 'a', null])).toBe('[]interface {}{1, "a", interface {}(nil)}')
    expect(f('%#v', { b: 'x', a: 1 })).toBe('map[string]interface {}{"a":1, "b":"x"}')
  })

  it('reports bad verbs, missing and extra arguments like Go', () => {
    expect(f('%d', 'x')).toBe('%!d(string=x)')
    expect(f('%s', 5)).toBe('%!s(int=5)')
    expect(f('%d', 1.5)).toBe('%!d(float64=1.5)')
    expect(f('%t', 1)).toBe('%!t(int=1)')
    expect(f('%z', 1)).toBe('%!z(int=1)')
    expect(f('%d', null)).toBe('%!d(<nil>)')
    expect(f('%s', null)).toBe('%!s(<nil>)')
    expect(f('%d %d', 1)).toBe('1 %!d(MISSING)')
    expect(f('%d', 1, 2, 'a', null)).toBe('1%!(EXTRA int=2, string=a, <nil>)')
    expect(f('100%')).toBe('100%!(NOVERB)')
    expect(f('%!')).toBe('%!!(MISSING)')
    expect(f('%%|%5%')).toBe('%|%')
  })

  it('supports argument indexes and star width and precision', () => {
    expect(f('%[2]d %[1]d', 1, 2)).toBe('2 1')
    expect(f('%[1]d %[1]x %d', 10, 11)).toBe('10 a 11')
    expect(f('%[3]d', 1, 2)).toBe('%!d(BADINDEX)')
    expect(f('%*d|%-*d|%.*f', 5, 42, 5, 42, 2, 3.14159)).toBe('   42|42   |3.14')
    expect(f('%*d', -4, 1)).toBe('1   ')
    expect(f('%*d', 'x', 1)).toBe('%!(BADWIDTH)1')
    expect(f('%.*d', 'x', 1)).toBe('%!(BADPREC)1')
  })

  it('is reachable from templates as printf', () => {
    const t = parseTemplate('{{printf "%-10s|%6.2f|%03d" .Name .CPU .N}}')
    expect(t.execute({ Name: 'web', CPU: 12.375, N: 7 })).toBe('web       | 12.38|007')
    expect(parseTemplate('{{printf "%v %d" .Missing 3}}').execute({})).toBe('<nil> 3')
  })
})
