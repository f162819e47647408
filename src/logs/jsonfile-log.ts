/**
 * The files of the drivers that keep their own: json-file
 * (`<container dir>/<id>-json.log`, one line per message in dockerd's
 * bytes) and local (`<container dir>/local-logs/container.log`, framed
 * protobuf records), rotated by max-size into `.1` … `.N` (gzipped with
 * compress), and read back for `logs` (rotated files first, a rotation met
 * while following included).
 */
import { createReadStream, promises as fsp } from 'node:fs'
import { pipeline } from 'node:stream/promises'
import { createGunzip, createGzip } from 'node:zlib'
import { createWriteStream } from 'node:fs'
import path from 'node:path'
import { decodeLocalEntries, encodeJSONFileLine, encodeLocalEntry, logFiles, parseJSONFileLine, planRotation, shouldRotate, unixNano, type FileOptions, type LogMessage } from './drivers/index.js'
import { followChanges, type LogEntry, type ReadLogsOptions } from './k8s-file.js'
import type { LogSink } from './sink.js'

/** How a driver's file holds messages. */
export interface FileFormat {
  encode(m: LogMessage): Buffer
  /** The whole records at the start of buf, and how many bytes they take. */
  decode(buf: Buffer): { entries: LogEntry[]; used: number }
}

export function jsonFileFormat(attrs?: string): FileFormat {
  return {
    encode: (m) => encodeJSONFileLine(m, attrs),
    decode: (buf) => {
      const used = buf.lastIndexOf(0x0a) + 1
      const lines = buf.subarray(0, used).toString('utf8').split('\n')
      lines.pop()
      return { entries: lines.map(entryOf).filter((e): e is LogEntry => e !== undefined), used }
    },
  }
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

/** The whole records of a (possibly gzipped) file from start, with the byte offset past the last one read. */
async function readRecords(file: string, format: FileFormat, start = 0): Promise<{ entries: LogEntry[]; end: number } | undefined> {
  const gz = file.endsWith('.gz')
  const chunks: Buffer[] = []
  try {
    const src = createReadStream(file, { start: gz ? 0 : start })
    if (gz) {
      const gunzip = createGunzip()
      src.pipe(gunzip)
      src.on('error', (err) => gunzip.destroy(err))
      for await (const c of gunzip) chunks.push(c as Buffer)
    } else {
      for await (const c of src) chunks.push(c as Buffer)
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  const { entries, used } = format.decode(Buffer.concat(chunks))
  return { entries, end: start + used }
}

/**
 * `logs` of a container whose driver keeps files: rotated files oldest
 * first, then the live file; with `follow`, the live file as it grows (and,
 * when it is rotated meanwhile, the rest of the old one first) until `done`.
 * `sync` is awaited first, and before the last read, so what the container
 * wrote is there.
 */
export async function* readLogFiles(file: string, fileOpts: FileOptions, format: FileFormat, opts: ReadLogsOptions & { sync?: () => Promise<void> }): AsyncGenerator<LogEntry> {
  const keep = (e: LogEntry) => (opts.sinceNano === undefined || e.timeNano >= opts.sinceNano) && (opts.untilNano === undefined || e.timeNano <= opts.untilNano)
  await opts.sync?.()
  let entries: LogEntry[] = []
  // Every name a rotated file may have: compression happens after the rename.
  const names = [...new Set(logFiles(file, fileOpts.maxFile, fileOpts.compress).flatMap((f) => (f.endsWith('.gz') ? [f, f.slice(0, -3)] : [f])))]
  let liveEnd = 0
  let liveIno: number | undefined
  for (const f of names) {
    if (f === file) liveIno = (await fsp.stat(file).catch(() => undefined))?.ino
    const r = await readRecords(f, format)
    if (!r) continue
    if (f === file) liveEnd = r.end
    // Not push(...): a file holds more entries than a call has room for arguments.
    for (const e of r.entries) if (keep(e)) entries.push(e)
  }
  if (opts.tail !== undefined && opts.tail >= 0) entries = opts.tail === 0 ? [] : entries.slice(-opts.tail)
  yield* entries
  if (!opts.follow) return

  // The directory is watched: a rotation replaces the file.
  yield* followChanges(path.dirname(file), opts, async function* (final) {
    if (final) await opts.sync?.()
    const st = await fsp.stat(file).catch(() => undefined)
    if (st && liveIno !== undefined && st.ino !== liveIno) {
      // Rotated: the old live file is now `.1` (or gone with max-file 1); finish it, then start the new one.
      const old = await readRecords(`${file}.1`, format, liveEnd).catch(() => undefined)
      yield* (old?.entries ?? []).filter(keep)
      liveEnd = 0
    }
    liveIno = st?.ino
    const r = st ? await readRecords(file, format, liveEnd) : undefined
    if (r) {
      liveEnd = r.end
      yield* r.entries.filter(keep)
    }
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
