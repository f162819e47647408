import { describe, expect, it } from 'vitest'
import { type TemplateFunc, dockerFuncs, parseTemplate } from './index.js'

const run = (text: string, data?: unknown, funcs: Record<string, TemplateFunc> = dockerFuncs) =>
  parseTemplate(text, { funcs, name: 'x' }).execute(data)

const container = {
  Id: 'abc123',
  Name: '/web',
  Args: ['-g', 'daemon off;'],
  State: { Status: 'running', Running: true, Pid: 1234, ExitCode: 0, Health: null },
  Config: {
    Env: ['PATH=/usr/bin', 'A=1'],
    Labels: { 'com.example.z': 'last', 'com.example.a': 'first' },
  },
  Mounts: [
    { Source: '/srv/a', Destination: '/a' },
    { Source: '/srv/b', Destination: '/b' },
  ],
  NetworkSettings: { Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }], '443/tcp': null } },
}

describe('text and actions', () => {
  it('copies text without actions unchanged', () => {
    expect(run('hello, world\n')).toBe('hello, world\n')
    expect(run('')).toBe('')
    expect(run('a } b { c }} d')).toBe('a } b { c }} d')
  })

  it('evaluates docker inspect favourites', () => {
    expect(run('{{.State.Pid}}', container)).toBe('1234')
    expect(run('{{.Name}}', container)).toBe('/web')
    expect(run('{{.Config.Env}}', container)).toBe('[PATH=/usr/bin A=1]')
    expect(run('{{range .Mounts}}{{.Source}} {{end}}', container)).toBe('/srv/a /srv/b ')
    expect(run('{{index .Config.Labels "com.example.a"}}', container)).toBe('first')
    expect(run('{{(index .NetworkSettings.Ports "80/tcp")}}', container)).toBe('[map[HostIp:0.0.0.0 HostPort:8080]]')
    expect(run('{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}', container)).toBe('8080')
    expect(run('{{println .Id}}', container)).toBe('abc123\n')
    expect(run('{{join .Args " "}}', container)).toBe('-g daemon off;')
    expect(run('{{range $k, $v := .Config.Labels}}{{$k}}={{$v}} {{end}}', container)).toBe(
      'com.example.a=first com.example.z=last ',
    )
    expect(run('{{.State.Running}} {{.State.ExitCode}}', container)).toBe('true 0')
  })

  it('prints a missing key as <no value> and null as <nil>', () => {
    expect(run('{{.Nope}}', container)).toBe('<no value>')
    expect(run('{{.Nope.Deeper.Still}}', container)).toBe('<no value>')
    expect(run('{{.State.Health}}', container)).toBe('<nil>')
    expect(run('{{print .Nope}}', container)).toBe('<nil>')
  })

  it('prints dot', () => {
    expect(run('{{.}}', 'str')).toBe('str')
    expect(run('{{.}}', 42)).toBe('42')
    expect(run('{{.}}', null)).toBe('<nil>')
    expect(run('{{.}}')).toBe('<no value>')
    expect(run('{{.}}', { b: [1, 'x', null], a: true })).toBe('map[a:true b:[1 x <nil>]]')
  })

  it('handles the examples of the text/template documentation', () => {
    const want = '"output"'
    for (const t of [
      '{{"\\"output\\""}}',
      '{{`"output"`}}',
      '{{printf "%q" "output"}}',
      '{{"output" | printf "%q"}}',
      '{{printf "%q" (print "out" "put")}}',
      '{{"put" | printf "%s%s" "out" | printf "%q"}}',
      '{{"output" | printf "%s" | printf "%q"}}',
      '{{with "output"}}{{printf "%q" .}}{{end}}',
      '{{with $x := "output" | printf "%q"}}{{$x}}{{end}}',
      '{{with $x := "output"}}{{printf "%q" $x}}{{end}}',
      '{{with $x := "output"}}{{$x | printf "%q"}}{{end}}',
    ]) {
      expect(run(t), t).toBe(want)
    }
  })
})

describe('whitespace trimming and comments', () => {
  it('trims space around trim markers', () => {
    expect(run('{{23 -}} < {{- 45}}')).toBe('23<45')
    expect(run('a  \n\t {{- "b" -}} \n\n c')).toBe('abc')
    expect(run('{{- "x" -}}')).toBe('x')
    expect(run('<{{- range .}}\n  {{.}}\n{{- end}}\n>', [1, 2])).toBe('<\n  1\n  2\n>')
  })

  it('treats a minus without a following space as a number sign', () => {
    expect(run('a {{-3}}')).toBe('a -3')
    expect(run('{{3 }}')).toBe('3')
  })

  it('drops comments, trimmed or not, across lines', () => {
    expect(run('a{{/* a comment */}}b')).toBe('ab')
    expect(run('a {{- /* c */ -}} b')).toBe('ab')
    expect(run('a{{/* multi\nline */}}b')).toBe('ab')
  })

  it('allows newlines inside actions', () => {
    expect(run('{{printf\n  "%d"\n  3}}')).toBe('3')
  })
})

describe('fields and methods', () => {
  it('calls function-valued properties as methods, with arguments', () => {
    const data = {
      Labels: { 'com.example': 'yes' },
      Label(this: { Labels: Record<string, string> }, k: unknown) {
        return this.Labels[String(k)] ?? ''
      },
      Upper: () => ({ Name: 'NESTED' }),
      Fail: () => {
        throw new Error('boom')
      },
    }
    expect(run('{{.Label "com.example"}}', data)).toBe('yes')
    expect(run('{{"com.example" | .Label}}', data)).toBe('yes')
    expect(run('{{.Upper.Name}}', data)).toBe('NESTED')
    expect(run('{{printf "%s" .Upper.Name}}', data)).toBe('NESTED')
    expect(() => run('{{.Fail}}', data)).toThrow('template: x:1:2: executing "x" at <.Fail>: error calling Fail: boom')
  })

  it('reads class instances as structs, with prototype methods', () => {
    class Box {
      n = 21
      twice() {
        return this.n * 2
      }
    }
    expect(run('{{.n}} {{.twice}}', new Box())).toBe('21 42')
    expect(() => run('{{.constructor}}', new Box())).toThrow("can't evaluate field constructor in type *Box")
    expect(() => run('{{.nope}}', new Box())).toThrow("can't evaluate field nope in type *Box")
    expect(run('{{.toString}}', {})).toBe('<no value>')
  })

  it('evaluates fields of parenthesized pipelines and variables', () => {
    expect(run('{{(index .Mounts 1).Destination}}', container)).toBe('/b')
    expect(run('{{$m := index .Mounts 0}}{{$m.Source}}', container)).toBe('/srv/a')
    expect(run('{{$.State.Status}}', container)).toBe('running')
  })

  it('reads Map instances like Go maps', () => {
    const m = new Map<string, unknown>([
      ['b', 2],
      ['a', 1],
    ])
    expect(run('{{.a}} {{range $k, $v := .}}{{$k}}{{$v}}{{end}} {{.}}', m)).toBe('1 a1b2 map[a:1 b:2]')
  })
})

describe('control structures', () => {
  it('if, else if, else', () => {
    const t = '{{if .A}}a{{else if .B}}b{{else}}c{{end}}'
    expect(run(t, { A: 1 })).toBe('a')
    expect(run(t, { B: 'x' })).toBe('b')
    expect(run(t, {})).toBe('c')
    expect(run('{{if .A}}a{{end}}', { A: 0 })).toBe('')
  })

  it('uses Go truthiness', () => {
    const t = '{{if .}}T{{else}}F{{end}}'
    for (const v of [false, 0, 0.0, null, undefined, '', [], {}, new Map()]) expect(run(t, v), String(v)).toBe('F')
    for (const v of [true, 1, -1, 0.5, 'x', [0], { a: 0 }, NaN]) expect(run(t, v), String(v)).toBe('T')
  })

  it('with sets dot; else with and else run otherwise', () => {
    const t = '{{with .A}}a={{.}}{{else with .B}}b={{.}}{{else}}none{{.C}}{{end}}'
    expect(run(t, { A: 1, B: 2 })).toBe('a=1')
    expect(run(t, { B: 2 })).toBe('b=2')
    expect(run(t, { C: '!' })).toBe('none!')
  })

  it('ranges over arrays, maps in key order, and integers', () => {
    expect(run('{{range .}}[{{.}}]{{end}}', ['a', 'b'])).toBe('[a][b]')
    expect(run('{{range $i, $v := .}}{{$i}}:{{$v}} {{end}}', ['a', 'b'])).toBe('0:a 1:b ')
    expect(run('{{range $v := .}}{{$v}}{{end}}', ['a', 'b'])).toBe('ab')
    expect(run('{{range $k, $v := .}}{{$k}}{{$v}}{{end}}', { b: 2, a: 1, B: 3, 10: 4, 9: 5 })).toBe('10495B3a1b2')
    expect(run('{{range .}}{{.}}{{end}}', { z: 1, a: 2 })).toBe('21')
    expect(run('{{range 3}}{{.}}{{end}}')).toBe('012')
    expect(run('{{range $i := 3}}{{$i}}{{end}}')).toBe('012')
    expect(run('{{range 0}}x{{else}}none{{end}}')).toBe('none')
  })

  it('runs range else for empty and nil values, with dot unchanged', () => {
    const t = '{{range .L}}x{{else}}empty {{.N}}{{end}}'
    expect(run(t, { L: [], N: 1 })).toBe('empty 1')
    expect(run(t, { L: {}, N: 1 })).toBe('empty 1')
    expect(run(t, { L: null, N: 1 })).toBe('empty 1')
    expect(run(t, { N: 1 })).toBe('empty 1')
  })

  it('break and continue', () => {
    expect(run('{{range .}}{{if eq . 3}}{{break}}{{end}}{{.}}{{end}}', [1, 2, 3, 4])).toBe('12')
    expect(run('{{range .}}{{if eq . 2}}{{continue}}{{end}}{{.}}{{end}}', [1, 2, 3])).toBe('13')
    expect(run('{{range .}}{{range .}}{{if eq . 2}}{{break}}{{end}}{{.}}{{end}};{{end}}', [[1, 2, 3], [4]])).toBe(
      '1;4;',
    )
    expect(run('{{range .}}{{with .}}{{continue}}{{end}}{{.}}{{end}}', [0, 1, '', 'x'])).toBe('0')
  })
})

describe('variables', () => {
  it('declares and assigns', () => {
    expect(run('{{$x := 1}}{{$x}}{{$x = 2}}{{$x}}')).toBe('12')
    expect(run('{{$x := "outer"}}{{range .}}{{$x = .}}{{end}}{{$x}}', ['a', 'b'])).toBe('b')
  })

  it('scopes declarations to the enclosing control structure', () => {
    expect(run('{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}')).toBe('21')
    expect(run('{{with $x := 5}}{{$x}}{{end}}{{$x := 6}}{{$x}}')).toBe('56')
    expect(() => run('{{if true}}{{$x := 2}}{{end}}{{$x}}')).toThrow('template: x:1: undefined variable "$x"')
  })

  it('sets $ to the data everywhere', () => {
    expect(run('{{range .Items}}{{$.Name}}:{{.}} {{end}}', { Name: 'n', Items: [1, 2] })).toBe('n:1 n:2 ')
  })

  it('assigns range variables with =', () => {
    expect(run('{{$i := 0}}{{$v := 0}}{{range $i, $v = .}}{{end}}{{$i}}{{$v}}', ['a', 'b'])).toBe('1b')
  })
})

describe('templates', () => {
  it('defines and invokes templates', () => {
    const t =
      '{{define "T1"}}ONE{{end}}{{define "T2"}}TWO{{end}}' +
      '{{define "T3"}}{{template "T1"}} {{template "T2"}}{{end}}{{template "T3"}}'
    expect(run(t)).toBe('ONE TWO')
  })

  it('passes the pipeline as dot and nothing else', () => {
    expect(run('{{define "t"}}<{{.}}>{{end}}{{template "t" .Name}}{{template "t"}}', { Name: 'n' })).toBe(
      '<n><<no value>>',
    )
    expect(() => run('{{define "t"}}{{$x}}{{end}}{{$x := 1}}{{template "t"}}')).toThrow('undefined variable "$x"')
  })

  it('runs block as define plus template', () => {
    expect(run('{{block "b" .}}default {{.}}{{end}}', 'x')).toBe('default x')
  })

  it('lets a later empty definition keep the earlier one', () => {
    expect(run('{{define "a"}}A{{end}}{{define "a"}} {{end}}{{template "a"}}')).toBe('A')
  })
})

describe('builtins', () => {
  it('and, or, not return the deciding value and short-circuit', () => {
    const data = {
      Fail: () => {
        throw new Error('evaluated')
      },
    }
    expect(run('{{and 1 0 2}}')).toBe('0')
    expect(run('{{and 1 2}}')).toBe('2')
    expect(run('{{or 0 "" "x"}}')).toBe('x')
    expect(run('{{or 0 ""}}')).toBe('')
    expect(run('{{or 1 .Fail}}', data)).toBe('1')
    expect(run('{{and 0 .Fail}}', data)).toBe('0')
    expect(run('{{0 | and 1}}')).toBe('0')
    expect(run('{{not 0}} {{not "x"}}')).toBe('true false')
  })

  it('compares', () => {
    expect(run('{{eq 2 1 2 3}} {{eq "a" "b"}} {{ne 1 2}} {{eq true true}}')).toBe('true false true true')
    expect(run('{{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}} {{lt 1.5 2}}')).toBe('true true true false true')
    expect(run('{{eq .Missing "x"}} {{eq .Null nil}} {{eq .Null 0}}', { Null: null })).toBe('false true false')
    expect(run('{{if eq .State.Status "running" "paused"}}up{{end}}', container)).toBe('up')
  })

  it('len counts bytes of strings, items of arrays and maps', () => {
    expect(run('{{len .A}} {{len "héllo"}} {{len .M}} {{len ""}}', { A: [1, 2, 3], M: { a: 1 } })).toBe('3 6 1 0')
    expect(run('{{len .Config.Env}}', { Config: { Env: null } })).toBe('0')
  })

  it('index indexes arrays, maps, strings, several levels deep', () => {
    const data = { A: [10, 20], M: { a: [1, 2], b: { c: 'deep' } } }
    expect(run('{{index .A 1}} {{index .M "a" 1}} {{index .M "b" "c"}} {{index "abc" 1}}', data)).toBe('20 2 deep 98')
    expect(run('{{index .A}}', data)).toBe('[10 20]')
  })

  it('index of a missing key in a string map is "", as for docker labels', () => {
    expect(run('[{{index .Config.Labels "nope"}}]', container)).toBe('[]')
    expect(run('[{{index .L "nope"}}]', { L: null })).toBe('[]')
    expect(run('[{{index .L "nope"}}]', { L: {} })).toBe('[]')
    expect(run('[{{index .L "nope"}}]', { L: { a: 1 } })).toBe('[<no value>]')
  })

  it('slice', () => {
    const data = { A: [1, 2, 3] }
    expect(run('{{slice "hello" 1 3}} {{slice .A 1}} {{slice .A}} {{slice .A 0 1}}', data)).toBe('el [2 3] [1 2 3] [1]')
  })

  it('print, println', () => {
    expect(run('{{print 1 2}}|{{print "a" 1 2 "b"}}|{{print}}|{{println 1 "a"}}')).toBe('1 2|a1 2b||1 a\n')
  })

  it('html, js, urlquery', () => {
    expect(run(`{{html "<a href='x'>&\\"</a>"}}`)).toBe('&lt;a href=&#39;x&#39;&gt;&amp;&#34;&lt;/a&gt;')
    expect(run('{{js "it\'s <b> = \\"x\\"\\n"}}')).toBe('it\\\'s \\u003Cb\\u003E \\u003D \\"x\\"\\u000A')
    expect(run('{{urlquery "a b&c=d/é~"}}')).toBe('a+b%26c%3Dd%2F%C3%A9~')
    expect(run('{{html .Nope}}', {})).toBe('&lt;no value&gt;')
    expect(run('{{html 1 2}}')).toBe('1 2')
  })

  it('call calls a function value', () => {
    const data = { Fns: { add: (a: unknown, b: unknown) => Number(a) + Number(b) } }
    expect(run('{{call (index .Fns "add") 1 2}}', data)).toBe('3')
    expect(() => run('{{call .S}}', { S: 'str' })).toThrow('error calling call: non-function .S of type string')
    expect(() => run('{{call .N}}', { N: null })).toThrow('error calling call: call of nil')
  })

  it('lets funcs override builtins and receive nil for missing values', () => {
    const seen: unknown[] = []
    const funcs = {
      len: () => 'mine',
      see: (...a: unknown[]) => {
        seen.push(...a)
        return ''
      },
    }
    expect(run('{{len 1}}{{see .Nope nil}}', {}, funcs)).toBe('mine')
    expect(seen).toEqual([null, null])
  })
})

describe('literals', () => {
  it('reads Go number syntax', () => {
    expect(run('{{0x1F}} {{0o17}} {{017}} {{0b101}} {{1_000}} {{-3}} {{+3}}')).toBe('31 15 15 5 1000 -3 3')
    expect(run("{{'a'}} {{'\\n'}} {{'\\x41'}} {{'é'}}")).toBe('97 10 65 233')
    expect(run('{{1.5e3}} {{.5}} {{1.0}} {{0x1p-2}} {{1e6}} {{1.5e-7}}')).toBe('1500 0.5 1 0.25 1000000 1.5e-07')
    expect(run('{{9223372036854775807}}')).toBe('9223372036854775807')
  })

  it('reads Go string escapes', () => {
    expect(run('{{"a\\tb\\u00e9\\x41\\101\\\\"}}')).toBe('a\tbéAA\\')
    expect(run('{{"\\xc3\\xa9"}}')).toBe('é')
    expect(run('{{`raw\\n`}}')).toBe('raw\\n')
  })

  it('reads booleans and nil', () => {
    expect(run('{{true}} {{false}} {{print nil}}')).toBe('true false <nil>')
  })
})

describe('missingkey=error', () => {
  it('fails on a missing map key, as docker inspect on raw JSON', () => {
    expect(() => parseTemplate('{{.Name}}', { missingKey: 'error' }).execute({ Id: 'x' })).toThrow(/map has no entry for key "Name"/)
    expect(parseTemplate('{{.Name}}').execute({ Id: 'x' })).toBe('<no value>')
    expect(parseTemplate('{{.Id}}', { missingKey: 'error' }).execute({ Id: 'x' })).toBe('x')
  })
})
