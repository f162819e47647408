import { describe, expect, it } from 'vitest'
import { kindOf } from '../errors/index.js'
import { TemplateError, dockerFuncs, parseTemplate } from './index.js'

const parse = (text: string) => parseTemplate(text, { funcs: dockerFuncs, name: 'x' })
const run = (text: string, data?: unknown) => parse(text).execute(data)

/** The message a template fails to parse with. */
function parseError(text: string): string {
  try {
    parse(text)
  } catch (err) {
    expect(err).toBeInstanceOf(TemplateError)
    return (err as Error).message
  }
  throw new Error(`parsed: ${text}`)
}

function execError(text: string, data?: unknown): string {
  const t = parse(text)
  try {
    t.execute(data)
  } catch (err) {
    expect(err).toBeInstanceOf(TemplateError)
    return (err as Error).message
  }
  throw new Error(`executed: ${text}`)
}

describe('parse errors', () => {
  it.each([
    ['{{foo}}', 'template: x:1: function "foo" not defined'],
    ['{{.Foo', 'template: x:1: unclosed action'],
    ['a\n{{.Foo\n', 'template: x:3: unclosed action started at x:2'],
    ['{{if .A}}x', 'template: x:1: unexpected EOF'],
    ['{{end}}', 'template: x:1: unexpected {{end}}'],
    ['{{else}}', 'template: x:1: unexpected {{else}}'],
    ['{{range .}}{{else}}{{else}}{{end}}', 'template: x:1: expected end; found {{else}}'],
    ['{{$x}}', 'template: x:1: undefined variable "$x"'],
    ['{{break}}', 'template: x:1: {{break}} outside {{range}}'],
    ['{{continue}}', 'template: x:1: {{continue}} outside {{range}}'],
    ['{{range .}}{{else}}{{break}}{{end}}', 'template: x:1: {{break}} outside {{range}}'],
    ['{{range .}}{{break 1}}{{end}}', 'template: x:1: unexpected "1" in {{break}}'],
    ['{{}}', 'template: x:1: missing value for command'],
    ['{{if}}{{end}}', 'template: x:1: missing value for if'],
    ['{{"a" | "b"}}', 'template: x:1: non executable command in pipeline stage 2'],
    ['{{.A | .B | 3}}', 'template: x:1: non executable command in pipeline stage 3'],
    ['{{(1}}', 'template: x:1: unclosed left paren'],
    ['{{1)}}', 'template: x:1: unexpected right paren'],
    ['{{"abc}}', 'template: x:1: unterminated quoted string'],
    ['{{`abc}}', 'template: x:1: unterminated raw quoted string'],
    ["{{'a}}", 'template: x:1: unterminated character constant'],
    ["{{'ab'}}", "template: x:1: malformed character constant: 'ab'"],
    ['{{"\\q"}}', 'template: x:1: invalid syntax'],
    ['{{/* abc }}', 'template: x:1: unclosed comment'],
    ['{{/* abc */ x}}', 'template: x:1: comment ends before closing delimiter'],
    ['{{3k}}', 'template: x:1: bad number syntax: "3k"'],
    ['{{.A#}}', "template: x:1: bad character U+0023 '#'"],
    ['{{@}}', 'template: x:1: unexpected "@" in command'],
    ['{{.A :}}', 'template: x:1: expected :='],
    ['{{"x".A}}', 'template: x:1: unexpected . after term "\\"x\\""'],
    ['{{template .X}}', 'template: x:1: unexpected ".X" in template clause'],
    ['{{define "a"}}x{{end}}{{define "a"}}y{{end}}', 'template: x:1: template: multiple definition of template "a"'],
    ['{{range $a, $b, $c := .}}{{end}}', 'template: x:1: too many declarations in range'],
    ['{{with $a, $b := .}}{{end}}', 'template: x:1: too many declarations in with'],
    ['{{range $a, 1}}{{end}}', 'template: x:1: range can only initialize variables'],
    ['{{if 1}}{{define "a"}}{{end}}{{end}}', 'template: x:1: unexpected <define> in command'],
    ['{{99999999999999999999}}', 'template: x:1: integer overflow: "99999999999999999999"'],
    ['{{1+2i}}', 'template: x:1: complex numbers are not supported: "1+2i"'],
    ['{{.A "verylongstringhere"x}}', 'template: x:1: unexpected "x" in operand'],
    ['line1\nline2 {{end}}', 'template: x:2: unexpected {{end}}'],
    ['line1\n{{"x"\n"y"\n', 'template: x:4: unclosed action started at x:2'],
    ['{{\n\n\n\n\n', 'template: x:6: unclosed action started at x:1'],
    ['line1\n{{\nx\n}}', 'template: x:3: function "x" not defined'],
    ['{{/*\nhello\n}}', 'template: x:1: unclosed comment'],
    ['{{.X 1 2 3 ) }}', 'template: x:1: unexpected right paren'],
    ['{{`x`3}}', 'template: x:1: unexpected "3" in operand'],
    ['{{0xi}}', 'template: x:1: illegal number syntax: "0xi"'],
    ['{{2i}}', 'template: x:1: complex numbers are not supported: "2i"'],
    ['{{ $v := `\n` }} {{', 'template: x:2: unclosed action'],
    ['{{range $k}}{{end}}', 'template: x:1: undefined variable "$k"'],
    ['{{range $k,}}{{end}}', 'template: x:1: missing value for range'],
    ['{{range $k, $v := }}{{end}}', 'template: x:1: missing value for range'],
    ['{{range $k, .}}{{end}}', 'template: x:1: range can only initialize variables'],
    ['{{ ( ) }}', 'template: x:1: missing value for parenthesized pipeline'],
    ['{{$x := 23}}{{with $x.y := 3}}{{$x 23}}{{end}}', 'template: x:1: unexpected ":=" in operand'],
    ['{{printf 3, 4}}', 'template: x:1: unexpected "," in operand'],
    ['{{printf (printf .).}}', 'template: x:1: unexpected <.> in operand'],
    ['{{true.any}}', 'template: x:1: unexpected . after term "true"'],
    ['{{if .X}}a{{else if .Y}}b{{end}}{{end}}', 'template: x:1: unexpected {{end}}'],
    ['{{block "foo"}}hello{{end}}', 'template: x:1: missing value for block clause'],
  ])('%j', (text, message) => {
    expect(parseError(text)).toBe(message)
  })

  it('reports long tokens truncated as Go does', () => {
    expect(parseError('{{.A "verylongstring"}}{{end}}')).toBe('template: x:1: unexpected {{end}}')
    expect(parseError('{{if "verylongstringhere" | 1}}{{end}}')).toBe(
      'template: x:1: non executable command in pipeline stage 2',
    )
  })

  it('carries the invalid-argument kind', () => {
    try {
      parse('{{')
    } catch (err) {
      expect(kindOf(err)).toBe('invalid-argument')
    }
  })

  it('names the template in messages; docker\'s template is named ""', () => {
    expect(() => parseTemplate('{{nope}}')).toThrow('template: :1: function "nope" not defined')
  })
})

describe('execution errors', () => {
  it('reports location and the failing node', () => {
    expect(execError('{{.State.Health.Status}}', { State: { Health: null } })).toBe(
      'template: x:1:8: executing "x" at <.State.Health.Status>: nil pointer evaluating interface {}.Status',
    )
    expect(execError('{{index .A 5}}', { A: [1] })).toBe(
      'template: x:1:2: executing "x" at <index .A 5>: error calling index: index out of range: 5',
    )
    expect(execError('a\n  {{.A.B}}', { A: 's' })).toBe(
      'template: x:2:6: executing "x" at <.A.B>: can\'t evaluate field B in type string',
    )
    expect(execError('{{define "t"}}{{.X.Y}}{{end}}{{template "t" .}}', { X: 1 })).toBe(
      'template: x:1:18: executing "t" at <.X.Y>: can\'t evaluate field Y in type int',
    )
  })

  it.each([
    ['{{nil}}', undefined, 'nil is not a command'],
    ['{{1 2}}', undefined, "can't give argument to non-function 1"],
    ['{{.A 1}}', { A: 's' }, 'A is not a method but has arguments'],
    ['{{$x := 1}}{{$x 2}}', undefined, "can't give argument to non-function $x"],
    ['{{len}}', undefined, 'wrong number of args for len: want 1 got 0'],
    ['{{not 1 2}}', undefined, 'wrong number of args for not: want 1 got 2'],
    ['{{index}}', undefined, 'wrong number of args for index: want at least 1 got 0'],
    ['{{len 3}}', undefined, 'error calling len: len of type int'],
    ['{{len .N}}', {}, 'error calling len: len of untyped nil'],
    ['{{index .N 0}}', { N: null }, 'error calling index: index out of range: 0'],
    ['{{index .A -1}}', { A: [1] }, 'error calling index: index out of range: -1'],
    ['{{index .A 1}}', { A: [1] }, 'error calling index: index out of range: 1'],
    ['{{index .A "x"}}', { A: [1] }, 'error calling index: cannot index slice/array with type string'],
    ['{{index .A 1.5}}', { A: [1] }, 'error calling index: cannot index slice/array with type float64'],
    ['{{index .M 1}}', { M: { a: 1 } }, 'error calling index: value has type int; should be string'],
    ['{{index 3 1}}', undefined, "error calling index: can't index item of type int"],
    ['{{index .Nope 1}}', {}, 'error calling index: index of untyped nil'],
    ['{{slice .A 2 1}}', { A: [1, 2] }, 'error calling slice: invalid slice index: 2 > 1'],
    ['{{slice .A 1 2 3 4}}', { A: [1, 2] }, 'error calling slice: too many slice indexes: 4'],
    ['{{slice "abc" 1 2 3}}', undefined, 'error calling slice: cannot 3-index slice a string'],
    ['{{eq 1 "a"}}', undefined, 'error calling eq: incompatible types for comparison: int and string'],
    ['{{eq .A .A}}', { A: [1] }, 'error calling eq: non-comparable type [1]: []interface {}'],
    ['{{eq 1}}', undefined, 'error calling eq: missing argument for comparison'],
    ['{{lt true false}}', undefined, 'error calling lt: invalid type for comparison'],
    ['{{lt .A 1}}', { A: [] }, 'error calling lt: invalid type for comparison'],
    ['{{printf 1}}', undefined, 'wrong type for value; expected string; got int'],
    ['{{range 1.5}}{{end}}', undefined, "range can't iterate over 1.5"],
    ['{{range "abc"}}{{end}}', undefined, "range can't iterate over abc"],
    ['{{range $i, $e := 3}}{{end}}', undefined, "can't use 3 to iterate over more than one variable"],
    ['{{template "nope"}}', undefined, 'template "nope" not defined'],
    ['{{$x = 1}}', undefined, 'undefined variable: $x'],
    ['{{(nil).A}}', undefined, 'at <nil>: nil is not a command'],
    ['{{.}}', () => 1, "can't print {{.}} of type func(...interface {}) interface {}"],
  ])('%s', (text, data, message) => {
    expect(execError(text, data)).toContain(message)
  })

  it('stops at the first error without partial output leaking into the result', () => {
    expect(() => run('ok {{index .A 9}} never', { A: [] })).toThrow(TemplateError)
  })
})

describe('hostile templates', () => {
  it('refuses deep nesting at parse time instead of overflowing the stack', () => {
    const n = 100_000
    expect(parseError('{{' + '('.repeat(n) + '1' + ')'.repeat(n) + '}}')).toBe(
      'template: x:1: max expression depth exceeded',
    )
    expect(parseError('{{if 1}}'.repeat(n) + '{{end}}'.repeat(n))).toBe('template: x:1: max control depth exceeded')
    expect(parseError('{{range .}}'.repeat(5000) + '{{end}}'.repeat(5000))).toMatch(/max control depth/)
  })

  it('still runs reasonable nesting', () => {
    expect(run('{{' + '('.repeat(200) + '1' + ')'.repeat(200) + '}}')).toBe('1')
    expect(run('{{with .}}'.repeat(300) + '{{.}}' + '{{end}}'.repeat(300), 'deep')).toBe('deep')
  })

  it('ends recursive template calls with an error', () => {
    expect(execError('{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}')).toMatch(
      /executing "r" at <\{\{template "r" \.\}\}>: exceeded maximum template depth \(1000\)/,
    )
    const mutual = '{{define "a"}}{{template "b"}}{{end}}{{define "b"}}{{template "a"}}{{end}}{{template "a"}}'
    expect(execError(mutual)).toMatch(/exceeded maximum template depth/)
    const heavy =
      '{{define "r"}}{{if 1}}{{with .}}{{range $i := 1}}{{printf "%s" (print (print $)) | len}}' +
      '{{template "r" $}}{{end}}{{end}}{{end}}{{end}}{{template "r" "x"}}'
    expect(execError(heavy, 'x')).toMatch(/exceeded maximum template depth|call stack/)
  })

  it('bounds exponential template fan-out and huge ranges by steps', () => {
    let text = ''
    for (let i = 0; i < 40; i++) text += `{{define "t${i}"}}{{template "t${i + 1}"}}{{template "t${i + 1}"}}{{end}}`
    text += '{{define "t40"}}x{{end}}{{template "t0"}}'
    expect(execError(text)).toMatch(/exceeded maximum execution steps/)
    expect(execError('{{range 100000000000}}{{end}}')).toMatch(/exceeded maximum execution steps/)
  })

  it('fails cleanly on garbage', () => {
    const garbage = ['{{{{{{', '}}}}{{', '{{"', '{{(((', '{{$', '{{.', '{{-', '{{- -}}', '{{/*', '\u0000{{\u0000}}']
    for (const text of garbage) {
      expect(() => parse(text).execute({}), JSON.stringify(text)).toThrow(TemplateError)
    }
  })
})
