import { describe, expect, it } from 'vitest'
import { isInsecure, resolveEndpoint } from './client.js'
import { errorFromResponse, redact } from './errors.js'

describe('endpoints', () => {
  it('uses https except for loopback and configured insecure registries', () => {
    expect(resolveEndpoint('docker.io')).toEqual({ domain: 'docker.io', base: 'https://registry-1.docker.io', insecure: false })
    expect(resolveEndpoint('127.0.0.1:5000').base).toBe('http://127.0.0.1:5000')
    expect(resolveEndpoint('[::1]:5000').insecure).toBe(true)
    expect(resolveEndpoint('localhost:5000').insecure).toBe(true)
    expect(resolveEndpoint('example.com').base).toBe('https://example.com')
    expect(isInsecure('reg.local:5000', ['reg.local:5000'])).toBe(true)
    expect(isInsecure('10.1.2.3:5000', ['10.0.0.0/8'])).toBe(true)
    expect(isInsecure('11.1.2.3:5000', ['10.0.0.0/8'])).toBe(false)
  })
})

describe('registry errors', () => {
  it('formats distribution JSON errors as docker does', () => {
    const e = errorFromResponse('GET', 'http://r/v2/x/manifests/1', 404, 'Not Found', '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]}')
    expect(e.message).toBe('manifest unknown: manifest unknown')
    expect(e.kind).toBe('not-found')
    expect(e.code).toBe('MANIFEST_UNKNOWN')
  })
  it('describes HTML and empty 5xx answers by status', () => {
    const e = errorFromResponse('GET', 'https://u:p@r/v2/?sig=secret', 502, 'Bad Gateway', '<html><body><h1>502 Bad Gateway</h1></body></html>')
    expect(e.message).toBe('GET https://r/v2/: received unexpected HTTP status: 502 Bad Gateway (502 Bad Gateway)')
    expect(e.kind).toBe('unavailable')
    expect(errorFromResponse('GET', 'http://r/', 500, 'Internal Server Error', '').message).toBe('GET http://r/: received unexpected HTTP status: 500 Internal Server Error')
    expect(redact('https://a:b@h/x?y=1')).toBe('https://h/x')
  })
})
