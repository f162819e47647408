import { describe, expect, it } from 'vitest'

import { LogInfo } from './info.js'
import { encodeJSONFileLine, jsonFileAttrs, parseJSONFileLine } from './jsonfile.js'
import type { LogMessage } from './message.js'

const ts = { ms: Date.UTC(2026, 0, 2, 3, 4, 5, 123), nanos: 456789 }
const msg = (line: string | Uint8Array, extra: Partial<LogMessage> = {}): LogMessage => ({
  line: typeof line === 'string' ? Buffer.from(line) : line,
  source: 'stdout',
  timestamp: ts,
  ...extra,
})

describe('encodeJSONFileLine', () => {
  it('writes docker’s line', () => {
    expect(encodeJSONFileLine(msg('hi')).toString()).toBe(
      '{"log":"hi\\n","stream":"stdout","time":"2026-01-02T03:04:05.123456789Z"}\n',
    )
  })

  it('trims the fraction as RFC3339Nano does', () => {
    expect(encodeJSONFileLine(msg('', { timestamp: { ms: Date.UTC(2026, 0, 2, 3, 4, 5) } })).toString()).toBe(
      '{"log":"\\n","stream":"stdout","time":"2026-01-02T03:04:05Z"}\n',
    )
    expect(encodeJSONFileLine(msg('x', { timestamp: { ms: Date.UTC(2026, 0, 2, 3, 4, 5, 100) } })).toString()).toContain(
      '"time":"2026-01-02T03:04:05.1Z"',
    )
  })

  it('escapes as moby’s jsonlog writer (not encoding/json)', () => {
    const line = Buffer.concat([
      Buffer.from('a<b>&"\\\t\r\x01\x7f'),
      Buffer.from('\u2028\u2029é€😀'),
      Buffer.from([0xff, 0xc3]),
      Buffer.from('z'),
    ])
    expect(encodeJSONFileLine(msg(line, { source: 'stderr' })).toString()).toBe(
      '{"log":"a\\u003cb\\u003e\\u0026\\"\\\\\\u0009\\r\\u0001\x7f\\u2028\\u2029é€😀\\ufffd\\ufffdz\\n","stream":"stderr","time":"2026-01-02T03:04:05.123456789Z"}\n',
    )
  })

  it('adds attrs (sorted, encoding/json) and tag only when set', () => {
    const info = new LogInfo({
      config: { labels: 'b,a', tag: '{{.Name}}' },
      containerID: '0123456789abcdef',
      containerName: '/web',
      containerLabels: { a: '<1>', b: '2' },
    })
    const attrs = jsonFileAttrs(info)
    expect(attrs).toBe('{"a":"\\u003c1\\u003e","b":"2","tag":"web"}')
    expect(encodeJSONFileLine(msg('x'), attrs).toString()).toBe(
      '{"log":"x\\n","stream":"stdout","attrs":{"a":"\\u003c1\\u003e","b":"2","tag":"web"},"time":"2026-01-02T03:04:05.123456789Z"}\n',
    )
    expect(jsonFileAttrs(new LogInfo({ containerID: '0123456789abcdef', containerName: '/web' }))).toBeUndefined()
  })

  it('leaves the newline off a partial piece that is not the last', () => {
    const p = { id: 'p1', ordinal: 1, last: false }
    expect(encodeJSONFileLine(msg('part', { partial: p })).toString()).toBe(
      '{"log":"part","stream":"stdout","time":"2026-01-02T03:04:05.123456789Z"}\n',
    )
    expect(encodeJSONFileLine(msg('end', { partial: { ...p, ordinal: 2, last: true } })).toString()).toContain(
      '"log":"end\\n"',
    )
    expect(encodeJSONFileLine(msg('', { partial: p })).toString()).toBe(
      '{"stream":"stdout","time":"2026-01-02T03:04:05.123456789Z"}\n',
    )
  })
})

describe('parseJSONFileLine', () => {
  it('reads a line back', () => {
    const e = parseJSONFileLine(
      '{"log":"a\\u003cb\\n","stream":"stderr","attrs":{"tag":"web"},"time":"2026-01-02T03:04:05.123456789Z"}\n',
    )
    expect(e).toEqual({
      line: Buffer.from('a<b\n'),
      source: 'stderr',
      timestamp: { ms: ts.ms, nanos: 456789 },
      attrs: { tag: 'web' },
      partial: false,
    })
  })

  it('round-trips and spots partial pieces', () => {
    const line = encodeJSONFileLine(msg('x', { partial: { id: 'i', ordinal: 1, last: false } })).toString()
    expect(parseJSONFileLine(line)).toMatchObject({ line: Buffer.from('x'), partial: true, timestamp: ts })
  })

  it('accepts other offsets and rejects junk', () => {
    expect(parseJSONFileLine('{"log":"x\\n","time":"2026-01-02T04:04:05.5+01:00"}').timestamp).toEqual({
      ms: Date.UTC(2026, 0, 2, 3, 4, 5, 500),
      nanos: 0,
    })
    expect(() => parseJSONFileLine('nope')).toThrow()
    expect(() => parseJSONFileLine('[1]')).toThrow()
  })
})

describe('encodeJSONFileLine on plain lines (the bytes copied, not escaped)', () => {
  it('gives each line its own time and stream when they change from line to line', () => {
    const t2 = { ms: ts.ms + 1, nanos: 0 }
    const lines = [msg('a'), msg('b', { timestamp: t2 }), msg('c'), msg('d', { source: 'stderr' }), msg('e', { partial: { id: 'p', ordinal: 1, last: false } }), msg('f')]
    expect(lines.map((m) => encodeJSONFileLine(m).toString()).join('')).toBe(
      [
        '{"log":"a\\n","stream":"stdout","time":"2026-01-02T03:04:05.123456789Z"}',
        '{"log":"b\\n","stream":"stdout","time":"2026-01-02T03:04:05.124Z"}',
        '{"log":"c\\n","stream":"stdout","time":"2026-01-02T03:04:05.123456789Z"}',
        '{"log":"d\\n","stream":"stderr","time":"2026-01-02T03:04:05.123456789Z"}',
        '{"log":"e","stream":"stdout","time":"2026-01-02T03:04:05.123456789Z"}',
        '{"log":"f\\n","stream":"stdout","time":"2026-01-02T03:04:05.123456789Z"}',
        '',
      ].join('\n'),
    )
  })

  it('reads back what it wrote', () => {
    const line = 'plain text ~ with spaces and 0x7f \x7f'
    const back = parseJSONFileLine(encodeJSONFileLine(msg(line)).toString().trimEnd())
    expect(back.line.toString()).toBe(`${line}\n`)
    expect(back.timestamp).toEqual(ts)
  })
})
