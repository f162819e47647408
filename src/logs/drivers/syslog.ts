/**
 * Syslog messages as dockerd's syslog driver writes them (moby
 * daemon/logger/syslog with RackSec/srslog): one write per message, the
 * formatter picked by syslog-format, and RFC 5425 octet counting only for
 * rfc5424/rfc5424micro over tcp+tls — plain tcp gets no framing, only the
 * trailing newline every message carries.
 *
 * Timestamps are the time of sending in the daemon's local zone, not the
 * message's own time, as srslog formats time.Now().
 */
import type { LogMessage } from './message.js'
import type { SyslogFormat, SyslogProto } from './options.js'

export const SYSLOG_SEVERITY_INFO = 6
export const SYSLOG_SEVERITY_ERR = 3

export interface SyslogEncodeOptions {
  format: SyslogFormat
  proto: SyslogProto
  /** Facility already shifted (facility << 3), as parseSyslogFacility returns. */
  facility: number
  /** The daemon host's name (srslog asks os.Hostname()). */
  hostname: string
  /** The parsed tag; srslog falls back to the daemon's argv[0] when it is empty. */
  tag: string
  /** The daemon's pid. */
  pid: number
  /** When the message is sent. */
  now: Date
  /** The daemon's zone offset east of UTC in minutes at `now`; defaults to this process's. */
  utcOffsetMinutes?: number
}

/** The priority value: facility bits | severity (info for stdout, err for stderr). */
export function syslogPriority(facility: number, source: string): number {
  const severity = source === 'stderr' ? SYSLOG_SEVERITY_ERR : SYSLOG_SEVERITY_INFO
  return (facility & 0xf8) | (severity & 0x07)
}

/** The bytes written for one message, or undefined for an empty line (dockerd sends none). */
export function encodeSyslogMessage(msg: LogMessage, o: SyslogEncodeOptions): Buffer | undefined {
  if (msg.line.length === 0) return undefined
  const p = syslogPriority(o.facility, msg.source)
  const offset = o.utcOffsetMinutes ?? -o.now.getTimezoneOffset()
  const t = localParts(o.now, offset)
  let header: string
  switch (o.format) {
    case '':
      header = `<${p}>${stamp(t)} ${o.tag}[${o.pid}]: `
      break
    case 'rfc3164':
      header = `<${p}>${stamp(t)} ${o.hostname} ${o.tag}[${o.pid}]: `
      break
    case 'rfc5424':
    case 'rfc5424micro': {
      const ts = rfc3339(t, offset, o.format === 'rfc5424micro')
      header = `<${p}>1 ${ts} ${o.hostname} ${o.tag} ${o.pid} ${o.tag} - `
      break
    }
  }
  const line = msg.line[msg.line.length - 1] === 0x0a ? msg.line : Buffer.concat([msg.line, Buffer.from('\n')])
  const body = Buffer.concat([Buffer.from(header), line])
  if (o.proto === 'tcp+tls' && (o.format === 'rfc5424' || o.format === 'rfc5424micro')) {
    return Buffer.concat([Buffer.from(`${body.length} `), body])
  }
  return body
}

interface Parts {
  year: number
  month: number
  day: number
  hour: number
  min: number
  sec: number
  micros: number
}

function localParts(now: Date, offsetMinutes: number): Parts {
  const d = new Date(now.getTime() + offsetMinutes * 60_000)
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth(),
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    min: d.getUTCMinutes(),
    sec: d.getUTCSeconds(),
    micros: d.getUTCMilliseconds() * 1000,
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const p2 = (n: number) => String(n).padStart(2, '0')

/** Go's time.Stamp, "Jan _2 15:04:05". */
function stamp(t: Parts): string {
  return `${MONTHS[t.month]} ${String(t.day).padStart(2, ' ')} ${p2(t.hour)}:${p2(t.min)}:${p2(t.sec)}`
}

/** Go's time.RFC3339, or "2006-01-02T15:04:05.000000Z07:00" when micro. */
function rfc3339(t: Parts, offsetMinutes: number, micro: boolean): string {
  let s = `${String(t.year).padStart(4, '0')}-${p2(t.month + 1)}-${p2(t.day)}T${p2(t.hour)}:${p2(t.min)}:${p2(t.sec)}`
  if (micro) s += '.' + String(t.micros).padStart(6, '0')
  if (offsetMinutes === 0) return s + 'Z'
  const sign = offsetMinutes < 0 ? '-' : '+'
  const abs = Math.abs(offsetMinutes)
  return s + `${sign}${p2(Math.floor(abs / 60))}:${p2(abs % 60)}`
}
