import http from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import tar from 'tar-stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ClientError, EngineClient, readJSONStream } from '../../../client/index.js'
import { notFound } from '../../../errors/index.js'
import { nullLogger } from '../../../lib/index.js'
import type { BuildBackend, BuildMessage, BuildRequest, BuildResult } from '../../../builder/index.js'
import { ApiServer, Router } from '../../server/index.js'
import type { JSONMessage } from '../../types/index.js'
import { buildRoutes } from './routes.js'

/** The files of a (possibly gzipped) context tar, by name. */
async function readContext(src: Readable): Promise<Record<string, string>> {
  const chunks: Buffer[] = []
  for await (const c of src as AsyncIterable<Buffer>) chunks.push(c)
  let buf = Buffer.concat(chunks)
  if (buf[0] === 0x1f && buf[1] === 0x8b) buf = (await import('node:zlib')).gunzipSync(buf)
  const files: Record<string, string> = {}
  const ex = tar.extract()
  const done = (async () => {
    for await (const e of ex) {
      const parts: Buffer[] = []
      for await (const c of e as AsyncIterable<Buffer>) parts.push(c)
      files[e.header.name] = Buffer.concat(parts).toString()
    }
  })()
  ex.end(buf)
  await done
  return files
}

/** A tar of the files, in ustar as the tests need no more. */
function contextTar(files: Record<string, string>): Buffer {
  const blocks: Buffer[] = []
  for (const [name, body] of Object.entries(files)) {
    const h = Buffer.alloc(512)
    h.write(name, 0)
    h.write('0000644\0', 100)
    h.write('0000000\0', 108)
    h.write('0000000\0', 116)
    h.write(Buffer.byteLength(body).toString(8).padStart(11, '0') + '\0', 124)
    h.write('00000000000\0', 136)
    h.fill(' ', 148, 156)
    h.write('0', 156)
    h.write('ustar\x0000', 257, 'latin1')
    let sum = 0
    for (const b of h) sum += b
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148)
    const data = Buffer.from(body)
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512))
  }
  return Buffer.concat([...blocks, Buffer.alloc(1024)])
}

/** A chunked upload: the tar in small pieces, produced while it is sent. */
function chunked(buf: Buffer, size = 700): Readable {
  return Readable.from((function* () {
    for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size)
  })(), { objectMode: false })
}

type Script = (req: BuildRequest, files: Record<string, string>, emit: (m: BuildMessage) => void, signal?: AbortSignal) => Promise<BuildResult>

const ID = `sha256:${'ab'.repeat(32)}`

/** A stand-in for the builder: reads the whole context, then plays a script. */
class FakeBuilder implements BuildBackend {
  script: Script = async (req, _files, emit) => {
    emit({ stream: 'Step 1/1 : FROM busybox\n' })
    emit({ stream: ' ---> abababababab\n' })
    emit({ aux: { ID } })
    emit({ stream: 'Successfully built abababababab\n' })
    for (const t of req.tags) emit({ stream: `Successfully tagged ${t}\n` })
    return { id: ID, tags: req.tags }
  }
  last?: { req: BuildRequest; files: Record<string, string>; signal?: AbortSignal }
  pruned?: { all: boolean; usedBeforeMs?: number }

  async build(req: BuildRequest, context: Readable, emit: (m: BuildMessage) => void, signal?: AbortSignal): Promise<BuildResult> {
    const files = await readContext(context)
    this.last = { req, files, signal }
    return this.script(req, files, emit, signal)
  }

  async prune(opts: { all: boolean; usedBeforeMs?: number }): Promise<{ deleted: string[]; spaceReclaimed: number }> {
    this.pruned = opts
    return opts.all ? { deleted: ['sha256:1', 'sha256:2'], spaceReclaimed: 3072 } : { deleted: [], spaceReclaimed: 0 }
  }
}

async function messages(res: http.IncomingMessage): Promise<JSONMessage[]> {
  const out: JSONMessage[] = []
  for await (const m of readJSONStream<JSONMessage>(res)) out.push(m)
  return out
}

function raw(sock: string, method: string, p: string, body?: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: sock, method, path: p, headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe('build routes', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-build-api-'))
  const sock = path.join(dir, 'api.sock')
  const builder = new FakeBuilder()
  const router = new Router()
  buildRoutes(router, builder)
  const server = new ApiServer({ router, logger: nullLogger, serverName: 'berth/test (linux)' })
  const client = new EngineClient({ host: `unix://${sock}` })
  const files = { Dockerfile: 'FROM busybox\n', 'a.txt': 'x'.repeat(5000) }

  // A loopback web server for remote contexts.
  const web = http.createServer((req, res) => {
    if (req.url === '/ctx.tar') {
      res.writeHead(200, { 'Content-Type': 'application/x-tar' })
      res.end(contextTar({ 'sub/Dockerfile': 'FROM scratch\n' }))
    } else if (req.url === '/ctx.tgz') {
      res.writeHead(200)
      res.end(gzipSync(contextTar({ Dockerfile: 'FROM gz\n' })))
    } else if (req.url === '/Dockerfile') {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' })
      res.end('FROM busybox\nRUN true\n')
    } else if (req.url === '/page') {
      res.writeHead(200, { 'Content-Type': 'text/html' })
      res.end('<html></html>')
    } else if (req.url === '/moved') {
      res.writeHead(302, { Location: '/ctx.tar' })
      res.end()
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' })
      res.end('no such thing\n')
    }
  })
  let webURL = ''

  beforeAll(async () => {
    await server.listenUnix(sock)
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r))
    webURL = `http://127.0.0.1:${(web.address() as { port: number }).port}`
  })
  afterAll(async () => {
    await server.close()
    await new Promise((r) => web.close(r))
    rmSync(dir, { recursive: true, force: true })
  })

  it('streams the chunked context to the builder and its messages back', async () => {
    const res = await client.build(chunked(contextTar(files)), {
      Tags: ['myimg', 'other:2'], Dockerfile: 'Dockerfile', BuildArgs: { A: '1', B: null }, Labels: { l: 'v' }, Remove: false, Version: '1',
      NetworkMode: 'host', Target: 't', Platform: 'Linux/AMD64', CacheFrom: ['c:1'], AuthConfigs: { '127.0.0.1:5000': { username: 'u', password: 'p' } },
    })
    expect(res.headers['content-type']).toBe('application/json')
    const msgs = await messages(res)
    expect(msgs.map((m) => m.stream ?? m.aux)).toEqual([
      'Step 1/1 : FROM busybox\n', ' ---> abababababab\n', { ID }, 'Successfully built abababababab\n', 'Successfully tagged myimg\n', 'Successfully tagged other:2\n',
    ])
    const last = builder.last
    expect(last?.files).toEqual(files)
    expect(last?.req).toMatchObject({ tags: ['myimg', 'other:2'], buildArgs: { A: '1', B: null }, labels: { l: 'v' }, rm: false, networkMode: 'host', target: 't', platform: 'linux/amd64', cacheFrom: ['c:1'] })
    const auth = JSON.parse(Buffer.from(last?.req.encodedRegistryConfig ?? '', 'base64url').toString()) as unknown
    expect(auth).toEqual({ '127.0.0.1:5000': { username: 'u', password: 'p' } })
  })

  it('sends X-Registry-Config e30= and version=1 as the docker CLI does', async () => {
    const res = await client.build(chunked(contextTar(files)), { Dockerfile: 'Dockerfile', Version: '1' })
    await messages(res)
    expect(builder.last?.req.encodedRegistryConfig).toBe('e30=')
  })

  it('with q sends only the image ID on success', async () => {
    const msgs = await messages(await client.build(chunked(contextTar(files)), { SuppressOutput: true, Tags: ['q'] }))
    expect(msgs).toEqual([{ stream: `${ID}\n` }])
  })

  it('with q sends the held output and the error on failure', async () => {
    builder.script = async (_req, _files, emit) => {
      emit({ stream: 'Step 1/2 : FROM busybox\n' })
      throw Object.assign(new Error("The command '/bin/sh -c exit 3' returned a non-zero code: 3"), { exitCode: 3 })
    }
    try {
      const msgs = await messages(await client.build(chunked(contextTar(files)), { SuppressOutput: true }))
      expect(msgs).toEqual([
        { stream: 'Step 1/2 : FROM busybox\n' },
        { errorDetail: { code: 3, message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" }, error: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" },
      ])
    } finally {
      builder.script = new FakeBuilder().script
    }
  })

  it('ends a started stream with errorDetail, and answers an early failure with a status', async () => {
    builder.script = async (_req, _files, emit) => {
      emit({ stream: 'Step 1/1 : RUN x\n' })
      throw new Error('boom')
    }
    try {
      const msgs = await messages(await client.build(chunked(contextTar(files)), {}))
      expect(msgs.at(-1)).toEqual({ errorDetail: { message: 'boom' }, error: 'boom' })
      builder.script = async () => { throw notFound('Cannot locate specified Dockerfile: Dockerfile') }
      const err = await client.build(chunked(contextTar(files)), {}).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ClientError)
      expect((err as ClientError).statusCode).toBe(404)
      expect((err as ClientError).message).toBe('Cannot locate specified Dockerfile: Dockerfile')
    } finally {
      builder.script = new FakeBuilder().script
    }
  })

  it('refuses a bad query before reading the upload, with a status the client can read', async () => {
    const err = await client.build(chunked(contextTar({ big: 'y'.repeat(200_000) })), { Tags: ['Bad'] }).catch((e: unknown) => e)
    expect((err as ClientError).statusCode).toBe(400)
    expect((err as ClientError).message).toBe('invalid reference format: repository name (library/Bad) must be lowercase')
    const bad = await raw(sock, 'POST', '/v1.50/build?buildargs=%7B%22A%22%3A1%7D', contextTar(files))
    expect(bad.status).toBe(400)
    expect(JSON.parse(bad.body)).toEqual({ message: 'error reading build args: json: cannot unmarshal number into Go value of type string' })
  })

  it('refuses BuildKit, squash, git remotes and sessions', async () => {
    const v2 = await raw(sock, 'POST', '/v1.50/build?version=2', contextTar(files))
    expect(v2.status).toBe(501)
    expect(JSON.parse(v2.body).message).toMatch(/BuildKit \(builder version 2\) is not supported/)
    expect((await raw(sock, 'POST', '/build?squash=1')).status).toBe(400)
    const git = await raw(sock, 'POST', `/build?remote=${encodeURIComponent('https://example.test/r.git')}`)
    expect(git.status).toBe(501)
    expect(JSON.parse(git.body).message).toBe('git contexts are not supported by berth: clone https://example.test/r.git and build the directory')
    const session = await raw(sock, 'POST', '/build?remote=client-session')
    expect(JSON.parse(session.body).message).toBe('experimental session with v1 builder is no longer supported, use builder version v2 (BuildKit) instead')
    expect(JSON.parse((await raw(sock, 'POST', '/build?remote=ftp%3A%2F%2Fx')).body).message).toBe('remoteURL (ftp://x) could not be recognized as URL')
  })

  it('drops aux messages for clients below API 1.30', async () => {
    const res = await raw(sock, 'POST', '/v1.29/build', contextTar(files))
    expect(res.body).not.toContain('aux')
    expect(res.body).toContain('Successfully built')
  })

  it('downloads a remote tar context, following redirects, with progress', async () => {
    const msgs = await messages(await client.build(undefined, { RemoteContext: `${webURL}/moved`, Dockerfile: 'sub/Dockerfile' }))
    expect(builder.last?.files).toEqual({ 'sub/Dockerfile': 'FROM scratch\n' })
    expect(builder.last?.req.dockerfile).toBe('sub/Dockerfile')
    const progress = msgs.find((m) => m.id === 'Downloading context')
    expect(progress).toMatchObject({ status: `${webURL}/moved`, progressDetail: { current: 2048 } })
    expect(progress?.progress).toBe(' 2.048kB')
    await messages(await client.build(undefined, { RemoteContext: `${webURL}/ctx.tgz` }))
    expect(builder.last?.files).toEqual({ Dockerfile: 'FROM gz\n' })
  })

  it('makes a remote plain-text file the Dockerfile of an empty context', async () => {
    await messages(await client.build(undefined, { RemoteContext: `${webURL}/Dockerfile`, Dockerfile: 'ignored' }))
    expect(builder.last?.files).toEqual({ Dockerfile: 'FROM busybox\nRUN true\n' })
    expect(builder.last?.req.dockerfile).toBe('Dockerfile')
  })

  it('answers a failed download with its status and docker\'s message', async () => {
    const e404 = await client.build(undefined, { RemoteContext: `${webURL}/nope` }).catch((e: unknown) => e) as ClientError
    expect(e404.statusCode).toBe(404)
    expect(e404.message).toBe(`error downloading remote context ${webURL}/nope: failed to GET ${webURL}/nope with status 404 Not Found: no such thing`)
    const html = await client.build(undefined, { RemoteContext: `${webURL}/page` }).catch((e: unknown) => e) as ClientError
    expect(html.statusCode).toBe(400)
    expect(html.message).toBe(`error detecting content type for remote ${webURL}/page: unsupported Content-Type "text/html"`)
  })

  it('aborts the build when the client hangs up', async () => {
    let aborted: Promise<unknown> | undefined
    builder.script = async (_req, _files, emit, signal) => {
      emit({ stream: 'Step 1/1 : RUN sleep 1d\n' })
      aborted = new Promise((resolve) => signal?.addEventListener('abort', () => resolve(signal.reason)))
      await aborted
      throw new Error('cancelled')
    }
    try {
      const ac = new AbortController()
      const res = await client.build(chunked(contextTar(files)), {}, ac.signal)
      await new Promise<void>((resolve) => res.once('data', () => resolve()))
      ac.abort()
      res.on('error', () => {})
      await expect(new Promise((r) => setTimeout(r, 50)).then(() => aborted)).resolves.toMatchObject({ message: 'client disconnected' })
    } finally {
      builder.script = new FakeBuilder().script
    }
  })

  it('prunes the build cache as docker builder prune expects', async () => {
    expect(await client.buildPrune({ all: true })).toEqual({ CachesDeleted: ['sha256:1', 'sha256:2'], SpaceReclaimed: 3072 })
    expect(builder.pruned).toEqual({ all: true })
    expect(await client.buildPrune()).toEqual({ CachesDeleted: null, SpaceReclaimed: 0 })
    const before = Date.now()
    const filtered = await raw(sock, 'POST', `/build/prune?filters=${encodeURIComponent('{"until":{"24h":true},"label":{"a=b":true}}')}`)
    expect(filtered.status).toBe(200)
    const cutoff = builder.pruned?.usedBeforeMs ?? 0
    expect(cutoff).toBeGreaterThanOrEqual(before - 24 * 3600_000 - 1000)
    expect(cutoff).toBeLessThanOrEqual(Date.now() - 24 * 3600_000 + 1000)
    const record = await raw(sock, 'POST', `/build/prune?filters=${encodeURIComponent('{"inuse":{"true":true}}')}`)
    expect(JSON.parse(record.body).message).toBe('build cache prune filters are not supported by berth: inuse')
    const unknown = await raw(sock, 'POST', `/build/prune?filters=${encodeURIComponent('{"dangling":{"true":true}}')}`)
    expect(unknown.status).toBe(400)
    expect(JSON.parse(unknown.body).message).toBe("invalid filter 'dangling'")
    const both = await raw(sock, 'POST', `/build/prune?filters=${encodeURIComponent('{"until":{"1h":true},"unused-for":{"1h":true}}')}`)
    expect(JSON.parse(both.body).message).toBe('conflicting filters: "until" and "unused-for"')
    const keep = await raw(sock, 'POST', '/build/prune?keep-storage=x')
    expect(JSON.parse(keep.body).message).toBe('keep-storage is in bytes and expects an integer, got x: strconv.Atoi: parsing "x": invalid syntax')
  })

  it('answers /build/cancel as dockerd does for classic builds', async () => {
    expect(await raw(sock, 'POST', '/build/cancel?id=abc')).toEqual({ status: 200, body: '' })
    const missing = await raw(sock, 'POST', '/build/cancel')
    expect(missing.status).toBe(400)
    expect(JSON.parse(missing.body).message).toBe('build ID not provided')
  })
})
