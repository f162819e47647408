/**
 * The json-file driver's on-disk line, byte for byte as dockerd writes it
 * (moby daemon/logger/jsonfilelog/jsonlog/jsonlogbytes.go), and its reading
 * back for `logs`.
 *
 * The `log` value is escaped by moby's own writer, not encoding/json: only
 * \n and \r get short escapes (a tab is \u0009), <>& are escaped, invalid
 * UTF-8 bytes become \ufffd one byte at a time. The attrs object is
 * encoding/json's (keys sorted).
 */
import { decodeRune, formatRFC3339Nano, goJSONStringMap, parseRFC3339Nano, type Timestamp } from './go.js'
import { parseLogTag, type LogInfo } from './info.js'
import type { LogMessage } from './message.js'

const HEX = '0123456789abcdef'

/**
 * The raw `attrs` JSON a json-file logger adds to every line: the extra
 * attributes plus "tag" when the user set one (json-file has no default
 * tag); undefined when there are none.
 */
export function jsonFileAttrs(info: LogInfo): string | undefined {
  const extra = info.ExtraAttributes()
  const tag = parseLogTag(info, '')
  if (tag !== '') extra['tag'] = tag
  return Object.keys(extra).length > 0 ? goJSONStringMap(extra) : undefined
}

/**
 * One json-file line, newline included. A partial piece that isn't the last
 * gets no '\n' inside `log`, which is how json-file marks partials.
 */
export function encodeJSONFileLine(msg: LogMessage, attrs?: string): Buffer {
  const newline = !msg.partial || msg.partial.last
  if (attrs === undefined && msg.line.length > 0 && (msg.source === 'stdout' || msg.source === 'stderr') && plain(msg.line)) return plainLine(msg, newline)
  const parts: string[] = ['{']
  let first = true
  let line = msg.line
  if (!msg.partial || msg.partial.last) {
    const withNl = new Uint8Array(line.length + 1)
    withNl.set(line)
    withNl[line.length] = 0x0a
    line = withNl
  }
  if (line.length !== 0) {
    first = false
    parts.push('"log":', escapeBytes(line))
  }
  if (msg.source.length !== 0) {
    if (!first) parts.push(',')
    first = false
    parts.push('"stream":', escapeBytes(Buffer.from(msg.source)))
  }
  if (attrs !== undefined && attrs.length > 0) {
    if (!first) parts.push(',')
    first = false
    parts.push('"attrs":', attrs)
  }
  if (!first) parts.push(',')
  parts.push('"time":"', formatRFC3339Nano(msg.timestamp), '"}\n')
  return Buffer.from(parts.join(''))
}

/** Bytes moby's writer copies as they are: printable ASCII but for \\ " < > &. */
function plain(line: Uint8Array): boolean {
  for (let i = 0; i < line.length; i++) {
    const b = line[i] as number
    if (b < 0x20 || b >= 0x80 || b === 0x5c || b === 0x22 || b === 0x3c || b === 0x3e || b === 0x26) return false
  }
  return true
}

const LOG_KEY = Buffer.from('{"log":"')
/** The line's end, stream and time of the last line encoded: a burst of lines shares them. */
let lastTail: { ms: number; nanos: number; source: string; newline: boolean; bytes: Buffer } | undefined

/** encodeJSONFileLine's bytes for a plain line, without building strings. */
function plainLine(msg: LogMessage, newline: boolean): Buffer {
  const { ms } = msg.timestamp
  const nanos = msg.timestamp.nanos ?? 0
  let t = lastTail
  if (!t || t.ms !== ms || t.nanos !== nanos || t.source !== msg.source || t.newline !== newline) {
    const bytes = Buffer.from(`${newline ? '\\n' : ''}","stream":"${msg.source}","time":"${formatRFC3339Nano(msg.timestamp)}"}\n`)
    t = lastTail = { ms, nanos, source: msg.source, newline, bytes }
  }
  const out = Buffer.allocUnsafe(LOG_KEY.length + msg.line.length + t.bytes.length)
  out.set(LOG_KEY, 0)
  out.set(msg.line, LOG_KEY.length)
  out.set(t.bytes, LOG_KEY.length + msg.line.length)
  return out
}

/** moby's ffjsonWriteJSONBytesAsString, producing a JS string of ASCII and valid UTF-16. */
function escapeBytes(s: Uint8Array): string {
  let out = '"'
  const buf = Buffer.from(s.buffer, s.byteOffset, s.byteLength)
  let start = 0
  const flush = (i: number) => {
    if (start < i) out += buf.toString('utf8', start, i)
  }
  for (let i = 0; i < buf.length; ) {
    const b = buf[i]!
    if (b < 0x80) {
      if (b >= 0x20 && b !== 0x5c && b !== 0x22 && b !== 0x3c && b !== 0x3e && b !== 0x26) {
        i++
        continue
      }
      flush(i)
      if (b === 0x5c || b === 0x22) out += '\\' + String.fromCharCode(b)
      else if (b === 0x0a) out += '\\n'
      else if (b === 0x0d) out += '\\r'
      else out += '\\u00' + HEX[b >> 4] + HEX[b & 0xf]
      start = ++i
      continue
    }
    const [c, size] = decodeRune(buf, i)
    if (c === -1) {
      flush(i)
      out += '\\ufffd'
      start = ++i
      continue
    }
    if (c === 0x2028 || c === 0x2029) {
      flush(i)
      out += '\\u202' + HEX[c & 0xf]
      i += size
      start = i
      continue
    }
    i += size
  }
  flush(buf.length)
  return out + '"'
}

/** A json-file line read back (moby jsonlog.JSONLog). */
export interface JSONFileEntry {
  /** The `log` bytes, the trailing '\n' still on unless it was a partial piece. */
  line: Buffer
  source: string
  timestamp: Timestamp
  attrs: Record<string, string>
  /** Whether the line lacked its '\n': a piece of a longer line. */
  partial: boolean
}

/**
 * Parses one json-file line (with or without its newline); throws on a line
 * that isn't a json-file record, as docker's decoder does.
 */
export function parseJSONFileLine(text: string): JSONFileEntry {
  const v: unknown = JSON.parse(text)
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new Error('json: cannot unmarshal non-object into Go value of type jsonlog.JSONLog')
  }
  const o = v as Record<string, unknown>
  const log = typeof o['log'] === 'string' ? o['log'] : ''
  const source = typeof o['stream'] === 'string' ? o['stream'] : ''
  const time = typeof o['time'] === 'string' ? parseRFC3339Nano(o['time']) : { ms: -62135596800000 }
  if (time === undefined) throw new Error(`parsing time ${JSON.stringify(o['time'])}: not RFC 3339`)
  const attrs: Record<string, string> = {}
  if (typeof o['attrs'] === 'object' && o['attrs'] !== null) {
    for (const [k, val] of Object.entries(o['attrs'] as Record<string, unknown>)) {
      if (typeof val === 'string') attrs[k] = val
    }
  }
  const line = Buffer.from(log)
  return { line, source, timestamp: time, attrs, partial: !log.endsWith('\n') }
}
