/**
 * `--format` strings that try to run forever or blow up: each ends with a
 * template error in bounded time, the CLI exits cleanly (no stack overflow,
 * no out-of-memory abort), and berthd keeps serving.
 */
import { describe, expect, it } from 'vitest'
import { berth, missing, ok } from '../../helpers.js'

const skip = missing('root', 'daemon')

// Ten thousand levels: deeper than berth's (and Go's) parse limits, and within one argv string's 128 KiB.
const deep = 10_000
const cases: Array<{ name: string; format: string; error: RegExp }> = [
  { name: 'self recursion', format: '{{define "a"}}{{template "a"}}{{end}}{{template "a"}}', error: /exceeded maximum template depth/ },
  { name: 'mutual recursion', format: '{{define "a"}}{{template "b" .}}{{end}}{{define "b"}}x{{template "a" .}}{{end}}{{template "a" .}}', error: /exceeded maximum template depth/ },
  { name: 'a block that calls itself', format: '{{block "a" .}}{{template "a" .}}{{end}}', error: /exceeded maximum template depth/ },
  { name: 'range over a billion', format: '{{range $i := 1000000000}}{{end}}', error: /exceeded maximum execution steps/ },
  { name: 'nested ranges', format: '{{range 100000}}{{range 100000}}{{range 100000}}x{{end}}{{end}}{{end}}', error: /exceeded maximum execution steps/ },
  { name: 'output that doubles forty times', format: '{{$x := "ab"}}' + '{{$x = print $x $x}}'.repeat(40) + '{{$x}}', error: /error calling print|exceeded maximum output|Invalid string length/ },
  { name: 'five thousand nested ifs', format: '{{if 1}}'.repeat(deep / 2) + '{{end}}'.repeat(deep / 2), error: /max control depth exceeded/ },
  { name: 'ten thousand parentheses', format: '{{' + '('.repeat(deep) + '1' + ')'.repeat(deep) + '}}', error: /max expression depth exceeded/ },
  { name: 'an unterminated action', format: '{{range .}}{{', error: /unclosed action|unexpected/ },
  { name: 'a template that is not defined', format: '{{template "nope"}}', error: /template "nope" not defined/ },
  { name: 'an index far out of range', format: '{{index (split "a,b" ",") 99999999999}}', error: /index out of range/ },
]

describe.skipIf(skip)('hostile --format templates', () => {
  for (const c of cases) {
    it(`${c.name}: an error, in bounded time`, async () => {
      for (const args of [['image', 'inspect', '-f', c.format, 'busybox'], ['ps', '-a', '--format', c.format]]) {
        const r = await berth(args, { timeoutMs: 30_000 })
        // 1 for execution errors, 64 for parse errors; 128 would be the timeout's kill: the CLI must end by itself.
        expect([1, 64], r.stderr).toContain(r.code)
        expect(r.stderr).toMatch(c.error)
        expect(r.stderr).not.toMatch(/Maximum call stack|heap out of memory|FATAL ERROR/)
      }
    })
  }

  it('huge printf widths are refused as Go\'s fmt refuses them, without allocating', async () => {
    // Go's parsenum gives up on a width past 1e6 and skips to the end (no verb left); a * width past it is BADWIDTH.
    const r = ok(await berth(['image', 'inspect', '-f', '{{printf "%999999999d" 1}}|{{printf "%*d" 1000000000 1}}|{{printf "%.999999999f" 1.5}}', 'busybox']))
    expect(r.stdout.trim()).toBe('%!(NOVERB)%!(EXTRA int=1)|%!(BADWIDTH)1|%!(NOVERB)%!(EXTRA float64=1.5)')
  })

  it('berthd is still up', async () => {
    ok(await berth(['version']))
    ok(await berth(['version', '--format', '{{.Server.Version}}']))
  })
})
