import dgram from 'node:dgram'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { DgramSocket } from 'node-unix-socket'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { nullLogger } from '../../lib/index.js'
import { LogInfo, type LogMessage } from '../drivers/index.js'
import { SyslogSink, syslogSink } from './syslog.js'
import { localSyslogPresent, localSyslogTransport } from './transports.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'berth-syslog-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const info = (config: Record<string, string>) => new LogInfo({ config, containerID: 'a'.repeat(64), containerName: '/web', containerImageName: 'busybox' })
const msg = (text: string, source: 'stdout' | 'stderr' = 'stdout'): LogMessage => ({ line: Buffer.from(text), source, timestamp: { ms: Date.now() } })
const ctx = (opts: Record<string, string>) => ({ info: info(opts), opts, logger: nullLogger })

function udpServer(): Promise<{ port: number; got: string[]; close(): void }> {
  return new Promise((resolve) => {
    const got: string[] = []
    const s = dgram.createSocket('udp4')
    s.on('message', (b) => got.push(b.toString()))
    s.bind(0, '127.0.0.1', () => resolve({ port: s.address().port, got, close: () => s.close() }))
  })
}

function streamServer(listen: (s: net.Server, cb: () => void) => void): Promise<{ server: net.Server; got: () => string; close(): Promise<void> }> {
  return new Promise((resolve) => {
    let data = ''
    const socks = new Set<net.Socket>()
    const server = net.createServer((c) => {
      socks.add(c)
      c.on('data', (d) => (data += d.toString()))
    })
    listen(server, () =>
      resolve({
        server,
        got: () => data,
        close: () =>
          new Promise((r) => {
            for (const c of socks) c.destroy()
            server.close(() => r())
          }),
      }),
    )
  })
}

const waitUntil = async (f: () => boolean) => {
  for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 10))
}

describe('syslog sink', () => {
  test('udp: one datagram per line, priority by stream and facility, tag from the template, empty lines skipped', async () => {
    const srv = await udpServer()
    const opts = { 'syslog-address': `udp://127.0.0.1:${srv.port}`, 'syslog-facility': 'local3', tag: '{{.Name}}/{{.ID}}', 'syslog-format': 'rfc5424' }
    const sink = syslogSink(ctx(opts))
    await sink.log(msg('hello'))
    await sink.log(msg(''))
    await sink.log(msg('oops', 'stderr'))
    await sink.flush()
    await waitUntil(() => srv.got.length >= 2)
    srv.close()
    await sink.close()
    // local3 = 19: 19*8+6 and 19*8+3.
    expect(srv.got[0]).toMatch(new RegExp(`^<158>1 \\S+ ${os.hostname()} web/aaaaaaaaaaaa ${process.pid} web/aaaaaaaaaaaa - hello\\n$`))
    expect(srv.got[1]).toMatch(/^<155>1 .* - oops\n$/)
    expect(srv.got).toHaveLength(2)
  })

  test('tcp: newline-terminated messages; a receiver that comes up late still gets everything', async () => {
    const port = await new Promise<number>((r) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port
        s.close(() => r(p))
      })
    })
    const sink = syslogSink(ctx({ 'syslog-address': `tcp://127.0.0.1:${port}`, 'syslog-format': 'rfc3164' }))
    await sink.log(msg('one'))
    await sink.log(msg('two'))
    const flushed = sink.flush()
    await new Promise((r) => setTimeout(r, 300))
    const srv = await streamServer((s, cb) => s.listen(port, '127.0.0.1', cb))
    await flushed
    await waitUntil(() => srv.got().split('\n').length >= 3)
    await sink.close()
    await srv.close()
    const lines = srv.got().split('\n')
    expect(lines[0]).toMatch(new RegExp(`^<30>[A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d ${os.hostname()} aaaaaaaaaaaa\\[${process.pid}\\]: one$`))
    expect(lines[1]).toMatch(/\]: two$/)
  })

  test('unixgram and unix sockets by path; the local syslog finds a datagram socket', async () => {
    const dgPath = path.join(dir, 'dg.sock')
    const got: string[] = []
    const r = new DgramSocket()
    r.on('data', (b: Buffer) => got.push(b.toString()))
    r.bind(dgPath)
    const a = syslogSink(ctx({ 'syslog-address': `unixgram://${dgPath}` }))
    await a.log(msg('via unixgram'))
    await a.flush()
    const local = new SyslogSink({ proto: '', address: '', facility: 3 << 3, format: '', tls: { skipVerify: false } }, ctx({}), { transport: localSyslogTransport([path.join(dir, 'missing'), dgPath]) })
    await local.log(msg('via local', 'stderr'))
    await local.flush()
    await waitUntil(() => got.length >= 2)
    await a.close()
    await local.close()
    r.close()
    expect(got[0]).toMatch(new RegExp(`^<30>[A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d aaaaaaaaaaaa\\[${process.pid}\\]: via unixgram\\n$`))
    expect(got[1]).toMatch(/^<27>.*\]: via local\n$/)

    const stPath = path.join(dir, 'st.sock')
    const srv = await streamServer((s, cb) => s.listen(stPath, cb))
    const b = syslogSink(ctx({ 'syslog-address': `unix://${stPath}` }))
    await b.log(msg('via unix'))
    await b.flush()
    const c = new SyslogSink({ proto: '', address: '', facility: 3 << 3, format: '', tls: { skipVerify: false } }, ctx({}), { transport: localSyslogTransport([stPath]) })
    await c.log(msg('local stream'))
    await c.flush()
    await waitUntil(() => srv.got().includes('local stream'))
    await b.close()
    await c.close()
    await srv.close()
    expect(srv.got()).toContain(': via unix\n')
  })

  test('the local syslog counts only when one of its paths is a socket', async () => {
    const sock = path.join(dir, 'log')
    expect(localSyslogPresent([dir, path.join(dir, 'none')])).toBe(false)
    const r = new DgramSocket()
    r.bind(sock)
    expect(localSyslogPresent([dir, sock])).toBe(true)
    r.close()
    const missing = new SyslogSink({ proto: '', address: '', facility: 24, format: '', tls: { skipVerify: false } }, ctx({}), { transport: localSyslogTransport([dir]), closeTimeoutMs: 50 })
    await missing.log(msg('nowhere'))
    const flushed = missing.flush().then(
      () => 'flushed',
      (err: Error) => err.message,
    )
    await missing.close()
    expect(await flushed).toBe('log driver closed with 1 messages undelivered to local syslog (' + dir + ')')
  })

  test('tcp+tls with a missing CA file fails at start with go-connections\' text', () => {
    expect(() => syslogSink(ctx({ 'syslog-address': 'tcp+tls://127.0.0.1:6514', 'syslog-tls-ca-cert': '/nonexistent/ca.pem' }))).toThrow(
      'could not read CA certificate "/nonexistent/ca.pem": open /nonexistent/ca.pem: no such file or directory',
    )
  })

  test('close gives up on an unreachable receiver after its timeout', async () => {
    const sink = new SyslogSink({ proto: 'unixgram', address: path.join(dir, 'nobody'), facility: 24, format: '', tls: { skipVerify: false } }, ctx({}), { closeTimeoutMs: 200 })
    await sink.log(msg('lost'))
    const flushed = sink.flush().then(
      () => 'flushed',
      () => 'rejected',
    )
    await sink.close()
    expect(await flushed).toBe('rejected')
  })
})
