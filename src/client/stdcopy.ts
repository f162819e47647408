/**
 * docker's stdcopy framing for non-TTY attach, exec and logs: an 8-byte header
 * [stream, 0, 0, 0, size uint32 BE] then `size` payload bytes. Hand-written
 * because it is twenty lines and must tolerate frames split across chunks.
 */
import { finished, type Readable, type Writable } from 'node:stream'

export enum StdStream { Stdin = 0, Stdout = 1, Stderr = 2, Systemerr = 3 }

export interface Frame {
  stream: StdStream
  payload: Buffer
}

/** Incremental parser: push chunks in any split, get whole frames out. */
export class StdcopyDemuxer {
  private pending: Buffer = Buffer.alloc(0)

  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk
    const frames: Frame[] = []
    while (this.pending.length >= 8) {
      const stream = this.pending[0]
      if (stream === undefined || stream > 3) {
        throw new Error(`Unrecognized input header: ${stream}`)
      }
      const size = this.pending.readUInt32BE(4)
      if (this.pending.length < 8 + size) break
      frames.push({ stream, payload: this.pending.subarray(8, 8 + size) })
      this.pending = this.pending.subarray(8 + size)
    }
    return frames
  }

  /** Bytes of an incomplete frame left at the end of the stream. */
  get remainder(): number {
    return this.pending.length
  }
}

/** Builds one frame; the server side and tests use it. */
export function encodeFrame(stream: StdStream, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload
  const header = Buffer.alloc(8)
  header[0] = stream
  header.writeUInt32BE(body.length, 4)
  return Buffer.concat([header, body])
}

/**
 * Copies a multiplexed stream to stdout and stderr until it ends. A systemerr
 * frame rejects with its message, as docker's StdCopy returns it as an error.
 */
export function demuxStream(src: Readable, stdout: Writable, stderr: Writable): Promise<void> {
  const demuxer = new StdcopyDemuxer()
  return new Promise((resolve, reject) => {
    let failed = false
    const fail = (err: Error): void => {
      if (failed) return
      failed = true
      src.destroy()
      reject(err)
    }
    src.on('data', (chunk: Buffer) => {
      let frames: Frame[]
      try {
        frames = demuxer.push(chunk)
      } catch (err) {
        fail(err as Error)
        return
      }
      for (const f of frames) {
        if (f.stream === StdStream.Systemerr) {
          fail(new Error(f.payload.toString()))
          return
        }
        if (f.stream === StdStream.Stderr) stderr.write(f.payload)
        else stdout.write(f.payload)
      }
    })
    // A paused source (a hijacked socket held until now) flows from here.
    src.resume()
    // finished() also answers for a socket that ended or closed before we got here
    // (a container that exits at once): 'end'/'close' listeners added late never fire.
    finished(src, (err) => {
      if (failed) return
      if (err && (err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') fail(err)
      else resolve()
    })
  })
}
