import { mkdtempSync, promises as fsp, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  configDir, CredentialStore, encodeAuthHeader, INDEX_SERVER, registryAuthHeader, serverKey, serverKeyForReference,
  type HelperAction, type HelperRunner,
} from './credentials.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'berth-creds-'))
})
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true })
})

const b64 = (s: string) => Buffer.from(s).toString('base64')
const writeConfig = (cfg: unknown) => fsp.writeFile(path.join(dir, 'config.json'), JSON.stringify(cfg))
const readConfig = async () => JSON.parse(await fsp.readFile(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>

describe('server keys', () => {
  it('normalize addresses as docker does', () => {
    expect(serverKey('127.0.0.1:5000')).toBe('127.0.0.1:5000')
    expect(serverKey('http://127.0.0.1:5000/v2/')).toBe('127.0.0.1:5000')
    expect(serverKey('https://index.docker.io/v1/')).toBe(INDEX_SERVER)
    expect(serverKey('docker.io')).toBe(INDEX_SERVER)
    expect(serverKeyForReference('busybox')).toBe(INDEX_SERVER)
    expect(serverKeyForReference('127.0.0.1:5000/tools/x:1')).toBe('127.0.0.1:5000')
  })
  it('find config.json through DOCKER_CONFIG, else ~/.docker', () => {
    expect(configDir({ DOCKER_CONFIG: '/x' })).toBe('/x')
    expect(configDir({ HOME: '/home/u' })).toBe('/home/u/.docker')
  })
})

describe('CredentialStore with config.json', () => {
  it('reads docker-written entries, legacy keys included', async () => {
    await writeConfig({ auths: { 'reg.example:5000': { auth: b64('alice:pa:ss') }, 'https://old.example/v1/': { auth: b64('bob:x') } }, psFormat: 'table' })
    const s = new CredentialStore({ dir })
    expect(await s.get('reg.example:5000')).toEqual({ serverAddress: 'reg.example:5000', username: 'alice', password: 'pa:ss' })
    expect(await s.get('old.example')).toMatchObject({ username: 'bob', password: 'x' })
    expect(await s.get('none.example')).toBeUndefined()
  })

  it('writes atomically with mode 0600 and keeps other keys', async () => {
    await writeConfig({ auths: {}, psFormat: 'table' })
    await fsp.chmod(path.join(dir, 'config.json'), 0o644)
    const s = new CredentialStore({ dir })
    expect(await s.store({ serverAddress: '127.0.0.1:5000', username: 'u', password: 'p' })).toEqual({ file: path.join(dir, 'config.json') })
    expect(await readConfig()).toEqual({ auths: { '127.0.0.1:5000': { auth: b64('u:p') } }, psFormat: 'table' })
    expect(statSync(path.join(dir, 'config.json')).mode & 0o777).toBe(0o600)
    // No temp file is left behind.
    expect(await fsp.readdir(dir)).toEqual(['config.json'])
  })

  it('creates the directory and file when missing', async () => {
    const s = new CredentialStore({ dir: path.join(dir, 'new') })
    await s.store({ serverAddress: 'r:1', username: 'u', password: 'p' })
    expect(await s.get('r:1')).toMatchObject({ username: 'u', password: 'p' })
  })

  it('erases every spelling of a server and reports absence', async () => {
    await writeConfig({ auths: { 'r:1': { auth: b64('u:p') }, 'https://r:1': { auth: b64('u:p') }, 'other:2': { auth: b64('a:b') } } })
    const s = new CredentialStore({ dir })
    expect(await s.erase('r:1')).toBe(true)
    expect(await readConfig()).toEqual({ auths: { 'other:2': { auth: b64('a:b') } } })
    expect(await s.erase('r:1')).toBe(false)
  })

  it('rejects a config file that is not JSON', async () => {
    await fsp.writeFile(path.join(dir, 'config.json'), '{nope')
    await expect(new CredentialStore({ dir }).get('r:1')).rejects.toThrow(/loading config file/)
  })
})

describe('CredentialStore with helpers', () => {
  function fakeHelper(answers: Partial<Record<HelperAction, { code: number; stdout: string }>>): { run: HelperRunner; calls: Array<[string, HelperAction, string]> } {
    const calls: Array<[string, HelperAction, string]> = []
    const run: HelperRunner = async (helper, action, input) => {
      calls.push([helper, action, input])
      return { stderr: '', ...(answers[action] ?? { code: 0, stdout: '' }) }
    }
    return { run, calls }
  }

  it('stores through credsStore with JSON on stdin and leaves an empty auths entry', async () => {
    await writeConfig({ credsStore: 'pass' })
    const h = fakeHelper({})
    const s = new CredentialStore({ dir, runHelper: h.run })
    expect(await s.store({ serverAddress: '127.0.0.1:5000', username: 'u', password: 'p' })).toEqual({ helper: 'pass' })
    expect(h.calls).toEqual([['pass', 'store', JSON.stringify({ ServerURL: '127.0.0.1:5000', Username: 'u', Secret: 'p' })]])
    expect(await readConfig()).toEqual({ credsStore: 'pass', auths: { '127.0.0.1:5000': {} } })
  })

  it('gets through credHelpers before credsStore, with the server on stdin', async () => {
    await writeConfig({ credsStore: 'pass', credHelpers: { 'r:1': 'ecr' } })
    const h = fakeHelper({ get: { code: 0, stdout: JSON.stringify({ ServerURL: 'r:1', Username: 'AWS', Secret: 's3' }) } })
    const s = new CredentialStore({ dir, runHelper: h.run })
    expect(await s.get('r:1')).toEqual({ serverAddress: 'r:1', username: 'AWS', password: 's3' })
    expect(h.calls).toEqual([['ecr', 'get', 'r:1']])
  })

  it('treats "credentials not found" as no login and other failures as errors', async () => {
    await writeConfig({ credsStore: 'pass' })
    const missing = new CredentialStore({ dir, runHelper: fakeHelper({ get: { code: 1, stdout: 'credentials not found in native keychain\n' } }).run })
    expect(await missing.get('r:1')).toBeUndefined()
    const broken = new CredentialStore({ dir, runHelper: fakeHelper({ get: { code: 1, stdout: 'gpg: decryption failed' } }).run })
    await expect(broken.get('r:1')).rejects.toThrow(/gpg: decryption failed/)
  })

  it('erases through the helper and the auths entry', async () => {
    await writeConfig({ credsStore: 'pass', auths: { 'r:1': {} } })
    const h = fakeHelper({})
    const s = new CredentialStore({ dir, runHelper: h.run })
    expect(await s.erase('r:1')).toBe(true)
    expect(h.calls).toEqual([['pass', 'erase', 'r:1']])
    expect(await readConfig()).toEqual({ credsStore: 'pass', auths: {} })
  })

  it('maps the "<token>" username to an identity token', async () => {
    await writeConfig({ credsStore: 'pass' })
    const s = new CredentialStore({ dir, runHelper: fakeHelper({ get: { code: 0, stdout: JSON.stringify({ Username: '<token>', Secret: 'refresh' }) } }).run })
    expect(await s.get('r:1')).toEqual({ serverAddress: 'r:1', username: '', password: '', identityToken: 'refresh' })
  })
})

describe('X-Registry-Auth', () => {
  it('is base64url JSON of username, password and serveraddress', () => {
    const h = encodeAuthHeader({ serverAddress: '127.0.0.1:5000', username: 'u', password: 'p?>>' })
    expect(h).not.toMatch(/[+/=]/)
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ username: 'u', password: 'p?>>', serveraddress: '127.0.0.1:5000' })
  })
  it('is e30= without credentials', async () => {
    expect(encodeAuthHeader(undefined)).toBe('e30=')
    expect(await registryAuthHeader('127.0.0.1:5000/x:1', new CredentialStore({ dir }))).toBe('e30=')
  })
  it('comes from the stored login for the reference\'s registry', async () => {
    await writeConfig({ auths: { '127.0.0.1:5000': { auth: b64('u:p') } } })
    const h = await registryAuthHeader('127.0.0.1:5000/tools/x:1', new CredentialStore({ dir }))
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ username: 'u', password: 'p', serveraddress: '127.0.0.1:5000' })
    expect(await registryAuthHeader('busybox', new CredentialStore({ dir }))).toBe('e30=')
  })
})
