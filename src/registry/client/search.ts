/**
 * `docker search` on the daemon side (moby registry/search.go and
 * search_session.go; read, nothing copied): the term names an index and a
 * query, the index's `GET /v1/search?q=&n=` answers, and docker's filters
 * (is-official, is-automated, stars) are applied to what it returned.
 * Registries without /v1/search (the distribution registry, berth's own) get
 * the query answered from `GET /v2/_catalog` instead: repositories whose name
 * contains it, named `host:port/repo` so a result can be pulled as shown.
 * Hand-written over Node's fetch for the same reasons as client.ts.
 */
import { EngineError, invalidArgument, unavailable } from '../../errors/index.js'
import { DEFAULT_DOMAIN } from '../../oci/index.js'
import { basicAuthorization, decodeRegistryAuth, parseChallenges, type RegistryAuth } from './auth.js'
import { fetchBearerToken, followRedirects, RegistryUnreachable, resolveEndpoint, type Endpoint, type RegistryClientOptions } from './client.js'
import { errorFromResponse, redact, RegistryError } from './errors.js'

/** One search hit (docker's registry.SearchResult). */
export interface SearchResult {
  name: string
  description: string
  starCount: number
  isOfficial: boolean
  /** Deprecated by docker; always false in what berth returns, as in docker 28. */
  isAutomated: boolean
}

/** What the filters of a search ask for; an absent field does not filter. */
export interface SearchFilters {
  isOfficial?: boolean
  isAutomated?: boolean
  /** Minimum star count: the highest of the `stars` values given. */
  stars?: number
}

/** The index a term searches and the query sent to it. */
export interface SearchTerm {
  /** `docker.io` for Docker Hub, else the registry's `host[:port]` as written. */
  index: string
  query: string
  official: boolean
}

/** docker's default and bounds for `limit`. */
export const DEFAULT_SEARCH_LIMIT = 25
export const MAX_SEARCH_LIMIT = 100
/** Catalog pages asked for at once, and how many pages a search reads at most. */
export const CATALOG_PAGE_SIZE = 100
export const MAX_CATALOG_PAGES = 50
/** One request of a search may take this long before it fails, so an unreachable index never hangs a search. */
export const SEARCH_REQUEST_TIMEOUT_MS = 30_000
/** Search answers and catalog pages are JSON; anything larger is refused. */
const MAX_BODY = 4 << 20
const HUB_INDEX = 'https://index.docker.io'
const ACCEPTED_FILTERS = new Set(['is-automated', 'is-official', 'stars'])

/**
 * Split a term into index and query as docker's splitReposSearchTerm: the
 * first component is a registry when it has a `.` or `:` or is `localhost`;
 * otherwise the whole term is a Docker Hub query. `index.docker.io` is Hub,
 * and Hub queries lose a `library/` prefix.
 */
export function parseSearchTerm(term: string): SearchTerm {
  if (term.includes('://')) throw invalidArgument(`invalid repository name: repository name (${term}) should not have a scheme`)
  const slash = term.indexOf('/')
  const first = slash < 0 ? term : term.slice(0, slash)
  let index = DEFAULT_DOMAIN
  let query = term
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    index = first === 'index.docker.io' ? DEFAULT_DOMAIN : first
    query = term.slice(slash + 1)
  }
  const official = index === DEFAULT_DOMAIN
  if (official && query.startsWith('library/')) query = query.slice('library/'.length)
  return { index, query, official }
}

/** docker's invalidFilter message: `invalid filter 'key'` or `invalid filter 'key=[v1 v2]'`. */
function invalidFilter(key: string, values?: readonly string[]): EngineError {
  return invalidArgument(`invalid filter '${key}${values ? `=[${values.join(' ')}]` : ''}'`)
}

/** filters.Args.GetBoolOrDefault: one of 1/true or 0/false, not both, not neither. */
function boolFilter(key: string, values: readonly string[] | undefined): boolean | undefined {
  if (values === undefined) return undefined
  if (values.length === 0) throw invalidFilter(key)
  const isTrue = values.includes('1') || values.includes('true')
  const isFalse = values.includes('0') || values.includes('false')
  if (isTrue === isFalse) throw invalidFilter(key, values)
  return isTrue
}

/** Check and read a search's filters, with docker's messages for what it refuses. */
export function parseSearchFilters(filters: ReadonlyMap<string, readonly string[]>): SearchFilters {
  for (const key of filters.keys()) if (!ACCEPTED_FILTERS.has(key)) throw invalidFilter(key)
  const out: SearchFilters = {}
  const automated = boolFilter('is-automated', filters.get('is-automated'))
  if (automated !== undefined) out.isAutomated = automated
  const official = boolFilter('is-official', filters.get('is-official'))
  if (official !== undefined) out.isOfficial = official
  const stars = filters.get('stars')
  if (stars !== undefined) {
    let min = 0
    for (const v of stars) {
      // strconv.Atoi's syntax: an optional sign and decimal digits.
      if (!/^[+-]?\d+$/.test(v)) throw invalidArgument(`invalid filter 'stars=${v}': strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`)
      const n = Number(v)
      if (!Number.isSafeInteger(n)) throw invalidArgument(`invalid filter 'stars=${v}': strconv.Atoi: parsing ${JSON.stringify(v)}: value out of range`)
      if (n > min) min = n
    }
    out.stars = min
  }
  return out
}

/** 0 (not given) means docker's default; anything outside [1, 100] is refused as docker refuses it. */
export function searchLimit(limit: number | undefined): number {
  const n = limit === undefined || limit === 0 ? DEFAULT_SEARCH_LIMIT : limit
  if (!Number.isInteger(n) || n < 1 || n > MAX_SEARCH_LIMIT) throw invalidArgument(`limit ${limit} is outside the range of [1, ${MAX_SEARCH_LIMIT}]`)
  return n
}

/** Apply the filters as docker does after the index answered; is_automated is forced false, as docker 28 does. */
export function filterResults(results: readonly SearchResult[], f: SearchFilters): SearchResult[] {
  if (f.isAutomated) return []
  const out: SearchResult[] = []
  for (const r of results) {
    if (f.isOfficial !== undefined && r.isOfficial !== f.isOfficial) continue
    if (f.stars !== undefined && r.starCount < f.stars) continue
    out.push({ ...r, isAutomated: false })
  }
  return out
}

/** Catalog repositories whose name contains the query, as results named after the registry so they pull as shown. */
export function catalogMatches(index: string, repositories: readonly string[], query: string): SearchResult[] {
  const q = query.toLowerCase()
  return repositories
    .filter((r) => r.toLowerCase().includes(q))
    .map((r) => ({ name: `${index}/${r}`, description: '', starCount: 0, isOfficial: false, isAutomated: false }))
}

/** The `rel="next"` target of a Link header (RFC 8288), resolved against the page it came with. */
export function nextLink(header: string | null, current: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part)
    if (!m) continue
    const rels = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(m[2] ?? '')
    const rel = rels?.[1] ?? rels?.[2] ?? ''
    if (!rel.split(/\s+/).includes('next')) continue
    try {
      return new URL(m[1] ?? '', current).href
    } catch {
      return undefined
    }
  }
  return undefined
}

/** A v1 search answer (`{"results":[…]}`) as results; entries without a name are dropped. */
export function parseV1Results(body: unknown): SearchResult[] {
  const results = (body as { results?: unknown } | null)?.results
  if (!Array.isArray(results)) throw unavailable('error decoding registry search results: no results list')
  const out: SearchResult[] = []
  for (const r of results as unknown[]) {
    if (!r || typeof r !== 'object') continue
    const o = r as Record<string, unknown>
    if (typeof o.name !== 'string' || o.name === '') continue
    out.push({
      name: o.name,
      description: typeof o.description === 'string' ? o.description : '',
      starCount: typeof o.star_count === 'number' && Number.isFinite(o.star_count) ? o.star_count : 0,
      isOfficial: o.is_official === true,
      isAutomated: o.is_automated === true,
    })
  }
  return out
}

export interface SearchOptions extends RegistryClientOptions {
  term: string
  /** 0 or absent: docker's default of 25. */
  limit?: number
  /** docker's filter map: key → values. */
  filters?: ReadonlyMap<string, readonly string[]>
  /** X-Registry-Auth as the client sent it; one that does not decode is ignored, as docker ignores it for search. */
  encodedAuth?: string
  /** Extra request headers (docker forwards the client's X-Meta-* headers). */
  headers?: Readonly<Record<string, string>>
  /** Per-request limit; SEARCH_REQUEST_TIMEOUT_MS when absent. */
  timeoutMs?: number
  signal?: AbortSignal
}

/** Search a registry as docker's daemon does, with the catalog fallback for registries without v1 search. */
export async function searchRegistry(o: SearchOptions): Promise<SearchResult[]> {
  const filters = parseSearchFilters(o.filters ?? new Map())
  // As docker: is-automated=true can match nothing, so the index is not asked.
  if (filters.isAutomated) return []
  const term = parseSearchTerm(o.term)
  const limit = searchLimit(o.limit)
  let auth: RegistryAuth | undefined
  try {
    auth = decodeRegistryAuth(o.encodedAuth)
  } catch {
    auth = undefined
  }
  const s = new SearchSession(term, auth, o)
  let results = await s.v1Search(limit)
  results ??= await s.catalog(limit)
  return filterResults(results, filters)
}

/** The requests of one search: its Authorization, once a challenge was answered, is reused. */
class SearchSession {
  private readonly endpoint: Endpoint
  private authorization: string | undefined

  constructor(
    private readonly term: SearchTerm,
    private readonly auth: RegistryAuth | undefined,
    private readonly o: SearchOptions,
  ) {
    const ep = resolveEndpoint(term.index, o)
    this.endpoint = term.official ? { ...ep, base: HUB_INDEX, insecure: false } : ep
    if (auth?.registryToken) this.authorization = `Bearer ${auth.registryToken}`
  }

  /**
   * `GET /v1/search`. Undefined when the registry has no such endpoint (404,
   * 405), so the caller falls back to the catalog; Docker Hub has one, so its
   * answer is always final.
   */
  async v1Search(limit: number): Promise<SearchResult[] | undefined> {
    const url = `${this.endpoint.base}/v1/search?q=${queryEscape(this.term.query)}&n=${limit}`
    const res = await this.get(url, 'registry:catalog:search', { 'x-docker-token': 'true' })
    if (!this.term.official && (res.status === 404 || res.status === 405)) {
      await res.body?.cancel()
      return undefined
    }
    if (res.status !== 200) {
      await res.body?.cancel()
      if (res.status === 401) throw new RegistryError('unauthorized', `unauthorized: authentication required for ${this.describe()}`, 401, undefined)
      // docker's wording (registry/search_session.go); the status says what went wrong.
      throw new RegistryError(res.status === 403 ? 'forbidden' : 'unavailable', `Unexpected status code ${res.status}`, res.status, undefined)
    }
    let body: unknown
    try {
      body = JSON.parse((await readLimited(res, url)).toString('utf8'))
    } catch (err) {
      if (err instanceof EngineError) throw err
      throw unavailable(`error decoding registry search results: ${(err as Error).message}`)
    }
    return parseV1Results(body)
  }

  /** Page through `GET /v2/_catalog` until `limit` repositories match or the pages run out (MAX_CATALOG_PAGES at most). */
  async catalog(limit: number): Promise<SearchResult[]> {
    const out: SearchResult[] = []
    let url: string | undefined = `${this.endpoint.base}/v2/_catalog?n=${CATALOG_PAGE_SIZE}`
    const origin = new URL(url).origin
    for (let page = 0; url !== undefined && page < MAX_CATALOG_PAGES && out.length < limit; page++) {
      const res = await this.get(url, 'registry:catalog:*')
      if (res.status !== 200) {
        const text = await res.text().catch(() => '')
        const err = errorFromResponse('GET', url, res.status, res.statusText, text)
        if (res.status === 401) throw new RegistryError('unauthorized', `unauthorized: authentication required for ${this.describe()}`, 401, err.code, { cause: err })
        throw new RegistryError(err.kind === 'not-found' ? 'not-implemented' : err.kind,
          `${this.describe()} has neither /v1/search nor a usable /v2/_catalog to search: ${err.message}`, res.status, err.code, { cause: err })
      }
      let repositories: unknown
      try {
        repositories = (JSON.parse((await readLimited(res, url)).toString('utf8')) as { repositories?: unknown } | null)?.repositories
      } catch (err) {
        if (err instanceof EngineError) throw err
        repositories = undefined
      }
      if (!Array.isArray(repositories)) throw unavailable(`GET ${redact(url)}: the registry's catalog is not a repositories list`)
      out.push(...catalogMatches(this.term.index, repositories.filter((r): r is string => typeof r === 'string'), this.term.query))
      const next = nextLink(res.headers.get('link'), url)
      // Only pages of the same registry: a Link elsewhere would carry the Authorization.
      url = next !== undefined && new URL(next).origin === origin ? next : undefined
    }
    return out.slice(0, limit)
  }

  private describe(): string {
    return this.term.official ? 'Docker Hub (index.docker.io)' : this.term.index
  }

  /** One GET; a 401 is answered once from its challenge (a token for `scope`, or Basic credentials). */
  private async get(url: string, scope: string, extra: Record<string, string> = {}): Promise<Response> {
    const res = await this.follow(url, extra)
    if (res.status !== 401) return res
    const challenges = parseChallenges(res.headers.get('www-authenticate') ?? '')
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm)
    let authorization: string | undefined
    if (bearer) {
      authorization = `Bearer ${await fetchBearerToken({
        challenge: bearer,
        scopes: [scope],
        auth: this.auth,
        endpoint: this.endpoint,
        userAgent: this.o.userAgent ?? 'berth',
        signal: this.signal(),
        unauthorized: (m) => `Get "${redact(url)}": unauthorized: ${m}`,
      })}`
    } else if (challenges.some((c) => c.scheme === 'basic')) {
      authorization = basicAuthorization(this.auth)
    }
    // Nothing new to send: the 401 is the answer.
    if (authorization === undefined || authorization === this.authorization) return res
    await res.body?.cancel()
    this.authorization = authorization
    return this.follow(url, extra)
  }

  /** The caller's signal, bounded by the per-request timeout. */
  private signal(timeout: AbortSignal = AbortSignal.timeout(this.o.timeoutMs ?? SEARCH_REQUEST_TIMEOUT_MS)): AbortSignal {
    return this.o.signal ? AbortSignal.any([this.o.signal, timeout]) : timeout
  }

  /** GET with redirects followed by hand, so Authorization stays on the registry's origin; bounded in time. */
  private follow(start: string, extra: Record<string, string>): Promise<Response> {
    const origin = new URL(start).origin
    const timeoutMs = this.o.timeoutMs ?? SEARCH_REQUEST_TIMEOUT_MS
    return followRedirects(start, async (url) => {
      const headers: Record<string, string> = { ...this.o.headers, ...extra, 'user-agent': this.o.userAgent ?? 'berth' }
      if (this.authorization && new URL(url).origin === origin) headers.authorization = this.authorization
      const timeout = AbortSignal.timeout(timeoutMs)
      try {
        return await fetch(url, { headers, redirect: 'manual', signal: this.signal(timeout) })
      } catch (err) {
        if (this.o.signal?.aborted) throw err
        const why = timeout.aborted ? `no answer within ${timeoutMs / 1000}s` : fetchFailure(err)
        // docker shows the whole search URL; it carries only the query.
        throw new RegistryUnreachable(`Get "${redact(url)}${new URL(url).search}": ${why}`, err)
      }
    })
  }
}

/** Go's url.QueryEscape, so the URL docker would show is the one berth shows. */
export function queryEscape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%20/g, '+')
}

/** fetch's "fetch failed" hides the reason in cause; docker shows the dial error. */
function fetchFailure(err: unknown): string {
  const cause = (err as { cause?: { message?: string } }).cause
  return cause?.message ?? (err as Error).message
}

async function readLimited(res: Response, url: string): Promise<Buffer> {
  const parts: Buffer[] = []
  let n = 0
  if (!res.body) return Buffer.alloc(0)
  for await (const c of res.body as AsyncIterable<Uint8Array>) {
    n += c.length
    if (n > MAX_BODY) throw unavailable(`GET ${redact(url)}: answer larger than ${MAX_BODY} bytes`)
    parts.push(Buffer.from(c))
  }
  return Buffer.concat(parts)
}
