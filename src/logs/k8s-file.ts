import { createReadStream, promises as fsp, watch } from 'node:fs'

/**
 * Reader for conmon's k8s-file log format, one record a line:
 * `<RFC3339Nano time> <stdout|stderr> <P|F> <text>`; P marks a partial line
 * (a line longer than conmon's buffer) that continues in the next record.
 */
export interface LogEntry {
  stream: 'stdout' | 'stderr'
  /** Nanoseconds since the epoch. */
  timeNano: bigint
  /** The text including its trailing newline (docker's json-file keeps it too). */
  line: Buffer
  /** What the driver stored beside the line (json-file's attrs: labels, env, tag), for `logs --details`. */
  attrs?: Record<string, string>
}

export interface ReadLogsOptions {
  sinceNano?: bigint
  untilNano?: bigint
  /** Only the last N entries (before following). */
  tail?: number
  follow?: boolean
  /** Resolves when no more output can come (the container stopped). */
  done?: Promise<void>
  signal?: AbortSignal
}

export function parseTimeNano(s: string): bigint | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/.exec(s)
  if (!m) return undefined
  const ms = Date.parse(`${m[1]}${m[3] === 'Z' ? 'Z' : m[3]}`)
  if (Number.isNaN(ms)) return undefined
  const frac = (m[2] ?? '').padEnd(9, '0')
  return BigInt(ms) * 1_000_000n + BigInt(frac)
}

/** RFC3339Nano in UTC, trailing zeros trimmed (Go's RFC3339Nano). */
export function formatTimeNano(ns: bigint): string {
  const ms = Number(ns / 1_000_000n)
  const base = new Date(ms).toISOString().slice(0, 19)
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '')
  return `${base}${frac ? '.' + frac : ''}Z`
}

/** docker's `logs -t` times: jsonmessage.RFC3339NanoFixed, always nine digits. */
export function formatTimeNanoFixed(ns: bigint): string {
  const base = new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19)
  return `${base}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}Z`
}

/** Parse complete records out of a chunk of text; returns entries and the unparsed rest. */
export function parseRecords(text: string, pending: { partial?: LogEntry }): { entries: LogEntry[]; rest: string } {
  const entries: LogEntry[] = []
  let start = 0
  for (;;) {
    const nl = text.indexOf('\n', start)
    if (nl < 0) break
    const rec = text.slice(start, nl)
    start = nl + 1
    const a = rec.indexOf(' ')
    const b = rec.indexOf(' ', a + 1)
    const c = rec.indexOf(' ', b + 1)
    if (a < 0 || b < 0) continue
    const timeNano = parseTimeNano(rec.slice(0, a))
    const stream = rec.slice(a + 1, b)
    const tag = c < 0 ? rec.slice(b + 1) : rec.slice(b + 1, c)
    const body = c < 0 ? '' : rec.slice(c + 1)
    if (timeNano === undefined || (stream !== 'stdout' && stream !== 'stderr')) continue
    const p = pending.partial
    if (tag.startsWith('P')) {
      pending.partial = p ? { ...p, line: Buffer.concat([p.line, Buffer.from(body)]) } : { stream, timeNano, line: Buffer.from(body) }
      continue
    }
    const line = Buffer.from(body + '\n')
    entries.push(p ? { ...p, line: Buffer.concat([p.line, line]) } : { stream, timeNano, line })
    pending.partial = undefined
  }
  // A line still open at the end of what was written is shown as it stands (a
  // prompt, `printf` without a newline, the last words of a process), as docker does.
  if (pending.partial) {
    entries.push(pending.partial)
    pending.partial = undefined
  }
  return { entries, rest: text.slice(start) }
}

/**
 * The entries of a log file, filtered; with `follow`, keeps reading as the
 * file grows until `done` resolves and the file is drained.
 */
export async function* readLogs(file: string, opts: ReadLogsOptions = {}): AsyncGenerator<LogEntry> {
  const keep = (e: LogEntry) => (opts.sinceNano === undefined || e.timeNano >= opts.sinceNano) && (opts.untilNano === undefined || e.timeNano <= opts.untilNano)
  let offset = 0
  // Bytes after the last newline read: decoded only once whole, so a character cut by a read is not mangled.
  let rest = Buffer.alloc(0)
  const pending: { partial?: LogEntry } = {}

  const readMore = async (): Promise<LogEntry[]> => {
    let st
    try {
      st = await fsp.stat(file)
    } catch {
      return []
    }
    if (st.size < offset) {
      // Truncated or rotated: start over.
      offset = 0
      rest = Buffer.alloc(0)
    }
    if (st.size === offset) return []
    const chunks: Buffer[] = []
    for await (const c of createReadStream(file, { start: offset, end: st.size - 1 })) chunks.push(c as Buffer)
    const buf = Buffer.concat([rest, ...chunks])
    offset += buf.length - rest.length
    const end = buf.lastIndexOf(0x0a) + 1
    rest = buf.subarray(end)
    return parseRecords(buf.subarray(0, end).toString('utf8'), pending).entries.filter(keep)
  }

  let first = await readMore()
  if (opts.tail !== undefined && opts.tail >= 0) first = opts.tail === 0 ? [] : first.slice(-opts.tail)
  for (const e of first) yield e
  if (!opts.follow) return

  yield* followChanges(file, opts, async function* () {
    yield* await readMore()
  })
}

/**
 * The follow part of `logs -f`: runs `step` (yielding what is new) whenever
 * `watched` changes (inotify, and a slow poll for filesystems where it
 * misses appends), once more after `done` resolves, then ends; or at once
 * when `signal` aborts. `final` tells the step it is the last one.
 */
export async function* followChanges<T>(watched: string, opts: { done?: Promise<void>; signal?: AbortSignal }, step: (final: boolean) => AsyncIterable<T>): AsyncGenerator<T> {
  let finished = false
  void opts.done?.then(() => {
    finished = true
  })
  let wake: (() => void) | undefined
  const poke = () => wake?.()
  let watcher: ReturnType<typeof watch> | undefined
  try {
    watcher = watch(watched, poke)
    watcher.on('error', () => {})
  } catch {
    watcher = undefined
  }
  opts.done?.then(poke, poke)
  opts.signal?.addEventListener('abort', poke)
  try {
    while (!opts.signal?.aborted) {
      const wasFinished = finished
      yield* step(wasFinished)
      if (wasFinished) return
      await new Promise<void>((resolve) => {
        wake = resolve
        setTimeout(resolve, 1000).unref()
      })
      wake = undefined
    }
  } finally {
    watcher?.close()
    opts.signal?.removeEventListener('abort', poke)
  }
}
