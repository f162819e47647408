/**
 * The fluentd driver's sender (moby daemon/logger/fluentd over
 * fluent-logger-golang): forward-protocol messages over tcp, tls or a unix
 * socket, tagged by the `tag` template ({{.ID}} by default), with
 * fluent-logger's reconnect backoff, write timeout, periodic reconnect and,
 * with fluentd-request-ack, a chunk id per message that the server must
 * echo before the message counts as sent.
 *
 * Hand-written over node:net rather than a fluent-logger package: the
 * shipper needs "flushed" to mean written (and acked), and the bytes must be
 * docker's (drivers/fluentd.ts encodes them).
 */
import { randomBytes } from 'node:crypto'
import net from 'node:net'
import tls from 'node:tls'
import { decodeMultiStream } from '@msgpack/msgpack'

import {
  DEFAULT_TAG_TEMPLATE,
  encodeFluentdMessage,
  fluentdChunkID,
  fluentdRecord,
  parseFluentdOptions,
  parseLogTag,
  unixSeconds,
  type FluentdOptions,
  type LogMessage,
} from '../drivers/index.js'
import type { Logger } from '../../lib/index.js'
import type { SinkContext, SinkFactory } from '../sink.js'
import { PumpedSink, abortReason, sleep } from './pump.js'

/** fluent-logger-golang's dial timeout, reconnect wait cap and backoff base. */
const CONNECT_TIMEOUT_MS = 3000
const MAX_RETRY_WAIT_MS = 60_000
const RETRY_RATE = 1.5
/** Retries while closing, within CLOSE_TIMEOUT_MS. */
const CLOSING_RETRY_MS = 250
/** Messages per write; the socket takes them back to back either way. */
const WRITE_BATCH = 512

interface Entry {
  data: Buffer
  /** The chunk id the server must answer with (fluentd-request-ack). */
  ack?: string
}

interface Conn {
  socket: net.Socket
  connectedAt: number
  /** Acks received and not yet matched, oldest first. */
  acks: string[]
  closed: boolean
  wake?: () => void
}

export const fluentdSink: SinkFactory = (ctx) => new FluentdSink(ctx)

/** For tests: a sink that gives up sooner at close. */
export function fluentdSinkWith(t: { closeTimeoutMs: number }): SinkFactory {
  return (ctx) => new FluentdSink(ctx, t.closeTimeoutMs)
}

/**
 * fluent-logger's wait before reconnect attempt n+1 after n failures:
 * RetryWait × ⌊1.5^(n-2)⌋ ms (so the first retry is immediate), capped at a
 * minute.
 */
export function fluentdRetryWaitMs(retryWaitMs: number, failures: number): number {
  return Math.min(retryWaitMs * Math.trunc(RETRY_RATE ** (failures - 2)), MAX_RETRY_WAIT_MS)
}

class FluentdSink extends PumpedSink<Entry> {
  private readonly o: FluentdOptions
  private readonly tag: string
  private readonly extra: Record<string, string>
  private readonly who: { ContainerID: string; ContainerName: string }
  private conn: Conn | undefined
  private dropped = 0

  constructor(ctx: SinkContext, closeTimeoutMs?: number) {
    super(ctx.logger, closeTimeoutMs)
    this.o = parseFluentdOptions(ctx.opts)
    this.tag = parseLogTag(ctx.info, DEFAULT_TAG_TEMPLATE)
    this.extra = ctx.info.ExtraAttributes()
    this.who = { ContainerID: ctx.info.ContainerID, ContainerName: ctx.info.ContainerName }
  }

  protected encode(m: LogMessage): Entry {
    const record = fluentdRecord(m, this.who, this.extra)
    if (!this.o.requestAck) return { data: encodeFluentdMessage(this.tag, m.timestamp, record, { subSecondPrecision: this.o.subSecondPrecision }) }
    const ack = fluentdChunkID(unixSeconds(m.timestamp), randomBytes(8).readBigUInt64LE())
    return { data: encodeFluentdMessage(this.tag, m.timestamp, record, { subSecondPrecision: this.o.subSecondPrecision, chunk: ack }), ack }
  }

  /** fluentd-async: the queue is bounded by fluentd-buffer-limit, counted in messages as fluent-logger counts it. */
  protected override admit(): boolean {
    if (!this.o.async || this.queue.length < this.o.bufferLimit) return true
    if (this.dropped++ === 0) this.logger.warn(`fluent#appendBuffer: Buffer full, limit ${this.o.bufferLimit}`)
    return false
  }

  /** With fluentd-async a flush only hands the messages to the background sender, as docker's Log returns once they are buffered. */
  override flush(signal?: AbortSignal): Promise<void> {
    if (!this.o.async) return super.flush(signal)
    this.kick()
    if (this.dropped > 0) {
      this.logger.warn('fluentd buffer full: messages dropped', { dropped: this.dropped })
      this.dropped = 0
    }
    return Promise.resolve()
  }

  protected async run(signal: AbortSignal): Promise<void> {
    let failures = 0
    while (this.queue.length > 0) {
      if (failures > 0) {
        if (failures >= this.o.maxRetries) {
          const n = this.queue.length
          this.logger.warn(`fluent#write: could not connect to fluentd after ${this.o.maxRetries} retries: messages dropped`, { dropped: n })
          this.done(n)
          failures = 0
          continue
        }
        const wait = fluentdRetryWaitMs(this.o.retryWaitMs, failures)
        await sleep(this.closing ? Math.min(wait, CLOSING_RETRY_MS) : wait, signal)
      }
      try {
        const conn = await this.connection(signal)
        await this.send(conn, signal)
        failures = 0
      } catch (err) {
        if (signal.aborted) throw abortReason(signal)
        if (failures === 0) this.logger.warn('Unable to send logs to fluentd, reconnecting...', { err })
        this.disconnect()
        failures++
      }
    }
  }

  protected release(): void {
    this.disconnect()
  }

  private disconnect(): void {
    const c = this.conn
    this.conn = undefined
    if (!c) return
    c.closed = true
    c.socket.destroy()
    c.wake?.()
  }

  private async connection(signal: AbortSignal): Promise<Conn> {
    const stale =
      this.conn && this.o.async && this.o.asyncReconnectIntervalMs > 0 && Date.now() - this.conn.connectedAt > this.o.asyncReconnectIntervalMs
    if (stale || this.conn?.closed) this.disconnect()
    if (this.conn) return this.conn
    const socket = await dial(this.o, signal)
    const conn: Conn = { socket, connectedAt: Date.now(), acks: [], closed: false }
    const ended = () => {
      conn.closed = true
      conn.wake?.()
    }
    socket.on('close', ended)
    socket.on('error', ended)
    if (this.o.requestAck) {
      void (async () => {
        for await (const v of decodeMultiStream(socket as AsyncIterable<Uint8Array>)) {
          conn.acks.push(ackOf(v) ?? '')
          conn.wake?.()
        }
      })().catch(() => {}).finally(ended)
    } else {
      socket.resume()
    }
    this.conn = conn
    return conn
  }

  /** Writes from the head of the queue; without acks a batch counts as sent once the kernel has it, as in fluent-logger. */
  private async send(conn: Conn, signal: AbortSignal): Promise<void> {
    const batch = this.queue.slice(0, WRITE_BATCH)
    await this.write(conn, Buffer.concat(batch.map((e) => e.data)), signal)
    if (!this.o.requestAck) return this.done(batch.length)
    for (const e of batch) {
      const got = await this.nextAck(conn, signal)
      if (got !== e.ack) throw new Error(`fluent#write: message ack (${got}) doesn't match expected one (${e.ack ?? ''})`)
      this.done(1)
    }
  }

  private write(conn: Conn, data: Buffer, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined
      const finish = (err?: Error | null) => {
        if (timer) clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        if (err) reject(err)
        else resolve()
      }
      const onAbort = () => finish(abortReason(signal))
      signal.addEventListener('abort', onAbort, { once: true })
      if (this.o.writeTimeoutMs > 0) timer = setTimeout(() => finish(new Error('fluent#write: i/o timeout')), this.o.writeTimeoutMs)
      if (conn.closed) return finish(new Error('connection has been closed before writing to it'))
      conn.socket.write(data, (err) => finish(err ?? undefined))
    })
  }

  private async nextAck(conn: Conn, signal: AbortSignal): Promise<string> {
    for (;;) {
      const a = conn.acks.shift()
      if (a !== undefined) return a
      if (conn.closed) throw new Error('fluent#write: connection closed before the ack')
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(abortReason(signal))
        if (signal.aborted) return onAbort()
        signal.addEventListener('abort', onAbort, { once: true })
        conn.wake = () => {
          signal.removeEventListener('abort', onAbort)
          conn.wake = undefined
          resolve()
        }
      })
    }
  }
}

function ackOf(v: unknown): string | undefined {
  const a: unknown = v instanceof Map ? v.get('ack') : typeof v === 'object' && v !== null && 'ack' in v ? (v as { ack: unknown }).ack : undefined
  return typeof a === 'string' ? a : undefined
}

const GO_ERRNO: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  ECONNRESET: 'connection reset by peer',
}

/** One connect attempt, with fluent-logger's dial timeout. */
export function dial(o: Pick<FluentdOptions, 'protocol' | 'host' | 'port' | 'path'>, signal?: AbortSignal): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const socket =
      o.protocol === 'unix'
        ? net.createConnection({ path: o.path })
        : o.protocol === 'tls'
          ? tls.connect({ host: o.host, port: o.port, ...(net.isIP(o.host) === 0 && { servername: o.host }) })
          : net.createConnection({ host: o.host, port: o.port })
    const ready = o.protocol === 'tls' ? 'secureConnect' : 'connect'
    const fail = (err: Error) => {
      cleanup()
      socket.destroy()
      reject(err)
    }
    const where = o.protocol === 'unix' ? `unix ${o.path}` : `tcp ${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port}`
    // Go's wording, which docker users see in warnings and start errors.
    const onError = (err: NodeJS.ErrnoException) => fail(new Error(`dial ${where}: connect: ${GO_ERRNO[err.code ?? ''] ?? err.message}`, { cause: err }))
    const onAbort = () => fail(signal ? abortReason(signal) : new Error('aborted'))
    const timer = setTimeout(() => fail(new Error(`dial ${where}: i/o timeout`)), CONNECT_TIMEOUT_MS)
    const cleanup = () => {
      clearTimeout(timer)
      socket.off('error', onError)
      socket.off(ready, onReady)
      signal?.removeEventListener('abort', onAbort)
    }
    const onReady = () => {
      cleanup()
      socket.setNoDelay(true)
      resolve(socket)
    }
    socket.on('error', onError)
    socket.on(ready, onReady)
    if (signal?.aborted) return onAbort()
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * What dockerd's fluentd New() checks at start: one connection, unless
 * fluentd-async. Not run by the sink (starts never wait for a receiver);
 * for a caller that wants docker's "failed to initialize logging driver:
 * dial tcp …: connect: connection refused".
 */
export async function checkFluentdConnection(opts: Readonly<Record<string, string>>, logger?: Logger): Promise<void> {
  const o = parseFluentdOptions(opts)
  if (o.async) return
  const s = await dial(o)
  logger?.debug('fluentd receiver reachable', { host: o.host, port: o.port, path: o.path })
  s.destroy()
}
