/**
 * Splunk HTTP Event Collector requests as dockerd's splunk driver makes them
 * (moby daemon/logger/splunk): one JSON object per message with the fields
 * event, time, host, source, sourcetype, index; a batch is those objects
 * written back to back (no separator), optionally gzipped, POSTed to
 * /services/collector/event/1.0 with "Authorization: Splunk <token>".
 */
import { randomUUID } from 'node:crypto'
import { constants, gzipSync } from 'node:zlib'

import { compareBytes, goJSONBytes, goJSONString, goJSONStringMap, unixNano } from './go.js'
import type { LogMessage } from './message.js'
import type { SplunkFormat } from './options.js'

/** Batch size and flush interval dockerd uses (its env overrides aside). */
export const SPLUNK_BATCH_SIZE = 1000
export const SPLUNK_POST_INTERVAL_MS = 5000
export const SPLUNK_BUFFER_MAXIMUM = 10 * SPLUNK_BATCH_SIZE

export interface SplunkEventOptions {
  format: SplunkFormat
  /** The daemon host's name. */
  host: string
  source: string
  sourcetype: string
  index: string
  /** The parsed tag; '' when the tag option is set to empty. */
  tag: string
  attrs: Readonly<Record<string, string>>
}

/**
 * The JSON for one message, or undefined where dockerd sends nothing (raw
 * format and a blank line).
 */
export function encodeSplunkEvent(msg: LogMessage, o: SplunkEventOptions): string | undefined {
  let event: string
  switch (o.format) {
    case 'inline':
    case 'json': {
      const line = o.format === 'json' ? (rawJSON(msg.line) ?? goJSONBytes(msg.line)) : goJSONBytes(msg.line)
      event = `{"line":${line},"source":${goJSONString(msg.source)}`
      if (o.tag !== '') event += `,"tag":${goJSONString(o.tag)}`
      if (Object.keys(o.attrs).length > 0) event += `,"attrs":${goJSONStringMap(o.attrs)}`
      event += '}'
      break
    }
    case 'raw': {
      if (Buffer.from(msg.line).toString('utf8').trim() === '') return undefined
      event = goJSONBytes(Buffer.concat([splunkRawPrefix(o.tag, o.attrs), msg.line]))
      break
    }
  }
  let out = `{"event":${event},"time":"${splunkTime(msg)}","host":${goJSONString(o.host)}`
  if (o.source !== '') out += `,"source":${goJSONString(o.source)}`
  if (o.sourcetype !== '') out += `,"sourcetype":${goJSONString(o.sourcetype)}`
  if (o.index !== '') out += `,"index":${goJSONString(o.index)}`
  return out + '}'
}

/** The raw format's prefix: "tag " then "key=value " per attribute (dockerd's order is Go map order; ours sorted). */
export function splunkRawPrefix(tag: string, attrs: Readonly<Record<string, string>>): Buffer {
  let s = tag !== '' ? tag + ' ' : ''
  for (const k of Object.keys(attrs).sort(compareBytes)) s += `${k}=${attrs[k]} `
  return Buffer.from(s)
}

/** Seconds since the epoch with six decimals (Go's %f of a float64). */
export function splunkTime(msg: LogMessage): string {
  return (Number(unixNano(msg.timestamp)) / 1e9).toFixed(6)
}

/**
 * The line as JSON when it parses as JSON, compacted and HTML-escaped as
 * encoding/json re-emits a json.RawMessage; undefined otherwise.
 */
function rawJSON(line: Uint8Array): string | undefined {
  const text = Buffer.from(line).toString('utf8')
  try {
    JSON.parse(text)
  } catch {
    return undefined
  }
  let out = ''
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (inString) {
      if (c === '\\') {
        out += c + (text[i + 1] ?? '')
        i++
        continue
      }
      if (c === '"') inString = false
      if (c === '<' || c === '>' || c === '&') out += '\\u00' + c.charCodeAt(0).toString(16)
      else if (c === '\u2028' || c === '\u2029') out += '\\u202' + (c === '\u2028' ? '8' : '9')
      else out += c
      continue
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') continue
    if (c === '"') inString = true
    out += c
  }
  return out
}

/** A request body for a batch of encoded events. */
export function splunkBody(events: readonly string[], gzip?: { level: number }): Buffer {
  const body = Buffer.from(events.join(''))
  if (!gzip) return body
  return gzipSync(body, { level: gzip.level === -1 ? constants.Z_DEFAULT_COMPRESSION : gzip.level })
}

/** The request headers for a batch. */
export function splunkHeaders(
  token: string,
  o: { gzip?: boolean; indexAck?: boolean; channel?: string } = {},
): Record<string, string> {
  const h: Record<string, string> = { Authorization: `Splunk ${token}` }
  if (o.gzip) h['Content-Encoding'] = 'gzip'
  if (o.indexAck) h['X-Splunk-Request-Channel'] = o.channel ?? randomUUID()
  return h
}
