import { describe, expect, test } from 'vitest'
import { decodeLocalEntries, encodeLocalEntry } from './local.js'

describe('local driver records', () => {
  test('a record is the protobuf LogEntry framed by its length before and after', () => {
    const b = encodeLocalEntry({ line: Buffer.from('hi'), source: 'stdout', timestamp: { ms: 1, nanos: 2 } })
    // source=1 "stdout", time_nano=2 1000002 (varint c2 84 3d), line=3 "hi"
    const body = Buffer.from([0x0a, 6, ...Buffer.from('stdout'), 0x10, 0xc2, 0x84, 0x3d, 0x1a, 2, ...Buffer.from('hi')])
    expect(b).toEqual(Buffer.concat([Buffer.from([0, 0, 0, body.length]), body, Buffer.from([0, 0, 0, body.length])]))
  })

  test('records read back; a record still being written is left for later', () => {
    const a = encodeLocalEntry({ line: Buffer.from('one'), source: 'stderr', timestamp: { ms: 1_700_000_000_000, nanos: 5 } })
    const p = encodeLocalEntry({ line: Buffer.from('pie'), source: 'stdout', timestamp: { ms: 1 }, partial: { id: 'x', ordinal: 1, last: false } })
    const { entries, used } = decodeLocalEntries(Buffer.concat([a, p, p.subarray(0, 5)]))
    expect(used).toBe(a.length + p.length)
    expect(entries.map((e) => [e.source, e.line.toString(), e.partial, e.timeNano])).toEqual([
      ['stderr', 'one', false, 1_700_000_000_000_000_005n],
      ['stdout', 'pie', true, 1_000_000n],
    ])
  })
})
