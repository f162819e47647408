/**
 * Registry credentials never leak (issue 10, access control): a login with a
 * password, a wrong one, a push and pulls that carry X-Registry-Auth, an
 * import from a URL with user:password in it — then neither berthd's debug
 * log nor any command's output, error or `inspect` holds the password (plain,
 * or base64 as in Basic auth). Against `berth registry serve --htpasswd` on
 * loopback and a berthd of the test's own (so the log is only this test's).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { berthBin, type CmdResult, docker, dockerBin, loadBcrypt, missing, ok, repo } from '../../helpers.js'
import { TestDaemon } from './helpers.js'

const bcrypt = await loadBcrypt()
const skip = missing('root', 'daemon') ?? (bcrypt ? undefined : 'the npm package bcryptjs is not installed')
if (skip) console.warn(`skipping secrets tests: ${skip}`)

const USER = 'alice'
const PASSWORD = `Pw-${Math.random().toString(36).slice(2, 10)}-right`
const WRONG = `Pw-${Math.random().toString(36).slice(2, 10)}-wrong`
/** Every form a secret could take on the way: plain, in a Basic header, alone in base64. */
const forms = (pw: string) => [pw, Buffer.from(`${USER}:${pw}`).toString('base64'), Buffer.from(pw).toString('base64').replace(/=+$/, '')]

describe.skipIf(skip !== undefined)('registry credentials', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-secrets-'))
  const config = path.join(dir, 'config')
  const wrongConfig = path.join(dir, 'wrong-config')
  let server: ChildProcess | undefined
  let addr = ''
  const d = new TestDaemon()
  const outputs: CmdResult[] = []
  const run = async (args: string[], o: { env?: Record<string, string>; input?: string } = {}) => {
    const r = await d.berth(args, { ...o, env: { DOCKER_CONFIG: config, ...o.env } })
    outputs.push(r)
    return r
  }

  beforeAll(async () => {
    await fsp.writeFile(path.join(dir, 'htpasswd'), `${USER}:${bcrypt!.hashSync(PASSWORD, 5)}\n`)
    let log = ''
    server = spawn(process.execPath, [berthBin, 'registry', 'serve', '--addr', '127.0.0.1:0', '--root', path.join(dir, 'root'), '--htpasswd', path.join(dir, 'htpasswd')], { stdio: ['ignore', 'pipe', 'pipe'] })
    server.stdout!.on('data', (b: Buffer) => (log += b.toString()))
    server.stderr!.on('data', (b: Buffer) => (log += b.toString()))
    const end = Date.now() + 20_000
    while (!addr) {
      const m = /listening on (127\.0\.0\.1:\d+)/.exec(log)
      if (m) addr = m[1]!
      else if (server.exitCode !== null || Date.now() > end) throw new Error(`registry did not start:\n${log}`)
      else await new Promise((r) => setTimeout(r, 50))
    }
    expect(await d.start(), d.log()).toBe('started')
    execFileSync('sh', ['-c', `"${repo}/scripts/busybox-rootfs" | "${berthBin}" import -c 'CMD ["sh"]' - busybox:latest`], { env: { ...process.env, BERTH_HOST: `unix://${d.sock}` }, stdio: 'pipe' })
    await fsp.mkdir(wrongConfig)
    await fsp.writeFile(path.join(wrongConfig, 'config.json'), JSON.stringify({ auths: { [addr]: { auth: Buffer.from(`${USER}:${WRONG}`).toString('base64') } } }))
  })

  afterAll(async () => {
    await d.stop()
    if (server && server.exitCode === null) {
      server.kill('SIGTERM')
      await new Promise((r) => server!.once('exit', r))
    }
    await fsp.rm(dir, { recursive: true, force: true })
  })

  it('a wrong password is refused without being repeated', async () => {
    const r = await run(['login', '-u', USER, '--password-stdin', addr], { input: `${WRONG}\n` })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('401 Unauthorized')
  })

  it('login, push and pull carry the password', async () => {
    ok(await run(['login', '-u', USER, '--password-stdin', addr], { input: `${PASSWORD}\n` }))
    const image = `${addr}/secrets/busybox:1`
    ok(await run(['tag', 'busybox:latest', image]))
    ok(await run(['push', image]))
    ok(await run(['rmi', image]))
    ok(await run(['pull', image]))
    ok(await run(['image', 'inspect', image]))
    ok(await run(['system', 'info']))
  })

  it('a pull with wrong stored credentials fails without naming them', async () => {
    const r = await run(['pull', `${addr}/secrets/busybox:1`], { env: { DOCKER_CONFIG: wrongConfig } })
    expect(r.code).not.toBe(0)
  })

  it('import and build URLs with user:password fail without naming them', async () => {
    const imp = await run(['import', `http://${USER}:${PASSWORD}@127.0.0.1:1/rootfs.tar`])
    expect(imp.code).not.toBe(0)
    expect(imp.stderr).toContain(`http://${USER}:xxxxx@127.0.0.1:1/rootfs.tar`)
    const build = await run(['build', `http://${USER}:${PASSWORD}@127.0.0.1:1/context.tar`])
    expect(build.code).not.toBe(0)
    expect(build.stderr).toContain(`http://${USER}:xxxxx@127.0.0.1:1/context.tar`)
  })

  it.skipIf(!dockerBin)('the docker CLI logs in, pushes and fails the same way', async () => {
    const env = { DOCKER_HOST: `unix://${d.sock}`, DOCKER_CONFIG: path.join(dir, 'docker-config') }
    const denied = await docker(['login', '-u', USER, '--password-stdin', addr], { env, input: `${WRONG}\n` })
    outputs.push(denied)
    expect(denied.code).toBe(1)
    const r = ok(await docker(['login', '-u', USER, '--password-stdin', addr], { env, input: `${PASSWORD}\n` }))
    outputs.push(r)
    outputs.push(ok(await docker(['push', `${addr}/secrets/busybox:1`], { env })))
  })

  it('appear nowhere: not in berthd\'s debug log, the commands\' output or errors', () => {
    const log = d.log()
    expect(log).toContain('"level":"debug"')
    for (const secret of [...forms(PASSWORD), ...forms(WRONG)]) {
      expect(log).not.toContain(secret)
      for (const o of outputs) {
        expect(o.stdout).not.toContain(secret)
        expect(o.stderr).not.toContain(secret)
      }
    }
  })
})
