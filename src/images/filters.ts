import { invalidArgument } from '../errors/index.js'
import { parseGoDuration } from './changes.js'

/** Check filter keys against the accepted set, with docker's message. */
export function validateFilters(filters: Map<string, string[]>, accepted: readonly string[]): void {
  for (const k of filters.keys()) if (!accepted.includes(k)) throw invalidArgument(`invalid filter '${k}'`)
}

/** docker's GetBoolOrDefault for filters such as dangling. */
export function boolFilter(filters: Map<string, string[]>, key: string, dflt: boolean): boolean {
  const vals = filters.get(key)
  if (!vals || vals.length === 0) return dflt
  const v = (vals[0] as string).toLowerCase()
  if (v === 'true' || v === '1') return true
  if (v === 'false' || v === '0') return false
  throw invalidArgument(`invalid filter '${key}=${vals[0]}'`)
}

/** MatchKVList: every `key` present, every `key=value` equal. */
export function matchLabels(values: readonly string[] | undefined, labels: Record<string, string> | null | undefined): boolean {
  if (!values || values.length === 0) return true
  const l = labels ?? {}
  return values.every((v) => {
    const eq = v.indexOf('=')
    if (eq === -1) return Object.prototype.hasOwnProperty.call(l, v)
    return l[v.slice(0, eq)] === v.slice(eq + 1)
  })
}

/** docker's timetypes.GetTimestamp: unix seconds, RFC 3339 or a date, or a Go duration back from now. Returns ms. */
export function parseTimestamp(value: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000
  if (/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(value)) return now - parseGoDuration(value) / 1e6
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? value + 'T00:00:00Z' : value)
  if (Number.isNaN(ms)) throw invalidArgument(`failed to parse value as time or duration: "${value}"`)
  return ms
}
