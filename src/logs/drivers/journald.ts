/**
 * What dockerd's journald driver sends (moby daemon/logger/journald and
 * go-systemd's journal.Send): the per-container fields, the per-message
 * fields, and the native-protocol datagram for /run/systemd/journal/socket.
 */
import { formatRFC3339Nano } from './go.js'
import { DEFAULT_TAG_TEMPLATE, parseLogTag, type LogInfo } from './info.js'
import type { LogMessage } from './message.js'

export const JOURNAL_SOCKET = '/run/systemd/journal/socket'

/**
 * journald's field-name rule for attribute keys: a–z upper-cased, anything
 * but A–Z and 0–9 becomes '_', leading '_' dropped.
 */
export function sanitizeJournalKey(s: string): string {
  let n = ''
  for (const ch of s) {
    let v = ch
    if (ch >= 'a' && ch <= 'z') v = ch.toUpperCase()
    else if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))) v = '_'
    if (n === '' && v === '_') continue
    n += v
  }
  return n
}

/** The fields every message of a container carries; epoch is a random 64-hex id per logger. */
export function journaldContainerFields(info: LogInfo, epoch: string): Map<string, string> {
  const tag = parseLogTag(info, DEFAULT_TAG_TEMPLATE)
  const vars = new Map<string, string>([
    ['CONTAINER_ID', info.ContainerID.slice(0, 12)],
    ['CONTAINER_ID_FULL', info.ContainerID],
    ['CONTAINER_NAME', info.Name()],
    ['CONTAINER_TAG', tag],
    ['IMAGE_NAME', info.ImageName()],
    ['SYSLOG_IDENTIFIER', tag],
    ['CONTAINER_LOG_EPOCH', epoch],
  ])
  for (const [k, v] of Object.entries(info.ExtraAttributes(sanitizeJournalKey))) vars.set(k, v)
  return vars
}

/**
 * One message's fields: MESSAGE, PRIORITY (6 stdout, 3 stderr), the
 * container's fields, SYSLOG_TIMESTAMP, the partial fields and
 * CONTAINER_LOG_ORDINAL (1-based count of messages sent by this logger).
 */
export function journaldMessageFields(
  msg: LogMessage,
  container: ReadonlyMap<string, string>,
  ordinal: number,
): Map<string, string | Uint8Array> {
  const vars = new Map<string, string | Uint8Array>([
    ['MESSAGE', msg.line],
    ['PRIORITY', msg.source === 'stderr' ? '3' : '6'],
  ])
  for (const [k, v] of container) vars.set(k, v)
  vars.set('SYSLOG_TIMESTAMP', formatRFC3339Nano(msg.timestamp))
  if (msg.partial) {
    vars.set('CONTAINER_PARTIAL_ID', msg.partial.id)
    vars.set('CONTAINER_PARTIAL_ORDINAL', String(msg.partial.ordinal))
    vars.set('CONTAINER_PARTIAL_LAST', String(msg.partial.last))
    if (!msg.partial.last) vars.set('CONTAINER_PARTIAL_MESSAGE', 'true')
  }
  vars.set('CONTAINER_LOG_ORDINAL', String(ordinal))
  return vars
}

/**
 * The native journal protocol datagram: "KEY=value\n", or for a value with
 * a newline "KEY\n" + little-endian uint64 length + value + "\n".
 */
export function encodeJournalFields(fields: ReadonlyMap<string, string | Uint8Array>): Buffer {
  const parts: Buffer[] = []
  for (const [k, v] of fields) {
    const value = typeof v === 'string' ? Buffer.from(v) : Buffer.from(v)
    if (value.includes(0x0a)) {
      const len = Buffer.alloc(8)
      len.writeBigUInt64LE(BigInt(value.length))
      parts.push(Buffer.from(k + '\n'), len, value, Buffer.from('\n'))
    } else {
      parts.push(Buffer.from(k + '='), value, Buffer.from('\n'))
    }
  }
  return Buffer.concat(parts)
}
