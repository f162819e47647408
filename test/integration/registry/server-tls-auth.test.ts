/**
 * The registry's optional transport security: TLS with a certificate made
 * here by openssl, and htpasswd Basic auth (bcrypt, through the optional
 * bcryptjs package; without it the server must refuse to start).
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, promises as fsp, readFileSync } from 'node:fs'
import https from 'node:https'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRegistry, type RegistryServer } from '../../../src/registry/index.js'
import { loadBcrypt } from '../../helpers.js'

const noOpenssl = spawnSync('openssl', ['version']).status === 0 ? undefined : 'openssl is not installed'
if (noOpenssl) console.warn(`skipping registry TLS test: ${noOpenssl}`)

let dir: string
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'berth-registry-tls-'))
})
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true })
})

function get(url: string, ca: Buffer): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca }, (res) => {
        let body = ''
        res.on('data', (c: Buffer) => (body += c.toString()))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      })
      .on('error', reject)
  })
}

describe.skipIf(noOpenssl !== undefined)('registry server: TLS', () => {
  let reg: RegistryServer
  let ca: Buffer

  beforeAll(async () => {
    const cert = path.join(dir, 'cert.pem')
    const key = path.join(dir, 'key.pem')
    const r = spawnSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert,
    ])
    if (r.status !== 0) throw new Error(`openssl: ${r.stderr.toString()}`)
    ca = readFileSync(cert)
    reg = await startRegistry({ root: path.join(dir, 'tls-root'), addr: '127.0.0.1:0', tls: { cert, key } })
  })
  afterAll(async () => {
    await reg?.close()
  })

  it('serves the API over https', async () => {
    expect(reg.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    const r = await get(`${reg.url}/v2/`, ca)
    expect(r.status).toBe(200)
    expect(r.headers['docker-distribution-api-version']).toBe('registry/2.0')
  })
})

describe('registry server: htpasswd Basic auth', () => {
  it('refuses to start without bcryptjs, or checks passwords with it', async () => {
    const bcrypt = await loadBcrypt()
    const file = path.join(dir, 'htpasswd')
    const root = path.join(dir, 'auth-root')
    if (!bcrypt) {
      await fsp.writeFile(file, 'alice:$2y$05$' + 'a'.repeat(53) + '\n')
      await expect(startRegistry({ root, addr: '127.0.0.1:0', htpasswd: file })).rejects.toThrow(/bcryptjs/)
      console.warn('skipping password checks: the npm package bcryptjs is not installed')
      return
    }
    await fsp.writeFile(file, `alice:${bcrypt.hashSync('s3cret', 5)}\n`)
    const reg = await startRegistry({ root, addr: '127.0.0.1:0', htpasswd: file })
    try {
      const anon = await fetch(`${reg.url}/v2/`)
      expect(anon.status).toBe(401)
      expect(anon.headers.get('www-authenticate')).toBe('Basic realm="berth-registry"')
      const bad = await fetch(`${reg.url}/v2/`, { headers: { Authorization: 'Basic ' + Buffer.from('alice:nope').toString('base64') } })
      expect(bad.status).toBe(401)
      const good = await fetch(`${reg.url}/v2/`, { headers: { Authorization: 'Basic ' + Buffer.from('alice:s3cret').toString('base64') } })
      expect(good.status).toBe(200)
    } finally {
      await reg.close()
    }
  })

  it('refuses htpasswd entries that are not bcrypt', async () => {
    const file = path.join(dir, 'htpasswd-md5')
    await fsp.writeFile(file, 'bob:$apr1$abc$def\n')
    await expect(startRegistry({ root: path.join(dir, 'auth-root2'), addr: '127.0.0.1:0', htpasswd: file })).rejects.toThrow(/only bcrypt/)
  })
})
