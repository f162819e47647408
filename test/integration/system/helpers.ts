/**
 * For the system tests: Engine API requests on a socket, and a berthd of a
 * test's own (data root, exec root, default bridge) for what acts on the
 * whole daemon, such as `system prune`, which must not touch the objects of
 * test files running beside it on the shared berthd.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { removeDaemonLeftovers } from '../../daemon-cleanup.js'
import { berth, docker, repo, waitFor, type CmdOptions, type CmdResult } from '../../helpers.js'

/** One Engine API request; the body parsed as JSON. */
export function api(socketPath: string, method: string, p: string): Promise<{ status: number; text: string; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: p }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        let json: unknown
        try {
          json = JSON.parse(text)
        } catch {
          json = undefined
        }
        resolve({ status: res.statusCode ?? 0, text, json })
      })
    })
    req.on('error', reject)
    req.end()
  })
}

export class PrivateDaemon {
  readonly base = mkdtempSync('/var/tmp/berth-sys-')
  /** Short: conmon's attach socket path under it must stay below 108 bytes. */
  readonly execRoot = `/run/bs${process.pid}`
  readonly sock = path.join(this.execRoot, 'berth.sock')
  readonly bridge = `bs${process.pid}`
  private child: ChildProcess | undefined

  /** `config`: daemon.json entries beside the bridge (log-driver, log-opts…). */
  constructor(private readonly config: Record<string, unknown> = {}) {}

  berth = (args: string[], o: CmdOptions = {}): Promise<CmdResult> => berth(args, { timeoutMs: 60_000, ...o, env: { BERTH_HOST: `unix://${this.sock}`, ...o.env } })
  docker = (args: string[], o: CmdOptions = {}): Promise<CmdResult> => docker(args, { timeoutMs: 60_000, ...o, env: { DOCKER_HOST: `unix://${this.sock}`, ...o.env } })

  /** Starts berthd and imports busybox into it, as the global setup does for the shared one. */
  async start(): Promise<void> {
    await this.spawn()
    execFileSync('sh', ['-c', `"${repo}/scripts/busybox-rootfs" | "${repo}/bin/berth" import -c 'CMD ["sh"]' - busybox:latest`], {
      env: { ...process.env, BERTH_HOST: `unix://${this.sock}` }, stdio: 'pipe',
    })
  }

  /** Kills berthd outright (a crash), leaving everything it made, and waits until it is gone. */
  async kill(): Promise<void> {
    const pid = this.pid()
    if (pid <= 0) return
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      return
    }
    await waitFor(() => (isAlive(pid) ? undefined : true), 15_000, 'the test’s own berthd to die')
  }

  /** Starts berthd again on the same data (after kill). */
  async restart(): Promise<void> {
    await this.spawn()
  }

  private pid(): number {
    try {
      return Number(readFileSync(path.join(this.execRoot, 'berthd.pid'), 'utf8').trim())
    } catch {
      return this.child?.pid ?? 0
    }
  }

  private async spawn(): Promise<void> {
    mkdirSync(this.execRoot, { recursive: true })
    const cfg = path.join(this.base, 'daemon.json')
    writeFileSync(cfg, JSON.stringify({ ...this.config, bridge: this.bridge }))
    const out = openSync(path.join(this.base, 'berthd.log'), 'a')
    const runtime = process.env.BERTH_TEST_RUNTIME
    this.child = spawn(path.join(repo, 'bin/berthd'), [
      '--data-root', path.join(this.base, 'data'), '--exec-root', this.execRoot, '--config-file', cfg, '--log-level', 'debug',
      ...(runtime ? ['--default-runtime', runtime] : []),
    ], { stdio: ['ignore', out, out], detached: true })
    this.child.unref()
    await waitFor(async () => ((await this.berth(['version'])).code === 0 ? true : undefined), 20_000, 'the test’s own berthd')
  }

  /** Removes its containers and networks, stops it, and removes what it leaves on the host. */
  async stop(): Promise<void> {
    const ids = (await this.berth(['ps', '-aq'])).stdout.split('\n').filter(Boolean)
    if (ids.length) await this.berth(['rm', '-f', ...ids])
    // A stopped berthd leaves its networks' bridges: user networks go first.
    await this.berth(['network', 'prune', '-f'])
    const pid = this.pid()
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGTERM')
      } catch {
        // already gone
      }
      await waitFor(() => (isAlive(pid) ? undefined : true), 15_000, 'the test’s own berthd to stop').catch(() => {})
    }
    await removeDaemonLeftovers(this.base, this.bridge, this.execRoot)
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
