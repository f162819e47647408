import { invalidArgument } from '../../../errors/index.js'
import type { Router } from '../../server/index.js'
import type { AuthConfig, AuthResponse } from '../../types/index.js'
import type { AuthBackend } from './backend.js'

/** Default server of `docker login` when the body names none. */
const INDEX_SERVER = 'https://index.docker.io/v1/'

/**
 * The credentials in a POST /auth body. Go's encoding/json matches keys
 * case-insensitively, so any spelling of docker's lower-case names is accepted;
 * `auth` (base64 user:password) stands in for a missing username and password.
 */
export function parseAuthBody(body: unknown): { serverAddress: string; username: string; password: string } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalidArgument('invalid JSON: expected an AuthConfig object')
  const o: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(body)) o[k.toLowerCase()] = v
  for (const k of ['username', 'password', 'auth', 'email', 'serveraddress', 'identitytoken', 'registrytoken'] as const) {
    if (o[k] !== undefined && o[k] !== null && typeof o[k] !== 'string') throw invalidArgument(`invalid JSON: ${k} must be a string`)
  }
  const c = o as AuthConfig
  let username = c.username ?? ''
  let password = c.password ?? ''
  if (!username && c.auth) {
    const plain = Buffer.from(c.auth, 'base64').toString('utf8')
    const colon = plain.indexOf(':')
    if (colon < 1) throw invalidArgument('invalid auth configuration: auth must be base64("username:password")')
    username = plain.slice(0, colon)
    password = plain.slice(colon + 1)
  }
  return { serverAddress: c.serveraddress || INDEX_SERVER, username, password }
}

/** POST /auth: check credentials with the registry; nothing is stored by the daemon. */
export function authRoutes(r: Router, b: AuthBackend): void {
  r.post('/auth', async (ctx) => {
    const req = parseAuthBody(await ctx.json())
    const { identityToken } = await b.login(req)
    const res: AuthResponse = { Status: 'Login Succeeded', IdentityToken: identityToken }
    ctx.send(200, res)
  })
}
