import type http from 'node:http'
import { describe, expect, it } from 'vitest'
import { nullLogger } from '../../lib/index.js'
import { TokenAuthorizer } from './access.js'
import type { HtpasswdAuth } from './auth.js'
import { RegistryError } from './errors.js'
import { htpasswdPolicy, parseScopes, type AccessPolicy } from './scope.js'
import { SigningKey, TokenIssuer } from './token.js'

const key = SigningKey.generate()
// Only the token endpoint checks passwords; authorize never does.
const noUsers = {} as HtpasswdAuth

function authorizer(policy: AccessPolicy = htpasswdPolicy()): { issuer: TokenIssuer; auth: TokenAuthorizer } {
  const issuer = new TokenIssuer({ key, service: 'reg.test', policy })
  return { issuer, auth: new TokenAuthorizer(issuer, noUsers, { scheme: 'http', fallbackHost: () => '0.0.0.0:5000', logger: nullLogger }) }
}

const req = (headers: Record<string, string>) => ({ headers }) as unknown as http.IncomingMessage

async function refusal(p: Promise<void>): Promise<RegistryError> {
  const err = await p.then(() => undefined, (e: unknown) => e)
  if (!(err instanceof RegistryError)) throw new Error(`expected a RegistryError, got ${String(err)}`)
  return err
}

const pullA = parseScopes(['repository:a:pull'])
const pushA = parseScopes(['repository:a:pull,push'])

describe('TokenAuthorizer', () => {
  it('challenges a request without a token with the scope it needs, realm from the Host used', async () => {
    const { auth } = authorizer()
    const e = await refusal(auth.authorize(req({ host: '127.0.0.1:5123' }), pushA))
    expect(e.status).toBe(401)
    expect(e.code).toBe('UNAUTHORIZED')
    expect(e.headers['WWW-Authenticate']).toBe('Bearer realm="http://127.0.0.1:5123/auth/token",service="reg.test",scope="repository:a:pull,push"')
    const base = await refusal(auth.authorize(req({ host: 'bad host"' }), []))
    expect(base.headers['WWW-Authenticate']).toBe('Bearer realm="http://0.0.0.0:5000/auth/token",service="reg.test"')
  })

  it('names an https realm behind TLS, or the one it was given', async () => {
    const issuer = new TokenIssuer({ key, service: 'reg.test', policy: htpasswdPolicy() })
    const tls = new TokenAuthorizer(issuer, noUsers, { scheme: 'https', fallbackHost: () => 'x:1', logger: nullLogger })
    expect(tls.challenge(req({ host: 'reg.example:443' }), [])).toBe('Bearer realm="https://reg.example:443/auth/token",service="reg.test"')
    const fixed = new TokenAuthorizer(issuer, noUsers, { scheme: 'http', realm: 'https://auth.example/token', fallbackHost: () => 'x:1', logger: nullLogger })
    expect(fixed.challenge(req({ host: 'r:1' }), pullA, 'insufficient_scope')).toBe(
      'Bearer realm="https://auth.example/token",service="reg.test",scope="repository:a:pull",error="insufficient_scope"',
    )
  })

  it('lets a token through for what it grants, and /v2/ for any valid token', async () => {
    const { issuer, auth } = authorizer()
    const t = issuer.issueAccess('alice', pushA).token
    await auth.authorize(req({ authorization: `Bearer ${t}` }), pushA)
    await auth.authorize(req({ authorization: `bearer ${t}` }), pullA)
    const anon = issuer.issueAccess(null, []).token
    await auth.authorize(req({ authorization: `Bearer ${anon}` }), [])
  })

  it('answers a token short of the action with insufficient_scope naming the need', async () => {
    const { issuer, auth } = authorizer()
    const t = issuer.issueAccess('alice', pullA).token
    const e = await refusal(auth.authorize(req({ host: 'r:1', authorization: `Bearer ${t}` }), pushA))
    expect(e.status).toBe(401)
    expect(e.headers['WWW-Authenticate']).toBe('Bearer realm="http://r:1/auth/token",service="reg.test",scope="repository:a:pull,push",error="insufficient_scope"')
    const anon = issuer.issueAccess(null, pullA).token
    expect((await refusal(auth.authorize(req({ authorization: `Bearer ${anon}` }), pullA))).status).toBe(401)
  })

  it('answers a bad token with invalid_token and Basic credentials with a challenge', async () => {
    const { auth } = authorizer()
    const other = new TokenIssuer({ key: SigningKey.generate(), service: 'reg.test', policy: htpasswdPolicy() })
    const e = await refusal(auth.authorize(req({ authorization: `Bearer ${other.issueAccess('alice', pullA).token}` }), pullA))
    expect(e.headers['WWW-Authenticate']).toMatch(/,error="invalid_token"$/)
    const basic = await refusal(auth.authorize(req({ authorization: 'Basic YWxpY2U6eA==' }), pullA))
    expect(basic.headers['WWW-Authenticate']).toMatch(/^Bearer realm=.*scope="repository:a:pull"$/)
  })

  it('denies (403) a user the policy would not give the action: asking again cannot help', async () => {
    const readOnly: AccessPolicy = (user, type) => (user === 'reader' && type === 'repository' ? ['pull'] : [])
    const { issuer, auth } = authorizer(readOnly)
    const t = issuer.issueAccess('reader', pushA).token
    await auth.authorize(req({ authorization: `Bearer ${t}` }), pullA)
    const e = await refusal(auth.authorize(req({ authorization: `Bearer ${t}` }), pushA))
    expect(e.status).toBe(403)
    expect(e.code).toBe('DENIED')
    expect(JSON.parse(e.body())).toEqual({
      errors: [{ code: 'DENIED', message: 'requested access to the resource is denied', detail: [{ Type: 'repository', Name: 'a', Action: 'push' }] }],
    })
  })
})
