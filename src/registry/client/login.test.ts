import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { kindOf } from '../../errors/index.js'
import { login, loginDomain, tokenErrorDetail } from './login.js'

const servers: http.Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
})

/** A loopback registry whose /v2/ and /token answer as `handler` says. */
async function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse, base: string) => void): Promise<string> {
  const s = http.createServer((req, res) => handler(req, res, `http://127.0.0.1:${(s.address() as AddressInfo).port}`))
  servers.push(s)
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  return `127.0.0.1:${(s.address() as AddressInfo).port}`
}

const basic = (u: string, p: string) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64')

describe('loginDomain', () => {
  it('folds Hub names and drops scheme and path', () => {
    expect(loginDomain('https://index.docker.io/v1/')).toBe('docker.io')
    expect(loginDomain('')).toBe('docker.io')
    expect(loginDomain('http://127.0.0.1:5000/v2/')).toBe('127.0.0.1:5000')
  })
})

describe('login with Basic auth', () => {
  const registry = () =>
    serve((req, res) => {
      if (req.headers.authorization === basic('u', 'pw')) return void res.writeHead(200).end('{}')
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="r"' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}')
    })

  it('succeeds with the right password', async () => {
    expect(await login(await registry(), 'u', 'pw')).toEqual({ status: 'Login Succeeded', identityToken: '' })
  })
  it('fails with docker\'s message and an unauthorized kind', async () => {
    const addr = await registry()
    const err = await login(addr, 'u', 'nope').catch((e: unknown) => e)
    expect(kindOf(err)).toBe('unauthorized')
    expect((err as Error).message).toBe(`login attempt to http://${addr}/v2/ failed with status: 401 Unauthorized`)
  })
  it('succeeds against a registry without auth', async () => {
    const addr = await serve((_req, res) => void res.writeHead(200).end('{}'))
    expect((await login(addr, 'u', 'x')).status).toBe('Login Succeeded')
  })
})

describe('login with a Bearer token server', () => {
  const registry = () =>
    serve((req, res, base) => {
      const url = new URL(req.url ?? '/', base)
      if (url.pathname === '/token') {
        expect(url.searchParams.get('service')).toBe('reg')
        expect(url.searchParams.get('offline_token')).toBe('true')
        if (req.headers.authorization === basic('u', 'pw')) return void res.writeHead(200).end(JSON.stringify({ token: 'T', refresh_token: 'R' }))
        return void res.writeHead(401).end(JSON.stringify({ details: 'incorrect username or password' }))
      }
      if (req.headers.authorization === 'Bearer T') return void res.writeHead(200).end('{}')
      res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="${base}/token",service="reg"` }).end()
    })

  it('returns the refresh token as the identity token', async () => {
    expect(await login(await registry(), 'u', 'pw')).toEqual({ status: 'Login Succeeded', identityToken: 'R' })
  })
  it('reports the token server\'s reason', async () => {
    const addr = await registry()
    const err = await login(addr, 'u', 'bad').catch((e: unknown) => e)
    expect(kindOf(err)).toBe('unauthorized')
    expect((err as Error).message).toBe(`Get "http://${addr}/v2/": unauthorized: incorrect username or password`)
  })
})

describe('tokenErrorDetail', () => {
  it('reads Hub details, errors entries, or the status', () => {
    expect(tokenErrorDetail('{"details":"x"}', 401)).toBe('x')
    expect(tokenErrorDetail('{"errors":[{"code":"UNAUTHORIZED","message":"bad creds"}]}', 401)).toBe('bad creds')
    expect(tokenErrorDetail('<html>', 401)).toBe('Unauthorized')
  })
})
