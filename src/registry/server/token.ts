/**
 * The registry's own token issuer (distribution docs/spec/auth/token.md,
 * jwt.md, oauth.md): JWTs signed with ES256 carrying distribution's claims
 * (iss, sub, aud = service, exp, nbf, iat, jti, access), checked by the same
 * process that signs them. Refresh tokens are JWTs of the same key, told
 * apart by a `use` claim, so nothing is stored per token; rotating the key
 * file revokes everything at once.
 *
 * Written over node:crypto rather than `jose`: one algorithm, issued and
 * verified by ourselves, is a compact JWS of three base64url parts and one
 * `crypto.sign` call (ES256 with `dsaEncoding: 'ieee-p1363'` gives JOSE's
 * r||s signature), so a dependency would add no safety, only surface.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto'
import { promises as fsp } from 'node:fs'
import path from 'node:path'
import { syncDir } from '../../lib/index.js'
import { grantAccess, type AccessPolicy, type ResourceActions } from './scope.js'

/** Clock skew tolerated on exp and nbf, as distribution's verifier (token.go Leeway). */
export const LEEWAY_SEC = 60
export const DEFAULT_ACCESS_TTL_SEC = 300
export const DEFAULT_REFRESH_TTL_SEC = 90 * 24 * 3600
export const DEFAULT_ISSUER = 'berth-registry'

interface CommonClaims {
  iss: string
  /** The user; '' for an anonymous token. */
  sub: string
  aud: string
  exp: number
  nbf: number
  iat: number
  jti: string
}

export interface AccessClaims extends CommonClaims {
  access: ResourceActions[]
}

export interface RefreshClaims extends CommonClaims {
  use: 'refresh'
}

/** A token that does not verify: bad shape, signature, issuer, audience or time. */
export class InvalidToken extends Error {
  constructor(reason: string) {
    super(`invalid token: ${reason}`)
    this.name = 'InvalidToken'
  }
}

const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url')
const B64U_RE = /^[A-Za-z0-9_-]+$/

/** An ES256 (P-256) key pair; `kid` is its RFC 7638 JWK thumbprint, as distribution v3 names trusted keys. */
export class SigningKey {
  private constructor(
    private readonly privateKey: KeyObject,
    readonly publicKey: KeyObject,
    readonly kid: string,
  ) {}

  static generate(): SigningKey {
    return SigningKey.fromKeyObject(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)
  }

  static fromPem(pem: string): SigningKey {
    return SigningKey.fromKeyObject(createPrivateKey(pem))
  }

  private static fromKeyObject(priv: KeyObject): SigningKey {
    if (priv.asymmetricKeyType !== 'ec' || priv.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new Error('token signing key must be an EC P-256 private key')
    }
    const pub = createPublicKey(priv)
    const jwk = pub.export({ format: 'jwk' })
    // RFC 7638: the required members, lexicographic order, no whitespace.
    const thumb = createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest()
    return new SigningKey(priv, pub, b64u(thumb))
  }

  toPem(): string {
    return this.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
  }

  /** A compact JWS of `claims`. */
  sign(claims: object): string {
    const input = `${b64u(JSON.stringify({ typ: 'JWT', alg: 'ES256', kid: this.kid }))}.${b64u(JSON.stringify(claims))}`
    const sig = sign('sha256', Buffer.from(input), { key: this.privateKey, dsaEncoding: 'ieee-p1363' })
    return `${input}.${b64u(sig)}`
  }

  /** The claims of a token this key signed; throws InvalidToken otherwise. Says nothing about time or audience. */
  verify(token: string): Record<string, unknown> {
    const parts = token.split('.')
    if (parts.length !== 3 || !parts.every((p) => B64U_RE.test(p))) throw new InvalidToken('not a compact JWS')
    const [h, p, s] = parts as [string, string, string]
    let header: { alg?: unknown; kid?: unknown }
    let claims: unknown
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as typeof header
      claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'))
    } catch {
      throw new InvalidToken('header or claims are not JSON')
    }
    // The algorithm is fixed, never taken from the token (no "none", no HMAC with the public key).
    if (header.alg !== 'ES256') throw new InvalidToken(`algorithm ${JSON.stringify(header.alg)} is not ES256`)
    if (header.kid !== this.kid) throw new InvalidToken('signed by another key')
    const ok = verify('sha256', Buffer.from(`${h}.${p}`), { key: this.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))
    if (!ok) throw new InvalidToken('bad signature')
    if (!claims || typeof claims !== 'object' || Array.isArray(claims)) throw new InvalidToken('claims are not an object')
    return claims as Record<string, unknown>
  }
}

/**
 * The key at `file`, created (0600, in a 0700 directory) if missing. Creation
 * links a finished temp file into place, so two servers starting on one root
 * end up with the same key and a crash never leaves half a key.
 */
export async function loadSigningKey(file: string): Promise<{ key: SigningKey; created: boolean; mode: number }> {
  const read = async () => {
    const [pem, st] = await Promise.all([fsp.readFile(file, 'utf8'), fsp.stat(file)])
    try {
      return { key: SigningKey.fromPem(pem), mode: st.mode & 0o777 }
    } catch (err) {
      throw new Error(`token signing key ${file}: ${(err as Error).message}`, { cause: err })
    }
  }
  try {
    return { ...(await read()), created: false }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const dir = path.dirname(file)
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 })
  const key = SigningKey.generate()
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`)
  const fh = await fsp.open(tmp, 'wx', 0o600)
  try {
    // The umask can only narrow the mode; chmod makes it exact whatever the umask.
    await fh.chmod(0o600)
    await fh.writeFile(key.toPem())
    await fh.sync()
  } finally {
    await fh.close()
  }
  try {
    await fsp.link(tmp, file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    await fsp.rm(tmp, { force: true })
    return { ...(await read()), created: false }
  }
  await fsp.rm(tmp, { force: true })
  await syncDir(dir)
  return { key, created: true, mode: 0o600 }
}

export interface TokenIssuerOptions {
  key: SigningKey
  /** The `service` of challenges and token requests: the tokens' audience. */
  service: string
  policy: AccessPolicy
  issuer?: string
  accessTtlSec?: number
  refreshTtlSec?: number
  /** Milliseconds since the epoch; tests move it. */
  now?: () => number
}

/** What GET and POST /auth/token answer. */
export interface IssuedToken {
  token: string
  expiresIn: number
  /** RFC 3339, seconds. */
  issuedAt: string
  access: ResourceActions[]
}

export class TokenIssuer {
  readonly service: string
  readonly issuer: string
  private readonly accessTtl: number
  private readonly refreshTtl: number
  private readonly now: () => number

  constructor(private readonly opts: TokenIssuerOptions) {
    this.service = opts.service
    this.issuer = opts.issuer ?? DEFAULT_ISSUER
    this.accessTtl = opts.accessTtlSec ?? DEFAULT_ACCESS_TTL_SEC
    this.refreshTtl = opts.refreshTtlSec ?? DEFAULT_REFRESH_TTL_SEC
    this.now = opts.now ?? Date.now
  }

  get policy(): AccessPolicy {
    return this.opts.policy
  }

  private common(user: string | null, ttl: number): CommonClaims {
    const iat = Math.floor(this.now() / 1000)
    return { iss: this.issuer, sub: user ?? '', aud: this.service, exp: iat + ttl, nbf: iat, iat, jti: randomBytes(16).toString('hex') }
  }

  /** An access token for `user` (null: anonymous) holding what the policy allows of `requested`. */
  issueAccess(user: string | null, requested: readonly ResourceActions[]): IssuedToken {
    const access = grantAccess(this.opts.policy, user, requested)
    const claims: AccessClaims = { ...this.common(user, this.accessTtl), access }
    return {
      token: this.opts.key.sign(claims),
      expiresIn: this.accessTtl,
      issuedAt: new Date(claims.iat * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      access,
    }
  }

  /** A refresh token (docker's identity token) for a user. */
  issueRefresh(user: string): string {
    const claims: RefreshClaims = { ...this.common(user, this.refreshTtl), use: 'refresh' }
    return this.opts.key.sign(claims)
  }

  /** Signature, issuer, audience and time: the checks both kinds share. */
  private verifyCommon(token: string): Record<string, unknown> & CommonClaims {
    const c = this.opts.key.verify(token)
    if (c.iss !== this.issuer) throw new InvalidToken(`issuer ${JSON.stringify(c.iss)} is not trusted`)
    const aud = Array.isArray(c.aud) ? c.aud : [c.aud]
    if (!aud.includes(this.service)) throw new InvalidToken(`intended for another service (${JSON.stringify(c.aud)})`)
    if (typeof c.sub !== 'string') throw new InvalidToken('no subject')
    if (typeof c.exp !== 'number' || typeof c.nbf !== 'number') throw new InvalidToken('no exp or nbf')
    const now = this.now() / 1000
    if (now > c.exp + LEEWAY_SEC) throw new InvalidToken('expired')
    if (now < c.nbf - LEEWAY_SEC) throw new InvalidToken('not valid yet')
    return c as Record<string, unknown> & CommonClaims
  }

  /** The claims of a valid access token; throws InvalidToken. A refresh token is not one. */
  verifyAccess(token: string): AccessClaims {
    const c = this.verifyCommon(token)
    if (c.use !== undefined) throw new InvalidToken('a refresh token is not an access token')
    if (!Array.isArray(c.access)) throw new InvalidToken('no access claim')
    const access: ResourceActions[] = []
    for (const a of c.access as unknown[]) {
      const o = a as Partial<ResourceActions> | null
      if (!o || typeof o.type !== 'string' || typeof o.name !== 'string' || !Array.isArray(o.actions) || !o.actions.every((x) => typeof x === 'string')) {
        throw new InvalidToken('malformed access claim')
      }
      access.push({ type: o.type, name: o.name, actions: o.actions })
    }
    return { ...c, access }
  }

  /** The claims of a valid refresh token; throws InvalidToken. */
  verifyRefresh(token: string): RefreshClaims {
    const c = this.verifyCommon(token)
    if (c.use !== 'refresh') throw new InvalidToken('not a refresh token')
    if (c.sub === '') throw new InvalidToken('a refresh token must name a user')
    return { ...c, use: 'refresh' }
  }
}
