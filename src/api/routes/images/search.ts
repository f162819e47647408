/**
 * GET /images/search (moby api/server/router/image getImagesSearch): docker's
 * parameters translated, the search itself behind SearchBackend, the answer
 * in docker's snake_case shape.
 */
import { invalidArgument } from '../../../errors/index.js'
import type { SearchResult as Hit } from '../../../registry/index.js'
import type { Router } from '../../server/index.js'
import type { SearchResult } from '../../types/index.js'

export interface SearchRequest {
  term: string
  /** 0: the backend's default (docker's 25). */
  limit: number
  filters: Map<string, string[]>
  /** X-Registry-Auth as sent; the backend ignores one that does not decode, as docker does for search. */
  encodedAuth: string | undefined
  /** The client's X-Meta-* headers, which docker passes on to the registry. */
  headers: Record<string, string>
}

/** What the search route needs: the daemon passes the registry client's search. */
export interface SearchBackend {
  search(req: SearchRequest, signal: AbortSignal): Promise<Hit[]>
}

/** `limit` as docker reads it: strconv.Atoi, and never negative. */
export function parseLimit(raw: string | null): number {
  if (raw === null || raw === '') return 0
  if (!/^[+-]?\d+$/.test(raw)) throw invalidArgument(`invalid limit specified: strconv.Atoi: parsing ${JSON.stringify(raw)}: invalid syntax`)
  const n = Number(raw)
  if (n < 0 || !Number.isSafeInteger(n)) throw invalidArgument('invalid limit specified')
  return n
}

export function toSearchResult(h: Hit): SearchResult {
  return { name: h.name, description: h.description, star_count: h.starCount, is_official: h.isOfficial, is_automated: h.isAutomated }
}

export function searchRoutes(r: Router, b: SearchBackend): void {
  r.get('/images/search', async (ctx) => {
    const limit = parseLimit(ctx.query.get('limit'))
    const filters = ctx.filters()
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(ctx.req.headers)) {
      if (k.startsWith('x-meta-') && v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v
    }
    const abort = new AbortController()
    // A client that hangs up cancels the registry requests.
    ctx.res?.on('close', () => abort.abort(new Error('client disconnected')))
    const auth = ctx.req.headers['x-registry-auth']
    const hits = await b.search({ term: ctx.query.get('term') ?? '', limit, filters, encodedAuth: Array.isArray(auth) ? auth[0] : auth, headers }, abort.signal)
    ctx.send(200, hits.map(toSearchResult))
  })
}
