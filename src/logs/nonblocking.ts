/**
 * `mode=non-blocking` (moby's RingLogger): messages go into a ring of
 * `max-buffer-size` bytes and a pump hands them to the driver, so a slow
 * or dead receiver never holds the shipper up; when the ring is full the
 * new message is dropped and counted. The shipper's offset moves on at
 * once, so what is still in the ring is lost if berthd dies (docker loses
 * it too).
 */
import type { Logger } from '../lib/index.js'
import { MessageRing, type LogMessage } from './drivers/index.js'
import type { LogSink } from './sink.js'

/** How long close() lets the pump empty the ring before giving up. */
const CLOSE_GRACE_MS = 5000

export class NonBlockingSink implements LogSink {
  private readonly ring: MessageRing
  private readonly pumping: Promise<void>

  constructor(
    private readonly inner: LogSink,
    maxBufferSize: number,
    private readonly logger: Logger,
  ) {
    this.ring = new MessageRing(maxBufferSize)
    this.pumping = this.pump()
  }

  log(m: LogMessage): void {
    // The line is the shipper's buffer: keep a copy while it waits in the ring.
    this.ring.enqueue({ ...m, line: Uint8Array.from(m.line) })
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.ring.close()
    const timer = new Promise<'late'>((r) => setTimeout(() => r('late'), CLOSE_GRACE_MS).unref())
    const late = (await Promise.race([this.pumping.then(() => 'done' as const), timer])) === 'late'
    const left = this.ring.drain().length
    if (late || left > 0 || this.ring.dropped > 0) {
      this.logger.warn('log messages were dropped', { full: this.ring.dropped, unsent: left })
    }
    await this.inner.close().catch(() => {})
  }

  private async pump(): Promise<void> {
    for (let m = await this.ring.next(); m !== undefined; m = await this.ring.next()) {
      try {
        await this.inner.log(m)
        if (this.ring.length === 0) await this.inner.flush()
      } catch (err) {
        this.logger.debug('log driver failed a message', { err })
      }
    }
    // Closed: what was queued before the close still goes out.
    for (const m of this.ring.drain()) await this.inner.log(m)
    await this.inner.flush()
  }
}
