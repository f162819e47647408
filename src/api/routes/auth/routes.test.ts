import { describe, expect, it } from 'vitest'
import { kindOf } from '../../../errors/index.js'
import { parseAuthBody } from './routes.js'

describe('parseAuthBody', () => {
  it('takes docker\'s fields, any key case', () => {
    expect(parseAuthBody({ username: 'u', password: 'p', serveraddress: '127.0.0.1:5000' })).toEqual({ username: 'u', password: 'p', serverAddress: '127.0.0.1:5000' })
    expect(parseAuthBody({ Username: 'u', Password: 'p' })).toEqual({ username: 'u', password: 'p', serverAddress: 'https://index.docker.io/v1/' })
  })
  it('decodes auth when there is no username', () => {
    expect(parseAuthBody({ auth: Buffer.from('u:p:q').toString('base64'), serveraddress: 'r' })).toEqual({ username: 'u', password: 'p:q', serverAddress: 'r' })
  })
  it('refuses bodies that are not AuthConfig objects', () => {
    for (const bad of [undefined, null, [], 'x', { username: 1 }]) {
      expect(kindOf((() => { try { parseAuthBody(bad) } catch (e) { return e } })())).toBe('invalid-argument')
    }
  })
})
