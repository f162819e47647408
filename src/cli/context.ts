/** What every command handler shares: the client for -H/$BERTH_HOST and the process streams. */
import { existsSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { EngineClient, type ClientTls } from '../client/index.js'
import type { Opts } from './app.js'
import { contextEndpoint, contextName, ContextStore, DEFAULT_CONTEXT } from './contexts.js'
import { loadDockerConfig } from './credentials.js'

let client: EngineClient | undefined

export function getClient(globals: Opts): EngineClient {
  client ??= new EngineClient({ userAgent: 'Berth-Client/0.1.0 (linux)', ...endpointOf(globals, process.env) })
  return client
}

/**
 * The daemon a command talks to: -H (with the --tls flags), else $BERTH_HOST,
 * else the context in effect (--context, $BERTH_CONTEXT, config.json's
 * currentContext), whose TLS files come from the context store.
 */
export function endpointOf(globals: Opts, env: NodeJS.ProcessEnv, store = new ContextStore()): { host?: string; tls?: ClientTls } {
  const host = typeof globals.host === 'string' ? globals.host : undefined
  if (host !== undefined && typeof globals.context === 'string' && globals.context !== '') throw new Error('conflicting options: cannot specify both --host and --context')
  const name = contextName(globals, env, store)
  if (name === DEFAULT_CONTEXT) return { ...(host !== undefined ? { host } : {}), ...clientTls(globals, env) }
  return contextEndpoint(name, store)
}

/**
 * The docker CLI's TLS options (cli/flags ClientOptions.SetDefaultOptions):
 * --tlsverify (or DOCKER_TLS_VERIFY) implies --tls; files default to ca.pem,
 * cert.pem and key.pem in $DOCKER_CERT_PATH, else ~/.docker, and a default
 * client certificate or key that does not exist is left out.
 */
export function clientTls(globals: Opts, env: NodeJS.ProcessEnv): { tls?: ClientTls } {
  const flag = (k: string): boolean | undefined => {
    const v = globals[k]
    if (v === undefined) return undefined
    return v === true || (typeof v === 'string' && /^(1|t|true)$/i.test(v))
  }
  const verify = flag('tlsverify') ?? Boolean(env.DOCKER_TLS_VERIFY)
  const tls = globals.tlsverify !== undefined || verify || (flag('tls') ?? Boolean(env.DOCKER_TLS))
  if (!tls) return {}
  const dir = env.DOCKER_CERT_PATH || path.join(env.DOCKER_CONFIG || path.join(os.homedir(), '.docker'))
  const file = (k: string, name: string): { file: string; given: boolean } => {
    const v = globals[k]
    return typeof v === 'string' && v !== '' ? { file: v, given: true } : { file: path.join(dir, name), given: false }
  }
  const read = (what: string, f: { file: string; given: boolean }, optional: boolean): Buffer | undefined => {
    if (optional && !f.given && !existsSync(f.file)) return undefined
    try {
      return readFileSync(f.file)
    } catch (e) {
      throw new Error(`could not read ${what} ${JSON.stringify(f.file)}: ${(e as Error).message}`)
    }
  }
  const out: ClientTls = { verify }
  const ca = file('tlscacert', 'ca.pem')
  if (verify) out.ca = read('CA certificate', ca, false)
  const cert = read('X509 certificate', file('tlscert', 'cert.pem'), true)
  const key = read('X509 key', file('tlskey', 'key.pem'), true)
  if (cert) out.cert = cert
  if (key) out.key = key
  return { tls: out }
}

export const out = (s: string): void => { process.stdout.write(s) }
export const err = (s: string): void => { process.stderr.write(s) }

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined
}

export function strs(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
}

export function bool(v: unknown): boolean {
  return v === true
}

/** An integer flag, validated like pflag's: `invalid argument "x" for "-t, --timeout" flag`. */
export function int(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n)) throw new Error(`invalid argument "${String(v)}" for "${flag}" flag: strconv.ParseInt: parsing "${String(v)}": invalid syntax`)
  return n
}

/**
 * A default --format from the docker CLI's config.json (`psFormat`,
 * `imagesFormat`, `statsFormat`, `networksFormat`, `volumesFormat`); an
 * unreadable file is no setting, as the commands still work without it.
 */
export function configFormat(key: 'psFormat' | 'imagesFormat' | 'statsFormat' | 'networksFormat' | 'volumesFormat'): string | undefined {
  try {
    const v = loadDockerConfig()[key]
    return typeof v === 'string' && v !== '' ? v : undefined
  } catch {
    return undefined
  }
}
