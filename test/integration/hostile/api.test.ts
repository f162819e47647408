/**
 * Hostile API requests against the test berthd: malformed and mistyped JSON,
 * enormous bodies, slow senders, invalid UTF-8, unknown endpoints and
 * methods, path traversal in names. Each gets a 4xx with docker's
 * `{"message": ...}`, never a 5xx or a dropped daemon, and the daemon keeps
 * serving everyone else meanwhile.
 */
import http from 'node:http'
import net from 'node:net'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { berth, missing, ok, sock, uniq } from '../../helpers.js'
import { Sentinel } from './tars.js'

const skip = missing('root', 'daemon')

interface Res {
  status: number
  body: string
}

function request(method: string, p: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: sock(), method, path: p, headers: { 'Content-Type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** Raw bytes on a fresh connection; what came back until the server closed it or `ms` passed. */
function raw(bytes: Buffer | string, ms = 5000): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(sock())
    const got: Buffer[] = []
    const done = () => {
      clearTimeout(t)
      s.destroy()
      resolve(Buffer.concat(got).toString('latin1'))
    }
    const t = setTimeout(done, ms)
    s.on('data', (c: Buffer) => {
      got.push(c)
      // One complete response is enough.
      const text = Buffer.concat(got).toString('latin1')
      const m = /Content-Length: (\d+)/i.exec(text)
      const end = text.indexOf('\r\n\r\n')
      if (m && end !== -1 && text.length >= end + 4 + Number(m[1])) done()
    })
    s.on('error', done)
    s.on('close', done)
    s.write(bytes)
  })
}

const statusOf = (response: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0)

function berthdRss(): number {
  const pid = Number(readFileSync(path.join(inject('berthExecRoot'), 'berthd.pid'), 'utf8').trim())
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024
}

function expectRefused(r: Res, status?: number): void {
  expect(r.status, r.body).toBeGreaterThanOrEqual(400)
  expect(r.status, r.body).toBeLessThan(500)
  if (status) expect(r.status, r.body).toBe(status)
  if (r.body) expect(typeof JSON.parse(r.body).message).toBe('string')
}

describe.skipIf(skip)('hostile API requests', () => {
  const sentinel = new Sentinel(`/tmp/berth-sentinel-${uniq('api')}`)
  beforeAll(() => sentinel.make())
  afterAll(async () => {
    expect(sentinel.untouched()).toBe(true)
    await sentinel.remove()
    ok(await berth(['version']))
  })

  it('malformed JSON is a 400 on every JSON endpoint', async () => {
    const endpoints = ['/containers/create', '/networks/create', '/volumes/create', '/exec/nope/start', '/containers/nope/update', '/build/prune']
    for (const e of endpoints) {
      for (const body of ['{', '{"Image":', '{"a":1}}', 'nul', '\u0000\u0001', '{"a":"\\ud800"', '[1,2']) {
        const r = await request('POST', `/v1.50${e}`, body)
        expect(r.status, `${e} ${JSON.stringify(body)}: ${r.body}`).toBeLessThan(500)
      }
    }
    const r = await request('POST', '/v1.50/containers/create', '{"Image":')
    expectRefused(r, 400)
  })

  it('wrong types are 4xx, never 500', async () => {
    const cases: Array<[string, unknown]> = [
      ['/containers/create', { Image: 5 }],
      ['/containers/create', { HostConfig: 'x' }],
      ['/containers/create', { Image: 'busybox', HostConfig: 'x' }],
      ['/containers/create', { Image: 'busybox', HostConfig: { Memory: 'lots' } }],
      ['/containers/create', { Image: 'busybox', HostConfig: { Binds: 'x' } }],
      ['/containers/create', { Image: 'busybox', HostConfig: { PortBindings: [1] } }],
      ['/containers/create', { Image: 'busybox', Env: { A: 1 } }],
      ['/containers/create', { Image: 'busybox', Cmd: 7 }],
      ['/containers/create', { Image: 'busybox', Labels: ['a'] }],
      ['/containers/create', { Image: 'busybox', ExposedPorts: 'x' }],
      ['/containers/create', { Image: 'busybox', NetworkingConfig: { EndpointsConfig: 'x' } }],
      ['/containers/create', []],
      ['/containers/create', 'busybox'],
      ['/containers/create', 12],
      ['/networks/create', { Name: 5 }],
      ['/networks/create', { Name: 'n', IPAM: 'x' }],
      ['/networks/create', { Name: 'n', Labels: 'x' }],
      ['/volumes/create', { Name: [] }],
      ['/volumes/create', { Name: 'v', DriverOpts: 'x' }],
      ['/volumes/create', { Name: 'v', Labels: 5 }],
    ]
    const bad: string[] = []
    const made: string[] = []
    for (const [e, body] of cases) {
      const r = await request('POST', `/v1.50${e}`, JSON.stringify(body))
      if (r.status < 500 && r.status >= 400) continue
      if (r.status < 300) {
        const o = JSON.parse(r.body) as { Id?: string; Name?: string }
        const kind = e.split('/')[1] as string
        made.push(`/v1.50/${kind}/${kind === 'volumes' ? o.Name : o.Id}${kind === 'containers' ? '?force=1' : ''}`)
      }
      bad.push(`${e} ${JSON.stringify(body)} → ${r.status} ${r.body.trim()}`)
    }
    // Whatever got created by accident is removed again; the lists say what went wrong.
    for (const p of made) await request('DELETE', p)
    expect(bad).toEqual([])
  })

  it('an enormous body is refused early, not buffered', async () => {
    const before = berthdRss()
    const total = 200 << 20
    const chunk = Buffer.alloc(1 << 20, 0x20)
    for (const chunked of [false, true]) {
      const r = await new Promise<{ status: number; body: string; sent: number }>((resolve, reject) => {
        let sent = 0
        let answered = false
        const req = http.request({
          socketPath: sock(), method: 'POST', path: '/v1.50/containers/create',
          headers: { 'Content-Type': 'application/json', ...(chunked ? {} : { 'Content-Length': String(total) }) },
        }, (res) => {
          answered = true
          const at = sent
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => {
            req.destroy()
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), sent: at })
          })
        })
        req.on('error', (e) => {
          if (!answered) reject(e)
        })
        req.write('{"Image":"busybox","Labels":{"x":"')
        const pump = () => {
          while (!answered && sent < total) {
            sent += chunk.length
            if (!req.write(chunk)) {
              req.once('drain', pump)
              return
            }
          }
          if (!answered) req.end('"}}')
        }
        pump()
      })
      expect(r.status, r.body).toBe(400)
      expect(JSON.parse(r.body).message).toMatch(/too large/)
      // Answered long before the client could send it all.
      expect(r.sent).toBeLessThan(total)
    }
    expect(berthdRss() - before).toBeLessThan(100 << 20)
    ok(await berth(['version']))
  })

  it('serves others while slow senders trickle headers and bodies', async () => {
    // Many connections that sent part of a request and stopped.
    const idle: net.Socket[] = []
    for (let i = 0; i < 100; i++) {
      const s = net.connect(sock())
      s.on('error', () => {})
      s.write(i % 2 ? 'GET /v1.50/version HTTP/1.1\r\nHost: x\r\nX-Slow: ' : 'POST /v1.50/containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"Image":')
      idle.push(s)
    }
    // One that sends its headers a byte at a time, with others served between the bytes.
    const trickle = net.connect(sock())
    const response = new Promise<string>((resolve) => {
      const got: Buffer[] = []
      trickle.on('data', (c: Buffer) => {
        got.push(c)
        if (Buffer.concat(got).toString().includes('"ApiVersion"')) resolve(Buffer.concat(got).toString())
      })
      trickle.on('close', () => resolve(Buffer.concat(got).toString()))
    })
    const text = 'GET /v1.50/version HTTP/1.1\r\nHost: x\r\n\r\n'
    for (let i = 0; i < text.length; i++) {
      trickle.write(text[i] as string)
      if (i % 8 === 0) ok(await berth(['version']))
      await new Promise((r) => setTimeout(r, 10))
    }
    expect(statusOf(await response)).toBe(200)
    trickle.destroy()
    ok(await berth(['ps', '-a']))
    for (const s of idle) s.destroy()
    ok(await berth(['version']))
  })

  it('invalid UTF-8 in names, paths and JSON is a 4xx', async () => {
    expectRefused(await request('POST', '/v1.50/containers/create?name=%FF%FE%FD', JSON.stringify({ Image: 'busybox' })), 400)
    const body = Buffer.concat([Buffer.from('{"Image":"busybox'), Buffer.from([0xff, 0xfe]), Buffer.from('","Labels":{"'), Buffer.from([0xc3, 0x28]), Buffer.from('":"x"}}')])
    expectRefused(await request('POST', '/v1.50/containers/create', body))
    const vol = Buffer.concat([Buffer.from('{"Name":"v'), Buffer.from([0xff]), Buffer.from('"}')])
    expectRefused(await request('POST', '/v1.50/volumes/create', vol))
    const net1 = Buffer.concat([Buffer.from('{"Name":"n'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')])
    const nr = await request('POST', '/v1.50/networks/create', net1)
    expect(nr.status, nr.body).toBeLessThan(500)
    if (nr.status < 300) await request('DELETE', `/v1.50/networks/${JSON.parse(nr.body).Id as string}`)
    // Raw bytes in the request line, not percent-encoded.
    const r = await raw(Buffer.concat([Buffer.from('GET /v1.50/containers/'), Buffer.from([0xff, 0xfe, 0x80]), Buffer.from('/json HTTP/1.1\r\nHost: x\r\n\r\n')]))
    expect(statusOf(r)).toBeGreaterThanOrEqual(400)
    expect(statusOf(r)).toBeLessThan(500)
    expectRefused(await request('GET', '/v1.50/containers/json?filters=%FF%FE'), 400)
    expectRefused(await request('GET', '/v1.50/images/json?filters=' + encodeURIComponent('{"label":[1,{"a":2}],"x":"y"}')), 400)
  })

  it('unknown endpoints and methods get docker\'s 404 page not found', async () => {
    for (const [m, p] of [['GET', '/v1.50/nope'], ['GET', '/nope'], ['POST', '/v1.50/containers'], ['GET', '/v1.50/containers/x/y/z'], ['PATCH', '/v1.50/containers/json'], ['DELETE', '/v1.50/version'], ['PUT', '/_ping']] as const) {
      const r = await request(m, p)
      expect(r.status, `${m} ${p}`).toBe(404)
      expect(JSON.parse(r.body)).toEqual({ message: 'page not found' })
    }
    for (const line of ['GARBAGE\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', `GET /${'a'.repeat(200_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, `GET /version HTTP/1.1\r\nX-Big: ${'b'.repeat(100_000)}\r\n\r\n`]) {
      const s = statusOf(await raw(line))
      expect(s === 0 || (s >= 400 && s < 500), `${line.slice(0, 40)} → ${s}`).toBe(true)
    }
    ok(await berth(['version']))
  })

  it('path traversal in names finds nothing and touches nothing', async () => {
    const s = encodeURIComponent(`../../../../../../../..${sentinel.file}`)
    const reqs: Array<[string, string, string?]> = [
      ['GET', '/v1.50/containers/..%2f..%2fetc/json'],
      ['GET', '/v1.50/containers/..%2F..%2F..%2Fetc%2Fpasswd/archive?path=/'],
      ['HEAD', `/v1.50/containers/..%2f..%2f..%2f/archive?path=${s}`],
      ['DELETE', `/v1.50/containers/${s}?force=1&v=1`],
      ['GET', `/v1.50/images/${s}/json`],
      ['DELETE', `/v1.50/images/${s}?force=1`],
      ['GET', '/v1.50/images/..%2f..%2f..%2fetc%2fpasswd/get'],
      ['GET', `/v1.50/volumes/${s}`],
      // Without force: docker's force makes a missing volume a 204.
      ['DELETE', `/v1.50/volumes/${s}`],
      ['DELETE', '/v1.50/volumes/..'],
      ['DELETE', '/v1.50/volumes/..%2f..'],
      ['GET', `/v1.50/networks/${s}`],
      ['DELETE', `/v1.50/networks/${s}`],
      ['GET', `/v1.50/containers/..%2f..%2f..%2fetc/logs?stdout=1`],
      ['POST', '/v1.50/volumes/create', JSON.stringify({ Name: '../../../../../../tmp/x' })],
      ['POST', '/v1.50/volumes/create', JSON.stringify({ Name: '..' })],
      ['POST', '/v1.50/containers/create?name=..%2f..%2fx', JSON.stringify({ Image: 'busybox' })],
      ['POST', '/v1.50/containers/create?name=..', JSON.stringify({ Image: 'busybox' })],
    ]
    for (const [m, p, b] of reqs) {
      const r = await request(m, p, b)
      expect(r.status, `${m} ${p}: ${r.body}`).toBeGreaterThanOrEqual(400)
      expect(r.status, `${m} ${p}: ${r.body}`).toBeLessThan(500)
    }
    const r = await request('GET', '/v1.50/containers/..%2f..%2fetc/json')
    expect(JSON.parse(r.body)).toEqual({ message: 'No such container: ../../etc' })
    expect(sentinel.untouched()).toBe(true)
    ok(await berth(['version']))
  })
})
