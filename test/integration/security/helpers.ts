/**
 * For the access-control tests: certificates made with openssl for the test
 * (a CA, a server certificate for 127.0.0.1, client certificates), and a
 * berthd of the test's own started with given flags, which may refuse to
 * start; its log is kept to be read.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { removeDaemonLeftovers } from '../../daemon-cleanup.js'
import { berth, repo, waitFor, type CmdOptions, type CmdResult } from '../../helpers.js'

export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
}

/** A CA (`<name>-ca.pem`, `<name>-ca-key.pem`) in dir. */
export function makeCa(dir: string, name: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', `/CN=${name} test CA`, '-keyout', `${name}-ca-key.pem`, '-out', `${name}-ca.pem`])
}

/** A certificate `<name>-cert.pem`/`<name>-key.pem` signed by CA `ca`; a server one names 127.0.0.1. */
export function makeCert(dir: string, ca: string, name: string, usage: 'server' | 'client'): void {
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`])
  const ext = usage === 'server' ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' : 'extendedKeyUsage=clientAuth\n'
  writeFileSync(path.join(dir, `${name}.ext`), ext)
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}-ca.pem`, '-CAkey', `${ca}-ca-key.pem`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}-cert.pem`])
}

let serial = 0

/** A berthd with its own data root, exec root and bridge, started with `args` (and daemon.json `config`). */
export class TestDaemon {
  readonly base = mkdtempSync('/var/tmp/berth-sec-')
  readonly execRoot = `/run/bq${process.pid}x${serial}`
  readonly sock = path.join(this.execRoot, 'berth.sock')
  readonly bridge = `bq${process.pid % 100000}x${serial++}`
  readonly logFile = path.join(this.base, 'berthd.log')
  private child: ChildProcess | undefined
  exitCode: number | null = null

  /** `config`: daemon.json entries beside the bridge, or a function of the daemon (for hosts naming its socket). */
  constructor(private readonly args: string[] = [], private readonly config: Record<string, unknown> | ((d: TestDaemon) => Record<string, unknown>) = {}) {}

  berth = (args: string[], o: CmdOptions = {}): Promise<CmdResult> => berth(args, { timeoutMs: 60_000, ...o, env: { BERTH_HOST: `unix://${this.sock}`, ...o.env } })

  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8')
    } catch {
      return ''
    }
  }

  /** Starts berthd; resolves once its unix socket answers, or with the exit code when it refuses to start. */
  async start(): Promise<'started' | number> {
    const cfg = path.join(this.base, 'daemon.json')
    writeFileSync(cfg, JSON.stringify({ ...(typeof this.config === 'function' ? this.config(this) : this.config), bridge: this.bridge }))
    const out = openSync(this.logFile, 'a')
    const runtime = process.env.BERTH_TEST_RUNTIME
    this.child = spawn(path.join(repo, 'bin/berthd'), [
      '--data-root', path.join(this.base, 'data'), '--exec-root', this.execRoot, '--config-file', cfg, '--log-level', 'debug',
      ...(runtime ? ['--default-runtime', runtime] : []), ...this.args,
    ], { stdio: ['ignore', out, out] })
    this.child.on('exit', (code) => (this.exitCode = code ?? 1))
    return waitFor(async () => {
      if (this.exitCode !== null) return this.exitCode
      return (await this.berth(['version'], { timeoutMs: 5_000 })).code === 0 ? 'started' as const : undefined
    }, 30_000, 'the test’s own berthd')
  }

  /** Stops it (SIGTERM) and removes what it left on the host. */
  async stop(): Promise<void> {
    const c = this.child
    if (c && this.exitCode === null) {
      c.kill('SIGTERM')
      await waitFor(() => (this.exitCode !== null ? true : undefined), 15_000, 'the test’s own berthd to stop').catch(() => c.kill('SIGKILL'))
    }
    await removeDaemonLeftovers(this.base, this.bridge, this.execRoot)
  }
}
