/**
 * What `network ls` and `port` print: docker's network list context
 * (cli/command/network/formatter.go), natural ordering, Go's time and
 * host:port spellings.
 */
import type { NetworkSummary } from '../../api/types/index.js'
import { goStruct } from './struct.js'
import { truncateID } from './contexts.js'

export const NETWORK_HEADERS: Record<string, string> = {
  ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv4: 'IPV4', IPv6: 'IPV6',
  Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT',
}

export const DEFAULT_NETWORK_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}'

/** network.NewFormat: `table` (quiet: IDs), `raw`, or the user's template. */
export function networkFormat(source: string, quiet: boolean): string {
  if (source === 'table') return quiet ? '{{.ID}}' : DEFAULT_NETWORK_TABLE
  if (source === 'raw') return quiet ? 'network_id: {{.ID}}' : 'network_id: {{.ID}}\\nname: {{.Name}}\\ndriver: {{.Driver}}\\nscope: {{.Scope}}\\n'
  return source
}

/** fvbommel/sortorder.NaturalLess: digit runs compare as numbers (fewer leading zeros first), the rest bytewise. */
export function naturalLess(a: string, b: string): boolean {
  const isDigit = (c: number) => c >= 48 && c <= 57
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  let i = 0
  let j = 0
  while (i < x.length && j < y.length) {
    const c1 = x[i] ?? 0
    const c2 = y[j] ?? 0
    const d1 = isDigit(c1)
    const d2 = isDigit(c2)
    if (d1 !== d2) return d1
    if (!d1) {
      if (c1 !== c2) return c1 < c2
      i++
      j++
      continue
    }
    while (i < x.length && x[i] === 48) i++
    while (j < y.length && y[j] === 48) j++
    const nz1 = i
    const nz2 = j
    while (i < x.length && isDigit(x[i] ?? 0)) i++
    while (j < y.length && isDigit(y[j] ?? 0)) j++
    if (i - nz1 !== j - nz2) return i - nz1 < j - nz2
    const n1 = x.subarray(nz1, i).toString()
    const n2 = y.subarray(nz2, j).toString()
    if (n1 !== n2) return n1 < n2
    if (nz1 !== nz2) return nz1 < nz2
  }
  return x.length < y.length
}

export const naturalCompare = (a: string, b: string): number => (naturalLess(a, b) ? -1 : naturalLess(b, a) ? 1 : 0)

/**
 * Go's time.Time.String() of an RFC 3339 time as encoding/json reads it:
 * "2025-06-01 10:00:00.123456789 +0000 UTC"; an offset that is not the local
 * zone's has no name, and Go prints the offset twice.
 */
export function goTimeOf(rfc3339: string, zoneName: (d: Date) => string | undefined = localZoneName): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/i.exec(rfc3339)
  if (!m) return rfc3339
  const frac = (m[3] ?? '').slice(0, 9).replace(/0+$/, '')
  const zone = (m[4] ?? 'Z').toUpperCase()
  const base = `${m[1] ?? ''} ${m[2] ?? ''}${frac ? `.${frac}` : ''}`
  if (zone === 'Z') return `${base} +0000 UTC`
  const off = zone.replace(':', '')
  const d = new Date(Date.parse(rfc3339))
  const local = -d.getTimezoneOffset()
  const sign = local >= 0 ? '+' : '-'
  const localOff = `${sign}${String(Math.trunc(Math.abs(local) / 60)).padStart(2, '0')}${String(Math.abs(local) % 60).padStart(2, '0')}`
  return `${base} ${off} ${off === localOff ? zoneName(d) ?? off : off}`
}

function localZoneName(d: Date): string | undefined {
  return new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName')?.value
}

/** Go's net.JoinHostPort. */
export function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

export interface NetworkRow {
  CreatedAt: string
  Driver: string
  ID: string
  IPv4: string
  IPv6: string
  Internal: string
  Label: (name: string) => string
  Labels: string
  Name: string
  Scope: string
}

export function networkRow(n: NetworkSummary, trunc: boolean): NetworkRow {
  const labels = n.Labels ?? {}
  return goStruct('network.networkContext', {
    CreatedAt: goTimeOf(n.Created),
    Driver: n.Driver,
    ID: trunc ? truncateID(n.Id) : n.Id,
    IPv4: String(n.EnableIPv4),
    IPv6: String(n.EnableIPv6),
    Internal: String(n.Internal),
    Label: (name: string) => labels[name] ?? '',
    Labels: Object.entries(labels).map(([k, v]) => `${k}=${v}`).sort().join(','),
    Name: n.Name,
    Scope: n.Scope,
  })
}
