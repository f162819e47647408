import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { kindOf } from '../../errors/index.js'
import {
  catalogMatches, filterResults, nextLink, parseSearchFilters, parseSearchTerm, parseV1Results, queryEscape, searchLimit, searchRegistry,
  type SearchResult,
} from './search.js'

/** The error a promise rejects with; a test fails if it resolves. */
async function failure(p: Promise<unknown>): Promise<Error> {
  return p.then(() => { throw new Error('did not fail') }, (e: Error) => e)
}

const thrown = (fn: () => unknown): Error => {
  try {
    fn()
  } catch (e) {
    return e as Error
  }
  throw new Error('did not throw')
}

describe('parseSearchTerm', () => {
  it('searches Docker Hub unless the first component is a host', () => {
    expect(parseSearchTerm('busybox')).toEqual({ index: 'docker.io', query: 'busybox', official: true })
    expect(parseSearchTerm('samalba/hipache')).toEqual({ index: 'docker.io', query: 'samalba/hipache', official: true })
    expect(parseSearchTerm('127.0.0.1:5000/busy')).toEqual({ index: '127.0.0.1:5000', query: 'busy', official: false })
    expect(parseSearchTerm('localhost/tools/x')).toEqual({ index: 'localhost', query: 'tools/x', official: false })
    expect(parseSearchTerm('registry.example/x')).toEqual({ index: 'registry.example', query: 'x', official: false })
    expect(parseSearchTerm('127.0.0.1:5000/')).toEqual({ index: '127.0.0.1:5000', query: '', official: false })
  })
  it('treats index.docker.io as Hub and drops library/ there only', () => {
    expect(parseSearchTerm('index.docker.io/library/busybox')).toEqual({ index: 'docker.io', query: 'busybox', official: true })
    expect(parseSearchTerm('library/busybox').query).toBe('busybox')
    expect(parseSearchTerm('127.0.0.1:5000/library/busybox').query).toBe('library/busybox')
  })
  it('refuses a scheme with docker\'s message', () => {
    const e = thrown(() => parseSearchTerm('http://127.0.0.1:5000/x'))
    expect(e.message).toBe('invalid repository name: repository name (http://127.0.0.1:5000/x) should not have a scheme')
    expect(kindOf(e)).toBe('invalid-argument')
  })
})

describe('parseSearchFilters', () => {
  const f = (o: Record<string, string[]>) => parseSearchFilters(new Map(Object.entries(o)))
  it('reads docker\'s three filters', () => {
    expect(f({})).toEqual({})
    expect(f({ 'is-official': ['true'], 'is-automated': ['0'], stars: ['3', '10', '+2'] })).toEqual({ isOfficial: true, isAutomated: false, stars: 10 })
  })
  it('refuses others with docker\'s messages', () => {
    for (const [o, msg] of [
      [{ foo: ['x'] }, "invalid filter 'foo'"],
      [{ 'is-official': ['maybe'] }, "invalid filter 'is-official=[maybe]'"],
      [{ 'is-official': ['true', 'false'] }, "invalid filter 'is-official=[true false]'"],
      [{ stars: ['abc'] }, `invalid filter 'stars=abc': strconv.Atoi: parsing "abc": invalid syntax`],
    ] as const) {
      const e = thrown(() => f(o as unknown as Record<string, string[]>))
      expect(e.message).toBe(msg)
      expect(kindOf(e)).toBe('invalid-argument')
    }
  })
})

describe('searchLimit', () => {
  it('defaults to 25 and keeps to [1, 100]', () => {
    expect(searchLimit(undefined)).toBe(25)
    expect(searchLimit(0)).toBe(25)
    expect(searchLimit(100)).toBe(100)
    expect(thrown(() => searchLimit(101)).message).toBe('limit 101 is outside the range of [1, 100]')
    expect(kindOf(thrown(() => searchLimit(-1)))).toBe('invalid-argument')
  })
})

const hit = (name: string, starCount = 0, isOfficial = false): SearchResult => ({ name, description: '', starCount, isOfficial, isAutomated: true })

describe('filterResults', () => {
  const all = [hit('busybox', 3000, true), hit('me/busy', 2), hit('you/busy', 0)]
  it('applies stars and is-official, and forces is_automated false', () => {
    expect(filterResults(all, {}).map((r) => r.isAutomated)).toEqual([false, false, false])
    expect(filterResults(all, { stars: 2 }).map((r) => r.name)).toEqual(['busybox', 'me/busy'])
    expect(filterResults(all, { isOfficial: false }).map((r) => r.name)).toEqual(['me/busy', 'you/busy'])
    expect(filterResults(all, { isOfficial: true, stars: 5000 })).toEqual([])
  })
  it('finds nothing for is-automated=true, as docker 28', () => {
    expect(filterResults(all, { isAutomated: true })).toEqual([])
    expect(filterResults(all, { isAutomated: false })).toHaveLength(3)
  })
})

describe('catalog results', () => {
  it('keeps repositories containing the query, named after the registry', () => {
    expect(catalogMatches('127.0.0.1:5000', ['tools/busybox', 'alpine', 'busy'], 'BUSY')).toEqual([
      { name: '127.0.0.1:5000/tools/busybox', description: '', starCount: 0, isOfficial: false, isAutomated: false },
      { name: '127.0.0.1:5000/busy', description: '', starCount: 0, isOfficial: false, isAutomated: false },
    ])
    expect(catalogMatches('r:1', ['a', 'b'], '')).toHaveLength(2)
  })
  it('follows rel="next" Links, relative or absolute', () => {
    const cur = 'http://127.0.0.1:5000/v2/_catalog?n=100'
    expect(nextLink('</v2/_catalog?n=100&last=b>; rel="next"', cur)).toBe('http://127.0.0.1:5000/v2/_catalog?n=100&last=b')
    expect(nextLink('<http://x/a>; rel=prev, <http://x/b>; rel=next', cur)).toBe('http://x/b')
    expect(nextLink('<http://x/a>; rel="prev"', cur)).toBeUndefined()
    expect(nextLink(null, cur)).toBeUndefined()
  })
})

describe('queryEscape', () => {
  it('escapes as Go\'s url.QueryEscape', () => {
    expect(queryEscape("tools/busy box!*'~")).toBe('tools%2Fbusy+box%21%2A%27~')
  })
})

describe('parseV1Results', () => {
  it('reads an index answer loosely', () => {
    expect(parseV1Results({ num_results: 2, results: [
      { name: 'busybox', description: 'Busybox base image.', star_count: 3000, is_official: true, is_automated: false },
      { name: 'x' }, { description: 'no name' }, null,
    ] })).toEqual([
      { name: 'busybox', description: 'Busybox base image.', starCount: 3000, isOfficial: true, isAutomated: false },
      { name: 'x', description: '', starCount: 0, isOfficial: false, isAutomated: false },
    ])
    expect(kindOf(thrown(() => parseV1Results({})))).toBe('unavailable')
  })
})

describe('searchRegistry against loopback registries', () => {
  const servers: http.Server[] = []
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => {
      s.closeAllConnections()
      return new Promise((r) => s.close(r))
    }))
  })
  async function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse, host: string) => void): Promise<string> {
    const s = http.createServer((req, res) => handler(req, res, `127.0.0.1:${(s.address() as AddressInfo).port}`))
    servers.push(s)
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
    return `127.0.0.1:${(s.address() as AddressInfo).port}`
  }

  it('asks /v1/search when the registry has it, then filters', async () => {
    const seen: string[] = []
    const host = await serve((req, res) => {
      seen.push(`${req.url} ${req.headers['x-docker-token']}`)
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ results: [
        { name: 'me/busy', description: 'd', star_count: 4, is_official: false, is_automated: true },
        { name: 'you/busy', star_count: 1 },
      ] }))
    })
    const r = await searchRegistry({ term: `${host}/busy`, limit: 10, filters: new Map([['stars', ['2']]]) })
    expect(seen).toEqual(['/v1/search?q=busy&n=10 true'])
    expect(r).toEqual([{ name: 'me/busy', description: 'd', starCount: 4, isOfficial: false, isAutomated: false }])
  })

  it('falls back to the catalog, paging and answering a Bearer challenge with catalog scope', async () => {
    const scopes: string[] = []
    const host = await serve((req, res, h) => {
      const url = new URL(req.url ?? '/', 'http://x')
      if (url.pathname === '/token') {
        scopes.push(url.searchParams.getAll('scope').join(' '))
        return void res.writeHead(200).end('{"token":"t0k"}')
      }
      if (url.pathname.startsWith('/v1/')) return void res.writeHead(404).end('404 page not found')
      if (req.headers.authorization !== 'Bearer t0k') {
        return void res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://${h}/token",service="reg",scope="registry:catalog:*"` }).end()
      }
      const pages: Record<string, [string[], string?]> = {
        '': [['alpine', 'tools/busybox'], '/v2/_catalog?n=100&last=tools%2Fbusybox'],
        'tools/busybox': [['x/busy', 'zeta']],
      }
      const [repos, next] = pages[url.searchParams.get('last') ?? ''] ?? [[]]
      res.writeHead(200, next ? { Link: `<${next}>; rel="next"` } : {}).end(JSON.stringify({ repositories: repos }))
    })
    const r = await searchRegistry({ term: `${host}/busy` })
    expect(r.map((x) => x.name)).toEqual([`${host}/tools/busybox`, `${host}/x/busy`])
    expect(scopes).toEqual(['registry:catalog:*'])
    expect(await searchRegistry({ term: `${host}/busy`, limit: 1 })).toHaveLength(1)
    expect(await searchRegistry({ term: `${host}/busy`, filters: new Map([['stars', ['1']]]) })).toEqual([])
  })

  it('sends Basic credentials when challenged for them', async () => {
    const auth = Buffer.from(JSON.stringify({ username: 'u', password: 'p' })).toString('base64url')
    const host = await serve((req, res) => {
      if (req.headers.authorization !== 'Basic ' + Buffer.from('u:p').toString('base64')) {
        return void res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="r"' }).end()
      }
      if (req.url?.startsWith('/v1/')) return void res.writeHead(404).end()
      res.writeHead(200).end('{"repositories":["busybox"]}')
    })
    expect((await searchRegistry({ term: `${host}/busy`, encodedAuth: auth })).map((x) => x.name)).toEqual([`${host}/busybox`])
    const e = await failure(searchRegistry({ term: `${host}/busy` }))
    expect(kindOf(e)).toBe('unauthorized')
  })

  it('fails, not hangs, when the registry does not answer or is not there', async () => {
    const host = await serve(() => {})
    const slow = await failure(searchRegistry({ term: `${host}/busy`, timeoutMs: 200 }))
    expect(slow.message).toBe(`Get "http://${host}/v1/search?q=busy&n=25": no answer within 0.2s`)
    expect(kindOf(slow)).toBe('unavailable')
    const gone = http.createServer()
    await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r))
    const port = (gone.address() as AddressInfo).port
    await new Promise((r) => gone.close(r))
    const closed = await failure(searchRegistry({ term: `127.0.0.1:${port}/busy` }))
    expect(closed.message).toBe(`Get "http://127.0.0.1:${port}/v1/search?q=busy&n=25": connect ECONNREFUSED 127.0.0.1:${port}`)
    expect(kindOf(closed)).toBe('unavailable')
  })

  it('checks filters before asking anyone', async () => {
    const e = await failure(searchRegistry({ term: '127.0.0.1:1/x', filters: new Map([['bogus', ['1']]]) }))
    expect(e.message).toBe("invalid filter 'bogus'")
    expect(await searchRegistry({ term: '127.0.0.1:1/x', filters: new Map([['is-automated', ['true']]]) })).toEqual([])
  })
})
