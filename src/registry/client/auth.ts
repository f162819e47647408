/**
 * Registry authentication: WWW-Authenticate challenges (RFC 7235 syntax, as
 * distribution's registry/client/auth/challenge does) and docker's
 * X-Registry-Auth header. Hand-written: the grammar is small and no npm
 * package parses docker's header or the distribution token flow.
 */
import { invalidArgument } from '../../errors/index.js'

export interface Challenge {
  /** Lower-cased scheme: 'bearer' or 'basic'. */
  scheme: string
  /** Parameter names lower-cased, values unquoted. */
  params: Record<string, string>
}

/** The credentials a client sends (docker's registry.AuthConfig, JSON names lower-cased). */
export interface RegistryAuth {
  username?: string
  password?: string
  /** An OAuth refresh token from `docker login` against a token server. */
  identityToken?: string
  /** A bearer token to send as is. */
  registryToken?: string
  serverAddress?: string
}

const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]+/y

/**
 * Parse a WWW-Authenticate header value into its challenges:
 * `Bearer realm="https://auth",service="reg",scope="repository:x:pull"`.
 * Unknown or malformed parts end the parse instead of failing it: the server's
 * header is a hint, and a 401 without a usable challenge is reported by the caller.
 */
export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = []
  let i = 0
  const s = header
  const skipWs = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++
  }
  const token = (): string | undefined => {
    TOKEN.lastIndex = i
    const m = TOKEN.exec(s)
    if (!m) return undefined
    i = TOKEN.lastIndex
    return m[0]
  }
  const quoted = (): string | undefined => {
    if (s[i] !== '"') return undefined
    let v = ''
    for (i++; i < s.length; i++) {
      const c = s[i] as string
      if (c === '\\' && i + 1 < s.length) v += s[++i]
      else if (c === '"') {
        i++
        return v
      } else v += c
    }
    return undefined
  }
  for (;;) {
    skipWs()
    while (s[i] === ',') {
      i++
      skipWs()
    }
    const scheme = token()
    if (scheme === undefined) break
    const ch: Challenge = { scheme: scheme.toLowerCase(), params: {} }
    out.push(ch)
    for (;;) {
      skipWs()
      const save = i
      const name = token()
      if (name === undefined) break
      skipWs()
      if (s[i] !== '=') {
        // The next challenge's scheme, not a parameter.
        i = save
        break
      }
      i++
      skipWs()
      const value = s[i] === '"' ? quoted() : token()
      if (value === undefined) return out
      ch.params[name.toLowerCase()] = value
      skipWs()
      if (s[i] === ',') i++
    }
  }
  return out
}

/**
 * Decode X-Registry-Auth: base64url (docker) or standard base64 (older
 * clients) of a JSON AuthConfig. Empty, `e30=` ("{}") and a header without
 * credentials give undefined: an anonymous pull.
 */
export function decodeRegistryAuth(header: string | undefined | null): RegistryAuth | undefined {
  if (!header || header.trim() === '') return undefined
  let json: unknown
  try {
    json = JSON.parse(Buffer.from(header.trim().replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'))
  } catch {
    throw invalidArgument('invalid X-Registry-Auth header: not base64-encoded JSON')
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw invalidArgument('invalid X-Registry-Auth header: not a JSON object')
  // Go's encoding/json matches keys case-insensitively, so clients send either case.
  const o: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(json)) if (typeof v === 'string' && v !== '') o[k.toLowerCase()] = v
  const auth: RegistryAuth = {}
  let username = o.username as string | undefined
  let password = o.password as string | undefined
  if (o.auth !== undefined && username === undefined) {
    // `auth` is base64("user:password"), as in ~/.docker/config.json.
    const plain = Buffer.from(o.auth as string, 'base64').toString('utf8')
    const colon = plain.indexOf(':')
    if (colon > 0) {
      username = plain.slice(0, colon)
      password = plain.slice(colon + 1)
    }
  }
  if (username !== undefined) auth.username = username
  if (password !== undefined) auth.password = password
  if (o.identitytoken !== undefined) auth.identityToken = o.identitytoken as string
  if (o.registrytoken !== undefined) auth.registryToken = o.registrytoken as string
  if (o.serveraddress !== undefined) auth.serverAddress = o.serveraddress as string
  return auth.username || auth.identityToken || auth.registryToken ? auth : undefined
}

/** `Basic base64(user:password)`, or undefined without a username. */
export function basicAuthorization(auth: RegistryAuth | undefined): string | undefined {
  if (!auth?.username) return undefined
  return 'Basic ' + Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64')
}

/**
 * The credentials for one registry out of X-Registry-Config (POST /build:
 * base64 JSON of registry → AuthConfig, keyed as in config.json, Docker Hub
 * as `https://index.docker.io/v1/`).
 */
export function registryConfigAuth(header: string | undefined | null, domain: string): RegistryAuth | undefined {
  if (!header || header.trim() === '') return undefined
  let json: unknown
  try {
    json = JSON.parse(Buffer.from(header.trim().replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'))
  } catch {
    throw invalidArgument('invalid X-Registry-Config header: not base64-encoded JSON')
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) return undefined
  const hub = domain === 'docker.io'
  for (const [key, value] of Object.entries(json as Record<string, unknown>)) {
    const host = key.replace(/^https?:\/\//, '').replace(/\/.*$/, '')
    const match = hub ? ['index.docker.io', 'docker.io', 'registry-1.docker.io'].includes(host) : host === domain
    if (match && value && typeof value === 'object') return decodeRegistryAuth(Buffer.from(JSON.stringify(value)).toString('base64'))
  }
  return undefined
}
