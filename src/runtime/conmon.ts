/**
 * Spawning conmon and talking to it over its inherited pipes. conmon is the
 * per-container monitor (podman's and CRI-O's): it double-forks away from us,
 * runs `<runtime> create|exec`, holds the container's stdio or TTY, writes the
 * k8s-file log and the exit code, and outlives berthd.
 *
 * The pipes (see conmon's parent_pipe_fd.c and conmon.c):
 * - _OCI_SYNCPIPE: conmon writes JSON lines `{"data": N, "message"?: "..."}`.
 *   With --api-version 1, N is first the container/exec pid (or a negative
 *   number and the runtime's stderr if it failed), and for exec then the exit
 *   code.
 * - _OCI_STARTPIPE (exec): conmon blocks on one read before forking, and with
 *   --exec-attach its child blocks on a second before exec'ing the runtime, so
 *   we can attach before the process runs.
 * - _OCI_ATTACHPIPE (exec --exec-attach): conmon writes once its attach socket
 *   is listening.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import type { Readable, Writable } from 'node:stream'

export interface SyncMessage {
  data: number
  message?: string
}

/** Reads conmon's newline-delimited JSON messages from one pipe. */
export class SyncReader {
  private buf = ''
  private queue: SyncMessage[] = []
  private waiters: Array<(m: SyncMessage | null) => void> = []
  private ended = false

  constructor(private readonly stream: Readable) {
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => {
      this.buf += chunk
      let nl: number
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl).trim()
        this.buf = this.buf.slice(nl + 1)
        if (line) this.push(parseSync(line))
      }
    })
    const end = () => {
      if (this.ended) return
      this.ended = true
      if (this.buf.trim()) this.push(parseSync(this.buf.trim()))
      this.buf = ''
      for (const w of this.waiters.splice(0)) w(null)
    }
    stream.on('end', end)
    stream.on('close', end)
    stream.on('error', end)
  }

  private push(m: SyncMessage) {
    const w = this.waiters.shift()
    if (w) w(m)
    else this.queue.push(m)
  }

  /** The next message, or null once conmon closed the pipe without one. */
  next(): Promise<SyncMessage | null> {
    const m = this.queue.shift()
    if (m) return Promise.resolve(m)
    if (this.ended) return Promise.resolve(null)
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  close(): void {
    this.stream.destroy()
  }
}

function parseSync(line: string): SyncMessage {
  try {
    const v = JSON.parse(line) as Record<string, unknown>
    const data = typeof v.data === 'number' ? v.data : typeof v.pid === 'number' ? v.pid : typeof v.exit_code === 'number' ? v.exit_code : -1
    return typeof v.message === 'string' ? { data, message: v.message } : { data }
  } catch {
    return { data: -1, message: `unparsable message from conmon: ${line}` }
  }
}

export interface ConmonProcess {
  child: ChildProcess
  sync: SyncReader
  /** Present for exec: write once to let conmon fork, once more to let the runtime run. */
  start?: Writable
  attachReady?: SyncReader
  /** What conmon printed before it detached (option errors). */
  stderr(): string
  /** Resolves when the first conmon process (the one we spawned) exited. */
  exited: Promise<number>
}

export interface SpawnConmonOptions {
  conmonPath: string
  args: string[]
  cwd: string
  /** Set up the start and attach pipes (exec --exec-attach). */
  execPipes?: boolean
}

export function spawnConmon(o: SpawnConmonOptions): ConmonProcess {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    _OCI_SYNCPIPE: '3',
  }
  const stdio: Array<'ignore' | 'pipe'> = ['ignore', 'ignore', 'pipe', 'pipe']
  if (o.execPipes) {
    env._OCI_STARTPIPE = '4'
    env._OCI_ATTACHPIPE = '5'
    stdio.push('pipe', 'pipe')
  }
  // detached: its own session, so a signal to berthd's process group never reaches it.
  const child = spawn(o.conmonPath, o.args, { cwd: o.cwd, env, stdio, detached: true })
  const errChunks: Buffer[] = []
  child.stderr?.on('data', (b: Buffer) => errChunks.push(b))
  const exited = new Promise<number>((resolve) => {
    child.on('error', (err) => {
      errChunks.push(Buffer.from(String(err.message)))
      resolve(-1)
    })
    child.on('exit', (code, sig) => resolve(code ?? (sig ? 128 : -1)))
  })
  child.unref()
  const pipes = child.stdio as unknown as Array<Readable | Writable | null>
  const sync = new SyncReader(pipes[3] as Readable)
  const proc: ConmonProcess = {
    child,
    sync,
    stderr: () => Buffer.concat(errChunks).toString('utf8').trim(),
    exited,
  }
  if (o.execPipes) {
    proc.start = pipes[4] as Writable
    proc.attachReady = new SyncReader(pipes[5] as Readable)
  }
  return proc
}

export interface ConmonArgs {
  id: string
  /** conmon's cuuid: the container id, or the exec id for exec sessions. */
  uuid: string
  runtime: { path: string; args: string[] }
  bundle: string
  pidFile: string
  conmonPidFile?: string
  /** `k8s-file:/path` or `none`. */
  log: string
  logMaxSize?: number
  exitDir?: string
  tty: boolean
  stdin: boolean
  leaveStdinOpen?: boolean
  exec?: { processSpec: string }
  logLevel?: 'debug' | 'info' | 'warn' | 'error'
}

export function conmonArgs(a: ConmonArgs): string[] {
  const args = ['--api-version', '1', '-c', a.id, '-u', a.uuid, '-n', a.id, '-r', a.runtime.path]
  // `--runtime-arg=X` so that arguments starting with a dash are not read as conmon options.
  for (const r of a.runtime.args) args.push(`--runtime-arg=${r}`)
  args.push('-b', a.bundle, '-p', a.pidFile, '-l', a.log, '--full-attach', '--no-sync-log')
  if (a.conmonPidFile) args.push('-P', a.conmonPidFile)
  if (a.exitDir) args.push('--exit-dir', a.exitDir)
  if (a.logMaxSize && a.logMaxSize > 0) args.push('--log-size-max', String(a.logMaxSize))
  if (a.tty) args.push('-t')
  if (a.stdin) args.push('-i')
  if (a.leaveStdinOpen) args.push('--leave-stdin-open')
  if (a.exec) args.push('-e', '--exec-attach', '--exec-process-spec', a.exec.processSpec)
  if (a.logLevel) args.push('--log-level', a.logLevel, '--syslog')
  return args
}
