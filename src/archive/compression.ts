import { Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { invalidArgument } from '../errors/index.js'

/** Bytes of output per zlib call. */
const GUNZIP_CHUNK = 256 << 10

export type Compression = 'none' | 'gzip' | 'zstd' | 'bzip2' | 'xz'

export function detectCompression(head: Uint8Array): Compression {
  const b = Buffer.from(head)
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip'
  if (b.length >= 4 && b.readUInt32LE(0) === 0xfd2fb528) return 'zstd'
  if (b.length >= 3 && b.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2'
  if (b.length >= 6 && b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz'
  return 'none'
}

/**
 * The first `n` bytes of a stream (fewer at its end) and a stream that
 * replays them and then the rest: how compression and archive formats are
 * sniffed without losing what was read.
 */
export async function peek(input: AsyncIterable<Uint8Array>, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const it = input[Symbol.asyncIterator]()
  let head = Buffer.alloc(0)
  let done = false
  while (head.length < n && !done) {
    const r = await it.next()
    if (r.done) done = true
    else head = head.length === 0 ? Buffer.from(r.value) : Buffer.concat([head, r.value])
  }
  async function* replay(): AsyncGenerator<Buffer> {
    if (head.length) yield head
    if (done) return
    for (;;) {
      const r = await it.next()
      if (r.done) return
      yield Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value)
    }
  }
  return { head: head.subarray(0, n), stream: Readable.from(replay(), { objectMode: false }) }
}

/**
 * The uncompressed bytes of a layer or archive stream: plain or gzip, told
 * apart by their magic. Other compressions are refused by name.
 */
export async function decompress(input: Readable): Promise<Readable> {
  const { head, stream: plain } = await peek(input, 6)
  const kind = detectCompression(head)
  if (kind !== 'none' && kind !== 'gzip') {
    input.destroy()
    throw invalidArgument(`unsupported compression format ${kind}: berth reads plain and gzip-compressed tar`)
  }
  if (kind === 'none') return plain
  // zlib's default 16 KiB output chunk costs a thread-pool round trip per 16 KiB:
  // measured, gunzip of a 40 MiB layer took twice as long as with 256 KiB chunks.
  const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK })
  plain.on('error', (e) => gunzip.destroy(e))
  return plain.pipe(gunzip)
}
