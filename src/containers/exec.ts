import type { Duplex } from 'node:stream'
import { conflict, EngineError, messageOf, notFound } from '../errors/index.js'
import type { EventBus } from '../events/index.js'
import type { Logger } from '../lib/index.js'
import { newId } from '../lib/index.js'
import { attachClient } from './attach.js'
import { parseDetachKeys } from './detach-keys.js'
import type { ExecHandle, RuntimePort, SpecBuilder } from './ports.js'
import type { ContainerService } from './service.js'

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

  create(ref: string, cfg: ExecConfigInput): string {
    const rec = this.d.service.get(ref)
    if (rec.state.status === 'paused') throw conflict(`Container ${rec.id} is paused, unpause the container before exec`)
    if (rec.state.status !== 'running') throw conflict(`container ${rec.id} is not running`)
    if (cfg.cmd.length === 0) throw new EngineError('invalid-argument', 'No exec command specified')
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

  idsFor(containerId: string): string[] {
    return [...this.execs.values()].filter((e) => e.containerId === containerId).map((e) => e.id)
  }

  /**
   * Run the exec. With a socket, output streams to it and the socket closes
   * when the process exits; detached, it just runs.
   */
  async start(id: string, opts: { detach: boolean; tty?: boolean; consoleSize?: [number, number] }, client?: { socket: Duplex; early: Buffer; write: (s: 'stdout' | 'stderr', d: Buffer) => void }): Promise<void> {
    const e = this.get(id)
    if (e.running || e.exitCode !== null) throw conflict(`Error: Exec command ${id} has already run`)
    const rec = this.d.service.get(e.containerId)
    if (rec.state.status !== 'running') throw conflict(`container ${rec.id} is not running`)
    const tty = opts.tty ?? e.config.tty
    let process: unknown
    try {
      process = await this.d.specs.execProcess({
        containerSpec: this.d.service.specInput(rec, this.d.service.rootfsPath(rec)),
        args: e.config.cmd,
        env: e.config.env,
        cwd: e.config.workingDir || rec.effective.workingDir,
        user: e.config.user || rec.effective.user,
        tty,
        privileged: e.config.privileged || rec.spec.host.privileged,
      })
    } catch (err) {
      // moby's ContainerExecStart: an exec that fails before the runtime (-u nosuchuser) gets 126
      // and, attached, its error on the stream as below.
      e.exitCode = 126
      if (!client) throw err
      client.write('stdout', Buffer.from(`${messageOf(err)}\r\n`))
      client.socket.end()
      return
    }
    const size = opts.consoleSize ?? e.config.consoleSize
    e.running = true
    let handle: ExecHandle
    try {
      handle = await this.d.runtime.exec(rec.id, {
        execId: id,
        process,
        tty,
        stdin: e.config.attachStdin && !opts.detach,
        ...(size && size[0] && size[1] ? { consoleSize: { height: size[0], width: size[1] } } : {}),
      })
    } catch (err) {
      e.running = false
      const msg = messageOf(err)
      e.exitCode = /executable file not found|no such file or directory/.test(msg) ? 127 : /permission denied/.test(msg) ? 126 : 126
      if (client) {
        // docker reports a failed exec on the stream (stdout, CRLF: moby postContainerExecStart), then the CLI reads ExitCode.
        client.write('stdout', Buffer.from(`${withPrefix(msg)}\r\n`))
        client.socket.end()
        return
      }
      throw new EngineError('internal', withPrefix(msg), { cause: err })
    }
    e.handle = handle
    this.d.events.publish('container', `exec_start: ${e.config.cmd.join(' ')}`, rec.id, { ...rec.effective.labels, name: rec.name, image: rec.spec.image, execID: id })
    const recorded = handle.exit.then(
      (code) => this.finished(e, code),
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
      this.finished(e, code)
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

const withPrefix = (msg: string) => (msg.startsWith('OCI runtime exec failed') ? msg : `OCI runtime exec failed: ${msg}`)
