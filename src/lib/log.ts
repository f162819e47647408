/**
 * One structured logger for the daemon: JSON lines on stderr (or a file), each
 * module a child tagged `module`. Levels below the configured one cost a compare.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
  child(fields: Record<string, unknown>): Logger
}

export interface LoggerOptions {
  level?: LogLevel
  write?: (line: string) => void
}

export function createLogger(opts: LoggerOptions = {}, base: Record<string, unknown> = {}): Logger {
  const min = order[opts.level ?? 'info']
  const write = opts.write ?? ((line: string) => process.stderr.write(line))
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (order[level] < min) return
    const rec: Record<string, unknown> = { time: new Date().toISOString(), level, msg, ...base }
    if (fields) {
      for (const [k, v] of Object.entries(fields)) rec[k] = v instanceof Error ? errorFields(v) : v
    }
    write(JSON.stringify(rec) + '\n')
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(opts, { ...base, ...fields }),
  }
}

function errorFields(err: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { message: err.message }
  if (err.stack) out.stack = err.stack
  if (err.cause instanceof Error) out.cause = errorFields(err.cause)
  return out
}

/** A logger that drops everything: for unit tests and tools. */
export const nullLogger: Logger = createLogger({ write: () => {} })
