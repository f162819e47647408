/**
 * `berth registry serve|gc`: run the registry server or its garbage collector
 * in the CLI's own process (no daemon involved), logging in docker-registry's
 * logfmt style so its output reads like the registry people know.
 */
import type { Writable } from 'node:stream'
import type { Logger, LogLevel } from '../../lib/index.js'
import { collectGarbage, pushesInFlightSince } from './gc.js'
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
      --addr string            Listen address (default "127.0.0.1:5000")
      --anonymous-pull         Let clients without credentials pull; push, delete
                               and the catalog still need a user (needs --htpasswd)
      --auth string            How htpasswd users authenticate: "basic" on every
                               request, or "token": Bearer tokens this server
                               issues at /auth/token (default "basic")
      --htpasswd string        htpasswd file (bcrypt entries) turning on auth
      --root string            Storage directory (default "/var/lib/berth-registry")
      --tls-cert string        TLS certificate (PEM); needs --tls-key
      --tls-key string         TLS private key (PEM); needs --tls-cert
      --token-realm string     Realm URL sent in challenges (default
                               "<scheme>://<host the client used>/auth/token")
      --token-service string   Service name in challenges, the tokens' audience
                               (default "berth-registry")

With --auth token the signing key is <root>/_auth/signing-key.pem, made on
first start; replacing it revokes every token issued.
`

const GC_HELP = `
Usage:  berth registry gc [OPTIONS]

Delete blobs no manifest references. Safe beside a running 'registry serve':
blobs put to use since the run started, or within an hour before the oldest
upload still open, belong to pushes in flight and are kept.

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

/** Why `serve`'s flags do not go together, or undefined. */
function validateServeFlags(flags: Record<string, string>): string | undefined {
  if ((flags['tls-cert'] === undefined) !== (flags['tls-key'] === undefined)) return '--tls-cert and --tls-key go together'
  const auth = flags.auth
  if (auth !== undefined && auth !== 'basic' && auth !== 'token') return `invalid --auth ${JSON.stringify(auth)}: want "basic" or "token"`
  if (flags.htpasswd === undefined) {
    if (auth !== undefined) return '--auth needs --htpasswd (the users to check credentials against)'
    if (flags['anonymous-pull']) return '--anonymous-pull needs --htpasswd: without auth everyone may pull and push'
  }
  if (auth !== 'token') {
    for (const f of ['token-service', 'token-realm']) if (flags[f] !== undefined) return `--${f} needs --auth token`
  }
  // Challenges quote it; a quote, backslash or control character would need escapes some clients do not undo.
  if (flags['token-service'] !== undefined && !/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/.test(flags['token-service'])) {
    return 'invalid --token-service: want printable ASCII without quotes or backslashes'
  }
  if (flags['token-realm'] !== undefined) {
    let u: URL | undefined
    try {
      u = new URL(flags['token-realm'])
    } catch {
      u = undefined
    }
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) return `invalid --token-realm ${JSON.stringify(flags['token-realm'])}: want an http(s) URL`
  }
  return undefined
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
    if (sub === 'serve') {
      flags = parseFlags(rest, ['addr', 'root', 'htpasswd', 'tls-cert', 'tls-key', 'auth', 'token-service', 'token-realm'], {
        '--anonymous-pull': 'anonymous-pull',
      })
    }
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
    // Opened without clearing temp files, and keeping what pushes in flight use: a server may be serving this root.
    let storage: RegistryStorage
    try {
      storage = await RegistryStorage.openForGc(root)
    } catch (e) {
      err(`${(e as Error).message}\n`)
      return 1
    }
    const res = await collectGarbage(storage, {
      dryRun: flags['dry-run'] === 'true',
      keepUsedSince: await pushesInFlightSince(storage),
      onEvent: (e) => {
        if (e.kind === 'mark') out(`${e.repository}: marking ${e.digest}\n`)
        else if (e.kind === 'keep') out(`blob in use by a push in flight, kept: ${e.digest}\n`)
        else out(`blob eligible for deletion: ${e.digest}\n`)
      },
    })
    out(`${res.marked} blobs marked, ${res.deleted.length} blobs eligible for deletion\n`)
    if (res.kept.length) out(`${res.kept.length} unreferenced blobs kept: in use by pushes in flight\n`)
    const verb = flags['dry-run'] === 'true' ? 'would free' : 'freed'
    out(`${verb} ${res.freedBytes} bytes in ${res.deleted.length} blobs\n`)
    return 0
  }
  const usage = validateServeFlags(flags)
  if (usage) {
    err(`${usage}\nSee 'berth registry serve --help'.\n`)
    return 125
  }
  const server = await startRegistry({
    root,
    addr: flags.addr ?? '127.0.0.1:5000',
    htpasswd: flags.htpasswd,
    auth: flags.auth as 'basic' | 'token' | undefined,
    anonymousPull: flags['anonymous-pull'] === 'true',
    tokenService: flags['token-service'],
    tokenRealm: flags['token-realm'],
    tls: flags['tls-cert'] !== undefined ? { cert: flags['tls-cert'], key: flags['tls-key']! } : undefined,
    logger: log,
    accessLog: (line) => err(line + '\n'),
  })
  await (io.stopped ?? new Promise<void>(() => {}))
  log.info('shutting down')
  await server.close()
  return 0
}
