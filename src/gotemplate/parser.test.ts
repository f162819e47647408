import { describe, expect, it } from 'vitest'
import { type ListNode, nodeString, parse } from './parser.js'

const hasFunction = (name: string) => ['printf', 'len', 'contains'].includes(name)

function tree(text: string, name = 't'): ListNode {
  const root = parse(text, { name, hasFunction }).trees.get(name)
  if (!root) throw new Error('no tree')
  return root
}

describe('parse trees', () => {
  // Inputs and printed trees after Go's parse_test.go (text nodes unquoted here).
  it.each([
    ['{{.X}}', '{{.X}}'],
    ['{{$}}', '{{$}}'],
    ['{{$.I}}', '{{$.I}}'],
    ['{{printf `%d` 23}}', '{{printf `%d` 23}}'],
    ['{{.X|.Y}}', '{{.X | .Y}}'],
    ['{{$x := .X|.Y}}', '{{$x := .X | .Y}}'],
    ['{{.X (.Y .Z) (.A | .B .C) (.E)}}', '{{.X (.Y .Z) (.A | .B .C) (.E)}}'],
    ['{{(.Y .Z).Field}}', '{{(.Y .Z).Field}}'],
    ['{{if .X}}true{{else if .Y}}false{{end}}', '{{if .X}}true{{else}}{{if .Y}}false{{end}}{{end}}'],
    [
      '+{{if .X}}X{{else if .Y}}Y{{else if .Z}}Z{{end}}+',
      '+{{if .X}}X{{else}}{{if .Y}}Y{{else}}{{if .Z}}Z{{end}}{{end}}{{end}}+',
    ],
    ['{{range .X|.M}}true{{else}}false{{end}}', '{{range .X | .M}}true{{else}}false{{end}}'],
    ['{{range $x, $y := .SI}}{{.}}{{end}}', '{{range $x, $y := .SI}}{{.}}{{end}}'],
    ['{{range .SI}}{{.}}{{ break }}{{end}}', '{{range .SI}}{{.}}{{break}}{{end}}'],
    ['{{range .SI}}{{.}}{{continue}}{{end}}', '{{range .SI}}{{.}}{{continue}}{{end}}'],
    ['{{template `x` .Y}}', '{{template "x" .Y}}'],
    ['{{with .X}}hello{{else with .Y}}goodbye{{end}}', '{{with .X}}hello{{else}}{{with .Y}}goodbye{{end}}{{end}}'],
    ['x \r\n\t{{- 3 -}}\n\n\ty', 'x{{3}}y'],
    ['x\n{{-  3   -}}\ny', 'x{{3}}y'],
    ['x \r\n\t{{- /* */ -}}\n\n\ty', 'xy'],
    ['{{block "foo" .}}hello{{end}}', '{{template "foo" .}}'],
    ['{{ $x \n := \n 1 \n }}', '{{$x := 1}}'],
    ['{{\n"x"\n|\nprintf\n}}', '{{"x" | printf}}'],
    ["{{printf 'a' 1.5e3 0x1F nil true}}", "{{printf 'a' 1.5e3 0x1F nil true}}"],
    ['{{$x:=.}}{{$x +2}}', '{{$x := .}}{{$x +2}}'],
    ['{{range $x = 0}}{{$x}}{{end}}', '{{range $x = 0}}{{$x}}{{end}}'],
  ])('%j', (input, want) => {
    expect(nodeString(tree(input))).toBe(want)
  })

  it('adds block and define bodies as templates', () => {
    const text = 'a{{block "inner" .}}bar{{.}}baz{{end}}b{{define "d"}}D{{end}}'
    const { trees } = parse(text, { name: 'outer', hasFunction })
    expect(nodeString(trees.get('outer') as ListNode)).toBe('a{{template "inner" .}}b')
    expect(nodeString(trees.get('inner') as ListNode)).toBe('bar{{.}}baz')
    expect(nodeString(trees.get('d') as ListNode)).toBe('D')
  })

  it('treats break and continue as functions when defined so', () => {
    const withBreak = (name: string) => name === 'break'
    expect(() => parse('{{range .X}}{{break 20}}{{end}}', { name: 't', hasFunction: withBreak })).not.toThrow()
    expect(() => parse('{{range .X}}{{break 20}}{{end}}', { name: 't', hasFunction })).toThrow()
  })

  it('rejects adjacent arguments and stray operators', () => {
    const bad = [
      '{{printf 3`x`}}',
      '{{printf `x`.}}',
      '{{$x := 0}}{{$x += 1}}',
      '{{$x:=.}}{{$x!2}}',
      '{{$x:=.}}{{$x+2}}',
      '{{range $x := $y := 3}}{{end}}',
      '{{..E}}',
      '{{nil.E}}',
      '{{12|.}}',
      '{{.|printf|"error"}}',
    ]
    for (const text of bad) {
      expect(() => parse(text, { name: 't', hasFunction }), text).toThrow()
    }
  })
})
