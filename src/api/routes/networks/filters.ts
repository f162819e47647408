/**
 * docker's network filters (moby daemon/network/filter.go FilterNetworks and
 * daemon/prune.go localNetworksPrune): `name` and `id` are unanchored Go
 * regular expressions (so substrings match) or exact values, `driver` and
 * `scope` exact, `label` key or key=value (all must hold).
 */
import { invalidArgument } from '../../../errors/index.js'
import type { NetworkRecord } from '../../../network/index.js'
import { isPredefined } from './convert.js'

export type Filters = Map<string, string[]>

const LIST_FILTERS = new Set(['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type'])
const PRUNE_FILTERS = new Set(['label', 'label!', 'until'])

/** A Go (RE2) pattern as a JS RegExp, or undefined when JS cannot read it (Go skips patterns that fail to compile). */
export function goRegexp(pattern: string): RegExp | undefined {
  let src = pattern
  let flags = ''
  // RE2's leading flag group, the one commonly used; JS has no inline flags.
  const m = /^\(\?([imsU]+)\)/.exec(src)
  if (m) {
    src = src.slice(m[0].length)
    for (const f of m[1] ?? '') if (f === 'i' || f === 'm' || f === 's') flags += f
  }
  try {
    return new RegExp(src, flags)
  } catch {
    return undefined
  }
}

/** filters.Args.Match: an exact value, or a pattern found anywhere in `source`. */
function match(values: string[], source: string): boolean {
  return values.some((v) => v === source || (goRegexp(v)?.test(source) ?? false))
}

/** filters.Args.MatchKVList: every `key` or `key=value` holds; nothing holds on no labels. */
export function matchLabels(values: string[], labels: Record<string, string>): boolean {
  if (values.length === 0) return true
  if (Object.keys(labels).length === 0) return false
  return values.every((v) => {
    const i = v.indexOf('=')
    const k = i < 0 ? v : v.slice(0, i)
    if (!Object.hasOwn(labels, k)) return false
    return i < 0 || labels[k] === v.slice(i + 1)
  })
}

/** Checks a list's filters up front as dockerd does, whether or not any network would reach them. */
export function validateListFilters(f: Filters): void {
  for (const k of f.keys()) if (!LIST_FILTERS.has(k)) throw invalidArgument(`invalid filter '${k}'`)
  const dangling = f.get('dangling')
  if (dangling) {
    if (dangling.length > 1) throw invalidArgument('got more than one value for filter key "dangling"')
    if (!['0', 'false', '1', 'true'].includes(dangling[0] ?? '')) {
      throw invalidArgument(`invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")`)
    }
  }
  // dockerd answers this one with a plain error (500); a bad value is the client's mistake, so 400 here.
  for (const t of f.get('type') ?? []) if (t !== 'builtin' && t !== 'custom') throw invalidArgument(`invalid filter: 'type'='${t}'`)
}

/**
 * Whether a network passes validated list filters. `inUse` is asked only for
 * the dangling filter: dangling networks are user-defined ones nothing is
 * attached to.
 */
export function matchNetwork(n: NetworkRecord, f: Filters, inUse: (id: string) => boolean): boolean {
  const has = (k: string) => (f.get(k)?.length ?? 0) > 0
  const get = (k: string) => f.get(k) ?? []
  if (has('driver') && !get('driver').includes(n.driver)) return false
  if (has('name') && !match(get('name'), n.name)) return false
  if (has('id') && !match(get('id'), n.id)) return false
  if (has('label') && !matchLabels(get('label'), n.labels)) return false
  if (has('scope') && !get('scope').includes(n.scope)) return false
  const dangling = f.get('dangling')?.[0]
  if (dangling !== undefined) {
    const danglingOnly = dangling === '1' || dangling === 'true'
    const used = isPredefined(n.name) || inUse(n.id)
    if (danglingOnly === used) return false
  }
  const types = get('type')
  if (types.length && !types.includes(isPredefined(n.name) ? 'builtin' : 'custom')) return false
  return true
}

export function validatePruneFilters(f: Filters): void {
  for (const k of f.keys()) if (!PRUNE_FILTERS.has(k)) throw invalidArgument(`invalid filter '${k}'`)
  if ((f.get('until')?.length ?? 0) > 1) throw invalidArgument('more than one until filter specified')
}

/** Nanoseconds since the epoch of an RFC 3339 time with up to nine fraction digits. */
export function createdNano(created: string): bigint | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/i.exec(created)
  if (!m) return undefined
  const ms = Date.parse(`${m[1] ?? ''}${(m[3] ?? 'Z').toUpperCase()}`)
  if (Number.isNaN(ms)) return undefined
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'))
}

/** Which networks prune may take: created no later than `until`, labels as `label` and `label!` say. */
export function pruneSelector(f: Filters, untilNano: bigint | undefined): (n: NetworkRecord) => boolean {
  return (n) => {
    if (isPredefined(n.name)) return false
    if (untilNano !== undefined) {
      const created = createdNano(n.created)
      if (created !== undefined && created > untilNano) return false
    }
    if (!matchLabels(f.get('label') ?? [], n.labels)) return false
    const not = f.get('label!') ?? []
    if (not.length && matchLabels(not, n.labels)) return false
    return true
  }
}
