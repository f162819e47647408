import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'

import { SplunkReceiver, splitEvents } from '../../../test/integration/logs/receivers/splunk.js'
import { createLogger } from '../../lib/index.js'
import { LogInfo, type LogMessage } from '../drivers/index.js'
import type { LogSink } from '../sink.js'
import { splunkSinkWith, verifySplunkConnection, type SplunkTiming } from './splunk.js'

const ID = 'fedcba9876543210'.repeat(4)
const lines: string[] = []
const logger = createLogger({ level: 'debug', write: (l) => void lines.push(l) })
const info = (opts: Record<string, string>) => new LogInfo({ config: opts, containerID: ID, containerName: '/web', hostname: 'berth-host' })
const msg = (line: string): LogMessage => ({ line: Buffer.from(line), source: 'stdout', timestamp: { ms: 1767225600123, nanos: 456789 } })
const fast: SplunkTiming = { intervalMs: 20, batchSize: 1000, closeTimeoutMs: 300 }

const open: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  for (const x of open.splice(0)) await x.close()
  lines.length = 0
})
function sink(opts: Record<string, string>, timing = fast): LogSink {
  const s = splunkSinkWith(timing)({ info: info(opts), opts, logger })
  open.push(s)
  return s
}
async function receiver(o: Parameters<typeof SplunkReceiver.listen>[0]): Promise<SplunkReceiver> {
  const r = await SplunkReceiver.listen(o)
  open.push(r)
  return r
}
const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port
      s.close(() => resolve(p))
    })
  })

describe('splunk sink', () => {
  it('splits a batch body into its events', () => {
    expect(splitEvents('{"a":"}{"}{"b":{"c":1}}')).toEqual(['{"a":"}{"}', '{"b":{"c":1}}'])
  })

  it('POSTs docker\'s events with the token; flush resolves once the HEC said 200', async () => {
    const r = await receiver({ token: 't0k' })
    const s = sink({ 'splunk-url': r.url, 'splunk-token': 't0k', 'splunk-source': 'src', 'splunk-sourcetype': 'st', 'splunk-index': 'main' })
    s.log(msg('hello'))
    s.log({ ...msg('oops'), source: 'stderr' })
    await s.flush()
    expect(r.events).toEqual([
      { event: { line: 'hello', source: 'stdout', tag: ID.slice(0, 12) }, time: '1767225600.123457', host: 'berth-host', source: 'src', sourcetype: 'st', index: 'main' },
      { event: { line: 'oops', source: 'stderr', tag: ID.slice(0, 12) }, time: '1767225600.123457', host: 'berth-host', source: 'src', sourcetype: 'st', index: 'main' },
    ])
    const post = r.requests.find((q) => q.method === 'POST')
    expect(post?.headers.authorization).toBe('Splunk t0k')
    expect(post?.url).toBe('/services/collector/event/1.0')
  })

  it('index acknowledgment sends a request channel per POST', async () => {
    const r = await receiver({ token: 't' })
    const s = sink({ 'splunk-url': r.url, 'splunk-token': 't', 'splunk-index-acknowledgment': 'true' })
    s.log(msg('acked'))
    await s.flush()
    expect(r.requests.at(-1)?.headers['x-splunk-request-channel']).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('gzip, raw and json formats', async () => {
    const r = await receiver({ token: 't' })
    const g = sink({ 'splunk-url': r.url, 'splunk-token': 't', 'splunk-gzip': 'true', 'splunk-format': 'raw', tag: '' })
    g.log(msg('plain line'))
    g.log(msg('   '))
    await g.flush()
    expect(r.requests.at(-1)?.headers['content-encoding']).toBe('gzip')
    expect(r.events.map((e) => e.event)).toEqual(['plain line'])
    const j = sink({ 'splunk-url': r.url, 'splunk-token': 't', 'splunk-format': 'json' })
    j.log(msg('{"k": [1, 2]}'))
    await j.flush()
    expect((r.events.at(-1)?.event as { line: unknown }).line).toEqual({ k: [1, 2] })
  })

  it('batches: at most one POST per interval unless a full batch waits', async () => {
    const r = await receiver({ token: 't' })
    const s = sink({ 'splunk-url': r.url, 'splunk-token': 't' }, { intervalMs: 60_000, batchSize: 3, closeTimeoutMs: 300 })
    for (let i = 0; i < 6; i++) s.log(msg(`m${i}`))
    await s.flush()
    expect(r.requests.filter((q) => q.method === 'POST')).toHaveLength(2)
    s.log(msg('late'))
    let flushed = false
    void s.flush().then(() => (flushed = true))
    await new Promise((res) => setTimeout(res, 50))
    expect(flushed).toBe(false)
    // close does not wait for the interval.
    await s.close()
    expect(r.events.map((e) => (e.event as { line: string }).line).at(-1)).toBe('late')
  })

  it('a wrong token: the 403 is logged as dockerd logs it and retried until the HEC takes it', async () => {
    const r = await receiver({ token: 'right' })
    const s = sink({ 'splunk-url': r.url, 'splunk-token': 'wrong' })
    s.log(msg('x'))
    let flushed = false
    const f = s.flush().then(() => (flushed = true))
    await new Promise((res) => setTimeout(res, 100))
    expect(flushed).toBe(false)
    expect(lines.join('')).toContain('splunk: failed to send event - 403 Forbidden - {\\"text\\":\\"Invalid token\\",\\"code\\":4}')
    r.token = 'wrong'
    await f
    expect(r.events).toHaveLength(1)
  })

  it('receiver down: flush waits; up: it arrives. close with it down drops after its bound, counted', async () => {
    const port = await freePort()
    const s = sink({ 'splunk-url': `http://127.0.0.1:${port}`, 'splunk-token': 't' })
    s.log(msg('waiting'))
    const f = s.flush()
    await new Promise((res) => setTimeout(res, 100))
    expect(lines.join('')).toContain(`Post \\"http://127.0.0.1:${port}/services/collector/event/1.0\\": dial tcp 127.0.0.1:${port}: connect: connection refused`)
    const r = await receiver({ token: 't', port })
    await f
    expect(r.events).toHaveLength(1)

    const dead = await freePort()
    const c = sink({ 'splunk-url': `http://127.0.0.1:${dead}`, 'splunk-token': 't' })
    c.log(msg('a'))
    await c.close()
    expect(lines.join('')).toMatch(/messages dropped.*"dropped":1/)
  })

  it('verifySplunkConnection: OPTIONS must answer 200, as dockerd checks at start', async () => {
    const r = await receiver({ token: 't' })
    await verifySplunkConnection({ 'splunk-url': r.url, 'splunk-token': 't' })
    const port = await freePort()
    await expect(verifySplunkConnection({ 'splunk-url': `http://127.0.0.1:${port}`, 'splunk-token': 't' })).rejects.toThrow(
      `Options "http://127.0.0.1:${port}/services/collector/event/1.0": dial tcp 127.0.0.1:${port}: connect: connection refused`,
    )
    await verifySplunkConnection({ 'splunk-url': `http://127.0.0.1:${port}`, 'splunk-token': 't', 'splunk-verify-connection': 'false' })
  })

  describe('https', () => {
    let dir = ''
    let tls: { key: Buffer; cert: Buffer } | undefined
    beforeAll(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'hec-tls-'))
      const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=hec.test',
        '-addext', 'subjectAltName=DNS:hec.test', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')])
      if (r.status === 0) tls = { key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) }
    })

    it('verifies with splunk-capath and splunk-caname; refuses an unknown CA unless insecureskipverify', async ({ skip }) => {
      if (!tls) return skip('openssl could not make a certificate')
      const r = await receiver({ token: 't', tls })
      const ok = sink({ 'splunk-url': r.url, 'splunk-token': 't', 'splunk-capath': path.join(dir, 'cert.pem'), 'splunk-caname': 'hec.test' })
      ok.log(msg('secure'))
      await ok.flush()
      expect(r.events).toHaveLength(1)

      const untrusted = sink({ 'splunk-url': r.url, 'splunk-token': 't' })
      untrusted.log(msg('no'))
      const f = untrusted.flush()
      await new Promise((res) => setTimeout(res, 100))
      expect(lines.join('')).toMatch(/self-signed certificate/)
      void f.catch(() => {})

      const skipping = sink({ 'splunk-url': r.url, 'splunk-token': 't', 'splunk-insecureskipverify': 'true' })
      skipping.log(msg('anyway'))
      await skipping.flush()
      expect(r.events).toHaveLength(2)
    })

    it('a missing CA file fails as dockerd\'s New does', () => {
      const opts = { 'splunk-url': 'https://127.0.0.1:1', 'splunk-token': 't', 'splunk-capath': '/nonexistent/ca.pem' }
      expect(() => splunkSinkWith(fast)({ info: info(opts), opts, logger })).toThrow('open /nonexistent/ca.pem: no such file or directory')
    })
  })
})
