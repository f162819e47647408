/**
 * The few Go standard-library behaviours the logging drivers' wire formats and
 * error messages depend on: encoding/json's string escaping, strconv's and
 * go-units' parsers with their error texts, time.ParseDuration and
 * Duration.String, RFC 3339 formatting with nanoseconds, net.SplitHostPort and
 * the part of net/url.Parse the drivers use. Hand-written because users see
 * these texts (docker's option errors) and receivers see these bytes.
 */

const HEX = '0123456789abcdef'

/**
 * A JSON string as Go's encoding/json writes it (HTML-safe: <, >, & escaped;
 * U+2028/U+2029 escaped; \b and \f short since Go 1.22).
 */
export function goJSONString(s: string): string {
  return '"' + escapeInner(s) + '"'
}

function escapeInner(s: string): string {
  let out = ''
  let start = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    let esc: string | undefined
    if (c < 0x20 || c === 0x22 || c === 0x5c || c === 0x3c || c === 0x3e || c === 0x26) {
      switch (c) {
        case 0x22:
          esc = '\\"'
          break
        case 0x5c:
          esc = '\\\\'
          break
        case 0x0a:
          esc = '\\n'
          break
        case 0x0d:
          esc = '\\r'
          break
        case 0x09:
          esc = '\\t'
          break
        case 0x08:
          esc = '\\b'
          break
        case 0x0c:
          esc = '\\f'
          break
        default:
          esc = '\\u00' + HEX[c >> 4] + HEX[c & 0xf]
      }
    } else if (c === 0x2028 || c === 0x2029) {
      esc = '\\u202' + HEX[c & 0xf]
    } else if (c >= 0xd800 && c <= 0xdfff) {
      // A lone surrogate is not valid UTF-8; Go writes U+FFFD for it.
      const pair = c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00
      if (pair) {
        i++
        continue
      }
      esc = '\\ufffd'
    }
    if (esc !== undefined) {
      out += s.slice(start, i) + esc
      start = i + 1
    }
  }
  return out + s.slice(start)
}

/** Go's utf8.DecodeRune for a non-ASCII lead byte: [rune, size], rune -1 for an invalid byte. */
export function decodeRune(b: Uint8Array, i: number): [rune: number, size: number] {
  const c0 = b[i]!
  const cont = (j: number) => {
    const c = b[i + j]
    return c !== undefined && (c & 0xc0) === 0x80 ? c & 0x3f : -1
  }
  if (c0 >= 0xc2 && c0 <= 0xdf) {
    const c1 = cont(1)
    return c1 < 0 ? [-1, 1] : [((c0 & 0x1f) << 6) | c1, 2]
  }
  if (c0 >= 0xe0 && c0 <= 0xef) {
    const c1 = cont(1)
    const c2 = cont(2)
    if (c1 < 0 || c2 < 0) return [-1, 1]
    const r = ((c0 & 0x0f) << 12) | (c1 << 6) | c2
    if (r < 0x800 || (r >= 0xd800 && r <= 0xdfff)) return [-1, 1]
    return [r, 3]
  }
  if (c0 >= 0xf0 && c0 <= 0xf4) {
    const c1 = cont(1)
    const c2 = cont(2)
    const c3 = cont(3)
    if (c1 < 0 || c2 < 0 || c3 < 0) return [-1, 1]
    const r = ((c0 & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3
    if (r < 0x10000 || r > 0x10ffff) return [-1, 1]
    return [r, 4]
  }
  return [-1, 1]
}

/**
 * encoding/json's encoding of a Go string holding these bytes: as
 * goJSONString, and each byte of invalid UTF-8 becomes \ufffd.
 */
export function goJSONBytes(s: Uint8Array): string {
  const buf = Buffer.from(s.buffer, s.byteOffset, s.byteLength)
  let out = '"'
  let start = 0
  for (let i = 0; i < buf.length; ) {
    if (buf[i]! < 0x80) {
      i++
      continue
    }
    const [c, size] = decodeRune(buf, i)
    if (c === -1) {
      out += escapeInner(buf.toString('utf8', start, i)) + '\\ufffd'
      start = ++i
      continue
    }
    i += size
  }
  return out + escapeInner(buf.toString('utf8', start)) + '"'
}

/** Go's json.Marshal of a map[string]string: keys sorted bytewise. */
export function goJSONStringMap(m: Record<string, string>): string {
  const keys = Object.keys(m).sort(compareBytes)
  return '{' + keys.map((k) => goJSONString(k) + ':' + goJSONString(m[k] ?? '')).join(',') + '}'
}

/** Go's string ordering (UTF-8 bytes), which differs from JS's UTF-16 order above U+FFFF. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

/** strconv.Quote for the printable strings option values are; close enough for messages. */
export function goQuote(s: string): string {
  return JSON.stringify(s)
}

const syntaxError = (fn: string, s: string) => new Error(`strconv.${fn}: parsing ${goQuote(s)}: invalid syntax`)
const rangeError = (fn: string, s: string) => new Error(`strconv.${fn}: parsing ${goQuote(s)}: value out of range`)

/** strconv.ParseBool. */
export function parseBool(s: string): boolean {
  switch (s) {
    case '1':
    case 't':
    case 'T':
    case 'TRUE':
    case 'true':
    case 'True':
      return true
    case '0':
    case 'f':
    case 'F':
    case 'FALSE':
    case 'false':
    case 'False':
      return false
  }
  throw syntaxError('ParseBool', s)
}

function parseDecimal(fn: string, s: string, signed: boolean, min: bigint, max: bigint): number {
  const re = signed ? /^[+-]?[0-9]+$/ : /^[0-9]+$/
  if (!re.test(s)) throw syntaxError(fn, s)
  const v = BigInt(s)
  if (v < min || v > max) throw rangeError(fn, s)
  return Number(v)
}

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

/** strconv.Atoi on a 64-bit platform. */
export function atoi(s: string): number {
  return parseDecimal('Atoi', s, true, INT64_MIN, INT64_MAX)
}

/** strconv.ParseInt(s, 10, bits). */
export function parseInt10(s: string, bits: 32 | 64): number {
  const half = 2n ** BigInt(bits - 1)
  return parseDecimal('ParseInt', s, true, -half, half - 1n)
}

/** strconv.ParseUint(s, 10, 64). */
export function parseUint10(s: string): number {
  return parseDecimal('ParseUint', s, false, 0n, 2n ** 64n - 1n)
}

/** strconv.ParseFloat(s, 64) for the decimal forms sizes use. */
export function parseFloat64(s: string): number {
  if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(s)) throw syntaxError('ParseFloat', s)
  const v = Number(s)
  if (!Number.isFinite(v)) throw rangeError('ParseFloat', s)
  return v
}

export { fromHumanSize, ramInBytes } from '../../lib/index.js'

const NS = 1
const US = 1e3
const MS = 1e6
const SEC = 1e9
const durationUnits: Record<string, number> = {
  ns: NS,
  us: US,
  'µs': US,
  'μs': US,
  ms: MS,
  s: SEC,
  m: 60 * SEC,
  h: 3600 * SEC,
}

/** time.ParseDuration, in nanoseconds. */
export function parseDuration(s: string): number {
  const orig = s
  const invalid = () => new Error(`time: invalid duration ${goQuote(orig)}`)
  let neg = false
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-'
    s = s.slice(1)
  }
  if (s === '0') return 0
  if (s === '') throw invalid()
  let total = 0
  while (s !== '') {
    const m = /^([0-9]*)(\.([0-9]*))?/.exec(s)
    const intPart = m?.[1] ?? ''
    const fracPart = m?.[3] ?? ''
    if (!m || (intPart === '' && fracPart === '')) throw invalid()
    s = s.slice(m[0].length)
    const u = /^[^0-9.]*/.exec(s)?.[0] ?? ''
    if (u === '') throw new Error(`time: missing unit in duration ${goQuote(orig)}`)
    const unit = durationUnits[u]
    if (unit === undefined) throw new Error(`time: unknown unit ${goQuote(u)} in duration ${goQuote(orig)}`)
    s = s.slice(u.length)
    total += Number(intPart || '0') * unit + (fracPart ? Math.trunc(Number('0.' + fracPart) * unit) : 0)
  }
  if (total > 2 ** 63) throw invalid()
  return neg ? -total : total
}

/** time.Duration.String for a nanosecond count. */
export function durationString(ns: number): string {
  if (ns === 0) return '0s'
  const neg = ns < 0
  let u = Math.abs(Math.trunc(ns))
  let out: string
  if (u < SEC) {
    let unit: string
    let div: number
    if (u < US) {
      return (neg ? '-' : '') + `${u}ns`
    } else if (u < MS) {
      unit = 'µs'
      div = US
    } else {
      unit = 'ms'
      div = MS
    }
    out = fraction(u, div) + unit
  } else {
    const h = Math.floor(u / (3600 * SEC))
    u -= h * 3600 * SEC
    const m = Math.floor(u / (60 * SEC))
    u -= m * 60 * SEC
    out = fraction(u, SEC) + 's'
    if (h > 0) out = `${h}h${m}m` + out
    else if (m > 0) out = `${m}m` + out
  }
  return (neg ? '-' : '') + out
}

function fraction(v: number, div: number): string {
  const whole = Math.floor(v / div)
  const frac = String(v % div)
    .padStart(String(div).length - 1, '0')
    .replace(/0+$/, '')
  return frac ? `${whole}.${frac}` : `${whole}`
}

/**
 * A time as RFC 3339 with nanoseconds, trailing zeros trimmed (Go's
 * time.RFC3339Nano), in UTC. `nanos` is the sub-millisecond part a JS Date
 * cannot hold (0–999999 ns past the Date's millisecond).
 */
export function formatRFC3339Nano(t: Timestamp): string {
  const base = new Date(t.ms).toISOString().slice(0, 19)
  const frac = String((((t.ms % 1000) + 1000) % 1000) * 1e6 + (t.nanos ?? 0))
    .padStart(9, '0')
    .replace(/0+$/, '')
  return base + (frac ? '.' + frac : '') + 'Z'
}

/**
 * A point in time with nanosecond precision: epoch milliseconds plus the
 * nanoseconds past that millisecond, as conmon's k8s-file timestamps carry.
 */
export interface Timestamp {
  ms: number
  nanos?: number
}

/** Nanoseconds since the epoch, exactly. */
export function unixNano(t: Timestamp): bigint {
  return BigInt(Math.floor(t.ms)) * 1_000_000n + BigInt(t.nanos ?? 0)
}

/** Parses Go's RFC3339Nano (any offset) back into a Timestamp. */
export function parseRFC3339Nano(s: string): Timestamp | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(s)
  if (!m) return undefined
  const ms = Date.parse((m[1] ?? '') + (m[3] === 'Z' ? 'Z' : (m[3] ?? '')))
  if (Number.isNaN(ms)) return undefined
  const frac = (m[2] ?? '').padEnd(9, '0')
  const fracNs = Number(frac)
  return { ms: ms + Math.floor(fracNs / 1e6), nanos: fracNs % 1e6 }
}

/** net.SplitHostPort; throws Go's AddrError text. */
export function splitHostPort(hostport: string): [host: string, port: string] {
  const fail = (why: string) => new Error(`address ${hostport}: ${why}`)
  const i = hostport.lastIndexOf(':')
  if (i < 0) throw fail('missing port in address')
  let host: string
  let j = 0
  let k = 0
  if (hostport[0] === '[') {
    const end = hostport.indexOf(']')
    if (end < 0) throw fail("missing ']' in address")
    if (end + 1 === hostport.length) throw fail('missing port in address')
    if (end + 1 !== i) {
      if (hostport[end + 1] === ':') throw fail('too many colons in address')
      throw fail('missing port in address')
    }
    host = hostport.slice(1, end)
    j = 1
    k = end + 1
  } else {
    host = hostport.slice(0, i)
    if (host.includes(':')) throw fail('too many colons in address')
  }
  if (hostport.slice(j).includes('[')) throw fail("unexpected '[' in address")
  if (hostport.slice(k).includes(']')) throw fail("unexpected ']' in address")
  return [host, hostport.slice(i + 1)]
}

/** net.JoinHostPort. */
export function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

/** The parts of a URL net/url.Parse yields that the drivers read. */
export interface GoURL {
  scheme: string
  /** host[:port] as written. */
  host: string
  path: string
  rawQuery: string
  fragment: string
  /** Whether "scheme://" introduced an authority. */
  hasAuthority: boolean
  opaque: string
}

/**
 * net/url.Parse for the shapes log addresses take. Errors read as Go's
 * (`parse "…": …`) for the cases users hit: a bad scheme, a bad port.
 */
export function parseURL(raw: string): GoURL {
  const fail = (why: string) => new Error(`parse ${goQuote(raw)}: ${why}`)
  let rest = raw
  let fragment = ''
  const hash = rest.indexOf('#')
  if (hash >= 0) {
    fragment = rest.slice(hash + 1)
    rest = rest.slice(0, hash)
  }
  let scheme = ''
  const sm = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(rest)
  if (sm) {
    scheme = (sm[1] ?? '').toLowerCase()
    rest = rest.slice(sm[0].length)
  } else if (rest.startsWith(':')) {
    throw fail('missing protocol scheme')
  }
  let rawQuery = ''
  const q = rest.indexOf('?')
  if (q >= 0) {
    rawQuery = rest.slice(q + 1)
    rest = rest.slice(0, q)
  }
  if (scheme !== '' && !rest.startsWith('/')) {
    return { scheme, host: '', path: '', rawQuery, fragment, hasAuthority: false, opaque: rest }
  }
  if (scheme === '' && !rest.startsWith('/')) {
    const colon = rest.indexOf(':')
    const slash = rest.indexOf('/')
    if (colon >= 0 && (slash < 0 || colon < slash)) throw fail('first path segment in URL cannot contain colon')
  }
  let host = ''
  let hasAuthority = false
  if ((scheme !== '' || !rest.startsWith('///')) && rest.startsWith('//')) {
    hasAuthority = true
    const after = rest.slice(2)
    const slash = after.indexOf('/')
    let authority = slash >= 0 ? after.slice(0, slash) : after
    rest = slash >= 0 ? after.slice(slash) : ''
    const at = authority.lastIndexOf('@')
    if (at >= 0) authority = authority.slice(at + 1)
    host = authority
    const colon = host.startsWith('[') ? host.indexOf(':', host.indexOf(']')) : host.lastIndexOf(':')
    if (colon >= 0) {
      const port = host.slice(colon)
      if (!/^:[0-9]*$/.test(port)) throw fail(`invalid port ${goQuote(port)} after host`)
    }
  }
  return { scheme, host, path: rest, rawQuery, fragment, hasAuthority, opaque: '' }
}

/** url.URL.Hostname: the host without port or IPv6 brackets. */
export function urlHostname(u: GoURL): string {
  const h = u.host
  if (h.startsWith('[')) {
    const end = h.indexOf(']')
    return end >= 0 ? h.slice(1, end) : h.slice(1)
  }
  const colon = h.indexOf(':')
  return colon >= 0 ? h.slice(0, colon) : h
}

/** url.URL.Port: the port digits, or ''. */
export function urlPort(u: GoURL): string {
  const h = u.host
  const from = h.startsWith('[') ? h.indexOf(']') : 0
  const colon = h.indexOf(':', Math.max(from, 0))
  return colon >= 0 ? h.slice(colon + 1) : ''
}
