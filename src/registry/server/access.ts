/**
 * Who may make a request, in the two ways distribution offers: Basic auth
 * against htpasswd on every request, or Bearer tokens (docs/spec/auth/token.md)
 * that this server issues itself at /auth/token from the same htpasswd file.
 * The server asks `authorize` with the access the request needs
 * (scope.ts); a refusal is a RegistryError carrying its challenge.
 */
import type http from 'node:http'
import type { Logger } from '../../lib/index.js'
import type { HtpasswdAuth } from './auth.js'
import { parseBasicAuth } from './auth.js'
import { RegistryError } from './errors.js'
import { formatScopes, grantAccess, missingAccess, parseScopes, type ResourceActions } from './scope.js'
import { InvalidToken, type IssuedToken, type TokenIssuer } from './token.js'

type Req = http.IncomingMessage
type Res = http.ServerResponse

export const TOKEN_PATH = '/auth/token'

export interface Authorizer {
  /** Resolves when the request may go on; throws UNAUTHORIZED (with a challenge) or DENIED. */
  authorize(req: Req, need: readonly ResourceActions[]): Promise<void>
  /** Answer the auth's own endpoints; false when `pathname` is none of them. */
  serve(req: Req, res: Res, url: URL): Promise<boolean>
}

/** A request that needs nothing but pull on repositories: what anonymous pull lets through. */
function pullOnly(need: readonly ResourceActions[]): boolean {
  return need.length > 0 && need.every((n) => n.type === 'repository' && n.actions.every((a) => a === 'pull'))
}

/** distribution's 401 body lists what was needed, one entry per action. */
function needDetail(need: readonly ResourceActions[]): Array<{ Type: string; Name: string; Action: string }> | undefined {
  const d = need.flatMap((n) => n.actions.map((a) => ({ Type: n.type, Name: n.name, Action: a })))
  return d.length ? d : undefined
}

const quote = (s: string) => `"${s.replace(/["\\]/g, '\\$&')}"`

export class BasicAuthorizer implements Authorizer {
  constructor(
    private readonly htpasswd: HtpasswdAuth,
    private readonly opts: { anonymousPull?: boolean } = {},
  ) {}

  async authorize(req: Req, need: readonly ResourceActions[]): Promise<void> {
    const header = req.headers.authorization
    if (header === undefined && this.opts.anonymousPull && pullOnly(need)) return
    if ((await this.htpasswd.check(header)) !== null) return
    throw new RegistryError('UNAUTHORIZED', 'authentication required', needDetail(need), {
      headers: { 'WWW-Authenticate': `Basic realm=${quote(this.htpasswd.realm)}` },
    })
  }

  async serve(): Promise<boolean> {
    return false
  }
}

export interface TokenAuthorizerOptions {
  /** Realm URL for challenges; default `<scheme>://<request Host>/auth/token`. */
  realm?: string
  scheme: 'http' | 'https'
  /** host:port to name in the realm when a request has no usable Host header. */
  fallbackHost: () => string
  logger: Logger
}

/** Sizes well past any real token request; a bigger body is not one. */
const MAX_FORM_BYTES = 64 << 10
const HOST_RE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/

export class TokenAuthorizer implements Authorizer {
  constructor(
    private readonly issuer: TokenIssuer,
    private readonly htpasswd: HtpasswdAuth,
    private readonly opts: TokenAuthorizerOptions,
  ) {}

  private realm(req: Req): string {
    if (this.opts.realm) return this.opts.realm
    // The Host the client used reaches this server; the listen address may be 0.0.0.0.
    const host = req.headers.host !== undefined && HOST_RE.test(req.headers.host) ? req.headers.host : this.opts.fallbackHost()
    return `${this.opts.scheme}://${host}${TOKEN_PATH}`
  }

  /** The WWW-Authenticate value distribution's token access controller sends. */
  challenge(req: Req, need: readonly ResourceActions[], error?: 'invalid_token' | 'insufficient_scope'): string {
    let s = `Bearer realm=${quote(this.realm(req))},service=${quote(this.issuer.service)}`
    const scope = formatScopes(need)
    if (scope !== '') s += `,scope=${quote(scope)}`
    if (error) s += `,error=${quote(error)}`
    return s
  }

  async authorize(req: Req, need: readonly ResourceActions[]): Promise<void> {
    const unauthorized = (message: string, error?: 'invalid_token' | 'insufficient_scope') =>
      new RegistryError('UNAUTHORIZED', message, needDetail(need), { headers: { 'WWW-Authenticate': this.challenge(req, need, error) } })
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')
    if (!m) throw unauthorized('authentication required')
    let claims
    try {
      claims = this.issuer.verifyAccess(m[1]!)
    } catch (err) {
      if (!(err instanceof InvalidToken)) throw err
      this.opts.logger.info('refused token', { reason: err.message })
      throw unauthorized('authentication required', 'invalid_token')
    }
    const missing = missingAccess(claims.access, need)
    if (missing.length === 0) return
    // A user the policy would not give the access to gains nothing by asking again.
    const user = claims.sub === '' ? null : claims.sub
    if (user !== null && missingAccess(grantAccess(this.issuer.policy, user, missing), missing).length > 0) {
      throw new RegistryError('DENIED', 'requested access to the resource is denied', needDetail(missing))
    }
    throw unauthorized('authentication required', 'insufficient_scope')
  }

  async serve(req: Req, res: Res, url: URL): Promise<boolean> {
    if (url.pathname !== TOKEN_PATH) return false
    if (req.method === 'GET') await this.getToken(req, res, url.searchParams)
    else if (req.method === 'POST') await this.postToken(req, res)
    else throw new RegistryError('UNSUPPORTED', `method ${req.method ?? ''} not allowed here`, undefined, { status: 405, headers: { Allow: 'GET, POST' } })
    return true
  }

  private checkService(service: string | null): void {
    if (service !== null && service !== '' && service !== this.issuer.service) {
      throw badRequest(`unknown service ${JSON.stringify(service)}: this token server issues tokens for ${JSON.stringify(this.issuer.service)}`)
    }
  }

  /** token.md: Basic credentials if any (else anonymous), `scope` repeated, `service`. */
  private async getToken(req: Req, res: Res, q: URLSearchParams): Promise<void> {
    this.checkService(q.get('service'))
    let user: string | null = null
    if (req.headers.authorization !== undefined) {
      const cred = parseBasicAuth(req.headers.authorization)
      if (!cred || !(await this.htpasswd.verify(cred.user, cred.password))) throw this.badCredentials()
      user = cred.user
    }
    const issued = this.issuer.issueAccess(user, parseScopes(q.getAll('scope')))
    this.log(user, issued, 'GET')
    // docker login asks for offline_token: the refresh token it gets back is stored as the identity token.
    const refresh = user !== null && q.get('offline_token') === 'true' ? { refresh_token: this.issuer.issueRefresh(user) } : {}
    sendToken(res, { token: issued.token, access_token: issued.token, expires_in: issued.expiresIn, issued_at: issued.issuedAt, ...refresh })
  }

  /** oauth.md: the password and refresh_token grants; access_type=offline asks for a refresh token. */
  private async postToken(req: Req, res: Res): Promise<void> {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
    if (type !== 'application/x-www-form-urlencoded') throw badRequest('token requests are application/x-www-form-urlencoded forms')
    const form = new URLSearchParams(await readForm(req))
    const grant = form.get('grant_type')
    const service = form.get('service')
    if (!grant) throw badRequest('missing grant_type value')
    if (!service) throw badRequest('missing service value')
    if (!form.get('client_id')) throw badRequest('missing client_id value')
    this.checkService(service)
    const accessType = form.get('access_type') ?? 'online'
    if (accessType !== 'online' && accessType !== 'offline') throw badRequest(`unknown access_type value ${JSON.stringify(accessType)}`)
    let user: string
    let refresh: string | undefined
    if (grant === 'password') {
      const username = form.get('username')
      const password = form.get('password')
      if (!username) throw badRequest('missing username value')
      if (!password) throw badRequest('missing password value')
      if (!(await this.htpasswd.verify(username, password))) throw this.badCredentials()
      user = username
      if (accessType === 'offline') refresh = this.issuer.issueRefresh(user)
    } else if (grant === 'refresh_token') {
      const token = form.get('refresh_token')
      if (!token) throw badRequest('missing refresh_token value')
      try {
        user = this.issuer.verifyRefresh(token).sub
      } catch (err) {
        if (!(err instanceof InvalidToken)) throw err
        throw new RegistryError('UNAUTHORIZED', 'invalid refresh token')
      }
      if (!this.htpasswd.hasUser(user)) throw new RegistryError('UNAUTHORIZED', 'invalid refresh token')
      // The same refresh token goes back, as oauth.md says for this grant.
      refresh = token
    } else {
      throw badRequest(`unsupported grant_type value ${JSON.stringify(grant)}`)
    }
    const issued = this.issuer.issueAccess(user, parseScopes(form.getAll('scope')))
    this.log(user, issued, 'POST')
    sendToken(res, {
      access_token: issued.token,
      token: issued.token,
      scope: formatScopes(issued.access),
      expires_in: issued.expiresIn,
      issued_at: issued.issuedAt,
      ...(refresh !== undefined ? { refresh_token: refresh } : {}),
    })
  }

  private badCredentials(): RegistryError {
    return new RegistryError('UNAUTHORIZED', 'incorrect username or password', undefined, {
      headers: { 'WWW-Authenticate': `Basic realm=${quote(this.issuer.service)}` },
    })
  }

  private log(user: string | null, issued: IssuedToken, method: string): void {
    this.opts.logger.info('token issued', { method, account: user ?? '(anonymous)', access: formatScopes(issued.access) || '(none)' })
  }
}

function badRequest(message: string): RegistryError {
  return new RegistryError('UNSUPPORTED', message, undefined, { status: 400 })
}

async function readForm(req: Req): Promise<string> {
  const chunks: Buffer[] = []
  let n = 0
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length
    if (n > MAX_FORM_BYTES) throw new RegistryError('TOO_LARGE', `token request exceeds ${MAX_FORM_BYTES} bytes`)
    chunks.push(c)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function sendToken(res: Res, body: Record<string, unknown>): void {
  const b = Buffer.from(JSON.stringify(body))
  // RFC 6749 5.1: token responses are never cached.
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', Pragma: 'no-cache', 'Content-Length': b.length })
  res.end(b)
}
