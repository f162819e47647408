/**
 * daemon.json `registry-service`: berthd runs `berth registry serve` as a
 * supervised child process rather than in its own event loop, so a busy
 * registry uses the other core and a registry fault cannot take the engine
 * down. The child's log lines go into berthd's log; an unexpected exit is
 * restarted with backoff; the child also stops when its stdin closes, so it
 * never outlives a berthd that was killed outright.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Logger } from '../lib/index.js'
import type { RegistryServiceConfig } from './config.js'

const CLI = fileURLToPath(new URL('../cmd/berth.js', import.meta.url))
const MAX_BACKOFF_MS = 30_000
/** A run this long resets the backoff: the exit was not a start-up failure. */
const STABLE_MS = 10_000

export function serveArgs(cfg: RegistryServiceConfig): string[] {
  const args = ['registry', 'serve', '--addr', cfg.addr, '--root', cfg.root]
  if (cfg.htpasswd) args.push('--htpasswd', cfg.htpasswd)
  if (cfg.tlsCert && cfg.tlsKey) args.push('--tls-cert', cfg.tlsCert, '--tls-key', cfg.tlsKey)
  if (cfg.auth) args.push('--auth', cfg.auth)
  if (cfg.anonymousPull) args.push('--anonymous-pull')
  return args
}

export class RegistryService {
  private child: ChildProcess | undefined
  private stopping = false
  private backoff = 1000
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly cfg: RegistryServiceConfig,
    private readonly log: Logger,
  ) {}

  start(): void {
    const started = Date.now()
    const child = spawn(process.execPath, [CLI, ...serveArgs(this.cfg)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, BERTH_REGISTRY_SUPERVISED: '1' },
    })
    this.child = child
    this.log.info('registry service starting', { addr: this.cfg.addr, root: this.cfg.root, pid: child.pid })
    const forward = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') this.log.info(line)
    }
    child.stdout?.on('data', forward)
    child.stderr?.on('data', forward)
    child.on('error', (err) => this.log.error('registry service could not start', { err: err.message }))
    child.on('exit', (code, signal) => {
      this.child = undefined
      if (this.stopping) return
      if (Date.now() - started > STABLE_MS) this.backoff = 1000
      this.log.warn('registry service exited; restarting', { code, signal, inMs: this.backoff })
      this.timer = setTimeout(() => this.start(), this.backoff)
      this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS)
    })
  }

  async stop(): Promise<void> {
    this.stopping = true
    clearTimeout(this.timer)
    const child = this.child
    if (!child || child.exitCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
  }
}
