import dgram from 'node:dgram'
import net from 'node:net'
import os from 'node:os'
import { gunzipSync, inflateSync } from 'node:zlib'
import { describe, expect, test } from 'vitest'
import { createLogger, nullLogger } from '../../lib/index.js'
import { LogInfo, type LogMessage } from '../drivers/index.js'
import { GelfSink, gelfSink, gelfTCPRetry } from './gelf.js'

const info = (config: Record<string, string>) =>
  new LogInfo({ config, containerID: 'b'.repeat(64), containerName: '/api', containerImageName: 'busybox', containerArgs: ['echo', 'hi'] })
const msg = (text: string, source: 'stdout' | 'stderr' = 'stdout', ms = 1_700_000_000_123): LogMessage => ({ line: Buffer.from(text), source, timestamp: { ms } })
const ctx = (opts: Record<string, string>, logger = nullLogger) => ({ info: info(opts), opts, logger })

const waitUntil = async (f: () => boolean) => {
  for (let i = 0; i < 300 && !f(); i++) await new Promise((r) => setTimeout(r, 10))
}

function udpServer(): Promise<{ port: number; got: Buffer[]; close(): void }> {
  return new Promise((resolve) => {
    const got: Buffer[] = []
    const s = dgram.createSocket('udp4')
    s.on('message', (b) => got.push(b))
    s.bind(0, '127.0.0.1', () => resolve({ port: s.address().port, got, close: () => s.close() }))
  })
}

function tcpServer(port = 0): Promise<{ port: number; data: () => Buffer; close(): Promise<void> }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    const socks = new Set<net.Socket>()
    const server = net.createServer((c) => {
      socks.add(c)
      c.on('data', (d) => chunks.push(d))
    })
    server.listen(port, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        data: () => Buffer.concat(chunks),
        close: () =>
          new Promise((r) => {
            for (const c of socks) c.destroy()
            server.close(() => r())
          }),
      }),
    )
  })
}

describe('gelf sink', () => {
  test('udp: gzip by default, level per stream, the container fields', async () => {
    const srv = await udpServer()
    const sink = gelfSink(ctx({ 'gelf-address': `udp://127.0.0.1:${srv.port}`, tag: '{{.Name}}' }))
    await sink.log(msg('hello'))
    await sink.log(msg('bad', 'stderr'))
    await sink.flush()
    await waitUntil(() => srv.got.length >= 2)
    await sink.close()
    srv.close()
    const docs = srv.got.map((b) => {
      expect([b[0], b[1]]).toEqual([0x1f, 0x8b])
      return JSON.parse(gunzipSync(b).toString()) as Record<string, unknown>
    })
    expect(docs[0]).toMatchObject({ version: '1.1', host: os.hostname(), short_message: 'hello', level: 6, timestamp: 1700000000.123, _container_name: 'api', _tag: 'api', _command: ' echo hi' })
    expect(docs[1]).toMatchObject({ short_message: 'bad', level: 3 })
  })

  test('udp: a large message goes in chunks; zlib and none as asked', async () => {
    const srv = await udpServer()
    const big = Array.from({ length: 3000 }, (_, i) => (i * 7919).toString(36)).join(' ')
    const none = gelfSink(ctx({ 'gelf-address': `udp://127.0.0.1:${srv.port}`, 'gelf-compression-type': 'none' }))
    await none.log(msg(big))
    await none.flush()
    const zlib = gelfSink(ctx({ 'gelf-address': `udp://127.0.0.1:${srv.port}`, 'gelf-compression-type': 'zlib', 'gelf-compression-level': '9' }))
    await zlib.log(msg('small'))
    await zlib.flush()
    await none.close()
    await zlib.close()
    const n = Math.floor((big.length + 400) / 1408) + 1
    await waitUntil(() => srv.got.length >= n)
    srv.close()
    const chunks = srv.got.filter((b) => b[0] === 0x1e && b[1] === 0x0f)
    expect(chunks.length).toBeGreaterThan(1)
    const count = chunks[0]![11]!
    expect(chunks).toHaveLength(count)
    const doc = Buffer.concat(chunks.sort((a, b) => a[10]! - b[10]!).map((c) => c.subarray(12)))
    expect((JSON.parse(doc.toString()) as { short_message: string }).short_message).toBe(big)
    const z = srv.got.find((b) => b[0] === 0x78)!
    expect((JSON.parse(inflateSync(z).toString()) as { short_message: string }).short_message).toBe('small')
  })

  test('tcp: NUL-terminated documents; a receiver that was down gets them once it is up', async () => {
    const probe = await tcpServer()
    const port = probe.port
    await probe.close()
    const lines: string[] = []
    const logger = createLogger({ write: (l) => lines.push(l) })
    const sink = gelfSink(ctx({ 'gelf-address': `tcp://127.0.0.1:${port}`, 'gelf-tcp-max-reconnect': '1', 'gelf-tcp-reconnect-delay': '0' }, logger))
    await sink.log(msg('first'))
    await sink.log(msg('second'))
    const flushed = sink.flush()
    await new Promise((r) => setTimeout(r, 200))
    const srv = await tcpServer(port)
    await flushed
    await waitUntil(() => srv.data().filter((b) => b === 0).length >= 2)
    await sink.close()
    await srv.close()
    const docs = srv.data().toString().split('\0').filter(Boolean).map((s) => JSON.parse(s) as { short_message: string })
    expect(docs.map((d) => d.short_message)).toEqual(['first', 'second'])
    expect(lines.some((l) => l.includes('cannot deliver log messages'))).toBe(true)
  })

  test('close gives up on an unreachable tcp receiver after its timeout', async () => {
    const probe = await tcpServer()
    await probe.close()
    const sink = new GelfSink(
      { proto: 'tcp', host: '127.0.0.1', port: probe.port, compressionType: 'gzip', compressionLevel: 1, tcpMaxReconnect: 3, tcpReconnectDelay: 1 },
      ctx({}),
      { closeTimeoutMs: 200 },
    )
    await sink.log(msg('lost'))
    const flushed = sink.flush().then(
      () => 'flushed',
      () => 'rejected',
    )
    await sink.close()
    expect(await flushed).toBe('rejected')
  })
})

describe('gelfTCPRetry', () => {
  test('the reconnect delay for max-reconnect attempts, then growing to 5 s', () => {
    const r = gelfTCPRetry(3, 1)
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((a) => r.delayMs(a))).toEqual([1000, 1000, 1000, 1000, 2000, 4000, 5000, 5000])
    expect(r.warnAfter).toBe(4)
    expect(gelfTCPRetry(0, 0).delayMs(1)).toBe(500)
  })
})
