import type { Writable } from 'node:stream'

/** docker's stream ids in the 8-byte multiplexing header. */
export type StreamId = 0 | 1 | 2 | 3

/** One stdcopy frame: [stream, 0, 0, 0, size (uint32 BE)] + payload. */
export function writeFrame(out: Writable, stream: StreamId, payload: Buffer): boolean {
  if (payload.length === 0) return true
  return out.write(Buffer.concat([frameHeader(stream, payload.length), payload]))
}

/** A writer for one output stream: framed when the stream is multiplexed, raw for a TTY. */
export function muxWriter(out: Writable, multiplexed: boolean): (stream: 'stdout' | 'stderr', data: Buffer) => boolean {
  return (stream, data) => (multiplexed ? writeFrame(out, stream === 'stdout' ? 1 : 2, data) : out.write(data))
}

const BATCH = 64 * 1024

/**
 * Many small frames gathered into few writes: `logs` of a busy container
 * is hundreds of thousands of lines, and a socket write each costs more
 * than the line. Gathered bytes go out when 64 KiB are held, or, for a
 * follower waiting on new lines, at the next turn of the event loop.
 */
export class FrameBatcher {
  private buf = Buffer.allocUnsafeSlow(BATCH)
  private used = 0
  private scheduled: NodeJS.Immediate | undefined
  private drain: Promise<void> | undefined
  /** False while the socket's buffer is full: await drained() before more. */
  writable = true

  constructor(
    private readonly out: Writable,
    private readonly multiplexed: boolean,
  ) {}

  /** One frame of prefix + data (prefix: `logs -t` time, `--details` attrs). */
  push(stream: 'stdout' | 'stderr', data: Buffer, prefix?: Buffer): void {
    const size = data.length + (prefix?.length ?? 0)
    if (size === 0) return
    const need = size + (this.multiplexed ? 8 : 0)
    if (this.used + need > this.buf.length) this.flush()
    if (need > this.buf.length) {
      const parts = prefix ? [prefix, data] : [data]
      if (this.multiplexed) parts.unshift(frameHeader(stream === 'stdout' ? 1 : 2, size))
      if (!this.out.write(Buffer.concat(parts))) this.blocked()
      return
    }
    if (this.multiplexed) {
      this.buf[this.used] = stream === 'stdout' ? 1 : 2
      this.buf.fill(0, this.used + 1, this.used + 4)
      this.buf.writeUInt32BE(size, this.used + 4)
      this.used += 8
    }
    if (prefix) {
      this.buf.set(prefix, this.used)
      this.used += prefix.length
    }
    this.buf.set(data, this.used)
    this.used += data.length
    this.scheduled ??= setImmediate(() => {
      this.scheduled = undefined
      this.flush()
    })
  }

  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled)
    this.scheduled = undefined
    if (this.used === 0) return
    // The socket keeps the bytes until written: the next frames go to a new buffer.
    const chunk = this.buf.subarray(0, this.used)
    this.buf = Buffer.allocUnsafeSlow(BATCH)
    this.used = 0
    if (!this.out.destroyed && !this.out.write(chunk)) this.blocked()
  }

  /** Resolves once the socket takes more (at once if it already does). */
  async drained(): Promise<void> {
    await this.drain
  }

  // Listening from the write on: a flush from the timer may fill the socket, and drain, while nobody waits.
  private blocked(): void {
    if (this.drain || this.out.destroyed) return
    this.writable = false
    this.drain = new Promise<void>((resolve) => {
      const done = () => {
        this.out.off('drain', done)
        this.out.off('close', done)
        this.writable = true
        this.drain = undefined
        resolve()
      }
      this.out.on('drain', done)
      this.out.on('close', done)
    })
  }
}

function frameHeader(stream: StreamId, size: number): Buffer {
  const header = Buffer.alloc(8)
  header[0] = stream
  header.writeUInt32BE(size, 4)
  return header
}
