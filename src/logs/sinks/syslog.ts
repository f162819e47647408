/**
 * The syslog driver's sender (moby daemon/logger/syslog over srslog): one
 * message per write to the local syslog (/dev/log and its fallbacks),
 * a unix or unixgram socket, UDP, TCP or TCP+TLS, formatted by
 * syslog-format. Unlike dockerd, nothing is dialled at start: a receiver
 * that is down holds the shipper (blocking mode), not the container.
 */
import { readFileSync } from 'node:fs'
import os from 'node:os'
import tls from 'node:tls'
import { DEFAULT_TAG_TEMPLATE, encodeSyslogMessage, parseLogTag, parseSyslogOptions, type LogMessage, type SyslogOptions } from '../drivers/index.js'
import type { LogSink, SinkContext, SinkFactory } from '../sink.js'
import { exponentialRetry, QueuedSender, type Transport } from './sender.js'
import { localSyslogPresent, localSyslogTransport, tcpTransport, tlsTransport, udpTransport, unixgramTransport, unixStreamTransport } from './transports.js'

/** How long close keeps trying an unreachable receiver. */
export const SYSLOG_CLOSE_TIMEOUT_MS = 5000

/** go-connections tlsconfig.Client: the system roots plus syslog-tls-ca-cert, a client pair, TLS 1.2 at least. */
function tlsOptions(t: SyslogOptions['tls']): tls.ConnectionOptions {
  const read = (file: string, what: (msg: string) => string) => {
    try {
      return readFileSync(file, 'utf8')
    } catch (err) {
      const e = err as NodeJS.ErrnoException
      const why = e.code === 'ENOENT' ? 'no such file or directory' : e.code === 'EACCES' ? 'permission denied' : e.message
      throw new Error(what(`open ${file}: ${why}`), { cause: err })
    }
  }
  const o: tls.ConnectionOptions = { minVersion: 'TLSv1.2', rejectUnauthorized: !t.skipVerify }
  if (!t.skipVerify && t.caCert) {
    const pem = read(t.caCert, (m) => `could not read CA certificate "${t.caCert}": ${m}`)
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`failed to append certificates from PEM file: "${t.caCert}"`)
    o.ca = [...tls.rootCertificates, pem]
  }
  if (t.cert || t.key) {
    o.cert = read(t.cert ?? '', (m) => `could not load X509 key pair: ${m}`)
    o.key = read(t.key ?? '', (m) => `could not load X509 key pair: ${m}`)
    try {
      tls.createSecureContext({ cert: o.cert, key: o.key })
    } catch (err) {
      throw new Error(`could not load X509 key pair: ${(err as Error).message}`, { cause: err })
    }
  }
  return o
}

function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':')
  let host = address.slice(0, i)
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1)
  return { host, port: Number(address.slice(i + 1)) }
}

function transportOf(o: SyslogOptions): Transport {
  switch (o.proto) {
    case '':
      return localSyslogTransport()
    case 'unix':
      return unixStreamTransport(o.address)
    case 'unixgram':
      return unixgramTransport(o.address)
    case 'udp': {
      const { host, port } = splitAddress(o.address)
      return udpTransport(host, port)
    }
    case 'tcp': {
      const { host, port } = splitAddress(o.address)
      return tcpTransport(host, port)
    }
    case 'tcp+tls': {
      const { host, port } = splitAddress(o.address)
      return tlsTransport(host, port, tlsOptions(o.tls))
    }
  }
}

export interface SyslogSinkDeps {
  /** Instead of the one the options name (tests: a local syslog at other paths). */
  transport?: Transport
  closeTimeoutMs?: number
}

export class SyslogSink implements LogSink {
  private readonly sender: QueuedSender
  private readonly tag: string
  private readonly hostname: string

  constructor(
    private readonly o: SyslogOptions,
    ctx: SinkContext,
    deps: SyslogSinkDeps = {},
  ) {
    // srslog: an empty tag becomes the daemon's argv[0].
    this.tag = parseLogTag(ctx.info, DEFAULT_TAG_TEMPLATE) || process.argv[1] || process.argv0
    // srslog asks os.Hostname() at dial, not the container's.
    this.hostname = os.hostname()
    this.sender = new QueuedSender({
      transport: deps.transport ?? transportOf(o),
      retry: exponentialRetry(250, 5000),
      logger: ctx.logger,
      closeTimeoutMs: deps.closeTimeoutMs ?? SYSLOG_CLOSE_TIMEOUT_MS,
    })
  }

  log(m: LogMessage): void {
    const frame = encodeSyslogMessage(m, {
      format: this.o.format,
      proto: this.o.proto,
      facility: this.o.facility,
      hostname: this.hostname,
      tag: this.tag,
      pid: process.pid,
      now: new Date(),
    })
    if (frame) this.sender.push(frame)
  }

  flush(): Promise<void> {
    return this.sender.flush()
  }

  close(): Promise<void> {
    return this.sender.close()
  }
}

/**
 * syslog.New: options as create checked them, the tag template, the TLS
 * files read now so a bad one fails the start with go-connections' text;
 * no local syslog socket at all fails it as srslog's dial does.
 */
export const syslogSink: SinkFactory = (ctx) => {
  const o = parseSyslogOptions(ctx.opts)
  if (o.proto === '' && !localSyslogPresent()) throw new Error('Unix syslog delivery error')
  return new SyslogSink(o, ctx)
}
