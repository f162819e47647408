import { mkdtempSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'

import { FluentdReceiver } from '../../../test/integration/logs/receivers/fluentd.js'
import { createLogger } from '../../lib/index.js'
import { LogInfo, type LogMessage } from '../drivers/index.js'
import type { LogSink } from '../sink.js'
import { checkFluentdConnection, fluentdRetryWaitMs, fluentdSink, fluentdSinkWith } from './fluentd.js'

const ID = '0123456789abcdef'.repeat(4)
const lines: string[] = []
const logger = createLogger({ level: 'debug', write: (l) => void lines.push(l) })
const info = (opts: Record<string, string>) =>
  new LogInfo({ config: opts, containerID: ID, containerName: '/web', containerLabels: { tier: 'front' } })
const msg = (line: string, ms = 1767225600123): LogMessage => ({ line: Buffer.from(line), source: 'stdout', timestamp: { ms, nanos: 456789 } })

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port
      s.close(() => resolve(p))
    })
  })

const open: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  for (const x of open.splice(0)) await x.close()
  lines.length = 0
})
function sink(opts: Record<string, string>, closeTimeoutMs?: number): LogSink {
  const s = (closeTimeoutMs ? fluentdSinkWith({ closeTimeoutMs }) : fluentdSink)({ info: info(opts), opts, logger })
  open.push(s)
  return s
}
async function receiver(o: Parameters<typeof FluentdReceiver.listen>[0] = {}): Promise<FluentdReceiver> {
  const r = await FluentdReceiver.listen(o)
  open.push(r)
  return r
}

describe('fluentd sink', () => {
  it('waits as fluent-logger does between reconnects: at once, then RetryWait × ⌊1.5^(n-1)⌋ up to a minute', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => fluentdRetryWaitMs(1000, n))).toEqual([0, 1000, 1000, 2000, 3000, 5000])
    expect(fluentdRetryWaitMs(1000, 40)).toBe(60_000)
  })

  it('sends docker\'s record with the short ID as tag and integer seconds', async () => {
    const r = await receiver()
    const s = sink({ 'fluentd-address': r.address, labels: 'tier' })
    s.log(msg('hello'))
    s.log({ ...msg('err'), source: 'stderr' })
    await s.flush()
    const ev = await r.waitFor(2)
    expect(ev[0]).toEqual({
      tag: ID.slice(0, 12),
      time: 1767225600,
      record: { container_id: ID, container_name: '/web', source: 'stdout', log: 'hello', tier: 'front' },
      option: {},
    })
    expect(ev[1]?.record['source']).toBe('stderr')
    expect(r.connections).toBe(1)
  })

  it('sub-second precision sends an EventTime; tag templates apply', async () => {
    const r = await receiver()
    const s = sink({ 'fluentd-address': r.address, 'fluentd-sub-second-precision': 'true', tag: 'app.{{.Name}}' })
    s.log(msg('x'))
    await s.flush()
    const [ev] = await r.waitFor(1)
    expect(ev?.tag).toBe('app.web')
    expect(ev?.time).toEqual({ sec: 1767225600, nsec: 123456789 })
  })

  it('over a unix socket', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fluentd-'))
    const r = await receiver({ path: path.join(dir, 'f.sock') })
    const s = sink({ 'fluentd-address': r.address })
    s.log(msg('via unix'))
    await s.flush()
    expect((await r.waitFor(1))[0]?.record['log']).toBe('via unix')
  })

  it('with request-ack, flush resolves once every chunk is acked, and a wrong ack is sent again', async () => {
    const r = await receiver({ ack: true })
    const s = sink({ 'fluentd-address': r.address, 'fluentd-request-ack': 'true' })
    for (let i = 0; i < 5; i++) s.log(msg(`m${i}`))
    await s.flush()
    expect(r.events.map((e) => e.record['log'])).toEqual(['m0', 'm1', 'm2', 'm3', 'm4'])
    expect(new Set(r.events.map((e) => e.option['chunk'])).size).toBe(5)
    expect(Buffer.from(r.events[0]!.option['chunk']!, 'base64')).toHaveLength(16)

    const bad = await receiver({ ack: true, wrongAck: true })
    const s2 = sink({ 'fluentd-address': bad.address, 'fluentd-request-ack': 'true', 'fluentd-retry-wait': '10ms' }, 200)
    s2.log(msg('again'))
    let flushed = false
    void s2.flush().then(() => (flushed = true))
    await bad.waitFor(3)
    expect(flushed).toBe(false)
    expect(bad.connections).toBeGreaterThan(1)
  })

  it('while the receiver is down flush waits and retries; when it comes up everything arrives', async () => {
    const port = await freePort()
    const s = sink({ 'fluentd-address': `127.0.0.1:${port}`, 'fluentd-retry-wait': '20ms' })
    s.log(msg('early 1'))
    s.log(msg('early 2'))
    let flushed = false
    const f = s.flush().then(() => (flushed = true))
    await new Promise((r) => setTimeout(r, 150))
    expect(flushed).toBe(false)
    expect(lines.join('')).toContain('connection refused')
    const r = await receiver({ port })
    await f
    expect((await r.waitFor(2)).map((e) => e.record['log'])).toEqual(['early 1', 'early 2'])
  })

  it('max-retries drops what it could not send; close gives up after its bound and says how much it dropped', async () => {
    const port = await freePort()
    const s = sink({ 'fluentd-address': `127.0.0.1:${port}`, 'fluentd-retry-wait': '1ms', 'fluentd-max-retries': '3' })
    s.log(msg('lost'))
    await s.flush()
    expect(lines.join('')).toMatch(/could not connect to fluentd after 3 retries.*"dropped":1/)

    const c = sink({ 'fluentd-address': `127.0.0.1:${port}`, 'fluentd-retry-wait': '10ms' }, 200)
    c.log(msg('a'))
    c.log(msg('b'))
    const aborted = new AbortController()
    // The sinks take the shipper's stop signal beyond LogSink's flush().
    const f = (c as LogSink & { flush(signal?: AbortSignal): Promise<void> }).flush(aborted.signal)
    aborted.abort()
    await expect(f).rejects.toThrow()
    await c.close()
    expect(lines.join('')).toMatch(/messages dropped.*"dropped":2/)
  })

  it('async: flush does not wait for the receiver; the buffer limit drops the overflow', async () => {
    const port = await freePort()
    const s = sink({ 'fluentd-address': `127.0.0.1:${port}`, 'fluentd-async': 'true', 'fluentd-retry-wait': '20ms', 'fluentd-buffer-limit': '2' })
    for (const l of ['1', '2', '3']) s.log(msg(l))
    await s.flush()
    expect(lines.join('')).toContain('Buffer full, limit 2')
    const r = await receiver({ port })
    expect((await r.waitFor(2)).map((e) => e.record['log'])).toEqual(['1', '2'])
  })

  it('checkFluentdConnection fails as dockerd\'s start does, and passes over async', async () => {
    const port = await freePort()
    await expect(checkFluentdConnection({ 'fluentd-address': `127.0.0.1:${port}` })).rejects.toThrow(`dial tcp 127.0.0.1:${port}: connect: connection refused`)
    await checkFluentdConnection({ 'fluentd-address': `127.0.0.1:${port}`, 'fluentd-async': 'true' })
  })
})
