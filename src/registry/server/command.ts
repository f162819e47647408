/**
 * `berth registry serve|gc`: run the registry server or its garbage collector
 * in the CLI's own process (no daemon involved), logging in docker-registry's
 * logfmt style so its output reads like the registry people know.
 */
import type { Writable } from 'node:stream'
import type { Logger, LogLevel } from '../../lib/index.js'
import { collectGarbage } from './gc.js'
import { startRegistry } from './server.js'
import { RegistryStorage } from './storage.js'

export interface CommandIO {
  stdout: Writable
  stderr: Writable
  /** Resolves when the server should stop (SIGINT/SIGTERM in the CLI). */
  stopped?: Promise<void>
}

const SERVE_HELP = `
Usage:  berth registry serve [OPTIONS]

Serve the OCI distribution API (a Docker registry) from a directory

Options:
      --addr string        Listen address (default "127.0.0.1:5000")
      --htpasswd string    htpasswd file (bcrypt entries) turning on Basic auth
      --root string        Storage directory (default "/var/lib/berth-registry")
      --tls-cert string    TLS certificate (PEM); needs --tls-key
      --tls-key string     TLS private key (PEM); needs --tls-cert
`

const GC_HELP = `
Usage:  berth registry gc [OPTIONS]

Delete blobs no manifest references. Run it while the registry is stopped or idle.

Options:
  -n, --dry-run       Only report what would be deleted
      --root string   Storage directory (default "/var/lib/berth-registry")
`

const HELP = `
Usage:  berth registry COMMAND

Run berth's own registry

Commands:
  gc          Delete blobs no manifest references
  serve       Serve the OCI distribution API from a directory

Run 'berth registry COMMAND --help' for more information on a command.
`

const DEFAULT_ROOT = '/var/lib/berth-registry'

/** A Logger printing `time="…" level=info msg="…" key=value` lines. */
export function logfmtLogger(write: (line: string) => void, base: Record<string, unknown> = {}): Logger {
  const q = (v: unknown) => {
    const s = v instanceof Error ? v.message : typeof v === 'string' ? v : JSON.stringify(v)
    return /^[A-Za-z0-9_./:@+-]+$/.test(s) ? s : JSON.stringify(s)
  }
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    const parts = [`time="${new Date().toISOString()}"`, `level=${level}`, `msg=${JSON.stringify(msg)}`]
    for (const [k, v] of Object.entries({ ...base, ...fields })) parts.push(`${k}=${q(v)}`)
    write(parts.join(' ') + '\n')
  }
  return {
    debug: () => {},
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => logfmtLogger(write, { ...base, ...fields }),
  }
}

/** Parse `--flag value` / `--flag=value` options; unknown flags are errors. */
function parseFlags(args: string[], valued: string[], bools: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === '-h' || a === '--help') {
      out.help = 'true'
      continue
    }
    if (bools[a]) {
      out[bools[a]] = 'true'
      continue
    }
    const eq = a.indexOf('=')
    const key = a.startsWith('--') ? (eq > 0 ? a.slice(2, eq) : a.slice(2)) : ''
    if (!valued.includes(key)) throw new Error(`unknown flag: ${a}`)
    const v = eq > 0 ? a.slice(eq + 1) : args[++i]
    if (v === undefined) throw new Error(`flag needs an argument: --${key}`)
    out[key] = v
  }
  return out
}

/** Run `berth registry …` with the arguments after `registry`; returns the exit code. */
export async function runRegistryCommand(args: string[], io: CommandIO): Promise<number> {
  const [sub, ...rest] = args
  const out = (s: string) => void io.stdout.write(s)
  const err = (s: string) => void io.stderr.write(s)
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    out(HELP.trimStart())
    return 0
  }
  let flags: Record<string, string>
  try {
    if (sub === 'serve') flags = parseFlags(rest, ['addr', 'root', 'htpasswd', 'tls-cert', 'tls-key'], {})
    else if (sub === 'gc') flags = parseFlags(rest, ['root'], { '-n': 'dry-run', '--dry-run': 'dry-run' })
    else {
      err(`berth: 'registry ${sub}' is not a berth command.\nSee 'berth registry --help'\n`)
      return 1
    }
  } catch (e) {
    err(`${(e as Error).message}\nSee 'berth registry ${sub} --help'.\n`)
    return 125
  }
  if (flags.help) {
    out((sub === 'serve' ? SERVE_HELP : GC_HELP).trimStart())
    return 0
  }
  const root = flags.root ?? DEFAULT_ROOT
  const log = logfmtLogger(err)
  if (sub === 'gc') {
    const storage = await RegistryStorage.open(root)
    const res = await collectGarbage(storage, {
      dryRun: flags['dry-run'] === 'true',
      onEvent: (e) => {
        if (e.kind === 'mark') out(`${e.repository}: marking ${e.digest}\n`)
        else out(`blob eligible for deletion: ${e.digest}\n`)
      },
    })
    out(`${res.marked} blobs marked, ${res.deleted.length} blobs eligible for deletion\n`)
    const verb = flags['dry-run'] === 'true' ? 'would free' : 'freed'
    out(`${verb} ${res.freedBytes} bytes in ${res.deleted.length} blobs\n`)
    return 0
  }
  if ((flags['tls-cert'] === undefined) !== (flags['tls-key'] === undefined)) {
    err('--tls-cert and --tls-key go together\n')
    return 125
  }
  const server = await startRegistry({
    root,
    addr: flags.addr ?? '127.0.0.1:5000',
    htpasswd: flags.htpasswd,
    tls: flags['tls-cert'] !== undefined ? { cert: flags['tls-cert'], key: flags['tls-key']! } : undefined,
    logger: log,
    accessLog: (line) => err(line + '\n'),
  })
  await (io.stopped ?? new Promise<void>(() => {}))
  log.info('shutting down')
  await server.close()
  return 0
}
