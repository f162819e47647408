import { ExtData, decode, encode } from '@msgpack/msgpack'
import { describe, expect, it } from 'vitest'

import { decodeFluentdAck, encodeFluentdMessage, fluentdChunkID, fluentdRecord, unixSeconds } from './fluentd.js'
import type { LogMessage } from './message.js'

const ts = { ms: 1767225600123, nanos: 456789 }
const msg: LogMessage = { line: Buffer.from('hi'), source: 'stdout', timestamp: ts }
const who = { ContainerID: 'abc', ContainerName: '/web' }
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const str = (s: string) => Buffer.concat([Buffer.of(0xa0 | s.length), Buffer.from(s)])

describe('fluentd', () => {
  it('builds the record in docker’s fields', () => {
    const r = fluentdRecord(msg, who, { tier: 'web' })
    expect([...r.keys()]).toEqual(['container_id', 'container_name', 'source', 'log', 'tier'])
    const p = fluentdRecord({ ...msg, partial: { id: 'pid', ordinal: 2, last: false } }, who, {})
    expect(Object.fromEntries([...p].filter(([k]) => k.startsWith('partial')))).toEqual({
      partial_message: 'true',
      partial_id: 'pid',
      partial_ordinal: '2',
      partial_last: 'false',
    })
  })

  it('encodes [tag, int seconds, record, {}] as msgp does', () => {
    const bytes = encodeFluentdMessage('web', ts, fluentdRecord(msg, who, {}), { subSecondPrecision: false })
    const want = Buffer.concat([
      hex('94'),
      str('web'),
      hex('d2 6955b900'), // int32, not uint32: msgp.AppendInt64
      hex('84'),
      str('container_id'),
      str('abc'),
      str('container_name'),
      str('/web'),
      str('source'),
      str('stdout'),
      str('log'),
      str('hi'),
      hex('80'),
    ])
    expect(bytes).toEqual(want)
    expect(decode(bytes)).toEqual(['web', 1767225600, { container_id: 'abc', container_name: '/web', source: 'stdout', log: 'hi' }, {}])
  })

  it('encodes EventTime with sub-second precision', () => {
    const bytes = encodeFluentdMessage('t', ts, new Map([['log', 'x']]), { subSecondPrecision: true })
    // 123456789 ns = 0x075bcd15
    expect(bytes).toEqual(Buffer.concat([hex('94'), str('t'), hex('d7 00 6955b900 075bcd15'), hex('81'), str('log'), str('x'), hex('80')]))
    const [, time] = decode(bytes) as [string, ExtData]
    expect(time).toBeInstanceOf(ExtData)
    expect(time.type).toBe(0)
  })

  it('keeps raw bytes and uses str8/str16 and the chunk option', () => {
    const long = 'x'.repeat(40)
    const raw = Buffer.from([0xff, 0xfe])
    const bytes = encodeFluentdMessage(
      long,
      { ms: 1000 },
      new Map<string, string | Uint8Array>([['log', raw], ['big', 'y'.repeat(300)]]),
      { subSecondPrecision: false, chunk: 'Q0hVTks=' },
    )
    expect(bytes.subarray(0, 3)).toEqual(hex('94 d9 28'))
    expect(bytes[43]).toBe(0x01) // 1 second: positive fixint
    expect(bytes.subarray(44, 50)).toEqual(Buffer.concat([hex('82'), str('log'), hex('a2')]))
    expect(bytes.subarray(50, 52)).toEqual(raw)
    expect(bytes.includes(hex('da 012c'))).toBe(true)
    expect(bytes.subarray(-16)).toEqual(Buffer.concat([hex('81'), str('chunk'), str('Q0hVTks=')]))
  })

  it('computes seconds as Go’s Unix()', () => {
    expect(unixSeconds({ ms: 1999 })).toBe(1n)
    expect(unixSeconds({ ms: -1 })).toBe(-1n)
    expect(unixSeconds({ ms: -1000 })).toBe(-1n)
  })

  it('makes chunk ids and reads acks', () => {
    const id = fluentdChunkID(1767225600n, 0x0102030405060708n)
    expect(Buffer.from(id, 'base64')).toEqual(hex('00b95569 00000000 0807060504030201'))
    expect(decodeFluentdAck(encode({ ack: id }))).toBe(id)
    expect(decodeFluentdAck(encode({ other: 1 }))).toBeUndefined()
  })
})
