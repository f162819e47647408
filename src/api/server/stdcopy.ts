import type { Writable } from 'node:stream'

/** docker's stream ids in the 8-byte multiplexing header. */
export type StreamId = 0 | 1 | 2 | 3

/** One stdcopy frame: [stream, 0, 0, 0, size (uint32 BE)] + payload. */
export function writeFrame(out: Writable, stream: StreamId, payload: Buffer): boolean {
  if (payload.length === 0) return true
  const header = Buffer.alloc(8)
  header[0] = stream
  header.writeUInt32BE(payload.length, 4)
  return out.write(Buffer.concat([header, payload]))
}

/** A writer for one output stream: framed when the stream is multiplexed, raw for a TTY. */
export function muxWriter(out: Writable, multiplexed: boolean): (stream: 'stdout' | 'stderr', data: Buffer) => boolean {
  return (stream, data) => (multiplexed ? writeFrame(out, stream === 'stdout' ? 1 : 2, data) : out.write(data))
}
