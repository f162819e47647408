/**
 * `berth search` as docker 28's (docker/cli cli/command/registry/search.go and
 * formatter_search.go): the daemon searches, the CLI sends the stored
 * credentials for the term's registry and renders docker's table.
 */
import type { SearchResult } from '../../api/types/index.js'
import { encodeFilters } from '../../client/index.js'
import type { Handler } from '../app.js'
import { err, getClient, int, out, str, strs } from '../context.js'
import { CredentialStore, encodeAuthHeader, serverKey } from '../credentials.js'
import { parseFilters } from '../opts.js'
import { ellipsis } from '../output/contexts.js'
import { JSON_KEY, renderFormat, TABLE_KEY } from '../output/format.js'
import { goStruct } from '../output/struct.js'

export const DEFAULT_SEARCH_TABLE = 'table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}'
export const SEARCH_HEADERS: Record<string, string> = { Name: 'NAME', Description: 'DESCRIPTION', StarCount: 'STARS', IsOfficial: 'OFFICIAL' }
/** docker truncates descriptions to this display width unless --no-trunc. */
const DESCRIPTION_WIDTH = 45

/** docker's NewSearchFormat. */
export function searchFormat(source: string | undefined): string {
  return !source || source === TABLE_KEY ? DEFAULT_SEARCH_TABLE : source
}

/**
 * Whether a format marshals the row: docker's search context then prints
 * booleans as "true"/"false" rather than the table's "[OK]"/"".
 */
export function marshalsRow(format: string): boolean {
  return format === JSON_KEY || /\{\{-?\s*json\s+\.\s*-?\}\}/.test(format)
}

/** Fields in Go's sorted-map order, which is how `{{json .}}` prints docker's search context. */
export interface SearchRow {
  Description: string
  IsOfficial: string
  Name: string
  StarCount: string
}

/** docker's searchContext for one result. */
export function searchRow(r: SearchResult, o: { trunc: boolean; json: boolean }): SearchRow {
  let description = (r.description ?? '').replace(/[\n\r]/g, ' ')
  if (o.trunc) description = ellipsis(description, DESCRIPTION_WIDTH)
  const official = r.is_official === true
  return goStruct('registry.searchContext', {
    Description: description,
    IsOfficial: o.json ? String(official) : official ? '[OK]' : '',
    Name: r.name,
    StarCount: String(r.star_count ?? 0),
  })
}

/**
 * The config.json key of the registry a term searches, as docker's
 * ParseSearchIndexInfo + GetAuthConfigKey: the first component when it looks
 * like a host (`.`, `:` or `localhost`), else Docker Hub.
 */
export function searchServerKey(term: string): string {
  const parts = term.split('/')
  const first = parts[0] ?? ''
  if (parts.length === 1 || (!first.includes('.') && !first.includes(':') && first !== 'localhost')) return serverKey('docker.io')
  return serverKey(first)
}

export const searchCommand: Handler = async ([term = ''], opts, ctx) => {
  const filters = parseFilters(strs(opts.filter))
  if (filters['is-automated']) err('WARNING: the "is-automated" filter is deprecated, and searching for "is-automated=true" will not yield any results in future.\n')
  const auth = encodeAuthHeader(await new CredentialStore().get(searchServerKey(term)))
  const limit = int(opts.limit, '--limit')
  const results = await getClient(ctx.globals).json<SearchResult[] | null>('GET', '/images/search', {
    query: { term, limit: limit !== undefined && limit > 0 ? limit : undefined, filters: encodeFilters(filters) },
    headers: { 'X-Registry-Auth': auth },
  })
  const format = searchFormat(str(opts.format))
  const json = marshalsRow(format)
  const rows = (results ?? []).map((r) => searchRow(r, { trunc: opts.trunc !== false, json }))
  out(renderFormat(format, rows, SEARCH_HEADERS))
}
