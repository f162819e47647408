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

/** moby's copier reads 16 KiB at a time: a longer line goes to the driver in pieces of that size. */
const MAX_PIECE = 16 * 1024

/** A line being put together from conmon's `P` records. */
interface Pending {
  pieces: Buffer[]
  size: number
  timestamp: LogMessage['timestamp']
  /** Offset of its first record: what a restart must read again. */
  start: number
  id: string
  /** Pieces already sent. */
  sent: number
}

const STDOUT = Buffer.from('stdout')
const STDERR = Buffer.from('stderr')

export class K8sFileFollower {
  private ino: number | undefined
  private readonly pending = new Map<'stdout' | 'stderr', Pending>()
  // conmon stamps a whole read with one time: parse each distinct one once.
  private lastTime: Buffer = Buffer.alloc(0)
  private lastStamp: LogMessage['timestamp'] | undefined

  constructor(
    private readonly file: string,
    /** Byte offset of the next record to read. */
    public offset = 0,
  ) {}

  /** Where a restart must start reading: before any line still being put together. */
  get safeOffset(): number {
    let o = this.offset
    for (const p of this.pending.values()) o = Math.min(o, p.start)
    return o
  }

  /**
   * Up to about maxBytes of records from the offset on, as the driver gets
   * them: conmon's pieces of a line joined (moby's copier: a line longer than
   * 16 KiB goes in 16 KiB pieces sharing one partial id). `final` (the
   * container is gone) sends what is left of an unfinished line as it stands.
   */
  async read(maxBytes = 1 << 20, final = false): Promise<Batch> {
    let st
    try {
      st = await fsp.stat(this.file)
    } catch {
      return { records: final ? this.drainPending() : [], size: this.offset, restarted: false }
    }
    let restarted = false
    if (st.size < this.offset || (this.ino !== undefined && st.ino !== this.ino)) {
      this.offset = 0
      this.pending.clear()
      restarted = true
    }
    this.ino = st.ino
    if (st.size === this.offset) return { records: final ? this.drainPending() : [], size: st.size, restarted }
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
      const recStart = this.offset + start
      const rec = buf.subarray(start, nl)
      start = nl + 1
      this.take(rec, recStart, this.offset + start, records)
    }
    // A record longer than maxBytes: take it whole next time, with room for it.
    if (start === 0 && buf.length === maxBytes && maxBytes < 1 << 26) return this.read(maxBytes * 2, final)
    this.offset += start
    if (final && this.offset === st.size) records.push(...this.drainPending())
    return { records, size: st.size, restarted }
  }

  private take(rec: Buffer, recStart: number, end: number, out: FollowedRecord[]): void {
    const a = rec.indexOf(0x20)
    const b = a < 0 ? -1 : rec.indexOf(0x20, a + 1)
    if (a < 0 || b < 0) return
    const c = rec.indexOf(0x20, b + 1)
    const stamp = this.stampOf(rec.subarray(0, a))
    const src = rec.subarray(a + 1, b)
    const source = src.equals(STDOUT) ? 'stdout' : src.equals(STDERR) ? 'stderr' : undefined
    if (stamp === undefined || source === undefined) return
    const line = c < 0 ? Buffer.alloc(0) : Buffer.from(rec.subarray(c + 1))
    let p = this.pending.get(source)
    if (rec[b + 1] === 0x50 /* P */) {
      if (!p) {
        p = { pieces: [], size: 0, timestamp: stamp, start: recStart, id: '', sent: 0 }
        this.pending.set(source, p)
      }
      p.pieces.push(line)
      p.size += line.length
      while (p.size >= MAX_PIECE) {
        const all = Buffer.concat(p.pieces)
        p.id ||= randomBytes(32).toString('hex')
        p.sent++
        out.push({ message: { line: all.subarray(0, MAX_PIECE), source, timestamp: p.timestamp, partial: { id: p.id, ordinal: p.sent, last: false } }, end })
        p.pieces = [all.subarray(MAX_PIECE)]
        p.size = all.length - MAX_PIECE
      }
      return
    }
    if (!p) {
      out.push({ message: { line, source, timestamp: stamp }, end })
      return
    }
    this.pending.delete(source)
    const message: LogMessage = { line: Buffer.concat([...p.pieces, line]), source, timestamp: p.timestamp }
    if (p.sent > 0) message.partial = { id: p.id, ordinal: p.sent + 1, last: true }
    out.push({ message, end })
  }

  private stampOf(time: Buffer): LogMessage['timestamp'] | undefined {
    if (!time.equals(this.lastTime)) {
      const ns = parseTimeNano(time.toString('latin1'))
      this.lastTime = Buffer.from(time)
      this.lastStamp = ns === undefined ? undefined : timestamp(ns)
    }
    return this.lastStamp
  }

  /** Unfinished lines as they stand (no newline follows them). */
  private drainPending(): FollowedRecord[] {
    const out: FollowedRecord[] = []
    for (const [source, p] of this.pending) {
      const id = p.id || randomBytes(32).toString('hex')
      out.push({ message: { line: Buffer.concat(p.pieces), source, timestamp: p.timestamp, partial: { id, ordinal: p.sent + 1, last: false } }, end: this.offset })
    }
    this.pending.clear()
    return out
  }
}
