/**
 * The files of the drivers that keep their own: json-file
 * (`<container dir>/<id>-json.log`, one line per message in dockerd's
 * bytes) and local (`<container dir>/local-logs/container.log`, framed
 * protobuf records), rotated by max-size into `.1` … `.N` (gzipped with
 * compress), and read back for `logs` (rotated files first, a rotation met
 * while following included).
 *
 * Reading streams each file in chunks, so `logs` of a large file holds one
 * chunk's entries at a time; `--tail N` of a line-based file counts N lines
 * back from its end instead of decoding what comes before, as moby's
 * tailfile does. json-file lines in the shape dockerd and berthd write are
 * decoded from their bytes without JSON.parse; anything else takes the
 * general path.
 */
import { createReadStream, promises as fsp } from 'node:fs'
import { pipeline } from 'node:stream/promises'
import { createGunzip, createGzip } from 'node:zlib'
import { createWriteStream } from 'node:fs'
import path from 'node:path'
import { decodeLocalEntries, encodeJSONFileLine, encodeLocalEntry, logFiles, parseJSONFileLine, parseRFC3339Nano, planRotation, shouldRotate, unixNano, type FileOptions, type LogMessage } from './drivers/index.js'
import { followChanges, type LogEntry, type ReadLogsOptions } from './k8s-file.js'
import type { LogSink } from './sink.js'

/** How a driver's file holds messages. */
export interface FileFormat {
  encode(m: LogMessage): Buffer
  /** The whole records at the start of buf, and how many bytes they take. */
  decode(buf: Buffer): { entries: LogEntry[]; used: number }
  /** One record a line: `--tail` may count newlines back from the end. */
  lineBased?: boolean
}

export function jsonFileFormat(attrs?: string): FileFormat {
  // A burst of lines shares conmon's timestamp: parse each distinct time once.
  let lastTime = ''
  let lastNano: bigint | undefined
  const timeNano = (s: string): bigint | undefined => {
    if (s !== lastTime) {
      const t = parseRFC3339Nano(s)
      lastTime = s
      lastNano = t && unixNano(t)
    }
    return lastNano
  }
  return {
    lineBased: true,
    encode: (m) => encodeJSONFileLine(m, attrs),
    decode: (buf) => {
      const entries: LogEntry[] = []
      let start = 0
      for (;;) {
        const nl = buf.indexOf(0x0a, start)
        if (nl < 0) break
        const e = plainJSONFileEntry(buf, start, nl, timeNano) ?? entryOf(buf.toString('utf8', start, nl))
        if (e) entries.push(e)
        start = nl + 1
      }
      return { entries, used: start }
    },
  }
}

const LOG_KEY = Buffer.from('{"log":"')
const STREAM_KEY = Buffer.from('","stream":"')
const TIME_KEY = Buffer.from('","time":"')
const STDOUT = Buffer.from('stdout')
const STDERR = Buffer.from('stderr')

// A loop, not buf.compare: the keys are short and compare's argument checks cost more than they do.
function at(buf: Buffer, i: number, end: number, key: Buffer): boolean {
  if (i + key.length > end) return false
  for (let k = 0; k < key.length; k++) if (buf[i + k] !== key[k]) return false
  return true
}

/**
 * `{"log":"<text>[\n]","stream":"stdout|stderr","time":"<time>"}` whose text
 * is printable ASCII without escapes: its bytes are the line's. Anything else
 * (escapes, UTF-8, attrs, another key order) is undefined, for JSON.parse.
 */
function plainJSONFileEntry(buf: Buffer, start: number, end: number, timeNano: (s: string) => bigint | undefined): LogEntry | undefined {
  if (!at(buf, start, end, LOG_KEY)) return undefined
  const textStart = start + LOG_KEY.length
  let i = textStart
  for (; i < end; i++) {
    const b = buf[i] as number
    if (b === 0x22 || b === 0x5c || b < 0x20 || b >= 0x7f) break
  }
  const textEnd = i
  const newline = buf[i] === 0x5c && buf[i + 1] === 0x6e
  if (newline) i += 2
  if (!at(buf, i, end, STREAM_KEY)) return undefined
  i += STREAM_KEY.length
  const stream = at(buf, i, end, STDOUT) ? 'stdout' : at(buf, i, end, STDERR) ? 'stderr' : undefined
  if (!stream) return undefined
  i += 6
  if (!at(buf, i, end, TIME_KEY) || buf[end - 1] !== 0x7d || buf[end - 2] !== 0x22) return undefined
  i += TIME_KEY.length
  const nano = end - 2 > i ? timeNano(buf.toString('latin1', i, end - 2)) : undefined
  if (nano === undefined) return undefined
  const line = Buffer.allocUnsafe(textEnd - textStart + (newline ? 1 : 0))
  line.set(buf.subarray(textStart, textEnd))
  if (newline) line[line.length - 1] = 0x0a
  return { stream, timeNano: nano, line }
}

/** dockerd's local driver keeps lines without their newline, and puts it back when read, partial pieces aside. */
export const localFormat: FileFormat = {
  encode: (m) => encodeLocalEntry(m),
  decode: (buf) => {
    const { entries, used } = decodeLocalEntries(buf)
    return {
      used,
      entries: entries.map((e) => ({ stream: e.source === 'stderr' ? 'stderr' : 'stdout', timeNano: e.timeNano, line: e.partial ? e.line : Buffer.concat([e.line, Buffer.from('\n')]) })),
    }
  },
}

export class RotatingLogWriter implements LogSink {
  private pending: Buffer[] = []
  private fh: fsp.FileHandle | undefined
  private size = 0

  constructor(
    private readonly file: string,
    private readonly opts: FileOptions,
    private readonly format: FileFormat,
  ) {}

  log(m: LogMessage): void {
    this.pending.push(this.format.encode(m))
  }

  async flush(): Promise<void> {
    const lines = this.pending
    this.pending = []
    if (lines.length === 0) return
    let batch: Buffer[] = []
    let batchBytes = 0
    for (const line of lines) {
      // moby rotates before a write once the file has reached max-size.
      if (shouldRotate(this.size + batchBytes, this.opts.maxSize)) {
        await this.write(batch)
        batch = []
        batchBytes = 0
        await this.rotate()
      }
      batch.push(line)
      batchBytes += line.length
    }
    await this.write(batch)
  }

  async close(): Promise<void> {
    await this.flush()
    await this.fh?.close()
    this.fh = undefined
  }

  private async open(): Promise<fsp.FileHandle> {
    if (!this.fh) {
      await fsp.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 })
      this.fh = await fsp.open(this.file, 'a', 0o640)
      this.size = (await this.fh.stat()).size
    }
    return this.fh
  }

  private async write(lines: Buffer[]): Promise<void> {
    if (lines.length === 0) return
    const fh = await this.open()
    const buf = lines.length === 1 ? (lines[0] as Buffer) : Buffer.concat(lines)
    let off = 0
    while (off < buf.length) off += (await fh.write(buf, off, buf.length - off)).bytesWritten
    this.size += buf.length
  }

  private async rotate(): Promise<void> {
    await this.fh?.close()
    this.fh = undefined
    const plan = planRotation(this.file, this.opts.maxFile, this.opts.compress)
    if (plan.remove) await fsp.rm(plan.remove, { force: true })
    for (const [from, to] of plan.renames) await fsp.rename(from, to).catch(() => {})
    if (plan.current === 'unlink') await fsp.rm(this.file, { force: true })
    else await fsp.rename(this.file, plan.current.rename)
    if (plan.compress) {
      await pipeline(createReadStream(plan.compress), createGzip(), createWriteStream(`${plan.compress}.gz`))
      await fsp.rm(plan.compress, { force: true })
    }
    this.size = 0
  }
}

function entryOf(text: string): LogEntry | undefined {
  try {
    const e = parseJSONFileLine(text)
    return { stream: e.source === 'stderr' ? 'stderr' : 'stdout', timeNano: unixNano(e.timestamp), line: e.line, ...(Object.keys(e.attrs).length ? { attrs: e.attrs } : {}) }
  } catch {
    return undefined
  }
}

/** Bytes read at a time: a chunk's entries are what `logs` holds of a file at once. */
const CHUNK = 1 << 20

/**
 * The whole records of a (possibly gzipped) file from start, a chunk's worth
 * at a time; `pos.end` follows the byte offset past the last one read, and
 * `pos.found` says whether the file was there.
 */
async function* recordBatches(file: string, format: FileFormat, start: number, pos: { end: number; found: boolean }): AsyncGenerator<LogEntry[]> {
  const gz = file.endsWith('.gz')
  pos.end = start
  pos.found = false
  let rest: Buffer = Buffer.alloc(0)
  const src = createReadStream(file, { start: gz ? 0 : start, highWaterMark: CHUNK })
  let input: AsyncIterable<Buffer> = src
  if (gz) {
    const gunzip = createGunzip()
    src.pipe(gunzip)
    src.on('error', (err) => gunzip.destroy(err))
    input = gunzip
  }
  try {
    for await (const chunk of input) {
      pos.found = true
      const buf = rest.length ? Buffer.concat([rest, chunk]) : chunk
      const { entries, used } = format.decode(buf)
      rest = buf.subarray(used)
      pos.end += used
      if (entries.length) yield entries
    }
    pos.found = true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw err
  } finally {
    src.destroy()
  }
}

/** Where the last n whole lines of a file begin (the end of its last whole line for 0); undefined when there is no file. */
export async function tailOffset(file: string, n: number): Promise<number | undefined> {
  let fh: fsp.FileHandle
  try {
    fh = await fsp.open(file, 'r')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  try {
    const buf = Buffer.allocUnsafe(64 * 1024)
    let pos = (await fh.stat()).size
    // The newline ending the line before the last n: n + 1 newlines back (a partial last line has none).
    let newlines = 0
    while (pos > 0) {
      const len = Math.min(buf.length, pos)
      pos -= len
      const { bytesRead } = await fh.read(buf, 0, len, pos)
      for (let i = bytesRead - 1; i >= 0; i--) {
        if (buf[i] === 0x0a && ++newlines === n + 1) return pos + i + 1
      }
    }
    return 0
  } finally {
    await fh.close()
  }
}

const lastOf = <T>(a: T[], n: number): T[] => (n === 0 ? [] : a.slice(-n))

/**
 * `logs` of a container whose driver keeps files: rotated files oldest
 * first, then the live file; with `follow`, the live file as it grows (and,
 * when it is rotated meanwhile, the rest of the old one first) until `done`.
 * `sync` is awaited first, and before the last read, so what the container
 * wrote is there. As moby's, `tail` counts the files' last records and
 * since/until filter those.
 */
export async function* readLogFiles(file: string, fileOpts: FileOptions, format: FileFormat, opts: ReadLogsOptions & { sync?: () => Promise<void> }): AsyncGenerator<LogEntry> {
  const keep = (e: LogEntry) => (opts.sinceNano === undefined || e.timeNano >= opts.sinceNano) && (opts.untilNano === undefined || e.timeNano <= opts.untilNano)
  await opts.sync?.()
  // Every name a rotated file may have: compression happens after the rename.
  const names = [...new Set(logFiles(file, fileOpts.maxFile, fileOpts.compress).flatMap((f) => (f.endsWith('.gz') ? [f, f.slice(0, -3)] : [f])))]
  const liveIno = async () => (await fsp.stat(file).catch(() => undefined))?.ino
  let liveEnd = 0
  let ino: number | undefined
  const pos = { end: 0, found: false }
  if (opts.tail === undefined || opts.tail < 0) {
    for (const f of names) {
      if (f === file) ino = await liveIno()
      for await (const batch of recordBatches(f, format, 0, pos)) {
        const kept = batch.filter(keep)
        if (kept.length) yield* kept
      }
      if (f === file) liveEnd = pos.end
    }
  } else {
    // Newest file first, each from where its share of the last `tail` records begins.
    const parts: LogEntry[][] = []
    let need = opts.tail
    for (const f of [...names].reverse()) {
      if (need === 0 && f !== file) break
      const lines = format.lineBased && !f.endsWith('.gz')
      if (f === file) ino = await liveIno()
      const from = lines ? await tailOffset(f, need) : 0
      if (from === undefined) continue
      let got: LogEntry[] = []
      for await (const batch of recordBatches(f, format, from, pos)) {
        for (const e of batch) got.push(e)
        // Framed and gzipped files are read whole: keep only what the tail can use.
        if (got.length > 2 * need + 1024) got = lastOf(got, need)
      }
      if (f === file) liveEnd = pos.end
      got = lastOf(got, need)
      parts.unshift(got)
      need -= got.length
    }
    for (const p of parts) {
      const kept = p.filter(keep)
      if (kept.length) yield* kept
    }
  }
  if (!opts.follow) return

  // The directory is watched: a rotation replaces the file.
  yield* followChanges(path.dirname(file), opts, async function* (final) {
    if (final) await opts.sync?.()
    const st = await fsp.stat(file).catch(() => undefined)
    if (st && ino !== undefined && st.ino !== ino) {
      // Rotated: the old live file is now `.1` (or gone with max-file 1); finish it, then start the new one.
      for await (const batch of recordBatches(`${file}.1`, format, liveEnd, pos)) yield* batch.filter(keep)
      liveEnd = 0
    }
    ino = st?.ino
    if (!st) return
    for await (const batch of recordBatches(file, format, liveEnd, pos)) yield* batch.filter(keep)
    if (pos.found) liveEnd = pos.end
  })
}

/** json-file's writer. */
export class JSONFileWriter extends RotatingLogWriter {
  constructor(file: string, opts: FileOptions, attrs?: string) {
    super(file, opts, jsonFileFormat(attrs))
  }
}

/** `logs` of a json-file container. */
export function readJSONFileLogs(file: string, fileOpts: FileOptions, opts: ReadLogsOptions & { sync?: () => Promise<void> }): AsyncGenerator<LogEntry> {
  return readLogFiles(file, fileOpts, jsonFileFormat(), opts)
}
