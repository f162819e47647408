import type { Duplex } from 'node:stream'
import { conflict, EngineError, messageOf, notFound } from '../errors/index.js'
import type { EventBus } from '../events/index.js'
import type { Logger } from '../lib/index.js'
import { newId } from '../lib/index.js'
import { attachClient } from './attach.js'
import { parseDetachKeys } from './detach-keys.js'
import type { ExecHandle, RuntimePort, SpecBuilder } from './ports.js'
import type { ContainerService } from './service.js'
import type { ContainerRecord } from './types.js'

export interface ExecConfigInput {
  cmd: string[]
  env: string[]
  user: string
  workingDir: string
  tty: boolean
  privileged: boolean
  attachStdin: boolean
  attachStdout: boolean
  attachStderr: boolean
  detachKeys: string
  consoleSize?: [number, number]
}

export interface ExecRecord {
  id: string
  containerId: string
  config: ExecConfigInput
  running: boolean
  exitCode: number | null
  canRemove: boolean
  handle?: ExecHandle
}

interface ExecDeps {
  service: ContainerService
  runtime: RuntimePort
  specs: SpecBuilder
  events: EventBus
  logger: Logger
}

/**
 * Exec sessions live in memory, as docker's do: an exec ID is only meaningful
 * while its container exists and the daemon runs.
 */
export class ExecManager {
  private readonly execs = new Map<string, ExecRecord>()

  constructor(private readonly d: ExecDeps) {}

  /**
   * moby ContainerExecCreate. `ref` is the container as the client named it
   * (the paused refusal repeats it). A -u is looked up now, so an unknown user
   * fails the create (400) and no exec is left behind.
   */
  async create(ref: string, cfg: ExecConfigInput): Promise<string> {
    if (cfg.cmd.length === 0) throw new EngineError('invalid-argument', 'No exec command specified')
    const rec = this.d.service.get(ref)
    checkActive(rec, ref)
    if (cfg.user) {
      try {
        await this.processFor(rec, cfg, cfg.tty)
      } catch (err) {
        throw new EngineError('invalid-argument', messageOf(err), { cause: err })
      }
    }
    if (cfg.detachKeys) parseDetachKeys(cfg.detachKeys)
    const id = newId()
    this.execs.set(id, { id, containerId: rec.id, config: cfg, running: false, exitCode: null, canRemove: false })
    this.d.events.publish('container', `exec_create: ${cfg.cmd.join(' ')}`, rec.id, { ...rec.effective.labels, name: rec.name, image: rec.spec.image, execID: id })
    return id
  }

  /** The exec's process id while it runs (the runtime may learn it after start). */
  pidOf(e: ExecRecord): number {
    return e.running ? (e.handle?.pid ?? 0) : 0
  }

  get(id: string): ExecRecord {
    const e = this.execs.get(id)
    if (!e) throw notFound(`No such exec instance: ${id}`)
    return e
  }

  /** A container's ExecIDs: as moby's, only execs that have not ended (a failed start ends one). */
  idsFor(containerId: string): string[] {
    return [...this.execs.values()].filter((e) => e.containerId === containerId && e.exitCode === null).map((e) => e.id)
  }

  /**
   * The exec, if it may start now (moby getExecConfig). The start route asks
   * before it hijacks the connection, so these refusals are HTTP errors.
   */
  startable(id: string): ExecRecord {
    const e = this.get(id)
    let rec: ContainerRecord
    try {
      rec = this.d.service.get(e.containerId)
    } catch {
      throw notFound(`No such container: ${id}`)
    }
    checkActive(rec, rec.id)
    return e
  }

  /**
   * Run the exec. With a socket, output streams to it and the socket closes
   * when the process exits; detached, it just runs.
   */
  async start(id: string, opts: { detach: boolean; tty?: boolean; consoleSize?: [number, number] }, client?: { socket: Duplex; early: Buffer; write: (s: 'stdout' | 'stderr', d: Buffer) => void }): Promise<void> {
    const e = this.startable(id)
    if (e.exitCode !== null) throw conflict(`exec command ${e.id} has already run`)
    if (e.running) throw conflict(`exec command ${e.id} is already running`)
    e.running = true
    const rec = this.d.service.get(e.containerId)
    // moby publishes exec_start before the process starts: a start that fails has one too.
    this.d.events.publish('container', `exec_start: ${e.config.cmd.join(' ')}`, rec.id, { ...rec.effective.labels, name: rec.name, image: rec.spec.image, execID: id })
    const tty = opts.tty ?? e.config.tty
    let process: unknown
    try {
      process = await this.processFor(rec, e.config, tty)
    } catch (err) {
      // moby's ContainerExecStart: failing before the runtime is tried leaves its default, 126.
      return this.startFailed(e, { exitCode: 126, message: messageOf(err), error: err }, client)
    }
    const size = opts.consoleSize ?? e.config.consoleSize
    let handle: ExecHandle
    try {
      handle = await this.d.runtime.exec(rec.id, {
        execId: id,
        process,
        tty,
        stdin: e.config.attachStdin && !opts.detach,
        // Detached, the runtime says at once whether the process started (moby answers the request with it).
        ...(opts.detach ? { attach: false } : {}),
        ...(size && size[0] && size[1] ? { consoleSize: { height: size[0], width: size[1] } } : {}),
      })
    } catch (err) {
      // The runtime's own refusal comes with dockerd's words and code (126/127 a bad
      // program or directory: moby answers 400; 128 anything else: 500).
      const code = exitCodeOf(err)
      const message = code === undefined ? withPrefix(messageOf(err)) : messageOf(err)
      const kind = code === 126 || code === 127 ? 'invalid-argument' : 'internal'
      return this.startFailed(e, { exitCode: code ?? 128, message, error: new EngineError(kind, message, { cause: err }) }, client)
    }
    e.handle = handle
    const recorded = handle.exit.then(
      // A process the runtime could not start ends with no pid; its reason is already on the stream.
      (code) => (handle.pid > 0 ? this.finished(e, code) : this.notStarted(e, code)),
      (err: unknown) => {
        this.d.logger.warn('exec wait failed', { id, err })
        this.finished(e, 126)
      },
    )
    if (client) {
      attachClient(handle.attach, client.socket, client.early, {
        closeAfter: recorded,
        stdin: e.config.attachStdin,
        stdout: e.config.attachStdout,
        stderr: e.config.attachStderr,
        tty,
        stdinOnce: true,
        detachKeys: e.config.detachKeys,
        write: client.write,
      })
    } else {
      handle.attach.onData(() => {})
      handle.attach.onEnd(() => handle.attach.close())
    }
  }

  private processFor(rec: ContainerRecord, cfg: ExecConfigInput, tty: boolean): Promise<unknown> {
    return this.d.specs.execProcess({
      containerSpec: this.d.service.specInput(rec, this.d.service.rootfsPath(rec)),
      args: cfg.cmd,
      env: cfg.env,
      cwd: cfg.workingDir || rec.effective.workingDir,
      user: cfg.user || rec.effective.user,
      tty,
      privileged: cfg.privileged || rec.spec.host.privileged,
    })
  }

  /**
   * moby's ContainerExecStart on a failed start: the exec is over with its code
   * (inspect: Running false, that ExitCode) and there is no exec_die. Attached,
   * the reason goes on the stream's stdout with CRLF (moby
   * postContainerExecStart) and the client reads the code from inspect;
   * detached, it is the request's error.
   */
  private startFailed(e: ExecRecord, f: { exitCode: number; message: string; error: unknown }, client?: { socket: Duplex; write: (s: 'stdout' | 'stderr', d: Buffer) => void }): void {
    this.notStarted(e, f.exitCode)
    if (!client) throw f.error
    client.write('stdout', Buffer.from(`${f.message}\r\n`))
    client.socket.end()
  }

  private notStarted(e: ExecRecord, code: number): void {
    e.running = false
    e.exitCode = code
  }

  private finished(e: ExecRecord, code: number): void {
    e.running = false
    e.exitCode = code
    e.canRemove = true
    const rec = (() => {
      try {
        return this.d.service.get(e.containerId)
      } catch {
        return undefined
      }
    })()
    if (rec) this.d.events.publish('container', 'exec_die', rec.id, { ...rec.effective.labels, name: rec.name, image: rec.spec.image, execID: e.id, exitCode: String(code) })
  }

  /**
   * A health probe (moby's cmdProbe): an exec as the container's user in its
   * working directory, no TTY, output kept by `sink`, SIGKILLed at the timeout
   * or when `signal` aborts. It has docker's exec events; its record goes when
   * it ends, so probes don't pile up in ExecIDs.
   */
  async probe(containerId: string, cmd: string[], o: { timeoutMs: number; signal: AbortSignal; sink: (chunk: Buffer) => void }): Promise<{ exitCode: number; timedOut: boolean }> {
    const rec = this.d.service.get(containerId)
    if (rec.state.status !== 'running') throw conflict(`container ${rec.id} is not running`)
    const id = newId()
    const cfg: ExecConfigInput = { cmd, env: [], user: '', workingDir: '', tty: false, privileged: false, attachStdin: false, attachStdout: true, attachStderr: true, detachKeys: '' }
    const e: ExecRecord = { id, containerId: rec.id, config: cfg, running: false, exitCode: null, canRemove: false }
    this.execs.set(id, e)
    try {
      this.d.events.publish('container', `exec_create: ${cmd.join(' ')}`, rec.id, { ...rec.effective.labels, name: rec.name, image: rec.spec.image, execID: id })
      const proc = await this.d.specs.execProcess({
        containerSpec: this.d.service.specInput(rec, this.d.service.rootfsPath(rec)),
        args: cmd,
        env: [],
        cwd: rec.effective.workingDir,
        user: rec.effective.user,
        tty: false,
        privileged: false,
      })
      e.running = true
      const handle = await this.d.runtime.exec(rec.id, { execId: id, process: proc, tty: false, stdin: false }).catch((err: unknown) => {
        e.running = false
        throw new EngineError('internal', withPrefix(messageOf(err)), { cause: err })
      })
      e.handle = handle
      this.d.events.publish('container', `exec_start: ${cmd.join(' ')}`, rec.id, { ...rec.effective.labels, name: rec.name, image: rec.spec.image, execID: id })
      handle.attach.onData((_s, chunk) => o.sink(chunk))
      handle.attach.onEnd(() => handle.attach.close())
      let timedOut = false
      const kill = () => {
        try {
          if (handle.pid > 0) killProcess(handle.pid)
        } catch {
          // Already gone.
        }
      }
      const timer = setTimeout(() => {
        timedOut = true
        kill()
      }, o.timeoutMs)
      o.signal.addEventListener('abort', kill, { once: true })
      const code = await handle.exit.catch(() => 126)
      clearTimeout(timer)
      o.signal.removeEventListener('abort', kill)
      if (handle.pid > 0) this.finished(e, code)
      else this.notStarted(e, code)
      return { exitCode: code, timedOut }
    } finally {
      this.execs.delete(id)
    }
  }

  async resize(id: string, size: { height: number; width: number }): Promise<void> {
    const e = this.get(id)
    if (!e.handle || !e.running) throw conflict(`Exec process ${id} is not running`)
    if (e.config.tty) await e.handle.resize(size)
  }

  containerExited(containerId: string): void {
    for (const e of this.execs.values()) {
      if (e.containerId === containerId && e.running) {
        e.running = false
        if (e.exitCode === null) e.exitCode = 137
      }
    }
  }

  containerRemoved(containerId: string): void {
    for (const [id, e] of this.execs) if (e.containerId === containerId) this.execs.delete(id)
  }
}

const killProcess = (pid: number) => process.kill(pid, 'SIGKILL')

/** moby getActiveContainer/getExecConfig: execs only go into a running container. */
function checkActive(rec: ContainerRecord, name: string): void {
  const s = rec.state.status
  if (s === 'paused') throw conflict(`Container ${name} is paused, unpause the container before exec`)
  if (s === 'restarting') throw conflict(`Container ${rec.id} is restarting, wait until the container is running`)
  if (s !== 'running') throw conflict(`container ${rec.id} is not running`)
}

/** The exit code a runtime start failure carries (RuntimePort.exec). */
function exitCodeOf(err: unknown): number | undefined {
  const code = (err as { exitCode?: unknown } | null)?.exitCode
  return typeof code === 'number' ? code : undefined
}

const withPrefix = (msg: string) => (msg.startsWith('OCI runtime exec failed') ? msg : `OCI runtime exec failed: ${msg}`)
