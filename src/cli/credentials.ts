/**
 * Registry credentials in docker's own config file ($DOCKER_CONFIG/config.json,
 * else ~/.docker/config.json), so logins made by docker work for berth and the
 * other way round. Entries are `auths[server].auth` = base64("user:password"),
 * or live in a credential helper (`credsStore`, `credHelpers`) run as
 * `docker-credential-<name> get|store|erase` with docker's stdin protocol.
 * Hand-written: the format is a small JSON file and the helper protocol is
 * three commands; the npm packages for it are unmaintained or shell out to docker.
 */
import { spawn } from 'node:child_process'
import { promises as fsp, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { writeFileAtomic } from '../lib/index.js'
import { normalizeReference } from './reference.js'

/** The key docker uses for Docker Hub, in config.json and in X-Registry-Auth. */
export const INDEX_SERVER = 'https://index.docker.io/v1/'

/** One `auths` entry as docker writes it (unknown keys are kept on rewrite). */
export interface AuthEntry {
  auth?: string
  identitytoken?: string
  /** Older or hand-written files; docker itself writes `auth`. */
  username?: string
  password?: string
  [key: string]: unknown
}

/** The parts of config.json berth reads; everything else is kept as it was. */
export interface DockerConfig {
  auths?: Record<string, AuthEntry>
  credsStore?: string
  credHelpers?: Record<string, string>
  [key: string]: unknown
}

export interface Credentials {
  serverAddress: string
  username: string
  password: string
  /** An OAuth refresh token from a token server (stored instead of a password). */
  identityToken?: string
}

export type HelperAction = 'get' | 'store' | 'erase'

/** Runs `docker-credential-<helper> <action>` with `input` on stdin. */
export type HelperRunner = (helper: string, action: HelperAction, input: string) => Promise<{ code: number; stdout: string; stderr: string }>

/** The directory of config.json: $DOCKER_CONFIG, else ~/.docker. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), '.docker')
}

/**
 * config.json of `dir`, as every part of the CLI that keeps something there
 * reads it (logins, contexts, default formats): a missing or empty file is an
 * empty config, a malformed one an error naming the file.
 */
export function loadDockerConfig(dir: string = configDir()): DockerConfig {
  const file = path.join(dir, 'config.json')
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw e
  }
  if (text.trim() === '') return {}
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (e) {
    throw new Error(`loading config file: ${file}: ${(e as Error).message}`, { cause: e })
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`loading config file: ${file}: not a JSON object`)
  return v as DockerConfig
}

/** Writes config.json whole, through a temp file and rename, mode 0600 (it may hold passwords); a symlinked file stays a symlink, as docker keeps it. */
export async function saveDockerConfig(dir: string, cfg: DockerConfig): Promise<void> {
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 })
  const file = path.join(dir, 'config.json')
  const target = await fsp.realpath(file).catch(() => file)
  await writeFileAtomic(target, JSON.stringify(cfg, null, '\t') + '\n', 0o600)
}

/**
 * The config.json key for a server address: docker's ConvertToHostname
 * (scheme and path dropped), Docker Hub's names kept as INDEX_SERVER.
 */
export function serverKey(serverAddress: string): string {
  const host = serverAddress.trim().replace(/^https?:\/\//, '').split('/')[0] ?? ''
  if (host === '' || host === 'docker.io' || host === 'index.docker.io' || host === 'registry-1.docker.io') return INDEX_SERVER
  return host
}

/** The config.json key for an image reference's registry (`busybox` → Hub's key). */
export function serverKeyForReference(reference: string): string | undefined {
  const ref = normalizeReference(reference)
  return ref ? serverKey(ref.name.split('/')[0] ?? '') : undefined
}

/** Spawns the helper from $PATH; a helper that is missing is reported the way docker reports it. */
export const spawnHelper: HelperRunner = (helper, action, input) =>
  new Promise((resolve, reject) => {
    const bin = `docker-credential-${helper}`
    const child = spawn(bin, [action], { stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'ENOENT' ? new Error(`error getting credentials - err: exec: "${bin}": executable file not found in $PATH, out: \`\``) : e)
    })
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }))
    child.stdin.on('error', () => {
      // A helper may exit before reading stdin; its exit status tells what happened.
    })
    child.stdin.end(input)
  })

/** docker-credential-helpers' answer when a server has no entry. */
const NOT_FOUND = /credentials not found/i

export interface CredentialStoreOptions {
  /** Directory holding config.json; defaults to configDir(). */
  dir?: string
  runHelper?: HelperRunner
}

/**
 * Reads and writes credentials the way the docker CLI does. Each call reads
 * config.json afresh: another CLI may have changed it since.
 */
export class CredentialStore {
  readonly dir: string
  private readonly runHelper: HelperRunner

  constructor(opts: CredentialStoreOptions = {}) {
    this.dir = opts.dir ?? configDir()
    this.runHelper = opts.runHelper ?? spawnHelper
  }

  get file(): string {
    return path.join(this.dir, 'config.json')
  }

  /** The parsed config file; a missing or empty file is an empty config. */
  async load(): Promise<DockerConfig> {
    return loadDockerConfig(this.dir)
  }

  async save(cfg: DockerConfig): Promise<void> {
    await saveDockerConfig(this.dir, cfg)
  }

  /** The helper configured for a server key, if any: credHelpers wins over credsStore. */
  helperFor(cfg: DockerConfig, key: string): string | undefined {
    return cfg.credHelpers?.[key] || cfg.credsStore || undefined
  }

  /** Stored credentials for a server address, or undefined. */
  async get(serverAddress: string): Promise<Credentials | undefined> {
    const cfg = await this.load()
    const key = serverKey(serverAddress)
    const helper = this.helperFor(cfg, key)
    if (helper) {
      const r = await this.runHelper(helper, 'get', key)
      if (r.code !== 0) {
        if (NOT_FOUND.test(r.stdout) || NOT_FOUND.test(r.stderr)) return undefined
        throw new Error(`error getting credentials - err: exit status ${r.code}, out: \`${(r.stdout || r.stderr).trim()}\``)
      }
      let v: { Username?: unknown; Secret?: unknown }
      try {
        v = JSON.parse(r.stdout) as typeof v
      } catch {
        throw new Error(`error getting credentials - err: docker-credential-${helper} printed no JSON`)
      }
      const username = typeof v.Username === 'string' ? v.Username : ''
      const secret = typeof v.Secret === 'string' ? v.Secret : ''
      if (!username && !secret) return undefined
      // Helpers mark an identity token with the username "<token>".
      if (username === '<token>') return { serverAddress: key, username: '', password: '', identityToken: secret }
      return { serverAddress: key, username, password: secret }
    }
    const entry = findEntry(cfg.auths ?? {}, key)
    return entry ? decodeEntry(key, entry) : undefined
  }

  /**
   * Every stored login (configfile.GetAllCredentials): the file's `auths` and
   * the registries with a credHelper, each read as `get` reads it.
   */
  async all(): Promise<Credentials[]> {
    const cfg = await this.load()
    const keys = new Set([...Object.keys(cfg.auths ?? {}), ...Object.keys(cfg.credHelpers ?? {})].map(serverKey))
    const out: Credentials[] = []
    for (const k of keys) {
      const c = await this.get(k)
      if (c) out.push(c)
    }
    return out
  }

  /** Stores credentials; returns where they went, for docker's "stored unencrypted" warning. */
  async store(c: Credentials): Promise<{ helper?: string; file?: string }> {
    const cfg = await this.load()
    const key = serverKey(c.serverAddress)
    const helper = this.helperFor(cfg, key)
    const auths = { ...(cfg.auths ?? {}) }
    if (helper) {
      const input = JSON.stringify(
        c.identityToken ? { ServerURL: key, Username: '<token>', Secret: c.identityToken } : { ServerURL: key, Username: c.username, Secret: c.password },
      )
      const r = await this.runHelper(helper, 'store', input)
      if (r.code !== 0) throw new Error(`error storing credentials - err: exit status ${r.code}, out: \`${(r.stdout || r.stderr).trim()}\``)
      // docker leaves an empty entry so `auths` still lists the login.
      auths[key] = {}
      await this.save({ ...cfg, auths })
      return { helper }
    }
    const entry: AuthEntry = { auth: Buffer.from(`${c.username}:${c.password}`).toString('base64') }
    if (c.identityToken) entry.identitytoken = c.identityToken
    auths[key] = entry
    await this.save({ ...cfg, auths })
    return { file: this.file }
  }

  /** Removes a server's credentials; false when there were none. */
  async erase(serverAddress: string): Promise<boolean> {
    const cfg = await this.load()
    const key = serverKey(serverAddress)
    const auths = { ...(cfg.auths ?? {}) }
    const keys = Object.keys(auths).filter((k) => k === key || serverKey(k) === key)
    const helper = this.helperFor(cfg, key)
    let found = keys.length > 0
    if (helper) {
      const r = await this.runHelper(helper, 'erase', key)
      if (r.code === 0) found = true
      else if (!NOT_FOUND.test(r.stdout) && !NOT_FOUND.test(r.stderr)) {
        throw new Error(`error erasing credentials - err: exit status ${r.code}, out: \`${(r.stdout || r.stderr).trim()}\``)
      }
    }
    if (keys.length) {
      for (const k of keys) delete auths[k]
      await this.save({ ...cfg, auths })
    }
    return found
  }
}

/** The entry for a key, also under a legacy spelling (`https://host/v1/`), as docker's file store looks. */
function findEntry(auths: Record<string, AuthEntry>, key: string): AuthEntry | undefined {
  if (auths[key]) return auths[key]
  for (const [k, v] of Object.entries(auths)) if (serverKey(k) === key) return v
  return undefined
}

function decodeEntry(key: string, e: AuthEntry): Credentials | undefined {
  let username = typeof e.username === 'string' ? e.username : ''
  let password = typeof e.password === 'string' ? e.password : ''
  if (typeof e.auth === 'string' && e.auth !== '') {
    const plain = Buffer.from(e.auth, 'base64').toString('utf8')
    const colon = plain.indexOf(':')
    if (colon < 0) throw new Error(`invalid auth configuration file: the auth entry for ${key} is not base64("username:password")`)
    username = plain.slice(0, colon)
    password = plain.slice(colon + 1)
  }
  const identityToken = typeof e.identitytoken === 'string' && e.identitytoken !== '' ? e.identitytoken : undefined
  if (!username && !password && !identityToken) return undefined
  return { serverAddress: key, username, password, ...(identityToken ? { identityToken } : {}) }
}

/**
 * X-Registry-Auth: base64url of docker's AuthConfig JSON; `e30=` ("{}") when
 * there is nothing to send, as the docker CLI sends for anonymous pulls.
 */
export function encodeAuthHeader(c: Credentials | undefined): string {
  if (!c) return 'e30='
  const body: Record<string, string> = { username: c.username, password: c.password, serveraddress: c.serverAddress }
  if (c.identityToken) body.identitytoken = c.identityToken
  return Buffer.from(JSON.stringify(body)).toString('base64url')
}

/**
 * The X-Registry-Auth header for pulling or pushing `reference`, from the
 * stored credentials for its registry. A broken config file or helper fails
 * the command, as it does docker's.
 */
export async function registryAuthHeader(reference: string, store: CredentialStore = new CredentialStore()): Promise<string> {
  const key = serverKeyForReference(reference)
  if (!key) return 'e30='
  return encodeAuthHeader(await store.get(key))
}
