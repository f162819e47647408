/**
 * Reading conmon's k8s-file of a container from a byte offset, in batches,
 * as the log shipper needs it: every record with the offset just past it,
 * so the shipper can save how far a driver got and resume there after a
 * restart. Pieces of long lines (`P` records) keep docker's partial
 * metadata: one id per line, ordinals from 1, the `F` record last.
 */
import { randomBytes } from 'node:crypto'
import { promises as fsp } from 'node:fs'
import type { LogMessage } from './drivers/index.js'
import { parseTimeNano } from './k8s-file.js'

export interface FollowedRecord {
  message: LogMessage
  /** Where the next record starts in the file. */
  end: number
}

export interface Batch {
  records: FollowedRecord[]
  /** The file's size when read: the caller is caught up when the offset reaches it. */
  size: number
  /** The file was replaced or cut (conmon's --log-size-max): reading started again at 0. */
  restarted: boolean
}

/** Nanoseconds as the drivers' Timestamp (milliseconds and the nanoseconds within them). */
function timestamp(ns: bigint): LogMessage['timestamp'] {
  return { ms: Number(ns / 1_000_000n), nanos: Number(ns % 1_000_000n) }
}

export class K8sFileFollower {
  private partial: { id: string; ordinal: number } | undefined
  private ino: number | undefined

  constructor(
    private readonly file: string,
    /** Byte offset of the next record to read. */
    public offset = 0,
  ) {}

  /** Up to about maxBytes of whole records from the offset on; an empty batch when nothing new is there. */
  async read(maxBytes = 1 << 20): Promise<Batch> {
    let st
    try {
      st = await fsp.stat(this.file)
    } catch {
      return { records: [], size: this.offset, restarted: false }
    }
    let restarted = false
    if (st.size < this.offset || (this.ino !== undefined && st.ino !== this.ino)) {
      this.offset = 0
      this.partial = undefined
      restarted = true
    }
    this.ino = st.ino
    if (st.size === this.offset) return { records: [], size: st.size, restarted }
    const fh = await fsp.open(this.file, 'r')
    let buf: Buffer
    try {
      const want = Math.min(st.size - this.offset, maxBytes)
      buf = Buffer.alloc(want)
      const { bytesRead } = await fh.read(buf, 0, want, this.offset)
      buf = buf.subarray(0, bytesRead)
    } finally {
      await fh.close()
    }
    const records: FollowedRecord[] = []
    let start = 0
    for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a, start)) {
      const rec = buf.subarray(start, nl)
      start = nl + 1
      const m = this.parse(rec)
      if (m) records.push({ message: m, end: this.offset + start })
    }
    // A record longer than maxBytes: take it whole next time, with room for it.
    if (start === 0 && buf.length === maxBytes) return this.read(maxBytes * 2)
    if (records.length === 0 && start > 0) {
      // Only unparseable records: step over them.
      this.offset += start
      return { records, size: st.size, restarted }
    }
    if (records.length > 0) this.offset = (records.at(-1) as FollowedRecord).end
    return { records, size: st.size, restarted }
  }

  private parse(rec: Buffer): LogMessage | undefined {
    const a = rec.indexOf(0x20)
    const b = a < 0 ? -1 : rec.indexOf(0x20, a + 1)
    if (a < 0 || b < 0) return undefined
    const c = rec.indexOf(0x20, b + 1)
    const timeNano = parseTimeNano(rec.subarray(0, a).toString('latin1'))
    const stream = rec.subarray(a + 1, b).toString('latin1')
    const tag = rec.subarray(b + 1, c < 0 ? rec.length : c).toString('latin1')
    if (timeNano === undefined || (stream !== 'stdout' && stream !== 'stderr')) return undefined
    const line = c < 0 ? new Uint8Array(0) : rec.subarray(c + 1)
    const message: LogMessage = { line, source: stream, timestamp: timestamp(timeNano) }
    if (tag.startsWith('P')) {
      this.partial ??= { id: randomBytes(32).toString('hex'), ordinal: 0 }
      this.partial.ordinal++
      message.partial = { id: this.partial.id, ordinal: this.partial.ordinal, last: false }
    } else if (this.partial) {
      message.partial = { id: this.partial.id, ordinal: this.partial.ordinal + 1, last: true }
      this.partial = undefined
    }
    return message
  }
}
