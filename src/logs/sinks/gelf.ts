/**
 * The gelf driver's sender (moby daemon/logger/gelf over go-gelf): over UDP
 * each document compressed per gelf-compression-type/-level and chunked
 * past 1420 bytes, over TCP uncompressed and NUL-terminated. dockerd dials
 * TCP at start and fails the container when nobody listens, then gives a
 * message up after gelf-tcp-max-reconnect attempts gelf-tcp-reconnect-delay
 * seconds apart; here nothing is dialled at start, those attempts come
 * first, and past them the sender goes on with a growing delay so blocking
 * mode loses nothing.
 */
import { randomBytes } from 'node:crypto'
import os from 'node:os'
import { chunkGelf, compressGelf, encodeGelfMessage, frameGelfTCP, gelfExtra, parseGelfOptions, type GelfOptions, type LogMessage } from '../drivers/index.js'
import type { LogSink, SinkContext, SinkFactory } from '../sink.js'
import { QueuedSender, type RetryPolicy, type Transport } from './sender.js'
import { tcpTransport, udpTransport } from './transports.js'

/** How long close keeps trying an unreachable receiver. */
export const GELF_CLOSE_TIMEOUT_MS = 5000

/** The growing delay once gelf-tcp-max-reconnect attempts have failed. */
const SLOW_RETRY_FIRST_MS = 500
const SLOW_RETRY_MAX_MS = 5000

/** gelf-tcp-reconnect-delay between the first gelf-tcp-max-reconnect attempts, then doubling up to 5 s. */
export function gelfTCPRetry(maxReconnect: number, delaySeconds: number): RetryPolicy {
  const delayMs = delaySeconds * 1000
  return {
    warnAfter: maxReconnect + 1,
    delayMs: (attempt) => {
      if (attempt <= maxReconnect) return delayMs
      const slow = Math.max(delayMs, SLOW_RETRY_FIRST_MS) * 2 ** Math.min(attempt - maxReconnect - 1, 20)
      return Math.min(Math.max(SLOW_RETRY_MAX_MS, delayMs), slow)
    },
  }
}

export interface GelfSinkDeps {
  transport?: Transport
  closeTimeoutMs?: number
}

export class GelfSink implements LogSink {
  private readonly sender: QueuedSender
  private readonly extra: string
  private readonly host: string
  private readonly logger: SinkContext['logger']

  constructor(
    private readonly o: GelfOptions,
    ctx: SinkContext,
    deps: GelfSinkDeps = {},
  ) {
    this.extra = gelfExtra(ctx.info)
    // info.Hostname() in moby is the daemon host's os.Hostname().
    this.host = os.hostname()
    const udp = o.proto === 'udp'
    this.sender = new QueuedSender({
      transport: deps.transport ?? (udp ? udpTransport(o.host, o.port) : tcpTransport(o.host, o.port)),
      retry: udp ? gelfTCPRetry(0, 0) : gelfTCPRetry(o.tcpMaxReconnect, o.tcpReconnectDelay),
      logger: ctx.logger,
      closeTimeoutMs: deps.closeTimeoutMs ?? GELF_CLOSE_TIMEOUT_MS,
    })
    this.logger = ctx.logger
  }

  log(m: LogMessage): void {
    const doc = encodeGelfMessage(m, this.host, this.extra)
    if (!doc) return
    if (this.o.proto === 'tcp') {
      this.sender.push(frameGelfTCP(doc))
      return
    }
    const payload = compressGelf(doc, this.o.compressionType, this.o.compressionLevel)
    let chunks: Buffer[]
    try {
      chunks = chunkGelf(payload, randomBytes(8))
    } catch (err) {
      // go-gelf refuses past 128 chunks; dockerd logs the error and goes on.
      this.logger.warn('gelf: cannot send GELF message', { err })
      return
    }
    for (const c of chunks) this.sender.push(c)
  }

  flush(): Promise<void> {
    return this.sender.flush()
  }

  close(): Promise<void> {
    return this.sender.close()
  }
}

/** gelf.New: the address and options as create checked them, the extra fields fixed for the container's life. */
export const gelfSink: SinkFactory = (ctx) => new GelfSink(parseGelfOptions(ctx.opts), ctx)
