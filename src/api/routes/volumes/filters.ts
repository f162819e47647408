/**
 * docker's volume filters (moby volume/service/convert.go filtersToBy and
 * withPrune, service.go Prune): list takes `dangling`, `driver` (exact),
 * `label` (key or key=value, all must hold) and `name` (exact or an
 * unanchored Go regular expression); prune takes `label`, `label!` and `all`.
 */
import { invalidArgument } from '../../../errors/index.js'
import type { VolumeRecord } from '../../../volumes/index.js'
import { goRegexp, matchLabels } from '../networks/filters.js'
import type { VolumeDetail } from './backend.js'
import { ANONYMOUS_LABEL, goQuote, labelsOf, LOCAL_DRIVER } from './convert.js'

export type Filters = Map<string, string[]>

const LIST_FILTERS = new Set(['dangling', 'driver', 'label', 'name'])
const PRUNE_FILTERS = new Set(['all', 'label', 'label!'])

/** filters.invalidFilter's text: `invalid filter 'k'` or, with values, `invalid filter 'k=[v1 v2]'`. */
function invalidFilter(key: string, values?: string[]): Error {
  return invalidArgument(`invalid filter '${key}${values ? `=[${values.join(' ')}]` : ''}'`)
}

/** Go's strconv.ParseBool. */
function parseGoBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false
  return undefined
}


/** filters.Args.GetBoolOrDefault for `dangling`: undefined when absent. */
function danglingOf(f: Filters): boolean | undefined {
  const values = f.get('dangling')
  if (values === undefined) return undefined
  if (values.length === 0) throw invalidFilter('dangling')
  const isFalse = values.includes('0') || values.includes('false')
  const isTrue = values.includes('1') || values.includes('true')
  if (isFalse === isTrue) throw invalidFilter('dangling', values)
  return isTrue
}

/**
 * A predicate for GET /volumes from validated filters; throws docker's
 * errors for unknown keys and bad `dangling` values whether or not any
 * volume would reach them. Dangling volumes are the ones no container uses.
 */
export function listSelector(f: Filters): (d: VolumeDetail) => boolean {
  for (const k of f.keys()) if (!LIST_FILTERS.has(k)) throw invalidFilter(k)
  const dangling = danglingOf(f)
  const drivers = f.get('driver') ?? []
  const names = f.get('name')
  const labels = f.get('label') ?? []
  return (d) => {
    const v = d.volume
    if (drivers.length && !drivers.includes(v.driver)) return false
    if (names?.length && !names.some((n) => n === v.name || (goRegexp(n)?.test(v.name) ?? false))) return false
    if (!matchLabels(labels, labelsOf(v))) return false
    if (dangling !== undefined && dangling === d.usedBy.length > 0) return false
    return true
  }
}

/**
 * A predicate for POST /volumes/prune as dockerd builds it: `all` checked
 * first (one boolean), then the keys; only local volumes without driver
 * options; anonymous ones only unless `all`. Before API 1.42 prune takes
 * named volumes too (the router adds all=true).
 */
export function pruneSelector(f: Filters, apiMinor: number): (v: VolumeRecord) => boolean {
  const all = [...(f.get('all') ?? [])]
  if (apiMinor < 42 && !all.includes('true')) all.push('true')
  if (all.length > 1) throw invalidArgument(`invalid filter 'all=[${all.join(' ')}]': only one value is expected`)
  let pruneAll = false
  if (all.length === 1) {
    const b = parseGoBool(all[0] ?? '')
    if (b === undefined) throw invalidArgument(`invalid filter 'all': strconv.ParseBool: parsing ${goQuote(all[0] ?? '')}: invalid syntax`)
    pruneAll = b
  }
  for (const k of f.keys()) if (!PRUNE_FILTERS.has(k)) throw invalidFilter(k)
  const want = [...(f.get('label') ?? [])]
  if (!pruneAll && !want.includes(ANONYMOUS_LABEL)) want.push(ANONYMOUS_LABEL)
  const not = f.get('label!') ?? []
  return (v) => {
    if (v.driver !== LOCAL_DRIVER || Object.keys(v.options).length > 0) return false
    const labels = labelsOf(v)
    if (!matchLabels(want, labels)) return false
    if (not.length && matchLabels(not, labels)) return false
    return true
  }
}
