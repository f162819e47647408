/**
 * Fluentd forward-protocol messages as dockerd's fluentd driver sends them
 * (moby daemon/logger/fluentd with fluent-logger-golang): a msgpack array
 * [tag, time, record, option] per message; time is integer seconds, or an
 * EventTime (ext type 0: big-endian int32 seconds, int32 nanoseconds) with
 * fluentd-sub-second-precision; option carries {"chunk": id} with
 * fluentd-request-ack, and is an empty map otherwise.
 *
 * Encoding is written out here rather than through @msgpack/msgpack's
 * encoder because the bytes must match tinylib/msgp's choices (signed int
 * forms for the time, a Go string's raw bytes for `log` even when they are
 * not UTF-8); decoding (the server's ack) uses @msgpack/msgpack.
 */
import { decode } from '@msgpack/msgpack'

import { unixNano, type Timestamp } from './go.js'
import type { LogInfo } from './info.js'
import type { LogMessage } from './message.js'

/**
 * The record for one message: container_id (full), container_name (with its
 * leading '/'), source, log, the extra attributes, and the partial_* fields
 * for a piece of a long line. Values are strings; log stays bytes.
 */
export function fluentdRecord(
  msg: LogMessage,
  info: Pick<LogInfo, 'ContainerID' | 'ContainerName'>,
  extra: Readonly<Record<string, string>>,
): Map<string, string | Uint8Array> {
  const r = new Map<string, string | Uint8Array>([
    ['container_id', info.ContainerID],
    ['container_name', info.ContainerName],
    ['source', msg.source],
    ['log', msg.line],
  ])
  for (const [k, v] of Object.entries(extra)) r.set(k, v)
  if (msg.partial) {
    r.set('partial_message', 'true')
    r.set('partial_id', msg.partial.id)
    r.set('partial_ordinal', String(msg.partial.ordinal))
    r.set('partial_last', String(msg.partial.last))
  }
  return r
}

export interface FluentdEncodeOptions {
  subSecondPrecision: boolean
  /** The chunk id when fluentd-request-ack is on (see fluentdChunkID). */
  chunk?: string
}

/** One forward-protocol message: fixarray(4) [tag, time, record, option]. */
export function encodeFluentdMessage(
  tag: string,
  timestamp: Timestamp,
  record: ReadonlyMap<string, string | Uint8Array>,
  o: FluentdEncodeOptions,
): Buffer {
  const w = new Writer()
  w.byte(0x94)
  w.str(tag)
  if (o.subSecondPrecision) {
    const ns = unixNano(timestamp)
    const sec = ns >= 0n ? ns / 1_000_000_000n : -((-ns + 999_999_999n) / 1_000_000_000n)
    const nsec = ns - sec * 1_000_000_000n
    const b = Buffer.alloc(10)
    b[0] = 0xd7
    b[1] = 0x00
    // Go truncates the seconds to int32, as here.
    b.writeInt32BE(Number(BigInt.asIntN(32, sec)), 2)
    b.writeInt32BE(Number(nsec), 6)
    w.bytes(b)
  } else {
    w.int(unixSeconds(timestamp))
  }
  w.mapHeader(record.size)
  for (const [k, v] of record) {
    w.str(k)
    w.str(v)
  }
  const option = o.chunk !== undefined ? new Map([['chunk', o.chunk]]) : new Map<string, string>()
  w.mapHeader(option.size)
  for (const [k, v] of option) {
    w.str(k)
    w.str(v)
  }
  return w.done()
}

/** Go's time.Unix(): seconds, rounded toward negative infinity. */
export function unixSeconds(t: Timestamp): bigint {
  const ns = unixNano(t)
  const q = ns / 1_000_000_000n
  return ns < 0n && q * 1_000_000_000n !== ns ? q - 1n : q
}

/**
 * The ack chunk id fluent-logger-golang sends: base64 of the message's Unix
 * seconds and a random uint64, both little-endian.
 */
export function fluentdChunkID(timeUnix: bigint, random: bigint): string {
  const b = Buffer.alloc(16)
  b.writeBigInt64LE(BigInt.asIntN(64, timeUnix), 0)
  b.writeBigUInt64LE(BigInt.asUintN(64, random), 8)
  return b.toString('base64')
}

/** The `ack` of a server's ack response ({"ack": chunk} in msgpack), or undefined if it has none. */
export function decodeFluentdAck(data: Uint8Array): string | undefined {
  const v: unknown = decode(data)
  if (v instanceof Map) {
    const a: unknown = v.get('ack')
    return typeof a === 'string' ? a : undefined
  }
  if (typeof v === 'object' && v !== null && 'ack' in v) {
    const a = (v as { ack: unknown }).ack
    return typeof a === 'string' ? a : undefined
  }
  return undefined
}

/** tinylib/msgp's Append* choices, for the types a message holds. */
class Writer {
  private parts: Buffer[] = []

  byte(b: number): void {
    this.parts.push(Buffer.of(b))
  }

  bytes(b: Uint8Array): void {
    this.parts.push(Buffer.from(b))
  }

  str(s: string | Uint8Array): void {
    const data = typeof s === 'string' ? Buffer.from(s) : Buffer.from(s.buffer, s.byteOffset, s.byteLength)
    const n = data.length
    let head: Buffer
    if (n <= 31) head = Buffer.of(0xa0 | n)
    else if (n <= 0xff) head = Buffer.of(0xd9, n)
    else if (n <= 0xffff) {
      head = Buffer.alloc(3)
      head[0] = 0xda
      head.writeUInt16BE(n, 1)
    } else {
      head = Buffer.alloc(5)
      head[0] = 0xdb
      head.writeUInt32BE(n, 1)
    }
    this.parts.push(head, data)
  }

  mapHeader(n: number): void {
    if (n <= 15) this.byte(0x80 | n)
    else if (n <= 0xffff) {
      const b = Buffer.alloc(3)
      b[0] = 0xde
      b.writeUInt16BE(n, 1)
      this.parts.push(b)
    } else {
      const b = Buffer.alloc(5)
      b[0] = 0xdf
      b.writeUInt32BE(n, 1)
      this.parts.push(b)
    }
  }

  /** msgp.AppendInt64: the smallest signed form (positive fixint, int16/32/64; negatives likewise). */
  int(i: bigint): void {
    if (i >= 0n) {
      if (i <= 127n) return this.byte(Number(i))
      if (i <= 0x7fffn) return this.sized(0xd1, 2, i)
      if (i <= 0x7fffffffn) return this.sized(0xd2, 4, i)
      return this.sized(0xd3, 8, i)
    }
    if (i >= -32n) return this.byte(Number(i) & 0xff)
    if (i >= -128n) return this.sized(0xd0, 1, i)
    if (i >= -32768n) return this.sized(0xd1, 2, i)
    if (i >= -2147483648n) return this.sized(0xd2, 4, i)
    return this.sized(0xd3, 8, i)
  }

  private sized(tag: number, size: number, i: bigint): void {
    const b = Buffer.alloc(1 + size)
    b[0] = tag
    if (size === 8) b.writeBigInt64BE(i, 1)
    else b.writeIntBE(Number(i), 1, size)
    this.parts.push(b)
  }

  done(): Buffer {
    return Buffer.concat(this.parts)
  }
}
