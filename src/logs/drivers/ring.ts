/**
 * The buffer behind `mode=non-blocking` (moby daemon/logger/ring.go): the
 * container's output is queued here and a sender drains it to the driver.
 * Bounded by the bytes of queued lines; when a message would pass the bound
 * it is the NEW message that is dropped — unless the queue is empty, so one
 * oversized line still goes through.
 */
import type { LogMessage } from './message.js'
import { DEFAULT_MAX_BUFFER_SIZE } from './options.js'

export class MessageRing<M extends Pick<LogMessage, 'line'> = LogMessage> {
  readonly maxBytes: number
  private queue: M[] = []
  private head = 0
  private bytes = 0
  private closed = false
  private waiters: ((m: M | undefined) => void)[] = []
  /** Messages refused because the buffer was full. */
  dropped = 0

  /** A negative size means moby's default, 1 MB (1e6 bytes). */
  constructor(maxBytes: number = -1) {
    this.maxBytes = maxBytes < 0 ? DEFAULT_MAX_BUFFER_SIZE : maxBytes
  }

  get sizeBytes(): number {
    return this.bytes
  }

  get length(): number {
    return this.queue.length - this.head
  }

  get isClosed(): boolean {
    return this.closed
  }

  /** Queues a message; false when it was dropped for lack of room. Throws once closed. */
  enqueue(m: M): boolean {
    if (this.closed) throw new Error('closed')
    const waiter = this.waiters.shift()
    if (waiter) {
      waiter(m)
      return true
    }
    const size = m.line.length
    if (size + this.bytes > this.maxBytes && this.length > 0) {
      this.dropped++
      return false
    }
    this.queue.push(m)
    this.bytes += size
    return true
  }

  /** The oldest message, or undefined when empty. */
  dequeue(): M | undefined {
    if (this.head >= this.queue.length) return undefined
    const m = this.queue[this.head]!
    this.queue[this.head] = undefined as unknown as M
    this.head++
    this.bytes -= m.line.length
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
    return m
  }

  /** The next message once one is queued; undefined when the ring is closed. */
  next(): Promise<M | undefined> {
    if (this.closed) return Promise.resolve(undefined)
    const m = this.dequeue()
    if (m !== undefined) return Promise.resolve(m)
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  /** Stops accepting; pending next() calls resolve undefined. What is queued stays for drain(). */
  close(): void {
    if (this.closed) return
    this.closed = true
    for (const w of this.waiters.splice(0)) w(undefined)
  }

  /** Everything still queued, oldest first, leaving the ring empty. */
  drain(): M[] {
    const out = this.queue.slice(this.head)
    this.queue = []
    this.head = 0
    this.bytes = 0
    return out
  }
}
