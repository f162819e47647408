/**
 * Go's time.ParseDuration, for HEALTHCHECK's --interval, --timeout,
 * --start-period and --start-interval: "1h30m", "1.5s", "300ms", "0".
 * Results are nanoseconds, the unit of docker's HealthConfig.
 */

const unitNs: Record<string, number> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3, // U+00B5 micro sign
  'μs': 1e3, // U+03BC Greek mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
}

/** Nanoseconds; throws Go's message ("time: invalid duration \"x\"") on bad input. */
export function parseGoDuration(s: string): number {
  const quoted = JSON.stringify(s)
  const invalid = () => new Error(`time: invalid duration ${quoted}`)
  let rest = s
  let sign = 1
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1
    rest = rest.slice(1)
  }
  if (rest === '0') return 0
  if (rest === '') throw invalid()
  let total = 0
  while (rest !== '') {
    const num = /^(\d*)(?:\.(\d*))?/.exec(rest)
    const intPart = num?.[1] ?? ''
    const fracPart = num?.[2] ?? ''
    if (!num || (intPart === '' && fracPart === '')) throw invalid()
    rest = rest.slice(num[0].length)
    const unit = /^[^\d.]*/.exec(rest)?.[0] ?? ''
    if (unit === '') throw new Error(`time: missing unit in duration ${quoted}`)
    const scale = unitNs[unit]
    if (scale === undefined) throw new Error(`time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`)
    rest = rest.slice(unit.length)
    total += Number(intPart === '' ? 0 : intPart) * scale + (fracPart === '' ? 0 : Number(`0.${fracPart}`) * scale)
  }
  return sign * Math.round(total)
}
