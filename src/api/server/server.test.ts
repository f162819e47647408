import http from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { conflict, invalidArgument, notFound, notModified } from '../../errors/index.js'
import { nullLogger } from '../../lib/index.js'
import { ApiServer, Router } from './index.js'
import { redactCredentials, redactQuery } from './server.js'

function request(sock: string, method: string, p: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: sock, method, path: p, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe('ApiServer', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-api-'))
  const sock = path.join(dir, 'api.sock')
  const router = new Router()
  router.get('/containers/{id}/json', (ctx) => {
    if (ctx.params.id === 'missing') throw notFound('No such container: missing')
    ctx.send(200, { Id: ctx.params.id, v: ctx.version })
  })
  router.get('/images/{name:.*}/json', (ctx) => ctx.send(200, { name: ctx.params.name }))
  router.post('/echo', async (ctx) => ctx.send(200, await ctx.json()))
  router.post('/containers/{id}/start', (ctx) => {
    if (ctx.params.id === 'running') throw notModified('container already started')
    if (ctx.params.id === 'busy') throw conflict('busy')
    throw new Error('boom')
  })
  const server = new ApiServer({ router, logger: nullLogger, serverName: 'berth/test (linux)' })
  beforeAll(() => server.listenUnix(sock))
  afterAll(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('answers versioned and unversioned paths with docker headers', async () => {
    const a = await request(sock, 'GET', '/v1.41/containers/abc/json')
    expect(a.status).toBe(200)
    expect(JSON.parse(a.body)).toEqual({ Id: 'abc', v: 41 })
    expect(a.headers['api-version']).toBe('1.50')
    expect(a.headers.ostype).toBe('linux')
    const b = await request(sock, 'GET', '/containers/abc/json')
    expect(JSON.parse(b.body).v).toBe(50)
  })

  it('refuses versions outside 1.24–1.50', async () => {
    const hi = await request(sock, 'GET', '/v1.51/containers/abc/json')
    expect(hi.status).toBe(400)
    expect(JSON.parse(hi.body).message).toBe('client version 1.51 is too new. Maximum supported API version is 1.50')
    const lo = await request(sock, 'GET', '/v1.23/containers/abc/json')
    expect(lo.status).toBe(400)
    expect(JSON.parse(lo.body).message).toMatch(/too old. Minimum supported API version is 1.24/)
  })

  it('routes image references with slashes and ports greedily', async () => {
    const r = await request(sock, 'GET', '/v1.50/images/127.0.0.1:5000/x/busybox:1/json')
    expect(JSON.parse(r.body)).toEqual({ name: '127.0.0.1:5000/x/busybox:1' })
  })

  it('maps error kinds to status codes with a message body', async () => {
    const nf = await request(sock, 'GET', '/containers/missing/json')
    expect(nf.status).toBe(404)
    expect(JSON.parse(nf.body)).toEqual({ message: 'No such container: missing' })
    expect((await request(sock, 'POST', '/containers/running/start')).status).toBe(304)
    expect((await request(sock, 'POST', '/containers/busy/start')).status).toBe(409)
    const boom = await request(sock, 'POST', '/containers/x/start')
    expect(boom.status).toBe(500)
    expect(JSON.parse(boom.body).message).toBe('boom')
    expect((await request(sock, 'GET', '/nope')).status).toBe(404)
    // dockerd's MethodNotAllowedHandler is its not-found handler.
    const wrongMethod = await request(sock, 'DELETE', '/echo')
    expect(wrongMethod.status).toBe(404)
    expect(JSON.parse(wrongMethod.body)).toEqual({ message: 'page not found' })
  })

  it('answers malformed JSON with 400 and keeps serving', async () => {
    const bad = await request(sock, 'POST', '/echo', '{"a":', { 'Content-Type': 'application/json' })
    expect(bad.status).toBe(400)
    expect(JSON.parse(bad.body).message).toMatch(/invalid JSON/)
    const good = await request(sock, 'POST', '/echo', '{"a":1}', { 'Content-Type': 'application/json' })
    expect(JSON.parse(good.body)).toEqual({ a: 1 })
  })
})

describe('hijack with the body arriving after the headers', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-hj-'))
  const sock = path.join(dir, 'api.sock')
  const router = new Router()
  router.post('/exec/{id}/start', async (ctx) => {
    const body = await ctx.json<{ Detach: boolean }>()
    const h = ctx.hijack('application/vnd.docker.raw-stream')
    const chunks: Buffer[] = [h.rest]
    h.socket.on('data', (c: Buffer) => chunks.push(c))
    h.socket.on('end', () => h.socket.end(JSON.stringify({ body, stdin: Buffer.concat(chunks).toString() })))
    h.socket.resume()
  })
  const server = new ApiServer({ router, logger: nullLogger, serverName: 'berth/test (linux)' })
  beforeAll(() => server.listenUnix(sock))
  afterAll(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('keeps the JSON body out of stdin however the bytes are split', async () => {
    const { connect } = await import('node:net')
    const body = '{"Detach":false,"Tty":false}'
    const reply = await new Promise<string>((resolve) => {
      const s = connect(sock)
      let got = ''
      s.on('data', (c: Buffer) => (got += c.toString()))
      s.on('end', () => resolve(got))
      s.write(`POST /exec/x/start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`)
      // The body comes late and in pieces, stdin right behind it.
      setTimeout(() => s.write(body.slice(0, 5)), 30)
      setTimeout(() => s.write(body.slice(5) + 'typed'), 60)
      setTimeout(() => s.end(' more'), 90)
    })
    const json = JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)) as { body: unknown; stdin: string }
    expect(json.body).toEqual({ Detach: false, Tty: false })
    expect(json.stdin).toBe('typed more')
  })
})

describe('uploads refused midway', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-up-'))
  const sock = path.join(dir, 'api.sock')
  const router = new Router()
  // As a refused archive: read a little, destroy the body stream, throw.
  router.post('/images/load', async (ctx) => {
    // As decompress() does with a format it refuses: peek, then destroy what it was given.
    const body = ctx.body()
    await new Promise((r) => body.once('readable', r))
    body.destroy()
    throw invalidArgument('invalid tar archive: bad header')
  })
  // As load's progress stream: answer, then fail in-band, without reading the rest.
  router.post('/stream', (ctx) => {
    const out = ctx.jsonStream()
    out.write({ error: 'refused' })
    out.end()
  })
  const server = new ApiServer({ router, logger: nullLogger, serverName: 'berth/test (linux)' })
  beforeAll(() => server.listenUnix(sock))
  afterAll(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** Upload 8 MiB in 64 KiB writes; the response as the client read it, or the error it got instead. */
  function upload(p: string): Promise<{ status: number; body: string } | { error: string }> {
    return new Promise((resolve) => {
      // As the CLIs do: an error on the connection before the answer is complete fails the request.
      const req = http.request({ socketPath: sock, method: 'POST', path: p, headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
        res.on('error', (e) => resolve({ error: e.message }))
      })
      req.on('error', (e) => resolve({ error: e.message }))
      const chunk = Buffer.alloc(64 << 10, 1)
      let left = 128
      const pump = () => {
        while (left > 0) {
          left--
          if (!req.write(chunk)) return void req.once('drain', pump)
        }
        req.end()
      }
      pump()
    })
  }

  it('the client reads the error, not a reset, when the handler destroyed the body', async () => {
    const r = await upload('/images/load')
    expect(r).toEqual({ status: 400, body: JSON.stringify({ message: 'invalid tar archive: bad header' }) + '\n' })
  })

  it('the client reads a streamed answer in full when the handler never read the body', async () => {
    const r = await upload('/stream')
    expect(r).toEqual({ status: 200, body: JSON.stringify({ error: 'refused' }) + '\r\n' })
  })
})

describe('credential redaction', () => {
  it('hides the password of URLs in messages', () => {
    expect(redactCredentials('error downloading http://alice:s3cret@127.0.0.1:1/x.tar: refused')).toBe('error downloading http://alice:xxxxx@127.0.0.1:1/x.tar: refused')
    expect(redactCredentials('Get "https://u:p@h/v2/": x')).toBe('Get "https://u:xxxxx@h/v2/": x')
    expect(redactCredentials('no url here: a:b@c')).toBe('no url here: a:b@c')
  })

  it('hides them in percent-encoded query values', () => {
    const url = `/v1.50/images/create?fromSrc=${encodeURIComponent('http://alice:s3cret@127.0.0.1/x.tar')}&repo=x`
    const out = redactQuery(url)
    expect(out).not.toContain('s3cret')
    expect(decodeURIComponent(out)).toContain('alice:xxxxx@127.0.0.1')
    expect(redactQuery('/v1.50/containers/json?all=1')).toBe('/v1.50/containers/json?all=1')
  })
})
