/**
 * `berth search` and `docker search` through the test berthd against real
 * registries on loopback that have no /v1/search — `berth registry serve`
 * (the built CLI, a child process) and Debian's docker-registry — so the
 * daemon answers from /v2/_catalog. Images get there with berth tag + push.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ClientError, EngineClient } from '../../../src/client/index.js'
import { berth, berthBin, docker, dockerBin, missing, ok, repo, sock, uniq, freePort } from '../../helpers.js'

function why(): string | undefined {
  if (!existsSync(path.join(repo, 'dist/cmd/berth.js'))) return 'berth is not built (npm run build)'
  return missing('root', 'daemon')
}
const skip = why()
if (skip) console.warn(`skipping registry search tests: ${skip}`)
const noDistribution = spawnSync('docker-registry', ['--version']).status !== 0 ? 'docker-registry is not installed (apt-get install docker-registry)' : undefined
if (noDistribution) console.warn(`skipping search of docker-registry: ${noDistribution}`)


interface Registry { host: string; stop(): Promise<void> }

async function waitUp(host: string, proc: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; ; i++) {
    const r = await fetch(`http://${host}/v2/`).catch(() => undefined)
    if (r?.ok) return
    if (proc.exitCode !== null || i > 200) throw new Error(`registry on ${host} did not start:\n${log()}`)
    await new Promise((res) => setTimeout(res, 100))
  }
}

function stopper(proc: ChildProcess): () => Promise<void> {
  return async () => {
    if (proc.exitCode !== null) return
    const exited = new Promise<void>((res) => proc.once('exit', () => res()))
    proc.kill('SIGTERM')
    await exited
  }
}

/** `berth registry serve` on a free loopback port, as a user would start it. */
async function berthRegistry(dir: string): Promise<Registry> {
  const host = `127.0.0.1:${await freePort()}`
  const proc = spawn(process.execPath, [berthBin, 'registry', 'serve', '--addr', host, '--root', path.join(dir, 'root')], { stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  proc.stdout?.on('data', (b: Buffer) => (log += b.toString()))
  proc.stderr?.on('data', (b: Buffer) => (log += b.toString()))
  await waitUp(host, proc, () => log)
  return { host, stop: stopper(proc) }
}

async function distributionRegistry(dir: string): Promise<Registry> {
  const host = `127.0.0.1:${await freePort()}`
  const cfg = path.join(dir, 'config.yml')
  await fsp.writeFile(cfg, [
    'version: 0.1', 'log:', '  level: warn', 'storage:', '  filesystem:', `    rootdirectory: ${path.join(dir, 'distribution')}`,
    'http:', `  addr: ${host}`, '',
  ].join('\n'))
  const proc = spawn('docker-registry', ['serve', cfg], { stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  proc.stdout?.on('data', (b: Buffer) => (log += b.toString()))
  proc.stderr?.on('data', (b: Buffer) => (log += b.toString()))
  await waitUp(host, proc, () => log)
  return { host, stop: stopper(proc) }
}

const lines = (s: string) => s.trimEnd().split('\n')
/** A table row's cells: tabwriter pads with runs of spaces, cells never contain two. */
const cells = (line: string) => line.trimEnd().split(/ {2,}/)

for (const [kind, start, skipKind] of [
  ['berth registry serve', berthRegistry, undefined],
  ['docker-registry', distributionRegistry, noDistribution],
] as const) {
  describe.skipIf(skip ?? skipKind)(`search ${kind} (root)`, () => {
    let dir = ''
    let reg: Registry | undefined
    let host = ''
    const tags: string[] = []
    // Unique words, so the names say which test made them and runs never see each other.
    const word = uniq('srch').replace(/-/g, '')
    const names = () => [`${host}/other/${word}-busyapp`, `${host}/tools/${word}-busybox`]

    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'berth-search-'))
      reg = await start(dir)
      host = reg.host
      for (const n of [`tools/${word}-busybox`, `other/${word}-busyapp`, `tools/${word}-alpine`]) {
        const ref = `${host}/${n}:1`
        ok(await berth(['tag', 'busybox', ref]))
        tags.push(ref)
        ok(await berth(['push', ref], { timeoutMs: 120_000 }))
      }
    })

    afterAll(async () => {
      if (tags.length) await berth(['rmi', '-f', ...tags])
      await reg?.stop()
      if (dir) await fsp.rm(dir, { recursive: true, force: true })
    })

    it('berth search lists the catalog\'s matching repositories in docker\'s table', async () => {
      const r = ok(await berth(['search', `${host}/${word}-busy`]))
      const out = lines(r.stdout)
      expect(cells(out[0] ?? '')).toEqual(['NAME', 'DESCRIPTION', 'STARS', 'OFFICIAL'])
      expect(out.slice(1).map(cells)).toEqual(names().map((n) => [n, '0']))
      // Columns line up as tabwriter's: STARS starts where the widest name plus padding ends.
      const col = out[0]?.indexOf('DESCRIPTION')
      expect(col).toBe(Math.max(...names().map((n) => n.length)) + 3)
      expect(r.stderr).toBe('')
      // An empty query after the registry lists everything there.
      expect(lines(ok(await berth(['search', `${host}/`])).stdout).length).toBeGreaterThanOrEqual(4)
    })

    it('--format, --limit and --filter', async () => {
      const fmt = ok(await berth(['search', '--format', '{{.Name}}|{{.StarCount}}|{{.IsOfficial}}|{{.Description}}', `${host}/${word}-busy`]))
      expect(lines(fmt.stdout)).toEqual(names().map((n) => `${n}|0||`))
      const json = ok(await berth(['search', '--format', 'json', `${host}/${word}-busybox`]))
      expect(JSON.parse(json.stdout)).toEqual({ Description: '', IsOfficial: 'false', Name: names()[1], StarCount: '0' })
      const table = ok(await berth(['search', '--format', 'table {{.Name}}', `${host}/${word}`]))
      expect(lines(table.stdout)).toEqual(['NAME', `${host}/other/${word}-busyapp`, `${host}/tools/${word}-alpine`, `${host}/tools/${word}-busybox`])
      expect(lines(ok(await berth(['search', '--limit', '1', '--format', '{{.Name}}', `${host}/${word}-busy`])).stdout)).toEqual([names()[0]])
      expect(lines(ok(await berth(['search', '--filter', 'stars=1', `${host}/${word}-busy`])).stdout)).toEqual(['NAME      DESCRIPTION   STARS     OFFICIAL'])
      expect(ok(await berth(['search', '-f', 'is-official=true', '--format', '{{.Name}}', `${host}/${word}`])).stdout).toBe('')
      expect(lines(ok(await berth(['search', '-f', 'is-official=false', '--format', '{{.Name}}', `${host}/${word}-busy`])).stdout)).toEqual(names())
      const automated = ok(await berth(['search', '-f', 'is-automated=true', `${host}/${word}`]))
      expect(automated.stderr).toContain('WARNING: the "is-automated" filter is deprecated')
      expect(lines(automated.stdout)).toHaveLength(1)
    })

    it('refuses bad filters and limits with docker\'s messages', async () => {
      const bad = await berth(['search', '-f', 'bogus=1', `${host}/x`])
      expect(bad.code).toBe(1)
      expect(bad.stderr).toBe("Error response from daemon: invalid filter 'bogus'\n")
      const stars = await berth(['search', '-f', 'stars=many', `${host}/x`])
      expect(stars.stderr).toBe(`Error response from daemon: invalid filter 'stars=many': strconv.Atoi: parsing "many": invalid syntax\n`)
      const limit = await berth(['search', '--limit', '101', `${host}/x`])
      expect(limit.stderr).toBe('Error response from daemon: limit 101 is outside the range of [1, 100]\n')
    })

    it('GET /images/search answers docker\'s JSON, and 400 for a bad filter', async () => {
      const client = new EngineClient({ host: `unix://${sock()}` })
      const res = await client.json<unknown[]>('GET', '/images/search', { query: { term: `${host}/${word}-busybox`, limit: 5 } })
      expect(res).toEqual([{ name: names()[1], description: '', star_count: 0, is_official: false, is_automated: false }])
      for (const [query, msg] of [
        [{ term: `${host}/x`, filters: '{"bogus":{"1":true}}' }, "invalid filter 'bogus'"],
        [{ term: `${host}/x`, filters: '{"is-official":{"maybe":true}}' }, "invalid filter 'is-official=[maybe]'"],
        [{ term: `${host}/x`, limit: 'x' }, 'invalid limit specified: strconv.Atoi: parsing "x": invalid syntax'],
        [{ term: `http://${host}/x` }, `invalid repository name: repository name (http://${host}/x) should not have a scheme`],
      ] as const) {
        const e = await client.json('GET', '/images/search', { query }).catch((err: unknown) => err)
        expect(e).toBeInstanceOf(ClientError)
        expect((e as ClientError).statusCode).toBe(400)
        expect((e as ClientError).message).toBe(msg)
      }
    })

    it.skipIf(!dockerBin)('docker search through berthd shows the same rows', async () => {
      for (const args of [
        [`${host}/${word}-busy`],
        ['--format', '{{.Name}}\t{{.StarCount}}\t{{.IsOfficial}}', `${host}/${word}`],
        ['--format', 'json', '--limit', '1', `${host}/${word}`],
        ['--no-trunc', '-f', 'stars=1', `${host}/${word}`],
      ]) {
        const want = ok(await berth(['search', ...args]))
        const got = ok(await docker(['search', ...args]))
        expect(got.stdout).toBe(want.stdout)
      }
      const bad = await docker(['search', '-f', 'bogus=1', `${host}/x`])
      expect(bad.code).toBe(1)
      expect(bad.stderr).toContain("invalid filter 'bogus'")
    })
  })
}

describe.skipIf(skip)('search of a registry that is not there (root)', () => {
  it('fails at once with the connection error, from berth and docker', async () => {
    const host = `127.0.0.1:${await freePort()}`
    const r = await berth(['search', `${host}/busy`])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(`Error response from daemon: Get "http://${host}/v1/search?q=busy&n=25": connect ECONNREFUSED ${host}\n`)
    if (dockerBin) expect((await docker(['search', `${host}/busy`])).stderr).toContain(`Get "http://${host}/v1/search?q=busy&n=25": connect ECONNREFUSED`)
  })
})
