/**
 * The classic builder writes some history lines with Go's fmt verbs (`CMD
 * %q`, `VOLUME %v`, `HEALTHCHECK %q` of a struct pointer); images built by
 * berth carry the same text, so the few shapes needed are reproduced here.
 */
import type { HealthcheckConfig } from '../oci/index.js'

/** strconv.Quote for the strings Dockerfiles hold: JSON's escapes, but Go's \x.. for other control bytes. */
export function goQuote(s: string): string {
  return JSON.stringify(s).replace(/\\u00([0-9a-f]{2})/g, '\\x$1')
}

/** `%q` of a []string: `["a" "b"]`. */
export function goQuoteList(list: readonly string[] | null | undefined): string {
  return `[${(list ?? []).map(goQuote).join(' ')}]`
}

/** `%v` of a []string: `[a b]`. */
export function goList(list: readonly string[] | null | undefined): string {
  return `[${(list ?? []).join(' ')}]`
}

/** time.Duration.String() for nanoseconds: `0s`, `1.5s`, `5m0s`, `100ms`, `1h0m0s`. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s'
  const neg = ns < 0
  let n = Math.abs(ns)
  const sign = neg ? '-' : ''
  if (n < 1e9) {
    const [unit, div] = n < 1e3 ? ['ns', 1] : n < 1e6 ? ['µs', 1e3] : ['ms', 1e6]
    return `${sign}${trimFraction(n / div)}${unit}`
  }
  const h = Math.floor(n / 3.6e12)
  n -= h * 3.6e12
  const m = Math.floor(n / 6e10)
  n -= m * 6e10
  const s = `${trimFraction(n / 1e9)}s`
  if (h > 0) return `${sign}${h}h${m}m${s}`
  if (m > 0) return `${sign}${m}m${s}`
  return `${sign}${s}`
}

function trimFraction(x: number): string {
  return Number(x.toFixed(9)).toString()
}

/** `%q` of an int: a Go rune literal (`'\x00'`, `'\x03'`), which is what docker's HEALTHCHECK history shows for Retries. */
function goRune(n: number): string {
  if (n >= 0x20 && n < 0x7f && n !== 0x27 && n !== 0x5c) return `'${String.fromCharCode(n)}'`
  if (n === 0x27) return "'\\''"
  if (n === 0x5c) return "'\\\\'"
  if (n < 0x100) return `'\\x${n.toString(16).padStart(2, '0')}'`
  return `'${String.fromCodePoint(n)}'`
}

/** `HEALTHCHECK %q` of *container.HealthConfig, as classic docker history shows it. */
export function goHealthcheck(h: HealthcheckConfig): string {
  const d = (v: number | undefined) => goQuote(goDuration(v ?? 0))
  return `&{${goQuoteList(h.Test)} ${d(h.Interval)} ${d(h.Timeout)} ${d(h.StartPeriod)} ${d(h.StartInterval)} ${goRune(h.Retries ?? 0)}}`
}
