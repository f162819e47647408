import { describe, expect, it } from 'vitest'

import type { LogMessage } from './message.js'
import { encodeSyslogMessage, syslogPriority, type SyslogEncodeOptions } from './syslog.js'

const now = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678))
const base: SyslogEncodeOptions = {
  format: '',
  proto: 'udp',
  facility: 3 << 3,
  hostname: 'node1',
  tag: 'abc123',
  pid: 1234,
  now,
  utcOffsetMinutes: 0,
}
const out: LogMessage = { line: Buffer.from('hello'), source: 'stdout', timestamp: { ms: 0 } }
const err: LogMessage = { ...out, source: 'stderr' }
const enc = (m: LogMessage, o: Partial<SyslogEncodeOptions>) => encodeSyslogMessage(m, { ...base, ...o })?.toString()

describe('syslog', () => {
  it('computes the priority', () => {
    expect(syslogPriority(3 << 3, 'stdout')).toBe(30)
    expect(syslogPriority(3 << 3, 'stderr')).toBe(27)
    expect(syslogPriority(23 << 3, 'stderr')).toBe(187)
    expect(syslogPriority(0, 'stdout')).toBe(6)
  })

  it('default format is srslog’s UnixFormatter', () => {
    expect(enc(out, {})).toBe('<30>Jan  2 03:04:05 abc123[1234]: hello\n')
    expect(enc(out, { now: new Date(Date.UTC(2026, 11, 12, 23, 0, 0)) })).toBe('<30>Dec 12 23:00:00 abc123[1234]: hello\n')
  })

  it('rfc3164 adds the hostname', () => {
    expect(enc(err, { format: 'rfc3164' })).toBe('<27>Jan  2 03:04:05 node1 abc123[1234]: hello\n')
  })

  it('rfc5424 uses the tag as app-name and msgid', () => {
    expect(enc(out, { format: 'rfc5424' })).toBe('<30>1 2026-01-02T03:04:05Z node1 abc123 1234 abc123 - hello\n')
    expect(enc(out, { format: 'rfc5424micro', utcOffsetMinutes: 60 })).toBe(
      '<30>1 2026-01-02T04:04:05.678000+01:00 node1 abc123 1234 abc123 - hello\n',
    )
    expect(enc(out, { format: 'rfc5424', utcOffsetMinutes: -330 })).toBe(
      '<30>1 2026-01-01T21:34:05-05:30 node1 abc123 1234 abc123 - hello\n',
    )
  })

  it('octet-counts only rfc5424 over tcp+tls', () => {
    expect(enc(out, { format: 'rfc5424', proto: 'tcp+tls' })).toBe(
      '60 <30>1 2026-01-02T03:04:05Z node1 abc123 1234 abc123 - hello\n',
    )
    expect(enc(out, { format: 'rfc5424', proto: 'tcp' })).toBe('<30>1 2026-01-02T03:04:05Z node1 abc123 1234 abc123 - hello\n')
    expect(enc(out, { format: 'rfc3164', proto: 'tcp+tls' })).toBe('<30>Jan  2 03:04:05 node1 abc123[1234]: hello\n')
    const bytes = encodeSyslogMessage({ ...out, line: Buffer.from('é') }, { ...base, format: 'rfc5424', proto: 'tcp+tls' })
    expect(bytes?.toString().startsWith('57 ')).toBe(true)
  })

  it('sends nothing for an empty line and keeps an existing newline', () => {
    expect(enc({ ...out, line: Buffer.alloc(0) }, {})).toBeUndefined()
    expect(enc({ ...out, line: Buffer.from('x\n') }, {})).toBe('<30>Jan  2 03:04:05 abc123[1234]: x\n')
  })
})
