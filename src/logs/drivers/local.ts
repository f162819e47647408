/**
 * The local driver's records (moby daemon/logger/local): each a protobuf
 * logdriver.LogEntry {source=1, time_nano=2, line=3, partial=4,
 * partial_log_metadata=5 {last=1, id=2, ordinal=3}} framed by its length as
 * a big-endian uint32 before and after. Hand-written: five fields do not
 * warrant a protobuf toolchain.
 */
import type { LogMessage } from './message.js'
import { unixNano } from './go.js'

function varint(n: bigint, out: number[]): void {
  let v = BigInt.asUintN(64, n)
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80)
    v >>= 7n
  }
  out.push(Number(v))
}

function bytesField(field: number, data: Uint8Array, parts: Buffer[]): void {
  if (data.length === 0) return
  const head: number[] = [(field << 3) | 2]
  varint(BigInt(data.length), head)
  parts.push(Buffer.from(head), Buffer.from(data.buffer, data.byteOffset, data.byteLength))
}

function varintField(field: number, v: bigint, parts: Buffer[]): void {
  if (v === 0n) return
  const b: number[] = [field << 3]
  varint(v, b)
  parts.push(Buffer.from(b))
}

/** One framed record, as dockerd's local driver writes it. */
export function encodeLocalEntry(m: LogMessage): Buffer {
  const parts: Buffer[] = []
  bytesField(1, Buffer.from(m.source), parts)
  varintField(2, unixNano(m.timestamp), parts)
  bytesField(3, m.line, parts)
  if (m.partial) {
    varintField(4, 1n, parts)
    const meta: Buffer[] = []
    varintField(1, m.partial.last ? 1n : 0n, meta)
    bytesField(2, Buffer.from(m.partial.id), meta)
    varintField(3, BigInt(m.partial.ordinal), meta)
    bytesField(5, Buffer.concat(meta), parts)
  }
  const body = Buffer.concat(parts)
  const frame = Buffer.alloc(body.length + 8)
  frame.writeUInt32BE(body.length, 0)
  body.copy(frame, 4)
  frame.writeUInt32BE(body.length, body.length + 4)
  return frame
}

export interface LocalEntry {
  source: string
  timeNano: bigint
  line: Buffer
  partial: boolean
}

function readVarint(b: Buffer, at: number): [bigint, number] {
  let v = 0n
  let shift = 0n
  for (let i = at; i < b.length; i++) {
    const x = b[i] as number
    v |= BigInt(x & 0x7f) << shift
    if ((x & 0x80) === 0) return [v, i + 1]
    shift += 7n
  }
  throw new Error('local log: truncated varint')
}

function decodeEntry(b: Buffer): LocalEntry {
  const e: LocalEntry = { source: '', timeNano: 0n, line: Buffer.alloc(0), partial: false }
  for (let i = 0; i < b.length; ) {
    const [key, next] = readVarint(b, i)
    i = next
    const field = Number(key >> 3n)
    const wire = Number(key & 7n)
    if (wire === 0) {
      const [v, n] = readVarint(b, i)
      i = n
      if (field === 2) e.timeNano = BigInt.asIntN(64, v)
      else if (field === 4) e.partial = v !== 0n
    } else if (wire === 2) {
      const [len, n] = readVarint(b, i)
      const end = n + Number(len)
      if (end > b.length) throw new Error('local log: truncated field')
      const data = b.subarray(n, end)
      if (field === 1) e.source = data.toString()
      else if (field === 3) e.line = Buffer.from(data)
      i = end
    } else {
      throw new Error(`local log: unexpected wire type ${wire}`)
    }
  }
  return e
}

/** The whole records in buf and the bytes left over (a record still being written). */
export function decodeLocalEntries(buf: Buffer): { entries: LocalEntry[]; used: number } {
  const entries: LocalEntry[] = []
  let at = 0
  while (at + 8 <= buf.length) {
    const size = buf.readUInt32BE(at)
    if (at + 8 + size > buf.length) break
    if (buf.readUInt32BE(at + 4 + size) !== size) throw new Error('local log: frame lengths disagree')
    entries.push(decodeEntry(buf.subarray(at + 4, at + 4 + size)))
    at += 8 + size
  }
  return { entries, used: at }
}
