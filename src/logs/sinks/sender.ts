/**
 * The delivery loop every remote driver here shares: encoded frames wait in
 * a queue, `drain` writes them to a connection made on demand, and on a
 * failure reconnects with backoff and writes the rest again (at least once:
 * a frame the kernel took just before the peer died may go twice). In
 * blocking mode that is the point: the shipper waits in `flush` and nothing
 * is lost while the receiver is away. `close` bounds the wait so a stop
 * never hangs on a dead receiver; what is left then is dropped and counted.
 */
import type { Logger } from '../../lib/index.js'

/** One connection to a receiver (a stream socket, or a datagram socket with its destination). */
export interface Conn {
  /** Resolves once the kernel took the frame; rejects when it can't (the conn is then discarded). */
  write(frame: Buffer): Promise<void>
  /** The peer went away: the next write reconnects first. */
  readonly broken: boolean
  close(): void
}

export interface Transport {
  /** For messages: "tcp 127.0.0.1:514". */
  readonly name: string
  connect(): Promise<Conn>
}

/** A frame no retry can deliver (too large for a datagram): dropped with a warning. */
export class UnsendableError extends Error {}

/** Delays between attempts while a receiver is unreachable. */
export interface RetryPolicy {
  /** The delay before retry number `attempt` (1-based) of one outage. */
  delayMs(attempt: number): number
  /** After this many failed attempts the outage is reported as a warning (before it, debug only). */
  warnAfter: number
}

/** Doubling from `firstMs` up to `maxMs`. */
export function exponentialRetry(firstMs: number, maxMs: number, warnAfter = 1): RetryPolicy {
  return {
    warnAfter,
    delayMs: (attempt) => Math.min(maxMs, firstMs * 2 ** Math.min(attempt - 1, 20)),
  }
}

/** The most frames in flight on one connection before waiting for them. */
const WINDOW = 256

export interface SenderOptions {
  transport: Transport
  retry: RetryPolicy
  logger: Logger
  /** How long `close` keeps trying to deliver what is queued. */
  closeTimeoutMs: number
}

export class QueuedSender {
  private queue: Buffer[] = []
  private conn: Conn | undefined
  private draining: Promise<void> | undefined
  private closing = false
  private deadline = Infinity
  private wake: (() => void) | undefined
  /** Frames given up on, for the warning at close. */
  private dropped = 0

  constructor(private readonly o: SenderOptions) {}

  get pending(): number {
    return this.queue.length
  }

  push(frame: Buffer): void {
    if (this.closing && this.deadline <= Date.now()) {
      this.dropped++
      return
    }
    this.queue.push(frame)
  }

  /** Resolves when every frame pushed so far (and any pushed meanwhile) has been written; rejects if close gave up on them. */
  flush(): Promise<void> {
    if (this.queue.length === 0) return this.draining ?? Promise.resolve()
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined
    })
    return this.draining
  }

  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = true
      this.deadline = Date.now() + this.o.closeTimeoutMs
      this.wake?.()
    }
    // A receiver that accepts but never reads leaves writes pending forever: at the deadline the connection goes, which fails them.
    const timer = setTimeout(() => this.conn?.close(), Math.max(0, this.deadline - Date.now()))
    try {
      await this.flush()
    } catch {
      // counted and reported below
    } finally {
      clearTimeout(timer)
    }
    this.conn?.close()
    this.conn = undefined
    if (this.dropped > 0) {
      this.o.logger.warn('log messages were dropped: the receiver could not be reached before the log driver closed', {
        receiver: this.o.transport.name,
        dropped: this.dropped,
      })
      this.dropped = 0
    }
  }

  private async drain(): Promise<void> {
    let failures = 0
    while (this.queue.length > 0) {
      let err: unknown
      try {
        if (!this.conn || this.conn.broken) {
          if (this.closing && this.deadline <= Date.now()) throw new Error('log driver closed')
          this.conn?.close()
          this.conn = undefined
          this.conn = await this.o.transport.connect()
          if (failures > 0) this.o.logger.info('log receiver reachable again', { receiver: this.o.transport.name })
        }
        err = await this.writeWindow(this.conn)
      } catch (e) {
        err = e
      }
      if (err === undefined) {
        failures = 0
        continue
      }
      this.conn?.close()
      this.conn = undefined
      failures++
      const fields = { receiver: this.o.transport.name, queued: this.queue.length, attempt: failures, err }
      if (failures === this.o.retry.warnAfter) this.o.logger.warn('cannot deliver log messages, retrying', fields)
      else this.o.logger.debug('cannot deliver log messages, retrying', fields)
      const left = this.deadline - Date.now()
      if (left <= 0) {
        this.dropped += this.queue.length
        const n = this.queue.length
        this.queue = []
        throw new Error(`log driver closed with ${n} messages undelivered to ${this.o.transport.name}`, { cause: err })
      }
      await this.sleep(Math.min(this.o.retry.delayMs(failures), left))
    }
  }

  /** Writes up to WINDOW frames; undefined when all went, else the error that stopped them (what went is off the queue). */
  private async writeWindow(conn: Conn): Promise<unknown> {
    const window = this.queue.slice(0, WINDOW)
    const results = await Promise.allSettled(window.map((f) => conn.write(f)))
    let done = 0
    let err: unknown
    for (const r of results) {
      if (r.status === 'fulfilled') {
        done++
        continue
      }
      if (r.reason instanceof UnsendableError) {
        this.o.logger.warn('log message dropped', { receiver: this.o.transport.name, err: r.reason })
        done++
        continue
      }
      err = r.reason
      break
    }
    this.queue.splice(0, done)
    return err
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.wake = () => {
        this.wake = undefined
        done()
      }
    })
  }
}
