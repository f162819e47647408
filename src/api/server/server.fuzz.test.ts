/**
 * Property-based tests of request parsing on hostile input: query flags and
 * numbers, docker's filters JSON, JSON bodies (whole, chunked, oversized),
 * route matching, and raw bytes on the socket. The guarantees: a parse
 * failure is an invalid-argument EngineError (a 400), never another throw,
 * and the server answers every request with a 4xx at worst (never a 5xx, a
 * hang or a crash) and keeps serving. Bounded runs, a few seconds in all.
 */
import type { IncomingMessage } from 'node:http'
import http from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EngineError, kindOf } from '../../errors/index.js'
import { nullLogger } from '../../lib/index.js'
import { Ctx, MAX_JSON_BODY } from './context.js'
import { ApiServer, Router } from './index.js'

/** BERTH_FUZZ_SCALE=20 runs twenty times the cases: a longer hunt than CI's. */
const SCALE = Number(process.env.BERTH_FUZZ_SCALE ?? 1)

/** A request whose body is these chunks: what Ctx reads of an IncomingMessage. */
function fakeReq(chunks: Buffer[], headers: Record<string, string> = {}): IncomingMessage {
  return Object.assign(Readable.from(chunks), { headers }) as unknown as IncomingMessage
}

function only400(err: unknown): void {
  if (!(err instanceof EngineError) || kindOf(err) !== 'invalid-argument') throw new Error(`not an invalid-argument EngineError: ${String(err)}`, { cause: err })
}

/** Strings that look like JSON often: the fragments filters and bodies are made of. */
const jsonish = fc.oneof(
  fc.json(),
  fc.string(),
  fc.array(fc.constantFrom('{', '}', '[', ']', '"', ':', ',', 'true', 'null', '1e999', '-', '"label"', '"a=b"', '\\u0000', '\\ud800', ' '), { maxLength: 30 }).map((a) => a.join('')),
  fc.jsonValue().map((v) => JSON.stringify({ label: v, status: [v], x: { [JSON.stringify(v) ?? 'u']: v } })),
)

describe('Ctx parsing', () => {
  it('filters(): a map or a 400, for any query string', () => {
    fc.assert(
      fc.property(jsonish, (raw) => {
        const ctx = new Ctx(fakeReq([]), undefined, {}, new URLSearchParams({ filters: raw }), 50)
        try {
          const m = ctx.filters()
          for (const [k, v] of m) {
            expect(typeof k).toBe('string')
            for (const s of v) expect(typeof s).toBe('string')
          }
        } catch (err) {
          only400(err)
        }
      }),
      { numRuns: 1000 * SCALE },
    )
  }, 30_000 * SCALE)

  it('filters(): elements that are not strings or booleans are a 400, not a TypeError', () => {
    for (const raw of ['{"a":[{"toString":1}]}', '{"a":[1]}', '{"a":{"b":"yes"}}', '{"a":{"b":{"valueOf":1}}}', '[]', '"a"', '1']) {
      const ctx = new Ctx(fakeReq([]), undefined, {}, new URLSearchParams({ filters: raw }), 50)
      expect(() => ctx.filters(), raw).toThrow(/invalid filter/)
    }
    const ok = (raw: string) => new Ctx(fakeReq([]), undefined, {}, new URLSearchParams({ filters: raw }), 50).filters()
    expect(ok('null')).toEqual(new Map())
    expect(ok('{"label":{"a=b":true,"c":false},"name":["x"]}')).toEqual(new Map([['label', ['a=b']], ['name', ['x']]]))
  })

  it('bool() and int(): a value or a 400, for any query value', () => {
    fc.assert(
      fc.property(fc.string(), (v) => {
        const ctx = new Ctx(fakeReq([]), undefined, {}, new URLSearchParams({ v }), 50)
        expect(typeof ctx.bool('v')).toBe('boolean')
        try {
          const n = ctx.int('v')
          expect(n === undefined || Number.isFinite(n)).toBe(true)
        } catch (err) {
          only400(err)
        }
      }),
      { numRuns: 500 * SCALE },
    )
  }, 30_000 * SCALE)

  it("int() takes what Go's strconv.Atoi takes", () => {
    const int = (v: string) => new Ctx(fakeReq([]), undefined, {}, new URLSearchParams({ v }), 50).int('v')
    expect([int('10'), int('+3'), int('-1'), int('007')]).toEqual([10, 3, -1, 7])
    for (const bad of ['1.5', '1e3', '0x10', ' 1', 'Infinity']) expect(() => int(bad)).toThrow(`invalid value for v: strconv.Atoi: parsing ${JSON.stringify(bad)}: invalid syntax`)
    expect(() => int('99999999999999999999')).toThrow('value out of range')
  })

  it('json(): a value or a 400, whatever the bytes and however they are chunked', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(jsonish.map((s) => Buffer.from(s)), fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b))),
        fc.integer({ min: 1, max: 50 }),
        async (body, size) => {
          const chunks: Buffer[] = []
          for (let i = 0; i < body.length; i += size) chunks.push(body.subarray(i, i + size))
          const ctx = new Ctx(fakeReq(chunks), undefined, {}, new URLSearchParams(), 50)
          try {
            await ctx.json()
          } catch (err) {
            only400(err)
          }
        },
      ),
      { numRuns: 500 * SCALE },
    )
  }, 30_000 * SCALE)

  it('json() refuses a declared length past the limit without reading a byte', async () => {
    let read = false
    const req = Object.assign(new Readable({ read() { read = true; this.push(null) } }), { headers: { 'content-length': String(MAX_JSON_BODY + 1) } }) as unknown as IncomingMessage
    const ctx = new Ctx(req, undefined, {}, new URLSearchParams(), 50)
    await expect(ctx.json()).rejects.toThrow(/too large/)
    expect(read).toBe(false)
    expect(ctx.bodyRefused).toBe(true)
  })

  it('json() stops reading a chunked body at the limit', async () => {
    let pulled = 0
    const chunk = Buffer.alloc(1 << 20, 0x20)
    const req = Object.assign(new Readable({ read() { pulled++; this.push(pulled > 1000 ? null : chunk) } }), { headers: {} }) as unknown as IncomingMessage
    const ctx = new Ctx(req, undefined, {}, new URLSearchParams(), 50)
    await expect(ctx.json()).rejects.toThrow(/too large/)
    expect(pulled * chunk.length).toBeLessThan(MAX_JSON_BODY + (4 << 20))
  })
})

describe('Router.match', () => {
  const router = new Router()
  const h = () => {}
  router.get('/containers/{id}/json', h)
  router.get('/images/{name:.*}/json', h)
  router.post('/images/{name:.*}/tag', h)
  router.delete('/volumes/{name}', h)
  it('never throws, and a param never holds a raw `/` unless the route is greedy', () => {
    fc.assert(
      fc.property(fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'HEAD', 'PATCH', 'BREW', ''), fc.array(fc.oneof(fc.string(), fc.constantFrom('..', '%2f', '%2F..%2f', '%', '%zz', '%ff', 'json', 'containers', 'images', 'volumes')), { maxLength: 6 }), (method, parts) => {
        const m = router.match(method, '/' + parts.join('/'))
        if ('params' in m && m.params.id !== undefined) expect(typeof m.params.id).toBe('string')
      }),
      { numRuns: 1000 * SCALE },
    )
  }, 30_000 * SCALE)
})

describe('ApiServer on hostile bytes', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-api-fuzz-'))
  const sock = path.join(dir, 'api.sock')
  const router = new Router()
  router.post('/echo', async (ctx) => ctx.send(200, (await ctx.json()) ?? null))
  router.get('/filters', (ctx) => ctx.send(200, Object.fromEntries(ctx.filters())))
  router.get('/int', (ctx) => ctx.send(200, { n: ctx.int('n') ?? null, b: ctx.bool('b') }))
  router.get('/containers/{id}/json', (ctx) => ctx.send(200, { id: ctx.params.id }))
  router.get('/_ping', (ctx) => ctx.sendText(200, 'OK'))
  const server = new ApiServer({ router, logger: nullLogger, serverName: 'berth/fuzz', headersTimeoutMs: 400 })
  beforeAll(() => server.listenUnix(sock))
  afterAll(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** Send bytes on a fresh connection; resolve with what came back when the server closes or answers in full. */
  function raw(bytes: Buffer, ms = 3000): Promise<string> {
    return new Promise((resolve) => {
      const s = net.connect(sock)
      const got: Buffer[] = []
      const done = () => {
        clearTimeout(t)
        s.destroy()
        resolve(Buffer.concat(got).toString('latin1'))
      }
      const t = setTimeout(done, ms)
      s.on('data', (c: Buffer) => {
        got.push(c)
        const text = Buffer.concat(got).toString('latin1')
        const m = /content-length: (\d+)/i.exec(text)
        const end = text.indexOf('\r\n\r\n')
        if (m && end !== -1 && Buffer.byteLength(text, 'latin1') >= end + 4 + Number(m[1])) done()
      })
      s.on('error', done)
      s.on('close', done)
      s.end(bytes)
    })
  }

  const ping = () => new Promise<number>((resolve, reject) => {
    http.get({ socketPath: sock, path: '/_ping' }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    }).on('error', reject)
  })

  const requestBytes = fc.record({
    method: fc.oneof(fc.constantFrom('GET', 'POST', 'DELETE', 'HEAD', 'PATCH'), fc.string({ maxLength: 6 })),
    path: fc.oneof(
      fc.constantFrom('/echo', '/v1.50/echo', '/filters', '/int', '/containers/x/json', '/v9.9/echo', '/v1.1/echo', '/nope'),
      fc.tuple(fc.constantFrom('/filters?filters=', '/int?n=', '/int?b=', '/containers/'), fc.string({ maxLength: 20 })).map(([a, b]) => a + encodeURIComponent(b)),
      fc.tuple(fc.constantFrom('/filters?filters=', '/containers/', '/v1.50/'), fc.uint8Array({ maxLength: 12 })).map(([a, b]) => a + Buffer.from(b).toString('latin1')),
    ),
    chunked: fc.boolean(),
    body: fc.oneof(jsonish.map((s) => Buffer.from(s)), fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.from(b))),
    lengthLie: fc.integer({ min: -5, max: 5 }),
    garbageHeader: fc.option(fc.uint8Array({ maxLength: 30 }).map((b) => Buffer.from(b).toString('latin1')), { nil: undefined }),
  }).map((r) => {
    const head = [`${r.method} ${r.path} HTTP/1.1`, 'Host: berth']
    if (r.garbageHeader !== undefined) head.push(r.garbageHeader)
    let body = r.body
    if (r.chunked) {
      head.push('Transfer-Encoding: chunked')
      body = Buffer.concat([Buffer.from(`${(r.body.length + Math.max(0, r.lengthLie)).toString(16)}\r\n`), r.body, Buffer.from('\r\n0\r\n\r\n')])
    } else head.push(`Content-Length: ${Math.max(0, r.body.length + r.lengthLie)}`)
    head.push('Connection: close')
    return Buffer.concat([Buffer.from(head.join('\r\n') + '\r\n\r\n', 'latin1'), body])
  })

  it('answers any request with at worst a 4xx, and keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(requestBytes, async (bytes) => {
        const text = await raw(bytes)
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)
        // 0: Node's parser closed a connection it could not parse, or the request waits for body bytes that never come.
        if (status !== 0) expect(status < 500, `${status} for ${JSON.stringify(bytes.toString('latin1'))}: ${text}`).toBe(true)
        expect(await ping()).toBe(200)
      }),
      { numRuns: 150 * SCALE },
    )
  }, 60_000 * SCALE)

  it('closes a connection whose headers trickle in past the timeout with 408', async () => {
    const s = net.connect(sock)
    const got: Buffer[] = []
    s.on('data', (c: Buffer) => got.push(c))
    const closed = new Promise<void>((r) => s.on('close', () => r()))
    s.on('error', () => {})
    s.write('GET /_ping HTTP/1.1\r\nHost: x\r\n')
    const trickle = setInterval(() => {
      if (s.writable) s.write('X-Slow: 1\r\n')
    }, 100)
    await closed
    clearInterval(trickle)
    expect(Buffer.concat(got).toString()).toMatch(/^HTTP\/1\.1 408/)
    expect(await ping()).toBe(200)
  }, 20_000)

  it('answers a declared-oversized body at once, before the body is sent', async () => {
    const s = net.connect(sock)
    const got: Buffer[] = []
    const answer = new Promise<string>((resolve) => {
      s.on('data', (c: Buffer) => {
        got.push(c)
        if (Buffer.concat(got).toString().includes('too large')) resolve(Buffer.concat(got).toString())
      })
    })
    s.on('error', () => {})
    // Headers and a few bytes only: the answer cannot wait for the rest.
    s.write(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${200 << 20}\r\n\r\n{"a":`)
    const text = await answer
    s.destroy()
    expect(text).toMatch(/^HTTP\/1\.1 400/)
    expect(await ping()).toBe(200)
  })
})
