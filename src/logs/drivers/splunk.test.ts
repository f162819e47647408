import { gunzipSync } from 'node:zlib'

import { describe, expect, it } from 'vitest'

import type { LogMessage } from './message.js'
import { encodeSplunkEvent, splunkBody, splunkHeaders, splunkTime, type SplunkEventOptions } from './splunk.js'

const ts = { ms: 1767225600123, nanos: 456000 }
const m = (line: string): LogMessage => ({ line: Buffer.from(line), source: 'stdout', timestamp: ts })
const base: SplunkEventOptions = {
  format: 'inline',
  host: 'node1',
  source: '',
  sourcetype: '',
  index: '',
  tag: 'abc',
  attrs: {},
}

describe('splunk', () => {
  it('formats time as %f seconds', () => {
    expect(splunkTime(m('x'))).toBe('1767225600.123456')
    expect(splunkTime({ ...m('x'), timestamp: { ms: 1767225600999, nanos: 999999 } })).toBe('1767225601.000000')
  })

  it('inline: the line as a string, with tag and attrs', () => {
    expect(encodeSplunkEvent(m('hi <b>'), { ...base, attrs: { z: '1', a: '2' }, source: 'src', index: 'main' })).toBe(
      '{"event":{"line":"hi \\u003cb\\u003e","source":"stdout","tag":"abc","attrs":{"a":"2","z":"1"}},' +
        '"time":"1767225600.123456","host":"node1","source":"src","index":"main"}',
    )
    expect(encodeSplunkEvent(m('{"a":1}'), { ...base, tag: '', sourcetype: 'st' })).toBe(
      '{"event":{"line":"{\\"a\\":1}","source":"stdout"},"time":"1767225600.123456","host":"node1","sourcetype":"st"}',
    )
  })

  it('json: a JSON line is embedded, compacted', () => {
    expect(encodeSplunkEvent(m(' { "a" : "<b>" , "n": [1, 2] } '), { ...base, format: 'json' })).toBe(
      '{"event":{"line":{"a":"\\u003cb\\u003e","n":[1,2]},"source":"stdout","tag":"abc"},"time":"1767225600.123456","host":"node1"}',
    )
    expect(encodeSplunkEvent(m('42'), { ...base, format: 'json' })).toContain('"line":42,')
    expect(encodeSplunkEvent(m('not json'), { ...base, format: 'json' })).toContain('"line":"not json",')
    expect(encodeSplunkEvent(m('{"s":"a \\" b"}'), { ...base, format: 'json' })).toContain('"line":{"s":"a \\" b"},')
  })

  it('raw: tag and attrs prefix the text; blank lines are dropped', () => {
    expect(encodeSplunkEvent(m('hi'), { ...base, format: 'raw', attrs: { b: '2', a: '1' } })).toBe(
      '{"event":"abc a=1 b=2 hi","time":"1767225600.123456","host":"node1"}',
    )
    expect(encodeSplunkEvent(m('hi'), { ...base, format: 'raw', tag: '' })).toBe(
      '{"event":"hi","time":"1767225600.123456","host":"node1"}',
    )
    expect(encodeSplunkEvent(m('  \t'), { ...base, format: 'raw' })).toBeUndefined()
  })

  it('batches back to back, optionally gzipped, with docker’s headers', () => {
    const events = ['{"event":"a"}', '{"event":"b"}']
    expect(splunkBody(events).toString()).toBe('{"event":"a"}{"event":"b"}')
    expect(gunzipSync(splunkBody(events, { level: -1 })).toString()).toBe('{"event":"a"}{"event":"b"}')
    expect(splunkHeaders('tok')).toEqual({ Authorization: 'Splunk tok' })
    expect(splunkHeaders('tok', { gzip: true, indexAck: true, channel: 'c1' })).toEqual({
      Authorization: 'Splunk tok',
      'Content-Encoding': 'gzip',
      'X-Splunk-Request-Channel': 'c1',
    })
    expect(splunkHeaders('tok', { indexAck: true })['X-Splunk-Request-Channel']).toMatch(/^[0-9a-f-]{36}$/)
  })
})
