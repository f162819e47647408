/**
 * What the network drivers' senders (fluentd, splunk) share: a queue of
 * encoded messages drained by one background loop, `flush` resolving once
 * everything queued before it has left the queue (sent, or dropped by a
 * driver rule docker also applies), and `close` giving the loop a bounded
 * time before it drops the rest with a warning. A receiver that is down
 * makes `flush` wait (the shipper then reads no further and conmon's file
 * keeps the output), never a container.
 */
import type { Logger } from '../../lib/index.js'
import type { LogMessage } from '../drivers/index.js'
import type { LogSink } from '../sink.js'

/** How long `close` goes on trying before it drops what is left. */
export const CLOSE_TIMEOUT_MS = 5000

export abstract class PumpedSink<E> implements LogSink {
  protected queue: E[] = []
  protected closing = false
  private enqueued = 0
  private finished = 0
  private waiters: Array<{ target: number; resolve: () => void }> = []
  private pump: Promise<void> | undefined
  private readonly stop = new AbortController()
  private closed: Promise<void> | undefined

  constructor(
    protected readonly logger: Logger,
    private readonly closeTimeoutMs = CLOSE_TIMEOUT_MS,
  ) {}

  /** The wire form of one message; undefined when the driver sends nothing for it. */
  protected abstract encode(m: LogMessage): E | undefined

  /**
   * Sends from the head of the queue until it is empty, calling `done` as
   * entries leave it; retries by the driver's rules. Returns when the queue
   * is empty; rejects only once `signal` is aborted.
   */
  protected abstract run(signal: AbortSignal): Promise<void>

  /** Frees what the driver holds (connections, agents) once the loop has ended. */
  protected abstract release(): void

  /** Whether a new entry may be queued; false drops it (fluentd's async buffer limit). */
  protected admit(): boolean {
    return true
  }

  log(m: LogMessage): void {
    if (this.closing) return
    const e = this.encode(m)
    if (e === undefined) return
    if (!this.admit()) return
    this.queue.push(e)
    this.enqueued++
  }

  flush(signal?: AbortSignal): Promise<void> {
    return this.waitSent(this.enqueued, signal)
  }

  close(): Promise<void> {
    this.closed ??= this.shut()
    return this.closed
  }

  /** The first n entries left the queue. */
  protected done(n: number): void {
    if (n <= 0) return
    this.queue.splice(0, n)
    this.finished += n
    this.settle()
  }

  /** Resolves once the queue has emptied up to `target`; starts the loop if it is idle. */
  protected waitSent(target: number, signal?: AbortSignal): Promise<void> {
    this.kick()
    if (this.finished >= target) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const w = {
        target,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        },
      }
      const onAbort = () => {
        this.waiters = this.waiters.filter((x) => x !== w)
        reject(signal ? abortReason(signal) : new Error('aborted'))
      }
      if (signal?.aborted) return onAbort()
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiters.push(w)
    })
  }

  protected kick(): void {
    if (this.pump || this.queue.length === 0 || this.stop.signal.aborted) return
    this.pump = this.run(this.stop.signal).then(
      () => {
        this.pump = undefined
        // Entries queued while the loop was ending.
        if (this.waiters.length > 0) this.kick()
      },
      (err: unknown) => {
        // Aborted by close, or a fault: the next flush starts a new loop (no restart here, so a fault cannot spin).
        this.pump = undefined
        if (!this.stop.signal.aborted) this.logger.warn('log sender stopped', { err })
      },
    )
  }

  private settle(): void {
    const ready = this.waiters.filter((w) => this.finished >= w.target)
    this.waiters = this.waiters.filter((w) => this.finished < w.target)
    for (const w of ready) w.resolve()
  }

  private async shut(): Promise<void> {
    this.closing = true
    const deadline = AbortSignal.timeout(this.closeTimeoutMs)
    await this.waitSent(this.enqueued, deadline).catch(() => {})
    this.stop.abort()
    await this.pump
    const dropped = this.queue.length
    if (dropped > 0) {
      this.logger.warn('log receiver unreachable at close: messages dropped', { dropped })
      this.done(dropped)
    }
    this.release()
  }
}

/** Resolves after ms, or rejects when signal aborts first. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(abortReason(signal))
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(t)
      reject(abortReason(signal))
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

export function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted')
}
