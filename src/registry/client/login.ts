/**
 * Checking credentials against a registry, as `docker login` asks the daemon
 * to (moby registry/auth.go loginV2; read, nothing copied): ping `/v2/`, answer
 * its challenge (a Bearer token from the realm, or Basic), and require a 200.
 * Nothing is stored here: the CLI keeps credentials, the daemon only checks them.
 */
import http from 'node:http'
import { EngineError, type ErrorKind } from '../../errors/index.js'
import { DEFAULT_DOMAIN } from '../../oci/index.js'
import { basicAuthorization, parseChallenges, type Challenge } from './auth.js'
import { RegistryUnreachable, resolveEndpoint, type Endpoint, type RegistryClientOptions } from './client.js'
import { formatEntry, parseErrorBody, redact, RegistryError } from './errors.js'

export interface LoginOptions extends RegistryClientOptions {
  signal?: AbortSignal
}

/** What the Engine API's POST /auth answers on success. */
export interface LoginResult {
  status: 'Login Succeeded'
  /** A refresh token when the token server gave one (offline_token); usually empty. */
  identityToken: string
}

/** Names docker accepts for Docker Hub in `docker login`. */
const HUB_NAMES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io'])

/**
 * The registry domain a login server address names: docker's
 * ConvertToHostname (scheme and path dropped), with Hub's names folded to
 * `docker.io` so `https://index.docker.io/v1/` reaches registry-1.docker.io.
 */
export function loginDomain(serverAddress: string): string {
  const host = (serverAddress.trim() || 'https://index.docker.io/v1/').replace(/^https?:\/\//, '').split('/')[0] ?? ''
  return HUB_NAMES.has(host) ? DEFAULT_DOMAIN : host
}

/**
 * Verify `username`/`password` against the registry at `serverAddress`.
 * Throws an 'unauthorized' EngineError with docker's wording when the
 * registry refuses them, 'unavailable' when it cannot be reached.
 */
export async function login(serverAddress: string, username: string, password: string, opts: LoginOptions = {}): Promise<LoginResult> {
  const domain = loginDomain(serverAddress)
  if (domain === '' || /\s/.test(domain)) throw new EngineError('invalid-argument', `unable to parse server address: ${JSON.stringify(serverAddress)}`)
  const ep = resolveEndpoint(domain, opts)
  const url = `${ep.base}/v2/`
  const ping = await get(url, {}, opts)
  await ping.body?.cancel()
  if (ping.status === 200) return { status: 'Login Succeeded', identityToken: '' }
  if (ping.status !== 401) throw attemptFailed(url, ping.status)
  const challenges = parseChallenges(ping.headers.get('www-authenticate') ?? '')
  const auth = { username, password }
  let authorization: string | undefined
  let identityToken = ''
  const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm)
  if (bearer) {
    const t = await fetchToken(bearer, url, ep, auth, opts)
    authorization = `Bearer ${t.token}`
    identityToken = t.refreshToken
  } else if (challenges.some((c) => c.scheme === 'basic')) {
    authorization = basicAuthorization(auth)
  }
  const res = await get(url, authorization ? { authorization } : {}, opts)
  await res.body?.cancel()
  if (res.status !== 200) throw attemptFailed(url, res.status)
  return { status: 'Login Succeeded', identityToken }
}

/** docker's message when `/v2/` still refuses after the challenge was answered. */
function attemptFailed(url: string, status: number): RegistryError {
  const kind: ErrorKind = status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : 'unavailable'
  return new RegistryError(kind, `login attempt to ${redact(url)} failed with status: ${status} ${http.STATUS_CODES[status] ?? ''}`.trimEnd(), status, undefined)
}

async function get(url: string | URL, headers: Record<string, string>, opts: LoginOptions): Promise<Response> {
  try {
    // No redirects: credentials must not follow a ping to another origin.
    return await fetch(url, { headers: { 'user-agent': opts.userAgent ?? 'berth', ...headers }, redirect: 'manual', signal: opts.signal })
  } catch (err) {
    if (opts.signal?.aborted) throw err
    const cause = (err as { cause?: { message?: string } }).cause
    throw new RegistryUnreachable(`Get "${redact(String(url))}": ${cause?.message ?? (err as Error).message}`, err)
  }
}

/**
 * distribution's token flow with docker's login parameters (client_id,
 * offline_token, account) and no scope: the token only proves the credentials.
 */
async function fetchToken(ch: Challenge, pingUrl: string, ep: Endpoint, auth: { username: string; password: string }, opts: LoginOptions): Promise<{ token: string; refreshToken: string }> {
  let realm: URL
  try {
    realm = new URL(ch.params.realm as string)
  } catch {
    throw new EngineError('unavailable', `registry ${ep.domain} sent an invalid token realm`)
  }
  if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && ep.insecure)) {
    throw new EngineError('unavailable', `refusing token realm ${redact(realm.href)}: only https realms are used for secure registries`)
  }
  if (ch.params.service) realm.searchParams.set('service', ch.params.service)
  realm.searchParams.set('client_id', 'berth')
  realm.searchParams.set('offline_token', 'true')
  if (auth.username) realm.searchParams.set('account', auth.username)
  const basic = basicAuthorization(auth)
  const res = await get(realm, basic ? { authorization: basic } : {}, opts)
  const body = await res.text().catch(() => '')
  if (res.status === 401 || res.status === 403) {
    // As distribution's client: Hub answers {"details": "..."}, others the errors array.
    throw new RegistryError('unauthorized', `Get "${redact(pingUrl)}": unauthorized: ${tokenErrorDetail(body, res.status)}`, res.status, 'UNAUTHORIZED')
  }
  if (!res.ok) throw new RegistryError('unavailable', `Get "${redact(pingUrl)}": token server answered ${res.status} ${http.STATUS_CODES[res.status] ?? ''}`.trimEnd(), res.status, undefined)
  let v: { token?: unknown; access_token?: unknown; refresh_token?: unknown } = {}
  try {
    v = JSON.parse(body) as typeof v
  } catch {
    // Reported below as a missing token.
  }
  const token = typeof v.token === 'string' && v.token ? v.token : v.access_token
  if (typeof token !== 'string' || token === '') throw new EngineError('unavailable', `token server ${redact(realm.href)} answered without a token`)
  return { token, refreshToken: typeof v.refresh_token === 'string' ? v.refresh_token : '' }
}

/** The reason in a token server's refusal: Hub's `details`, an errors entry's message, or the status text. */
export function tokenErrorDetail(body: string, status: number): string {
  try {
    const v = JSON.parse(body) as { details?: unknown }
    if (typeof v.details === 'string' && v.details !== '') return v.details
  } catch {
    // Not JSON: fall through to the status text.
  }
  const entry = parseErrorBody(body)?.[0]
  if (entry) return entry.message || formatEntry(entry)
  return http.STATUS_CODES[status] ?? 'unauthorized'
}
