/**
 * The docker CLI's context store, read and written in its own layout so
 * contexts made by either CLI serve both: `<config dir>/contexts/meta/<sha256
 * of the name>/meta.json` and TLS files under `contexts/tls/<same>/docker/`,
 * the current one in config.json's `currentContext`. Written by hand: no npm
 * package reads this store.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { ClientTls } from '../client/index.js'
import { configDir, loadDockerConfig, saveDockerConfig } from './credentials.js'

export const DEFAULT_CONTEXT = 'default'
const NAME_PATTERN = '^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$'

/** meta.json as docker writes it. */
export interface ContextMeta {
  Name: string
  Metadata: { Description?: string; [key: string]: unknown }
  Endpoints: { docker?: { Host?: string; SkipTLSVerify?: boolean }; [key: string]: unknown }
}

/** PEM contents of a context's docker endpoint. */
export interface ContextTls {
  ca?: Buffer
  cert?: Buffer
  key?: Buffer
}

/** store.ValidateContextName. */
export function validateContextName(name: string): void {
  if (name === '') throw new Error('context name cannot be empty')
  if (name === DEFAULT_CONTEXT) throw new Error('"default" is a reserved context name')
  if (!new RegExp(NAME_PATTERN).test(name)) throw new Error(`context name ${JSON.stringify(name)} is invalid, names are validated against regexp ${JSON.stringify(NAME_PATTERN)}`)
}

export class ContextStore {
  constructor(readonly dir: string = configDir()) {}

  private id(name: string): string {
    return createHash('sha256').update(name).digest('hex')
  }

  metaPath(name: string): string {
    return path.join(this.dir, 'contexts', 'meta', this.id(name))
  }

  tlsPath(name: string): string {
    return path.join(this.dir, 'contexts', 'tls', this.id(name))
  }

  /** A context's metadata; docker's "context not found" error when it has none. */
  get(name: string): ContextMeta {
    const file = path.join(this.metaPath(name), 'meta.json')
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`context ${JSON.stringify(name)}: context not found: open ${file}: no such file or directory`)
      throw e
    }
    const m = JSON.parse(text) as Partial<ContextMeta>
    return { Name: m.Name ?? name, Metadata: m.Metadata ?? {}, Endpoints: m.Endpoints ?? {} }
  }

  exists(name: string): boolean {
    return existsSync(path.join(this.metaPath(name), 'meta.json'))
  }

  /** Every stored context (unreadable entries skipped). */
  list(): ContextMeta[] {
    const root = path.join(this.dir, 'contexts', 'meta')
    let ids: string[]
    try {
      ids = readdirSync(root)
    } catch {
      return []
    }
    const out: ContextMeta[] = []
    for (const id of ids) {
      try {
        const m = JSON.parse(readFileSync(path.join(root, id, 'meta.json'), 'utf8')) as ContextMeta
        if (typeof m.Name === 'string') out.push({ Name: m.Name, Metadata: m.Metadata ?? {}, Endpoints: m.Endpoints ?? {} })
      } catch {
        // docker lists what it can read.
      }
    }
    return out
  }

  create(meta: ContextMeta, tls: ContextTls = {}): void {
    mkdirSync(this.metaPath(meta.Name), { recursive: true, mode: 0o755 })
    writeFileSync(path.join(this.metaPath(meta.Name), 'meta.json'), JSON.stringify(meta), { mode: 0o644 })
    const files: Array<[keyof ContextTls, string]> = [['ca', 'ca.pem'], ['cert', 'cert.pem'], ['key', 'key.pem']]
    for (const [k, f] of files) {
      const data = tls[k]
      if (!data) continue
      const dir = path.join(this.tlsPath(meta.Name), 'docker')
      mkdirSync(dir, { recursive: true, mode: 0o700 })
      writeFileSync(path.join(dir, f), data, { mode: 0o600 })
    }
  }

  remove(name: string): void {
    rmSync(this.metaPath(name), { recursive: true, force: true })
    rmSync(this.tlsPath(name), { recursive: true, force: true })
  }

  tls(name: string): ContextTls {
    const dir = path.join(this.tlsPath(name), 'docker')
    const read = (f: string): Buffer | undefined => {
      try {
        return readFileSync(path.join(dir, f))
      } catch {
        return undefined
      }
    }
    const out: ContextTls = {}
    const ca = read('ca.pem')
    const cert = read('cert.pem')
    const key = read('key.pem')
    if (ca) out.ca = ca
    if (cert) out.cert = cert
    if (key) out.key = key
    return out
  }

  /** config.json's currentContext ('' when unset or unreadable: docker then uses the default). */
  current(): string {
    try {
      const v = loadDockerConfig(this.dir).currentContext
      return typeof v === 'string' ? v : ''
    } catch {
      return ''
    }
  }

  /** Sets config.json's currentContext ('' for default), keeping every other key. */
  async setCurrent(name: string): Promise<void> {
    const cfg = loadDockerConfig(this.dir)
    if ((typeof cfg.currentContext === 'string' ? cfg.currentContext : '') === name) return
    if (name === '') delete cfg.currentContext
    else cfg.currentContext = name
    await saveDockerConfig(this.dir, cfg)
  }
}

/**
 * The context a command runs against, as the docker CLI resolves it: --context,
 * then -H or $BERTH_HOST (the default context), then $BERTH_CONTEXT, then
 * config.json's currentContext.
 */
export function contextName(globals: { context?: unknown; host?: unknown }, env: NodeJS.ProcessEnv, store: ContextStore): string {
  if (typeof globals.context === 'string' && globals.context !== '') return globals.context
  if (typeof globals.host === 'string' && globals.host !== '') return DEFAULT_CONTEXT
  if (env.BERTH_HOST) return DEFAULT_CONTEXT
  if (env.BERTH_CONTEXT) return env.BERTH_CONTEXT
  return store.current() || DEFAULT_CONTEXT
}

/** The daemon endpoint of a stored context (not `default`). */
export function contextEndpoint(name: string, store: ContextStore): { host: string; tls?: ClientTls } {
  const meta = store.get(name)
  const ep = meta.Endpoints.docker
  if (!ep?.Host) throw new Error(`unable to get endpoint from context ${JSON.stringify(name)}`)
  const files = store.tls(name)
  if (!files.ca && !files.cert && !files.key && !ep.SkipTLSVerify) return { host: ep.Host }
  return { host: ep.Host, tls: { ...files, verify: !ep.SkipTLSVerify } }
}
