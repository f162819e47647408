/**
 * The API over TCP (issue 10, access control): berthd refuses `-H tcp://`
 * without TLS unless TLS is turned off explicitly (--tls=false, then it warns
 * with dockerd's words); with --tlsverify only clients holding a certificate
 * signed by --tlscacert get in — the docker CLI and the berth CLI with
 * DOCKER_TLS_VERIFY/DOCKER_CERT_PATH — while no certificate, one from another
 * CA, or plain HTTP is refused. Certificates are made here with openssl; every
 * daemon is the test's own, on 127.0.0.1 and a free port.
 */
import { execFileSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { berth, docker, freePort, missing, ok, repo } from '../../helpers.js'
import { hasOpenssl, makeCa, makeCert, TestDaemon } from './helpers.js'

const skip = missing('root', 'daemon', 'docker-cli') ?? (hasOpenssl() ? undefined : 'openssl is not installed')
if (skip) console.warn(`skipping TLS tests: ${skip}`)

/** GET /_ping in plain HTTP. */
function plainPing(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/_ping', timeout: 10_000 }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
  })
}

describe.skipIf(skip !== undefined)('berthd on tcp', () => {
  const certs = mkdtempSync(path.join(tmpdir(), 'berth-tls-'))
  const dockerConfig = path.join(certs, 'docker-config')
  const f = (name: string) => path.join(certs, name)
  /** The docker CLI, with no certificates but those given. */
  const dockerTcp = (port: number, args: string[]) => docker(['-H', `tcp://127.0.0.1:${port}`, ...args], { env: { DOCKER_HOST: '', DOCKER_CONFIG: dockerConfig, DOCKER_CERT_PATH: dockerConfig } })

  beforeAll(() => {
    mkdirSync(dockerConfig)
    makeCa(certs, 'good')
    makeCa(certs, 'other')
    makeCert(certs, 'good', 'server', 'server')
    makeCert(certs, 'good', 'client', 'client')
    makeCert(certs, 'other', 'stranger', 'client')
  })
  afterAll(() => rmSync(certs, { recursive: true, force: true }))

  it('refuses to start on tcp without TLS, with dockerd\'s words', async () => {
    const port = await freePort()
    const d = new TestDaemon(['-H', `tcp://127.0.0.1:${port}`])
    try {
      expect(await d.start()).toBe(1)
      expect(d.log()).toContain(`berthd: refusing to listen on tcp://127.0.0.1:${port} without TLS: binding to IP address without --tlsverify is insecure and gives root access on this machine to everyone who has access to your network.`)
      expect(d.log()).toContain('\'--tls=false\'')
    } finally {
      await d.stop()
    }
  })

  it('refuses a TLS setup whose certificate cannot be read', async () => {
    const port = await freePort()
    const d = new TestDaemon(['-H', `tcp://127.0.0.1:${port}`, '--tlsverify', '--tlscacert', f('good-ca.pem'), '--tlscert', f('missing.pem'), '--tlskey', f('server-key.pem')])
    try {
      expect(await d.start()).toBe(1)
      expect(d.log()).toMatch(/berthd: invalid TLS configuration: could not read certificate .*missing\.pem/)
    } finally {
      await d.stop()
    }
  })

  describe('with --tlsverify', () => {
    let port = 0
    let d: TestDaemon
    beforeAll(async () => {
      port = await freePort()
      // The unix socket stays for the test's own checks; daemon.json takes the TLS keys.
      d = new TestDaemon([], (t) => ({
        hosts: [`unix://${t.sock}`, `tcp://127.0.0.1:${port}`],
        tlsverify: true, tlscacert: f('good-ca.pem'), tlscert: f('server-cert.pem'), tlskey: f('server-key.pem'),
      }))
      expect(await d.start(), d.log()).toBe('started')
    })
    afterAll(async () => {
      await d?.berth(['rm', '-f', 'tls-echo'])
      await d?.stop()
    })

    it('lets in the docker CLI with a client certificate from the CA', async () => {
      const r = ok(await dockerTcp(port, ['--tlsverify', '--tlscacert', f('good-ca.pem'), '--tlscert', f('client-cert.pem'), '--tlskey', f('client-key.pem'), 'version', '--format', '{{.Server.Version}}']))
      expect(r.stdout.trim()).toBe('0.1.0')
    })

    it('carries attach streams over TLS', async () => {
      execFileSync('sh', ['-c', `"${repo}/scripts/busybox-rootfs" | "${repo}/bin/berth" import -c 'CMD ["sh"]' - busybox:latest`], { env: { ...process.env, BERTH_HOST: `unix://${d.sock}` }, stdio: 'pipe' })
      const r = ok(await dockerTcp(port, ['--tlsverify', '--tlscacert', f('good-ca.pem'), '--tlscert', f('client-cert.pem'), '--tlskey', f('client-key.pem'), 'run', '--rm', '--name', 'tls-echo', 'busybox', 'echo', 'over tls']))
      expect(r.stdout).toBe('over tls\n')
    })

    it('refuses a client without a certificate', async () => {
      const r = await dockerTcp(port, ['--tlsverify', '--tlscacert', f('good-ca.pem'), 'version', '--format', '{{.Server.Version}}'])
      expect(r.code).not.toBe(0)
      expect(r.stdout).not.toContain('0.1.0')
    })

    it('refuses a client certificate from another CA', async () => {
      const r = await dockerTcp(port, ['--tlsverify', '--tlscacert', f('good-ca.pem'), '--tlscert', f('stranger-cert.pem'), '--tlskey', f('stranger-key.pem'), 'version', '--format', '{{.Server.Version}}'])
      expect(r.code).not.toBe(0)
      expect(r.stdout).not.toContain('0.1.0')
    })

    it('refuses plain HTTP on the TLS port', async () => {
      await expect(plainPing(port)).rejects.toThrow()
      const r = await dockerTcp(port, ['version', '--format', '{{.Server.Version}}'])
      expect(r.code).not.toBe(0)
    })

    it('lets in the berth CLI with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH', async () => {
      const dir = path.join(certs, 'berth-certs')
      mkdirSync(dir, { recursive: true })
      copyFileSync(f('good-ca.pem'), path.join(dir, 'ca.pem'))
      copyFileSync(f('client-cert.pem'), path.join(dir, 'cert.pem'))
      copyFileSync(f('client-key.pem'), path.join(dir, 'key.pem'))
      const env = { BERTH_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir }
      const r = ok(await berth(['version', '--format', '{{.Server.Version}}'], { env }))
      expect(r.stdout.trim()).toBe('0.1.0')
      // The same CLI without the client certificate is refused.
      copyFileSync(f('stranger-cert.pem'), path.join(dir, 'cert.pem'))
      copyFileSync(f('stranger-key.pem'), path.join(dir, 'key.pem'))
      const bad = await berth(['ps'], { env })
      expect(bad.code).not.toBe(0)
      expect(bad.stderr).toContain(`error during connect: tcp://127.0.0.1:${port}: `)
    })
  })

  it('listens in plain HTTP with --tls=false, warning loudly', async () => {
    const port = await freePort()
    const d = new TestDaemon(['--tls=false'], (t) => ({ hosts: [`unix://${t.sock}`, `tcp://127.0.0.1:${port}`] }))
    try {
      expect(await d.start(), d.log()).toBe('started')
      expect(d.log()).toContain('Binding to IP address without --tlsverify is insecure and gives root access on this machine to everyone who has access to your network.')
      expect(await plainPing(port)).toBe(200)
      const r = ok(await dockerTcp(port, ['version', '--format', '{{.Server.Version}}']))
      expect(r.stdout.trim()).toBe('0.1.0')
    } finally {
      await d.stop()
    }
  })
})
