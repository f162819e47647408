/**
 * `berth registry serve --auth token`: the server as its own token issuer.
 * The raw protocol with fetch (challenges, GET and POST /auth/token, scopes,
 * refresh tokens), then real clients of the token flow: the berth CLI and the
 * docker CLI through the test berthd (login, push, pull), and skopeo, with
 * credentials and with an identity token. A second server adds
 * --anonymous-pull, a third (in-process) does the same with Basic auth.
 * Token servers run as the CLI runs them, in their own process.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, promises as fsp, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { berth, berthBin, docker, dockerBin, loadBcrypt, missing, ok, repo, uniq, waitFor } from '../../helpers.js'
import { startRegistry } from '../../../src/registry/index.js'

const run = promisify(execFile)

const bcrypt = await loadBcrypt()
function whyNot(): string | undefined {
  if (!bcrypt) return 'the npm package bcryptjs is not installed'
  if (!existsSync(path.join(repo, 'dist/cmd/berth.js'))) return 'berth is not built (npm run build)'
  return undefined
}
const skip = whyNot()
if (skip) console.warn(`skipping registry token auth tests: ${skip}`)
const noDaemon = skip ?? missing('root', 'daemon')
const noSkopeo = spawnSync('skopeo', ['--version']).status === 0 ? undefined : 'skopeo is not installed (apt-get install skopeo)'
if (noSkopeo) console.warn(`skipping skopeo against the token server: ${noSkopeo}`)

const USER = 'alice'
const PASSWORD = 's3cret pass'
const SERVICE = 'berth-test-registry'

interface Served {
  addr: string
  log: () => string
  stop: () => Promise<void>
}

/** `berth registry serve` on a free loopback port; resolves once it logs where it listens. */
async function serve(args: string[]): Promise<Served> {
  const child: ChildProcess = spawn(process.execPath, [berthBin, 'registry', 'serve', '--addr', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  child.stdout!.on('data', (b: Buffer) => (log += b.toString()))
  child.stderr!.on('data', (b: Buffer) => (log += b.toString()))
  let addr = ''
  const end = Date.now() + 20_000
  while (!addr) {
    const m = /listening on (127\.0\.0\.1:\d+)/.exec(log)
    if (m) addr = m[1]!
    else if (child.exitCode !== null || Date.now() > end) throw new Error(`registry did not start:\n${log}`)
    else await new Promise((r) => setTimeout(r, 50))
  }
  return {
    addr,
    log: () => log,
    stop: async () => {
      if (child.exitCode !== null) return
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await exited
    },
  }
}

const basic = (user: string, password: string) => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64')
const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>

describe.skipIf(skip !== undefined)('registry token auth', () => {
  let dir = ''
  let reg: Served
  const root = () => path.join(dir, 'root')
  const url = (p: string) => `http://${reg.addr}${p}`
  const realm = () => `http://${reg.addr}/auth/token`

  async function token(scopes: string[], auth?: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const q = new URLSearchParams({ service: SERVICE })
    for (const s of scopes) q.append('scope', s)
    const r = await fetch(url(`/auth/token?${q}`), auth ? { headers: { Authorization: auth } } : {})
    return { status: r.status, body: (await r.json()) as Record<string, unknown> }
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'berth-token-'))
    await fsp.writeFile(path.join(dir, 'htpasswd'), `${USER}:${bcrypt!.hashSync(PASSWORD, 5)}\n`)
    reg = await serve(['--root', root(), '--htpasswd', path.join(dir, 'htpasswd'), '--auth', 'token', '--token-service', SERVICE])
  })

  afterAll(async () => {
    await reg?.stop()
    if (dir) await fsp.rm(dir, { recursive: true, force: true })
  })

  it('keeps its signing key in the root, mode 0600', () => {
    expect(statSync(path.join(root(), '_auth', 'signing-key.pem')).mode & 0o777).toBe(0o600)
    expect(reg.log()).toMatch(/level=info msg="created token signing key" file=\S+signing-key.pem kid=[A-Za-z0-9_-]{43}/)
  })

  it('challenges unauthenticated requests with the scope each one needs', async () => {
    const cases: Array<[string, string, string | undefined]> = [
      ['GET', '/v2/', undefined],
      ['GET', '/v2/_catalog', 'registry:catalog:*'],
      ['HEAD', '/v2/tools/app/manifests/1', 'repository:tools/app:pull'],
      ['POST', '/v2/tools/app/blobs/uploads/', 'repository:tools/app:pull,push'],
      ['POST', `/v2/tools/app/blobs/uploads/?mount=sha256:${'a'.repeat(64)}&from=tools/src`, 'repository:tools/app:pull,push repository:tools/src:pull'],
      ['DELETE', '/v2/tools/app/manifests/1', 'repository:tools/app:delete'],
    ]
    for (const [method, p, scope] of cases) {
      const r = await fetch(url(p), { method })
      expect(r.status, `${method} ${p}`).toBe(401)
      const want = `Bearer realm="${realm()}",service="${SERVICE}"` + (scope ? `,scope="${scope}"` : '')
      expect(r.headers.get('www-authenticate'), `${method} ${p}`).toBe(want)
      if (method !== 'HEAD') expect(((await r.json()) as { errors: Array<{ code: string }> }).errors[0]!.code).toBe('UNAUTHORIZED')
    }
    // Basic credentials are not accepted in place of a token.
    expect((await fetch(url('/v2/'), { headers: { Authorization: basic(USER, PASSWORD) } })).status).toBe(401)
  })

  it('issues tokens for the htpasswd users, and anonymous ones without access', async () => {
    const t = await token(['repository:tools/app:pull,push', 'registry:catalog:*'], basic(USER, PASSWORD))
    expect(t.status).toBe(200)
    expect(Object.keys(t.body).sort()).toEqual(['access_token', 'expires_in', 'issued_at', 'token'])
    expect(t.body.access_token).toBe(t.body.token)
    expect(t.body.expires_in).toBe(300)
    expect(t.body.issued_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    expect(claims(t.body.token as string)).toMatchObject({
      iss: 'berth-registry', sub: USER, aud: SERVICE,
      access: [{ type: 'repository', name: 'tools/app', actions: ['pull', 'push'] }, { type: 'registry', name: 'catalog', actions: ['*'] }],
    })
    const anon = await token(['repository:tools/app:pull,push'])
    expect(anon.status).toBe(200)
    expect(claims(anon.body.token as string)).toMatchObject({ sub: '', access: [] })

    const bad = await fetch(url(`/auth/token?service=${SERVICE}`), { headers: { Authorization: basic(USER, 'nope') } })
    expect(bad.status).toBe(401)
    expect(await bad.json()).toEqual({ errors: [{ code: 'UNAUTHORIZED', message: 'incorrect username or password' }] })
    expect((await fetch(url('/auth/token?service=elsewhere'), { headers: { Authorization: basic(USER, PASSWORD) } })).status).toBe(400)
  })

  it('checks the token against what each request needs', async () => {
    const pull = (await token(['repository:tools/app:pull'], basic(USER, PASSWORD))).body.token as string
    const bearer = (t: string) => ({ Authorization: `Bearer ${t}` })
    expect((await fetch(url('/v2/'), { headers: bearer(pull) })).status).toBe(200)
    // Past auth: the manifest is simply not there.
    const get = await fetch(url('/v2/tools/app/manifests/1'), { headers: bearer(pull) })
    expect(get.status).toBe(404)
    expect(((await get.json()) as { errors: Array<{ code: string }> }).errors[0]!.code).toBe('MANIFEST_UNKNOWN')

    const push = await fetch(url('/v2/tools/app/blobs/uploads/'), { method: 'POST', headers: bearer(pull) })
    expect(push.status).toBe(401)
    expect(push.headers.get('www-authenticate')).toBe(`Bearer realm="${realm()}",service="${SERVICE}",scope="repository:tools/app:pull,push",error="insufficient_scope"`)
    expect((await fetch(url('/v2/other/tags/list'), { headers: bearer(pull) })).status).toBe(401)
    expect((await fetch(url('/v2/_catalog'), { headers: bearer(pull) })).status).toBe(401)

    const anon = (await token(['repository:tools/app:pull'])).body.token as string
    expect((await fetch(url('/v2/tools/app/manifests/1'), { headers: bearer(anon) })).status).toBe(401)

    const [h, , s] = pull.split('.') as [string, string, string]
    const widened = Buffer.from(JSON.stringify({ ...claims(pull), access: [{ type: 'repository', name: 'tools/app', actions: ['*'] }] })).toString('base64url')
    const forged = await fetch(url('/v2/tools/app/blobs/uploads/'), { method: 'POST', headers: bearer(`${h}.${widened}.${s}`) })
    expect(forged.status).toBe(401)
    expect(forged.headers.get('www-authenticate')).toMatch(/,error="invalid_token"$/)

    const all = (await token(['registry:catalog:*'], basic(USER, PASSWORD))).body.token as string
    const cat = await fetch(url('/v2/_catalog'), { headers: bearer(all) })
    expect(cat.status).toBe(200)
  })

  it('answers the OAuth2 password and refresh_token grants (POST)', async () => {
    const post = (form: Record<string, string>) =>
      fetch(url('/auth/token'), { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) })
    const first = await post({
      grant_type: 'password', service: SERVICE, client_id: 'berth-test', access_type: 'offline',
      username: USER, password: PASSWORD, scope: 'repository:tools/app:pull repository:tools/other:pull,push',
    })
    expect(first.status).toBe(200)
    const body = (await first.json()) as Record<string, string>
    expect(body.scope).toBe('repository:tools/app:pull repository:tools/other:pull,push')
    expect(body.refresh_token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/)
    expect(claims(body.access_token!)).toMatchObject({ sub: USER, aud: SERVICE })
    // A refresh token is not an access token.
    expect((await fetch(url('/v2/'), { headers: { Authorization: `Bearer ${body.refresh_token}` } })).status).toBe(401)

    const again = await post({ grant_type: 'refresh_token', service: SERVICE, client_id: 'berth-test', refresh_token: body.refresh_token!, scope: 'repository:tools/app:push' })
    expect(again.status).toBe(200)
    const b2 = (await again.json()) as Record<string, string>
    expect(b2.refresh_token).toBe(body.refresh_token)
    expect(claims(b2.access_token!)).toMatchObject({ sub: USER, access: [{ type: 'repository', name: 'tools/app', actions: ['push'] }] })

    expect((await post({ grant_type: 'password', service: SERVICE, client_id: 'c', username: USER, password: 'nope' })).status).toBe(401)
    expect((await post({ grant_type: 'refresh_token', service: SERVICE, client_id: 'c', refresh_token: b2.access_token! })).status).toBe(401)
    expect((await post({ grant_type: 'refresh_token', service: 'elsewhere', client_id: 'c', refresh_token: body.refresh_token! })).status).toBe(400)
    expect((await post({ grant_type: 'client_credentials', service: SERVICE, client_id: 'c' })).status).toBe(400)
    expect((await post({ grant_type: 'password', service: SERVICE, username: USER, password: PASSWORD })).status).toBe(400)
  })

  describe.skipIf(noDaemon !== undefined)('through berthd', () => {
    const name = uniq('token').toLowerCase()
    const image = () => `${reg.addr}/tools/${name}:1`
    const cfg = () => ({ env: { DOCKER_CONFIG: path.join(dir, 'berth-config') } })

    afterAll(async () => {
      await berth(['rmi', '-f', image(), `${reg.addr}/tools/${name}-docker:1`])
    })

    it('berth login refuses a wrong password, clearly', async () => {
      const r = await berth(['login', '-u', USER, '--password-stdin', reg.addr], { ...cfg(), input: 'wrong\n' })
      expect(r.code).toBe(1)
      expect(r.stderr).toBe(`Error response from daemon: Get "http://${reg.addr}/v2/": unauthorized: incorrect username or password\n`)
      expect(existsSync(path.join(dir, 'berth-config', 'config.json'))).toBe(false)
    })

    it('berth refuses to push before login', async () => {
      ok(await berth(['tag', 'busybox', image()]))
      const r = await berth(['push', image()], cfg())
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/^denied: requested access to the resource is denied: /)
    })

    it('berth login, push, rmi and pull back: the client token flow against a real token server', async () => {
      const login = ok(await berth(['login', '-u', USER, '--password-stdin', reg.addr], { ...cfg(), input: `${PASSWORD}\n` }))
      expect(login.stdout).toBe('Login Succeeded\n')
      // docker login asks for an offline token: the refresh token is stored instead of the password.
      const stored = JSON.parse(await fsp.readFile(path.join(dir, 'berth-config', 'config.json'), 'utf8')) as { auths: Record<string, { identitytoken?: string }> }
      expect(stored.auths[reg.addr]?.identitytoken).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/)
      const push = ok(await berth(['push', image()], { ...cfg(), timeoutMs: 120_000 }))
      const last = push.stdout.trim().split('\n').at(-1) ?? ''
      expect(last).toMatch(/^1: digest: sha256:[a-f0-9]{64} size: \d+$/)
      // The push spent the identity token (the refresh_token grant, a POST). The server's log pipe may be read after the client has exited.
      await waitFor(() => /msg="token issued" method=POST account=alice access="repository:tools\/[^ ]+:pull,push"/.test(reg.log()), 10_000, 'the token log line')
      ok(await berth(['rmi', image()]))
      const pull = ok(await berth(['pull', image()], { ...cfg(), timeoutMs: 120_000 }))
      expect(pull.stdout).toContain(`Digest: ${last.split(' ')[2]}`)
      expect(ok(await berth(['image', 'inspect', '-f', '{{.Id}}', image()])).stdout.trim()).toBe(
        ok(await berth(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).stdout.trim(),
      )
    })

    it('refuses a pull after logout', async () => {
      ok(await berth(['logout', reg.addr], cfg()))
      ok(await berth(['rmi', image()]))
      const r = await berth(['pull', image()], cfg())
      expect(r.code).toBe(1)
      expect(r.stderr).toBe(`Error response from daemon: unauthorized: authentication required: authentication required for ${reg.addr}\n`)
    })

    it.skipIf(!dockerBin)('the docker CLI logs in, pushes and pulls through berthd', async () => {
      const env = { env: { DOCKER_CONFIG: path.join(dir, 'docker-config') } }
      const ref = `${reg.addr}/tools/${name}-docker:1`
      const denied = await docker(['login', '-u', USER, '--password-stdin', reg.addr], { ...env, input: 'nope\n' })
      expect(denied.code).toBe(1)
      expect(denied.stderr).toContain(`Error response from daemon: Get "http://${reg.addr}/v2/": unauthorized: incorrect username or password`)
      expect(ok(await docker(['login', '-u', USER, '--password-stdin', reg.addr], { ...env, input: `${PASSWORD}\n` })).stdout).toContain('Login Succeeded')
      ok(await docker(['tag', 'busybox', ref], env))
      const push = ok(await docker(['push', ref], { ...env, timeoutMs: 120_000 }))
      expect(push.stdout.trim().split('\n').at(-1)).toMatch(/^1: digest: sha256:[a-f0-9]{64} size: \d+$/)
      ok(await docker(['rmi', ref], env))
      const pull = ok(await docker(['pull', ref], { ...env, timeoutMs: 120_000 }))
      expect(pull.stdout).toContain(`Status: Downloaded newer image for ${ref}`)
      ok(await docker(['logout', reg.addr], env))
    })
  })

  describe.skipIf(noSkopeo !== undefined)('skopeo', () => {
    const pushed = () => `${reg.addr}/tools/skopeo:1`

    it('copies in and out with credentials', async () => {
      const layout = await ociLayout(dir)
      await run('skopeo', ['--insecure-policy', 'copy', '--dest-tls-verify=false', '--dest-creds', `${USER}:${PASSWORD}`, `oci:${layout}:1`, `docker://${pushed()}`], { timeout: 120_000 })
      const out = path.join(dir, 'skopeo-out')
      await run('skopeo', ['--insecure-policy', 'copy', '--src-tls-verify=false', '--src-creds', `${USER}:${PASSWORD}`, `docker://${pushed()}`, `dir:${out}`], { timeout: 120_000 })
      expect(existsSync(path.join(out, 'manifest.json'))).toBe(true)
      const denied = await run('skopeo', ['inspect', '--tls-verify=false', '--creds', `${USER}:nope`, `docker://${pushed()}`], { timeout: 60_000 }).catch((e: { stderr?: string }) => e)
      expect((denied as { stderr?: string }).stderr).toContain('unauthorized: incorrect username or password')
    })

    it('copies with an identity token (the refresh_token grant)', async () => {
      const res = await fetch(url('/auth/token'), {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'password', service: SERVICE, client_id: 'berth-test', access_type: 'offline', username: USER, password: PASSWORD }),
      })
      const { refresh_token: refresh } = (await res.json()) as { refresh_token: string }
      const authfile = path.join(dir, 'auth.json')
      await fsp.writeFile(authfile, JSON.stringify({ auths: { [reg.addr]: { auth: Buffer.from(`${USER}:`).toString('base64'), identitytoken: refresh } } }))
      const r = await run('skopeo', ['inspect', '--tls-verify=false', '--authfile', authfile, `docker://${pushed()}`], { timeout: 60_000 })
      expect((JSON.parse(r.stdout) as { Layers: string[] }).Layers).toHaveLength(1)
      await waitFor(() => /"POST \/auth\/token HTTP\/1.1" 200/.test(reg.log()), 10_000, 'the POST /auth/token access line')
    })
  })
})

describe.skipIf(skip !== undefined)('registry token auth with --anonymous-pull', () => {
  let dir = ''
  let reg: Served

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'berth-token-anon-'))
    await fsp.writeFile(path.join(dir, 'htpasswd'), `${USER}:${bcrypt!.hashSync(PASSWORD, 5)}\n`)
    reg = await serve(['--root', path.join(dir, 'root'), '--htpasswd', path.join(dir, 'htpasswd'), '--auth', 'token', '--anonymous-pull'])
  })
  afterAll(async () => {
    await reg?.stop()
    if (dir) await fsp.rm(dir, { recursive: true, force: true })
  })

  it('grants anonymous clients pull and nothing more', async () => {
    const r = await fetch(`http://${reg.addr}/auth/token?service=berth-registry&scope=repository:a:pull,push&scope=registry:catalog:*`)
    expect(claims(((await r.json()) as { token: string }).token)).toMatchObject({ sub: '', aud: 'berth-registry', access: [{ type: 'repository', name: 'a', actions: ['pull'] }] })
  })

  it.skipIf(noDaemon !== undefined || noSkopeo !== undefined)('lets berth pull without login, not push', async () => {
    const ref = `${reg.addr}/tools/anon:1`
    await run('skopeo', ['--insecure-policy', 'copy', '--dest-tls-verify=false', '--dest-creds', `${USER}:${PASSWORD}`, `oci:${await ociLayout(dir)}:1`, `docker://${ref}`], { timeout: 120_000 })
    const env = { env: { DOCKER_CONFIG: path.join(dir, 'empty-config') } }
    try {
      ok(await berth(['pull', ref], { ...env, timeoutMs: 120_000 }))
      const r = await berth(['push', ref], env)
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/^denied: requested access to the resource is denied: unauthorized: authentication required/)
    } finally {
      await berth(['rmi', '-f', ref])
    }
  })
})

describe.skipIf(skip !== undefined)('registry Basic auth with --anonymous-pull', () => {
  it('lets pulls through without credentials, not /v2/, pushes or the catalog', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'berth-basic-anon-'))
    await fsp.writeFile(path.join(dir, 'htpasswd'), `${USER}:${bcrypt!.hashSync(PASSWORD, 5)}\n`)
    const reg = await startRegistry({ root: path.join(dir, 'root'), addr: '127.0.0.1:0', htpasswd: path.join(dir, 'htpasswd'), anonymousPull: true })
    try {
      const tags = await fetch(`${reg.url}/v2/tools/app/tags/list`)
      expect(tags.status).toBe(404)
      expect(((await tags.json()) as { errors: Array<{ code: string }> }).errors[0]!.code).toBe('NAME_UNKNOWN')
      for (const [method, p] of [['GET', '/v2/'], ['POST', '/v2/tools/app/blobs/uploads/'], ['GET', '/v2/_catalog']] as const) {
        const r = await fetch(`${reg.url}${p}`, { method })
        expect(r.status, `${method} ${p}`).toBe(401)
        expect(r.headers.get('www-authenticate')).toBe('Basic realm="berth-registry"')
      }
      expect((await fetch(`${reg.url}/v2/tools/app/tags/list`, { headers: { Authorization: basic(USER, 'nope') } })).status).toBe(401)
      expect((await fetch(`${reg.url}/v2/_catalog`, { headers: { Authorization: basic(USER, PASSWORD) } })).status).toBe(200)
    } finally {
      await reg.close()
      await fsp.rm(dir, { recursive: true, force: true })
    }
  })
})

describe('berth registry serve: auth flags', () => {
  it('refuses flags that do not go together', async () => {
    for (const [args, msg] of [
      [['--auth', 'token'], '--auth needs --htpasswd'],
      [['--anonymous-pull'], '--anonymous-pull needs --htpasswd'],
      [['--htpasswd', '/dev/null', '--auth', 'jwt'], 'invalid --auth "jwt"'],
      [['--htpasswd', '/dev/null', '--token-service', 'x'], '--token-service needs --auth token'],
      [['--htpasswd', '/dev/null', '--auth', 'token', '--token-realm', 'ftp://x/'], 'invalid --token-realm'],
    ] as const) {
      const r = await run(process.execPath, [berthBin, 'registry', 'serve', ...args]).catch((e: { code?: number; stderr?: string }) => e)
      expect((r as { code?: number }).code, args.join(' ')).toBe(125)
      expect((r as { stderr?: string }).stderr, args.join(' ')).toContain(msg)
    }
  })
})

/** A one-file image as an OCI layout (tag 1), for skopeo to push. */
async function ociLayout(dir: string): Promise<string> {
  const { createHash } = await import('node:crypto')
  const { gzipSync } = await import('node:zlib')
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
  const layout = path.join(dir, 'layout')
  if (existsSync(path.join(layout, 'index.json'))) return layout
  const content = path.join(dir, 'content')
  await fsp.mkdir(content, { recursive: true })
  await fsp.writeFile(path.join(content, 'hello.txt'), 'hello from the token server\n')
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
  await fsp.mkdir(path.join(layout, 'blobs', 'sha256'), { recursive: true })
  for (const b of [layer, config, manifest]) await fsp.writeFile(path.join(layout, 'blobs', 'sha256', sha(b)), b)
  await fsp.writeFile(path.join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')
  await fsp.writeFile(path.join(layout, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha(manifest)}`, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': '1' } }],
  }))
  return layout
}
