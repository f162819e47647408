/**
 * Exec without a monitor, for the common `docker exec c cmd` (no TTY, a client
 * attached): berthd runs `<runtime> exec` in the foreground with pipes, which
 * saves conmon's start-up and handshakes on every exec. The process lives as
 * long as its client connection, as the stream does. TTY and detached execs
 * keep conmon: a pty needs it, and a detached exec must outlive berthd.
 *
 * The runtime writes its own errors to the same stderr the process will use,
 * so stderr is held back until the runtime's pid file shows the process has
 * started; an exit before that, with no pid, is the runtime failing to start it.
 */
import { spawn } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { existsSync, promises as fsp } from 'node:fs'
import type { AttachStream, StdStream } from './attach.js'
import { execStartFailure } from './exec-failure.js'
import { cleanRuntimeMessage } from './oci-cli.js'

export interface DirectExecResult {
  stream: AttachStream
  /** The exit code; 126/127/128 as dockerd's when the process could not be started. */
  exit: Promise<number>
  /** The process's pid once known, else 0. */
  pid(): number
}

/** Output is queued until the first reader arrives: the process may speak before exec() returns. */
class PipeAttach extends EventEmitter implements AttachStream {
  readonly ended: Promise<void>
  private done = false
  private queued: Array<[StdStream, Buffer]> | undefined = []

  constructor(private readonly stdin: NodeJS.WritableStream | null) {
    super()
    this.ended = new Promise((resolve) => this.once('end', () => resolve()))
  }

  onData(cb: (stream: StdStream, chunk: Buffer) => void): void {
    this.on('data', cb)
    const q = this.queued
    this.queued = undefined
    for (const [st, b] of q ?? []) this.emit('data', st, b)
  }

  output(stream: StdStream, chunk: Buffer): void {
    if (this.queued) this.queued.push([stream, chunk])
    else this.emit('data', stream, chunk)
  }

  onEnd(cb: () => void): void {
    if (this.done && !this.queued) queueMicrotask(cb)
    else this.once('end', cb)
  }

  writeStdin(buf: Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (!this.stdin) return resolve()
      this.stdin.write(buf, () => resolve())
    })
  }

  closeStdin(): void {
    this.stdin?.end()
  }

  close(): void {
    this.finish()
  }

  finish(): void {
    if (this.done) return
    this.done = true
    // With no reader yet, the end waits for one so queued output is not cut off.
    if (this.queued) this.once('newListener', (ev: string) => ev === 'data' && queueMicrotask(() => this.emit('end')))
    else this.emit('end')
  }
}

export function directExec(o: { runtimePath: string; runtimeArgs: string[]; id: string; processSpec: string; pidFile: string; stdin: boolean }): DirectExecResult {
  const child = spawn(o.runtimePath, [...o.runtimeArgs, 'exec', '--process', o.processSpec, '--pid-file', o.pidFile, o.id], {
    stdio: [o.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  })
  child.stdin?.on('error', () => {})
  const stream = new PipeAttach(child.stdin)
  let started = false
  const held: Buffer[] = []
  const isStarted = () => started || (started = existsSync(o.pidFile))

  child.stdout?.on('data', (b: Buffer) => {
    isStarted()
    stream.output('stdout', b)
  })
  child.stderr?.on('data', (b: Buffer) => {
    if (!isStarted()) {
      held.push(b)
      return
    }
    for (const h of held.splice(0)) stream.output('stderr', h)
    stream.output('stderr', b)
  })

  const closed = new Promise<{ code: number }>((resolve) => {
    child.on('error', (err) => {
      held.push(Buffer.from(err.message))
      resolve({ code: 255 })
    })
    child.on('close', (code, signal) => resolve({ code: code ?? 128 + (signal ? 9 : 0) }))
  })

  // The pid is only for inspect: looked up in the background, never waited for.
  let pid = 0
  let over = false
  void (async () => {
    for (let delay = 1; !over && delay < 1000; delay *= 2) {
      if (isStarted()) {
        pid = Number((await fsp.readFile(o.pidFile, 'utf8').catch(() => '0')).trim()) || 0
        return
      }
      await new Promise((r) => setTimeout(r, delay))
    }
  })()

  const exit = closed.then(async ({ code }) => {
    over = true
    if (isStarted() && pid === 0) pid = Number((await fsp.readFile(o.pidFile, 'utf8').catch(() => '0')).trim()) || 0
    await fsp.rm(o.pidFile, { force: true })
    if (isStarted()) {
      for (const h of held.splice(0)) stream.output('stderr', h)
      stream.finish()
      return code
    }
    // Never started: what the runtime wrote is its reason, told the way docker tells it
    // (moby's exec start route writes the error on the stdout stream, ending in CRLF).
    const failed = execStartFailure(cleanRuntimeMessage(Buffer.concat(held).toString()) || `exit status ${code}`)
    stream.output('stdout', Buffer.from(`${failed.message}\r\n`))
    stream.finish()
    return failed.exitCode
  })
  return { stream, exit, pid: () => pid }
}
