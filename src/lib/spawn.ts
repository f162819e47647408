import { spawn, type SpawnOptions } from 'node:child_process'

export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

export interface RunOptions extends Pick<SpawnOptions, 'cwd' | 'env'> {
  input?: string | Uint8Array
  signal?: AbortSignal
  /** Reject when the exit code is not 0 (default true). */
  check?: boolean
}

/**
 * Run a host tool to completion and collect its output. Every host tool goes
 * through one module in sys/ (or runtime/ for the OCI runtime), which calls this.
 */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env,
      signal: opts.signal,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout?.on('data', (b: Buffer) => out.push(b))
    child.stderr?.on('data', (b: Buffer) => err.push(b))
    child.on('error', reject)
    child.on('close', (code, sig) => {
      const res = {
        code: code ?? 128 + (sig ? 9 : 0),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }
      if (opts.check !== false && res.code !== 0) {
        reject(new Error(`${cmd} ${args.join(' ')}: exit ${res.code}: ${res.stderr.trim() || res.stdout.trim()}`))
      } else resolve(res)
    })
    if (opts.input !== undefined) child.stdin?.end(opts.input)
  })
}
