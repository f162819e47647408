import http from 'node:http'
import { statSync } from 'node:fs'
import type { Duplex } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { berth, containerNames, missing, ok, sock, stdcopyFrames, waitFor } from '../../helpers.js'

const skip = missing('root', 'daemon')

/** Open a hijacked stream as the docker CLI does (Connection: Upgrade, Upgrade: tcp). */
function hijack(path: string, body?: string): Promise<{ socket: Duplex; status: number; contentType: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      socketPath: sock(),
      method: 'POST',
      path,
      headers: { Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Type': body ? 'application/json' : 'text/plain', ...(body ? { 'Content-Length': Buffer.byteLength(body) } : {}) },
    })
    req.on('upgrade', (res, socket) => resolve({ socket, status: res.statusCode ?? 0, contentType: String(res.headers['content-type']) }))
    req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)))
    req.on('error', reject)
    req.end(body)
  })
}

function collect(socket: Duplex): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('close', () => resolve(Buffer.concat(chunks)))
    socket.on('end', () => resolve(Buffer.concat(chunks)))
  })
}

const demux = stdcopyFrames

describe.skipIf(skip)('hijacked streams, events and the socket', () => {
  const name = containerNames()

  it('serves the socket with mode 0660', () => {
    expect(statSync(sock()).mode & 0o777).toBe(0o660)
  })

  it('attaches before start with multiplexed frames and no lost output', async () => {
    const n = name('attach')
    ok(await berth(['create', '--name', n, 'busybox', 'sh', '-c', 'echo out; echo err >&2']))
    const h = await hijack(`/v1.50/containers/${n}/attach?stream=1&stdout=1&stderr=1`)
    expect(h.status).toBe(101)
    expect(h.contentType).toBe('application/vnd.docker.multiplexed-stream')
    const done = collect(h.socket)
    ok(await berth(['start', n]))
    const frames = demux(await done)
    expect(frames).toContainEqual([1, 'out\n'])
    expect(frames).toContainEqual([2, 'err\n'])
  })

  it('detaches with ctrl-p ctrl-q and leaves the container running', async () => {
    const n = name('detach')
    ok(await berth(['run', '-d', '-it', '--name', n, 'busybox', 'sh']))
    const h = await hijack(`/v1.50/containers/${n}/attach?stream=1&stdin=1&stdout=1&stderr=1`)
    expect(h.contentType).toBe('application/vnd.docker.raw-stream')
    const done = collect(h.socket)
    h.socket.write('echo marker-$((40+2))\n')
    await new Promise((r) => setTimeout(r, 300))
    h.socket.write(Buffer.from([0x10, 0x11]))
    const out = (await done).toString()
    expect(out).toMatch(/marker-42/)
    expect(ok(await berth(['inspect', '-f', '{{.State.Running}}', n])).stdout.trim()).toBe('true')
  })

  it('runs exec start with its JSON body in the upgrade request', async () => {
    const n = name('execbody')
    ok(await berth(['run', '-d', '--name', n, 'busybox', 'sleep', '1d']))
    const created = await fetchJson('POST', `/v1.50/containers/${n}/exec`, { AttachStdout: true, AttachStderr: true, AttachStdin: true, Cmd: ['cat'] })
    const h = await hijack(`/v1.50/exec/${created.Id}/start`, JSON.stringify({ Detach: false, Tty: false }))
    const done = collect(h.socket)
    h.socket.end('typed\n')
    const frames = demux(await done)
    expect(frames).toEqual([[1, 'typed\n']])
    const inspect = await waitFor(async () => {
      const e = await fetchJson('GET', `/v1.50/exec/${created.Id}/json`)
      return e.Running === false ? e : undefined
    })
    expect(inspect.ExitCode).toBe(0)
  })

  it('streams events with a since/until window', async () => {
    const since = (Date.now() / 1000).toFixed(3)
    const n = name('events')
    ok(await berth(['run', '--name', n, 'busybox', 'true']))
    const until = (Date.now() / 1000 + 0.5).toFixed(3)
    const r = ok(await berth(['events', '--since', since, '--until', until, '--filter', `container=${n}`, '--format', '{{.Type}} {{.Action}}']))
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(['container create', 'container attach', 'container start', 'container die'])
  })

  it('waits: not-running returns at once for a created container, 400 for a bad condition', async () => {
    const n = name('wait')
    ok(await berth(['create', '--name', n, 'busybox', 'true']))
    expect(await fetchJson('POST', `/v1.50/containers/${n}/wait`)).toEqual({ StatusCode: 0, Error: null })
    const bad = await fetchRaw('POST', `/v1.50/containers/${n}/wait?condition=bogus`)
    expect(bad.status).toBe(400)
    expect(JSON.parse(bad.body).message).toBe('invalid condition: "bogus"')
  })

  it('answers hostile requests with 4xx and keeps serving', async () => {
    expect((await fetchRaw('POST', '/v1.50/containers/create', '{"Image": ')).status).toBe(400)
    expect((await fetchRaw('POST', '/v1.50/containers/create', '{"Image": 5, "Cmd": "x"}')).status).toBe(400)
    expect((await fetchRaw('POST', '/v1.50/containers/create', '\xff\xfe')).status).toBe(400)
    expect((await fetchRaw('GET', '/v1.50/containers/json?filters=%7Bnope')).status).toBe(400)
    expect((await fetchRaw('GET', '/v1.50/no/such/endpoint')).status).toBe(404)
    expect((await fetchRaw('POST', '/v1.50/containers/create?name=bad%2Fname', JSON.stringify({ Image: 'busybox' }))).status).toBe(400)
    expect(ok(await berth(['run', '--rm', 'busybox', 'echo', 'still', 'up'])).stdout).toBe('still up\n')
  })
})

function fetchRaw(method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: sock(), method, path, headers: body !== undefined ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test-only: JSON bodies of several shapes
async function fetchJson(method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetchRaw(method, path, body === undefined ? undefined : JSON.stringify(body))
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.body}`)
  return JSON.parse(r.body)
}
