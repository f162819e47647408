import { createPublicKey, verify } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { htpasswdPolicy, parseScopes } from './scope.js'
import { InvalidToken, LEEWAY_SEC, SigningKey, TokenIssuer } from './token.js'

const key = SigningKey.generate()
const T0 = Date.UTC(2030, 0, 1)

function issuer(o: { now?: number; service?: string; k?: SigningKey } = {}): TokenIssuer {
  return new TokenIssuer({ key: o.k ?? key, service: o.service ?? 'reg.test', policy: htpasswdPolicy({ anonymousPull: true }), now: () => o.now ?? T0 })
}

const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>

describe('access tokens', () => {
  it("carry distribution's claims with the granted access", () => {
    const t = issuer().issueAccess('alice', parseScopes(['repository:tools/app:pull,push', 'registry:catalog:*']))
    expect(t.expiresIn).toBe(300)
    expect(t.issuedAt).toBe('2030-01-01T00:00:00Z')
    const [h, p] = t.token.split('.') as [string, string, string]
    expect(decode(h)).toEqual({ typ: 'JWT', alg: 'ES256', kid: key.kid })
    const c = decode(p)
    expect(c).toMatchObject({
      iss: 'berth-registry', sub: 'alice', aud: 'reg.test', iat: T0 / 1000, nbf: T0 / 1000, exp: T0 / 1000 + 300,
      access: [
        { type: 'repository', name: 'tools/app', actions: ['pull', 'push'] },
        { type: 'registry', name: 'catalog', actions: ['*'] },
      ],
    })
    expect(c.jti).toMatch(/^[0-9a-f]{32}$/)
  })

  it('give anonymous clients an empty subject and only what the policy allows', () => {
    const t = issuer().issueAccess(null, parseScopes(['repository:a:pull,push']))
    expect(t.access).toEqual([{ type: 'repository', name: 'a', actions: ['pull'] }])
    expect(issuer().verifyAccess(t.token).sub).toBe('')
  })

  it('are a JOSE ES256 signature any verifier of the public key accepts', () => {
    const t = issuer().issueAccess('alice', [])
    const [h, p, s] = t.token.split('.') as [string, string, string]
    const pub = createPublicKey({ key: key.publicKey.export({ format: 'jwk' }), format: 'jwk' })
    expect(Buffer.from(s, 'base64url')).toHaveLength(64)
    expect(verify('sha256', Buffer.from(`${h}.${p}`), { key: pub, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))).toBe(true)
  })

  it('verify within the leeway and not after', () => {
    const t = issuer().issueAccess('alice', parseScopes(['repository:a:pull']))
    expect(issuer({ now: T0 + (300 + LEEWAY_SEC) * 1000 }).verifyAccess(t.token).access).toEqual([{ type: 'repository', name: 'a', actions: ['pull'] }])
    expect(() => issuer({ now: T0 + (301 + LEEWAY_SEC) * 1000 }).verifyAccess(t.token)).toThrow(/expired/)
    expect(() => issuer({ now: T0 - (LEEWAY_SEC + 1) * 1000 }).verifyAccess(t.token)).toThrow(/not valid yet/)
  })

  it('are refused for another service, another key, or when touched', () => {
    const t = issuer().issueAccess('alice', parseScopes(['repository:a:pull'])).token
    expect(() => issuer({ service: 'other' }).verifyAccess(t)).toThrow(/another service/)
    expect(() => issuer({ k: SigningKey.generate() }).verifyAccess(t)).toThrow(/another key/)
    const [h, p, s] = t.split('.') as [string, string, string]
    const widened = Buffer.from(JSON.stringify({ ...decode(p), access: [{ type: 'repository', name: 'a', actions: ['*'] }] })).toString('base64url')
    expect(() => issuer().verifyAccess(`${h}.${widened}.${s}`)).toThrow(/bad signature/)
    const none = Buffer.from(JSON.stringify({ alg: 'none', kid: key.kid })).toString('base64url')
    expect(() => issuer().verifyAccess(`${none}.${p}.${s}`)).toThrow(/not ES256/)
    for (const bad of ['', 'a.b', 'a.b.c.d', `${h}.${p}.`, `${h}.${p}.${s}=`]) {
      expect(() => issuer().verifyAccess(bad), bad).toThrow(InvalidToken)
    }
  })
})

describe('refresh tokens', () => {
  it('name a user and are not access tokens, nor access tokens refresh tokens', () => {
    const r = issuer().issueRefresh('alice')
    const c = issuer({ now: T0 + 30 * 24 * 3600_000 }).verifyRefresh(r)
    expect(c).toMatchObject({ sub: 'alice', aud: 'reg.test', use: 'refresh' })
    expect(() => issuer().verifyAccess(r)).toThrow(/refresh token is not an access token/)
    const a = issuer().issueAccess('alice', []).token
    expect(() => issuer().verifyRefresh(a)).toThrow(/not a refresh token/)
    expect(() => issuer({ now: T0 + 91 * 24 * 3600_000 }).verifyRefresh(r)).toThrow(/expired/)
  })
})

describe('SigningKey', () => {
  it('round-trips through PEM with the same kid, and refuses other key types', async () => {
    expect(SigningKey.fromPem(key.toPem()).kid).toBe(key.kid)
    expect(key.kid).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const { generateKeyPairSync } = await import('node:crypto')
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
    expect(() => SigningKey.fromPem(rsa)).toThrow(/EC P-256/)
  })
})
