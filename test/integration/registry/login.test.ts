/**
 * login, logout and authenticated pulls against `berth registry serve
 * --htpasswd`: the berth CLI and the docker CLI log in through the test
 * berthd's POST /auth, credentials land in a temp DOCKER_CONFIG, and a pull of
 * an image skopeo pushed there works only while logged in.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, promises as fsp, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ClientError, EngineClient } from '../../../src/client/index.js'
import { berth, berthBin, docker, dockerBin, loadBcrypt, missing, ok, repo, sock, uniq } from '../../helpers.js'

const run = promisify(execFile)
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

const bcrypt = await loadBcrypt()
function whyNot(): string | undefined {
  if (!bcrypt) return 'the npm package bcryptjs is not installed'
  if (spawnSync('skopeo', ['--version']).status !== 0) return 'skopeo is not installed (apt-get install skopeo)'
  if (!existsSync(path.join(repo, 'dist/cmd/berth.js'))) return 'berth is not built (npm run build)'
  return missing('root', 'daemon')
}
const skip = whyNot()
if (skip) console.warn(`skipping registry login tests: ${skip}`)

const USER = 'alice'
const PASSWORD = 's3cret pass'

describe.skipIf(skip !== undefined)('login, logout and authenticated pull', () => {
  let dir = ''
  let server: ChildProcess | undefined
  let addr = ''
  let log = ''
  const repoName = uniq('login').toLowerCase()
  const image = () => `${addr}/tools/${repoName}:1`
  const berthConfig = () => path.join(dir, 'berth-config')
  const env = () => ({ env: { DOCKER_CONFIG: berthConfig() } })

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'berth-login-'))
    await fsp.writeFile(path.join(dir, 'htpasswd'), `${USER}:${bcrypt!.hashSync(PASSWORD, 5)}\n`)
    const child = spawn(process.execPath, [berthBin, 'registry', 'serve', '--addr', '127.0.0.1:0', '--root', path.join(dir, 'root'), '--htpasswd', path.join(dir, 'htpasswd')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    server = child
    child.stdout.on('data', (b: Buffer) => (log += b.toString()))
    child.stderr.on('data', (b: Buffer) => (log += b.toString()))
    const end = Date.now() + 20_000
    while (!addr) {
      const m = /listening on (127\.0\.0\.1:\d+)/.exec(log)
      if (m) addr = m[1]!
      else if (child.exitCode !== null || Date.now() > end) throw new Error(`registry did not start:\n${log}`)
      else await new Promise((r) => setTimeout(r, 50))
    }

    // A one-file image as an OCI layout, pushed with skopeo using the credentials.
    const content = path.join(dir, 'content')
    await fsp.mkdir(content)
    await fsp.writeFile(path.join(content, 'hello.txt'), 'hello from login\n')
    const tar = spawnSync('tar', ['-C', content, '-cf', '-', 'hello.txt'], { maxBuffer: 16 << 20 })
    if (tar.status !== 0) throw new Error(`tar: ${tar.stderr.toString()}`)
    const layer = gzipSync(tar.stdout)
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [`sha256:${sha(tar.stdout)}`] } }))
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${sha(layer)}`, size: layer.length }],
    }))
    const layout = path.join(dir, 'layout')
    await fsp.mkdir(path.join(layout, 'blobs', 'sha256'), { recursive: true })
    for (const b of [layer, config, manifest]) await fsp.writeFile(path.join(layout, 'blobs', 'sha256', sha(b)), b)
    await fsp.writeFile(path.join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')
    await fsp.writeFile(path.join(layout, 'index.json'), JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha(manifest)}`, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': '1' } }],
    }))
    await run('skopeo', ['--insecure-policy', 'copy', '--dest-tls-verify=false', '--dest-creds', `${USER}:${PASSWORD}`, `oci:${layout}:1`, `docker://${image()}`], { timeout: 120_000 })
  })

  afterAll(async () => {
    await berth(['rmi', '-f', image()])
    if (server && server.exitCode === null) {
      server.kill('SIGTERM')
      await new Promise((r) => server!.once('exit', r))
    }
    if (dir) await fsp.rm(dir, { recursive: true, force: true })
  })

  it('refuses a pull before login', async () => {
    const r = await berth(['pull', image()], env())
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^Error response from daemon: .*authentication required/m)
  })

  it('refuses a wrong password with docker\'s message', async () => {
    const r = await berth(['login', '-u', USER, '--password-stdin', addr], { ...env(), input: 'wrong\n' })
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(`Error response from daemon: login attempt to http://${addr}/v2/ failed with status: 401 Unauthorized\n`)
    expect(existsSync(path.join(berthConfig(), 'config.json'))).toBe(false)
  })

  it('logs in with --password-stdin and stores docker\'s config entry, mode 0600', async () => {
    const r = ok(await berth(['login', '-u', USER, '--password-stdin', addr], { ...env(), input: `${PASSWORD}\n` }))
    expect(r.stdout).toBe('Login Succeeded\n')
    expect(r.stderr).toContain('WARNING! Your credentials are stored unencrypted')
    const file = path.join(berthConfig(), 'config.json')
    expect(JSON.parse(await fsp.readFile(file, 'utf8'))).toEqual({ auths: { [addr]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } } })
    expect(statSync(file).mode & 0o777).toBe(0o600)
  })

  it('warns about --password', async () => {
    const r = ok(await berth(['login', '-u', USER, '-p', PASSWORD, addr], env()))
    expect(r.stderr).toMatch(/^WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n/)
    expect(r.stdout).toBe('Login Succeeded\n')
  })

  it('pulls with the stored credentials', async () => {
    const r = ok(await berth(['pull', image()], env()))
    expect(r.stdout).toContain('Status: Downloaded newer image')
    ok(await berth(['image', 'inspect', image()]))
  })

  it('logs out and says so when not logged in', async () => {
    expect(ok(await berth(['logout', addr], env())).stdout).toBe(`Removing login credentials for ${addr}\n`)
    expect(JSON.parse(await fsp.readFile(path.join(berthConfig(), 'config.json'), 'utf8'))).toEqual({ auths: {} })
    expect(ok(await berth(['logout', addr], env())).stdout).toBe(`Not logged in to ${addr}\n`)
    ok(await berth(['rmi', image()]))
    expect((await berth(['pull', image()], env())).code).toBe(1)
  })

  it('answers POST /auth with docker\'s body, 401 and 400', async () => {
    const client = new EngineClient({ host: `unix://${sock()}` })
    expect(await client.auth({ username: USER, password: PASSWORD, serveraddress: addr })).toEqual({ Status: 'Login Succeeded', IdentityToken: '' })
    const denied = await client.auth({ username: USER, password: 'nope', serveraddress: addr }).catch((e: unknown) => e)
    expect(denied).toBeInstanceOf(ClientError)
    expect((denied as ClientError).statusCode).toBe(401)
    const bad = await client.request('POST', '/auth', { body: '[1]', headers: { 'Content-Type': 'application/json' } }).catch((e: unknown) => e)
    expect((bad as ClientError).statusCode).toBe(400)
  })

  it.skipIf(!dockerBin)('works for the docker CLI through the test berthd', async () => {
    const config = path.join(dir, 'docker-config')
    const denied = await docker(['login', '-u', USER, '--password-stdin', addr], { env: { DOCKER_CONFIG: config }, input: 'nope\n' })
    expect(denied.code).toBe(1)
    expect(denied.stderr).toContain(`Error response from daemon: login attempt to http://${addr}/v2/ failed with status: 401 Unauthorized`)
    const r = ok(await docker(['login', '-u', USER, '--password-stdin', addr], { env: { DOCKER_CONFIG: config }, input: `${PASSWORD}\n` }))
    expect(r.stdout).toContain('Login Succeeded')
    const cfg = JSON.parse(await fsp.readFile(path.join(config, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> }
    expect(cfg.auths[addr]?.auth).toBe(Buffer.from(`${USER}:${PASSWORD}`).toString('base64'))
    // berth reads the docker CLI's login as its own.
    ok(await berth(['pull', image()], { env: { DOCKER_CONFIG: config } }))
    ok(await docker(['logout', addr], { env: { DOCKER_CONFIG: config } }))
  })
})
