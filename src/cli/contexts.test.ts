import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseDockerEndpoint } from './commands/context.js'
import { endpointOf } from './context.js'
import { contextEndpoint, contextName, ContextStore, validateContextName } from './contexts.js'

describe('the docker CLI context store', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-ctx-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const store = new ContextStore(dir)

  it("keeps a context where docker keeps it: meta/<sha256 of the name>/meta.json, TLS under tls/<same>/docker", () => {
    store.create({ Name: 'remote', Metadata: { Description: 'far' }, Endpoints: { docker: { Host: 'tcp://127.0.0.1:2376', SkipTLSVerify: false } } }, { ca: Buffer.from('CA'), cert: Buffer.from('CERT'), key: Buffer.from('KEY') })
    const id = createHash('sha256').update('remote').digest('hex')
    expect(JSON.parse(readFileSync(path.join(dir, 'contexts/meta', id, 'meta.json'), 'utf8'))).toEqual({ Name: 'remote', Metadata: { Description: 'far' }, Endpoints: { docker: { Host: 'tcp://127.0.0.1:2376', SkipTLSVerify: false } } })
    expect(readFileSync(path.join(dir, 'contexts/tls', id, 'docker/key.pem'), 'utf8')).toBe('KEY')
    expect(store.list().map((m) => m.Name)).toEqual(['remote'])
    expect(contextEndpoint('remote', store)).toEqual({ host: 'tcp://127.0.0.1:2376', tls: { ca: Buffer.from('CA'), cert: Buffer.from('CERT'), key: Buffer.from('KEY'), verify: true } })
    expect(() => store.get('nosuch')).toThrow(/^context "nosuch": context not found: open .*meta\.json: no such file or directory$/)
  })

  it('resolves the context as the docker CLI: --context, then -H or BERTH_HOST, then BERTH_CONTEXT, then currentContext', async () => {
    store.create({ Name: 'local', Metadata: {}, Endpoints: { docker: { Host: 'unix:///tmp/other.sock' } } })
    expect(contextName({}, {}, store)).toBe('default')
    await store.setCurrent('local')
    expect(JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'))).toEqual({ currentContext: 'local' })
    expect(contextName({}, {}, store)).toBe('local')
    expect(contextName({}, { BERTH_CONTEXT: 'remote' }, store)).toBe('remote')
    expect(contextName({}, { BERTH_HOST: 'unix:///x', BERTH_CONTEXT: 'remote' }, store)).toBe('default')
    expect(contextName({ host: 'unix:///x' }, {}, store)).toBe('default')
    expect(contextName({ context: 'remote', host: 'unix:///x' }, {}, store)).toBe('remote')
    expect(endpointOf({}, {}, store)).toEqual({ host: 'unix:///tmp/other.sock' })
    expect(() => endpointOf({ context: 'local', host: 'unix:///x' }, {}, store)).toThrow('conflicting options: cannot specify both --host and --context')
    // Other keys of config.json stay; default removes the key.
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths: { a: {} }, currentContext: 'local' }))
    await store.setCurrent('')
    expect(JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'))).toEqual({ auths: { a: {} } })
  })

  it("validates names and --docker options with docker's messages", () => {
    expect(() => validateContextName('default')).toThrow('"default" is a reserved context name')
    expect(() => validateContextName('-x')).toThrow('context name "-x" is invalid, names are validated against regexp "^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$"')
    expect(parseDockerEndpoint('host=unix:///run/berth/berth.sock,skip-tls-verify=true')).toEqual({ host: 'unix:///run/berth/berth.sock', skipTLSVerify: true, tls: {} })
    expect(() => parseDockerEndpoint('hots=unix:///x')).toThrow('unable to create docker endpoint config: unrecognized config key: hots')
    expect(() => parseDockerEndpoint('host=/no/scheme')).toThrow('unable to parse docker host `/no/scheme`')
  })
})
