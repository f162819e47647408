import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, promises as fsp, readFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { imageRoutes } from '../../../src/api/routes/images/index.js'
import { ApiServer, Router } from '../../../src/api/server/index.js'
import { nullLogger } from '../../../src/lib/index.js'
import { busyboxTar, engine, fixtures, isRoot, type TestEngine } from './helpers.js'

const run = promisify(execFile)
const DOCKER = '/usr/local/bin/docker'

function request(sock: string, method: string, p: string, body?: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: sock, method, path: p, headers: body ? { 'Content-Type': 'application/x-tar', 'Content-Length': body.length } : {} }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (c: Buffer) => parts.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe.skipIf(!isRoot)('image routes over the Engine API (root)', () => {
  let e: TestEngine
  let server: ApiServer
  let sock: string
  let dir: string
  const api = (method: string, p: string, body?: Buffer) => request(sock, method, p, body)
  const json = async (method: string, p: string, body?: Buffer) => {
    const r = await api(method, p, body)
    let parsed: unknown = null
    try {
      parsed = JSON.parse(r.body.toString() || 'null')
    } catch {
      // A JSON stream (several messages): callers read .text.
    }
    return { status: r.status, json: parsed, text: r.body.toString() }
  }

  beforeAll(async () => {
    e = await engine('api')
    dir = mkdtempSync(path.join(tmpdir(), 'berth-api-'))
    sock = path.join(dir, 'berth.sock')
    const r = new Router()
    imageRoutes(r, e.svc)
    server = new ApiServer({ router: r, logger: nullLogger, serverName: 'berth/test' })
    await server.listenUnix(sock)
  })
  afterAll(async () => {
    await server?.close()
    await e?.close()
    await fsp.rm(dir, { recursive: true, force: true })
  })

  it('imports from the body and streams the ID', async () => {
    const r = await json('POST', '/v1.50/images/create?fromSrc=-&repo=busybox&tag=latest&changes=CMD%20%5B%22sh%22%5D&changes=ENV%20X%3D1', await busyboxTar())
    expect(r.status).toBe(200)
    expect(r.text).toMatch(/^\{"status":"sha256:[a-f0-9]{64}"\}\r\n$/)
  })

  it('answers inspect in the 1.50 and legacy shapes', async () => {
    const now = (await json('GET', '/v1.50/images/busybox/json')).json as Record<string, unknown>
    expect(Object.keys(now)).toEqual(['Id', 'RepoTags', 'RepoDigests', 'Parent', 'Comment', 'Created', 'DockerVersion', 'Author', 'Config', 'Architecture', 'Os', 'Size', 'GraphDriver', 'RootFS', 'Metadata'])
    expect(now.Config).toEqual({ Env: ['X=1'], Cmd: ['sh'] })
    expect(now.RepoTags).toEqual(['busybox:latest'])
    expect(now.RepoDigests).toEqual([])
    expect((now.GraphDriver as { Name: string; Data: Record<string, string> }).Name).toBe('overlay2')
    expect(Object.keys((now.GraphDriver as { Data: Record<string, string> }).Data)).toEqual(['MergedDir', 'UpperDir', 'WorkDir'])
    const old = (await json('GET', '/v1.41/images/busybox/json')).json as Record<string, unknown>
    expect((old.Config as Record<string, unknown>).Hostname).toBe('')
    expect(old.VirtualSize).toBe(now.Size)
    expect(old.ContainerConfig).toBeDefined()
  })

  it('maps errors to docker status codes and messages', async () => {
    expect(await json('GET', '/v1.50/images/nope/json')).toMatchObject({ status: 404, json: { message: 'No such image: nope:latest' } })
    expect(await json('GET', '/v1.50/images/bad%3A%3Aref/json')).toMatchObject({ status: 400, json: { message: 'invalid reference format' } })
    expect((await json('POST', '/v1.50/images/busybox/tag?repo=x&tag=-bad')).status).toBe(400)
    expect((await json('POST', '/v1.50/images/nope/tag?repo=x&tag=1')).status).toBe(404)
    expect((await json('GET', '/v1.50/images/json?filters=%7B%22bogus%22%3A%7B%22x%22%3Atrue%7D%7D')).json).toEqual({ message: "invalid filter 'bogus'" })
  })

  it('lists images with docker fields', async () => {
    const list = (await json('GET', '/v1.50/images/json')).json as Array<Record<string, unknown>>
    expect(list).toHaveLength(1)
    expect(Object.keys(list[0]!).sort()).toEqual(['Containers', 'Created', 'Id', 'Labels', 'ParentId', 'RepoDigests', 'RepoTags', 'SharedSize', 'Size'])
    expect(list[0]).toMatchObject({ Containers: -1, SharedSize: -1, RepoTags: ['busybox:latest'], ParentId: '' })
  })

  it('saves with application/x-tar and loads with a JSON stream', async () => {
    const saved = await api('GET', '/v1.50/images/get?names=busybox')
    expect(saved.headers['content-type']).toBe('application/x-tar')
    const load = await api('POST', '/v1.50/images/load?quiet=0', readFileSync(path.join(fixtures, 'docker-20.10-save.tar')))
    const lines = load.body.toString().trim().split('\r\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines.at(-1)).toEqual({ stream: 'Loaded image: tiny:1\n' })
    expect(lines[0]).toMatchObject({ status: 'Loading layer', id: '38966a502dcb' })
    const bad = await api('POST', '/v1.50/images/load', Buffer.from('not a tar at all'.padEnd(1024, '!')))
    expect(bad.status).toBe(200)
    expect(bad.body.toString()).toMatch(/"errorDetail":\{"message":"invalid tar archive/)
    expect((await json('GET', '/v1.50/images/nope/get')).status).toBe(404)
  })

  it('deletes and prunes with docker item shapes', async () => {
    expect((await json('POST', '/v1.50/images/tiny:1/tag?repo=tiny&tag=2')).status).toBe(201)
    expect((await json('DELETE', '/v1.50/images/tiny:2')).json).toEqual([{ Untagged: 'tiny:2' }])
    const del = (await json('DELETE', '/v1.50/images/tiny:1')).json as Array<Record<string, string>>
    expect(del[0]).toEqual({ Untagged: 'tiny:1' })
    expect(del.filter((d) => d.Deleted)).toHaveLength(2)
    expect((await json('POST', '/v1.50/images/prune')).json).toEqual({ ImagesDeleted: null, SpaceReclaimed: 0 })
  })

  describe.skipIf(!existsSync(DOCKER))('driven by the docker CLI', () => {
    const docker = async (...args: string[]) => (await run(DOCKER, args, { env: { ...process.env, DOCKER_HOST: `unix://${sock}` } })).stdout
    const dockerFails = async (...args: string[]) => {
      try {
        await run(DOCKER, args, { env: { ...process.env, DOCKER_HOST: `unix://${sock}` } })
      } catch (err) {
        return (err as { stderr: string }).stderr
      }
      throw new Error(`docker ${args.join(' ')} succeeded`)
    }

    it('images, tag, inspect, history, save, rmi, load, import, prune', async () => {
      await docker('tag', 'busybox', 'localhost:5000/bb:v1')
      const images = await docker('images', '--format', '{{.Repository}}:{{.Tag}}')
      expect(images.trim().split('\n').sort()).toEqual(['busybox:latest', 'localhost:5000/bb:v1'])
      expect((await docker('image', 'inspect', '-f', '{{json .Config.Cmd}} {{.Os}}', 'localhost:5000/bb:v1')).trim()).toBe('["sh"] linux')
      expect(await docker('history', 'busybox')).toMatch(/Imported from -/)
      const out = path.join(dir, 'bb.tar')
      await docker('save', '-o', out, 'busybox')
      expect(await docker('rmi', 'busybox')).toBe('Untagged: busybox:latest\n')
      expect(await docker('rmi', 'localhost:5000/bb:v1')).toMatch(/^Untagged: localhost:5000\/bb:v1\nDeleted: sha256:/)
      expect(await docker('load', '-i', out)).toBe('Loaded image: busybox:latest\n')
      expect(await dockerFails('import', path.join(fixtures, 'README.md'))).toMatch(/invalid tar archive/)
      const rootfs = path.join(dir, 'rootfs.tar')
      await fsp.writeFile(rootfs, await busyboxTar())
      const id = (await docker('import', '-c', 'CMD ["true"]', rootfs)).trim()
      expect(id).toMatch(/^sha256:/)
      expect(await dockerFails('image', 'inspect', 'nope')).toMatch(/No such image: nope/)
      expect(await docker('image', 'prune', '-f')).toMatch(/Deleted Images:\ndeleted: sha256:/)
    })
  })
})
