import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { clientTls } from './context.js'

function certDir(files: string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-cli-tls-'))
  for (const f of files) writeFileSync(path.join(dir, f), `${f}\n`)
  return dir
}

describe('clientTls, as the docker CLI reads its TLS options', () => {
  it('is off without flags or DOCKER_TLS_VERIFY', () => {
    expect(clientTls({}, {})).toEqual({})
  })

  it('DOCKER_TLS_VERIFY takes ca, cert and key from DOCKER_CERT_PATH', () => {
    const dir = certDir(['ca.pem', 'cert.pem', 'key.pem'])
    expect(clientTls({}, { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir })).toEqual({
      tls: { verify: true, ca: Buffer.from('ca.pem\n'), cert: Buffer.from('cert.pem\n'), key: Buffer.from('key.pem\n') },
    })
  })

  it('leaves out a default client certificate that does not exist', () => {
    const dir = certDir(['ca.pem'])
    expect(clientTls({}, { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir })).toEqual({ tls: { verify: true, ca: Buffer.from('ca.pem\n') } })
  })

  it('--tls alone does not verify the daemon and needs no CA', () => {
    expect(clientTls({ tls: true }, { DOCKER_CERT_PATH: certDir([]) })).toEqual({ tls: { verify: false } })
  })

  it('--tlsverify=false still turns TLS on, without verification', () => {
    expect(clientTls({ tlsverify: 'false' }, { DOCKER_CERT_PATH: certDir([]) })).toEqual({ tls: { verify: false } })
  })

  it('names a file given by flag that cannot be read', () => {
    const dir = certDir(['ca.pem'])
    expect(() => clientTls({ tlsverify: true, tlscert: path.join(dir, 'nope.pem') }, { DOCKER_CERT_PATH: dir })).toThrow(/could not read X509 certificate ".*nope\.pem"/)
  })
})
