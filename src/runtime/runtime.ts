/**
 * The layer between the container service and the OCI runtime: one conmon per
 * container (and per exec session), no Node process per container, so
 * containers keep running when berthd stops and berthd picks them up again
 * from the files under the exec root ("live restore").
 *
 * Lifecycle of a container here: create (conmon runs `<runtime> create`; the
 * process exists, the user program has not started) → attach (any number,
 * before start so no output is lost) → start → exit (conmon writes the exit
 * file; onExit fires) → delete (runtime state, cgroup, our files and the exit
 * file go away). Layout under execRoot: see docs/design/runtime.md.
 */
import { promises as fsp, constants as fsc, readFileSync } from 'node:fs'
import path from 'node:path'
import type { Logger } from '../lib/index.js'
import { conflict, EngineError, internal, invalidArgument, notFound } from '../errors/index.js'
import { detectCgroups, type CgroupInfo } from '../sys/index.js'
import { ConmonAttach, type AttachStream } from './attach.js'
import { conmonArgs, spawnConmon, type ConmonProcess } from './conmon.js'
import { directExec } from './exec-direct.js'
import { ExitWatcher, type ExitInfo, type ExitListener } from './exits.js'
import { oomKilled, OomWatcher, type OomListener } from './oom.js'
import { lookPathInRoot } from './user.js'
import { OciCli, cleanRuntimeMessage, startErrorCode, type RuntimeConfig, type RuntimeStatus } from './oci-cli.js'
import { execStartFailure } from './exec-failure.js'
export { startErrorCode } from './oci-cli.js'
import type { OciProcess, OciResources, OciSpec } from './oci-spec.js'

export interface ConmonRuntimeOptions {
  /** e.g. /run/berth; everything this layer writes lives below it. */
  execRoot: string
  logger: Logger
  /** By name, as `--runtime` and daemon.json's "runtimes" call them. */
  runtimes: Record<string, RuntimeConfig>
  conmonPath?: string
  /** Poll interval of the exit directory behind inotify (ms). */
  exitPollMs?: number
  /** conmon's own log level; it then logs to syslog. */
  conmonLogLevel?: 'debug' | 'info' | 'warn' | 'error'
}

export interface CreateOptions {
  id: string
  spec: OciSpec
  /** Name in `runtimes`. */
  runtime: string
  /** Default `<execRoot>/containers/<id>`; conmon's attach socket and ctl fifo live here too. */
  bundleDir?: string
  tty: boolean
  openStdin: boolean
  /** Close the container's stdin when the first attached client disconnects or half-closes. */
  stdinOnce: boolean
  /** k8s-file log conmon writes every output line to. */
  logPath: string
  logMaxSize?: number
  consoleSize?: { height: number; width: number }
}

export interface ContainerState {
  id: string
  pid: number
  status: RuntimeStatus
}

export interface RestoredContainer extends ContainerState {
  runtime: string
  /** Set when the container exited (possibly while berthd was down). */
  exit?: ExitInfo
  /** Whether its conmon is still alive (false: output and exit code are lost for it). */
  monitored: boolean
}

export interface ExecOptions {
  execId: string
  /** args, env, cwd, user, terminal (terminal is overridden by `tty`). */
  process: OciProcess
  tty: boolean
  stdin: boolean
  consoleSize?: { height: number; width: number }
  /** Default true. Without it nobody reads the output (docker exec -d). */
  attach?: boolean
}

export interface ExecSession {
  execId: string
  /** 0 if the process could not be started. */
  pid: number
  /** Undefined if attach was false. */
  stream: AttachStream | undefined
  resize(size: { height: number; width: number }): Promise<void>
  /** The exit code; 126/127/128 as dockerd's when the program cannot be run. */
  exit: Promise<number>
  /**
   * The runtime's message when the process could not be started, for execs
   * under conmon; a direct exec writes it to the stream's stderr instead, as
   * docker shows it, and `exit` gives 126/127.
   */
  error?: string
}

/** What restore() needs to find again; written at create. */
interface ContainerMeta {
  id: string
  runtime: string
  bundleDir: string
  tty: boolean
  openStdin: boolean
  logPath: string
  createdAt: string
}

interface Live {
  meta: ContainerMeta
  conmonPid?: number
}

/** A create or exec failure whose exit code docker reports: 127 not found, 126 cannot invoke. */
export class StartError extends EngineError {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(exitCode === 127 ? 'not-found' : exitCode === 126 ? 'forbidden' : 'internal', message)
    this.name = 'StartError'
  }
}


const idPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/

export class ConmonRuntime {
  private readonly attaching = new Map<string, Promise<void>>()
  readonly execRoot: string
  private readonly log: Logger
  private readonly cfgs: Record<string, RuntimeConfig>
  private readonly conmonPath: string
  private readonly clis = new Map<string, OciCli>()
  private readonly live = new Map<string, Live>()
  private readonly ooms = new OomWatcher()
  private readonly exits: ExitWatcher
  private readonly conmonLogLevel: ConmonRuntimeOptions['conmonLogLevel']
  private cgroups: Promise<CgroupInfo> | undefined
  private ready: Promise<void> | undefined

  constructor(o: ConmonRuntimeOptions) {
    this.execRoot = path.resolve(o.execRoot)
    this.log = o.logger.child({ module: 'runtime' })
    this.cfgs = o.runtimes
    this.conmonPath = o.conmonPath ?? '/usr/bin/conmon'
    this.conmonLogLevel = o.conmonLogLevel
    this.exits = new ExitWatcher(path.join(this.execRoot, 'exits'), this.log, o.exitPollMs)
  }

  /** Directories and the exit watcher; every public method awaits it. */
  private init(): Promise<void> {
    this.ready ??= (async () => {
      await Promise.all(
        ['containers', 'exits', 'runtime'].map((d) => fsp.mkdir(path.join(this.execRoot, d), { recursive: true, mode: 0o700 })),
      )
      await this.exits.start()
    })()
    return this.ready
  }

  /** The host's cgroup layout, as found once. */
  cgroupInfo(): Promise<CgroupInfo> {
    this.cgroups ??= detectCgroups()
    return this.cgroups
  }

  private async cli(name: string): Promise<OciCli> {
    let c = this.clis.get(name)
    if (c) return c
    const cfg = this.cfgs[name]
    if (!cfg) throw invalidArgument(`unknown or invalid runtime name: ${name}`)
    const hybrid = (await this.cgroupInfo()).mode === 'hybrid'
    const hide = cfg.hideCgroup2 ?? (hybrid && path.basename(cfg.path) === 'crun')
    c = new OciCli({ name, cfg, root: path.join(this.execRoot, 'runtime', name), hideCgroup2: hide, logger: this.log })
    this.clis.set(name, c)
    return c
  }

  private stateDir(id: string): string {
    return path.join(this.execRoot, 'containers', id)
  }

  private async entry(id: string): Promise<Live> {
    const l = this.live.get(id)
    if (l) return l
    let meta: ContainerMeta
    try {
      meta = JSON.parse(await fsp.readFile(path.join(this.stateDir(id), 'meta.json'), 'utf8')) as ContainerMeta
    } catch {
      throw notFound(`No such container: ${id}`)
    }
    const e: Live = { meta }
    this.live.set(id, e)
    return e
  }

  onExit(cb: ExitListener): () => void {
    void this.init()
    return this.exits.on((id, info) => {
      void this.withOom(id, info).then((i) => cb(id, i))
    })
  }

  /** An OOM kill in a running container's cgroup, as conmon reports it (the container may live on). */
  onOom(cb: OomListener): () => void {
    return this.ooms.on(cb)
  }

  /** The exit with `oomKilled` learned from conmon's `oom` file or the cgroup, before delete removes both. */
  private async withOom(id: string, info: ExitInfo): Promise<ExitInfo> {
    const bundle = this.live.get(id)?.meta.bundleDir ?? this.stateDir(id)
    return { ...info, oomKilled: await oomKilled(bundle).catch(() => false) }
  }

  /** Resolves when the container has exited (at once if it already has). */
  async wait(id: string): Promise<ExitInfo> {
    await this.init()
    await this.entry(id)
    return this.exits.wait(id)
  }

  async create(o: CreateOptions): Promise<{ pid: number }> {
    if (!idPattern.test(o.id)) throw invalidArgument(`invalid container id: ${o.id}`)
    await this.init()
    const cli = await this.cli(o.runtime)
    const dir = this.stateDir(o.id)
    try {
      await fsp.mkdir(dir, { mode: 0o700 })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw conflict(`container ${o.id} already exists in the runtime`)
      throw err
    }
    const bundle = o.bundleDir ? path.resolve(o.bundleDir) : dir
    const meta: ContainerMeta = {
      id: o.id,
      runtime: o.runtime,
      bundleDir: bundle,
      tty: o.tty,
      openStdin: o.openStdin,
      logPath: o.logPath,
      createdAt: new Date().toISOString(),
    }
    const spec: OciSpec = { ...o.spec, process: { ...o.spec.process, terminal: o.tty } }
    if (o.tty && o.consoleSize) spec.process.consoleSize = o.consoleSize
    const t0 = performance.now()
    try {
      if (bundle !== dir) await fsp.mkdir(bundle, { recursive: true })
      await Promise.all([
        fsp.writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec)),
        fsp.writeFile(path.join(dir, 'meta.json'), JSON.stringify(meta)),
        fsp.mkdir(path.dirname(o.logPath), { recursive: true }),
      ])
      // A stale exit file from an earlier container with this id would fire at once.
      await fsp.rm(this.exits.file(o.id), { force: true })
      this.exits.forget(o.id)
      const proc = spawnConmon({
        conmonPath: this.conmonPath,
        cwd: bundle,
        args: conmonArgs({
          id: o.id,
          uuid: o.id,
          runtime: cli.conmonRuntime('create'),
          bundle,
          pidFile: path.join(dir, 'pid'),
          conmonPidFile: path.join(dir, 'conmon.pid'),
          log: `k8s-file:${o.logPath}`,
          logMaxSize: o.logMaxSize,
          exitDir: this.exits.dir,
          tty: o.tty,
          stdin: o.openStdin,
          leaveStdinOpen: o.openStdin && !o.stdinOnce,
          logLevel: this.conmonLogLevel,
        }),
      })
      const pid = await this.readPid(proc, 'create')
      proc.sync.close()
      const conmonPid = await readPidFile(path.join(dir, 'conmon.pid'))
      this.live.set(o.id, { meta, conmonPid })
      this.ooms.watch(o.id, bundle)
      this.log.debug('created', { id: o.id, pid, conmonPid, ms: Math.round(performance.now() - t0) })
      return { pid }
    } catch (err) {
      await this.cleanupFailed(o.id, cli, bundle, dir)
      throw err
    }
  }

  /** conmon's first sync message: the pid, or the runtime's error. */
  private async readPid(proc: ConmonProcess, op: 'create' | 'exec'): Promise<number> {
    const msg = await proc.sync.next()
    if (msg && msg.data > 0) return msg.data
    await proc.exited
    const detail = cleanRuntimeMessage(msg?.message ?? '') || proc.stderr() || 'conmon exited without reporting a pid'
    const text = `OCI runtime ${op} failed: ${detail}`
    throw new StartError(text, startErrorCode(detail))
  }

  private async cleanupFailed(id: string, cli: OciCli, bundle: string, dir: string) {
    // conmon reports the failure, then exits: wait, so it cannot recreate files we remove.
    const conmonPid = await readPidFile(path.join(dir, 'conmon.pid'))
    if (conmonPid && isConmonOf(conmonPid, id)) await waitGone(conmonPid, 5000).catch(() => undefined)
    try {
      await cli.delete(id, true)
    } catch {
      // Usually it never existed.
    }
    await this.removeFiles(id, bundle, dir)
  }

  private async removeFiles(id: string, bundle: string, dir: string) {
    this.live.delete(id)
    this.ooms.unwatch(id)
    if (bundle !== dir) {
      await Promise.all(['config.json', 'attach', 'ctl', 'winsz'].map((f) => fsp.rm(path.join(bundle, f), { force: true })))
    }
    await fsp.rm(dir, { recursive: true, force: true })
    await fsp.rm(this.exits.file(id), { force: true })
    this.exits.forget(id)
  }

  async start(id: string): Promise<void> {
    const e = await this.entry(id)
    await (await this.cli(e.meta.runtime)).start(id)
  }

  /** `signal`: a name (TERM, SIGTERM) or number. `all`: every process of the container (shared pid ns). */
  async kill(id: string, signal: string | number, opts: { all?: boolean } = {}): Promise<void> {
    const e = await this.entry(id)
    await (await this.cli(e.meta.runtime)).kill(id, normalizeSignal(signal), opts.all)
  }

  async pause(id: string): Promise<void> {
    const e = await this.entry(id)
    await (await this.cli(e.meta.runtime)).pause(id)
  }

  async unpause(id: string): Promise<void> {
    const e = await this.entry(id)
    await (await this.cli(e.meta.runtime)).resume(id)
  }

  /** New cgroup limits for a running or paused container. */
  async update(id: string, resources: OciResources): Promise<void> {
    const e = await this.entry(id)
    await (await this.cli(e.meta.runtime)).update(id, resources)
  }

  async state(id: string): Promise<ContainerState> {
    const e = await this.entry(id)
    const s = await (await this.cli(e.meta.runtime)).state(id)
    return { id, pid: s.pid, status: s.status }
  }

  /**
   * Remove the container from the runtime and every file of ours. A running
   * or paused container needs `force` (it is killed); a created one does not.
   * Resolves after its conmon has exited, so nothing writes under execRoot
   * for it afterwards.
   */
  async delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.init()
    const e = await this.entry(id)
    const cli = await this.cli(e.meta.runtime)
    let status: RuntimeStatus | undefined
    // The exit file says "stopped" without another runtime call on the hot `--rm` path.
    if (await this.exits.read(id)) status = 'stopped'
    else {
      try {
        status = (await cli.state(id)).status
      } catch (err) {
        if (!(err instanceof EngineError && err.kind === 'not-found')) throw err
      }
    }
    if ((status === 'running' || status === 'paused') && !opts.force) {
      throw conflict(`container ${id} is ${status}: stop it before removing or force remove`)
    }
    if (status !== undefined) {
      try {
        await cli.delete(id, status !== 'stopped')
      } catch (err) {
        if (!(err instanceof EngineError && err.kind === 'not-found')) throw err
      }
    }
    const conmonPid = e.conmonPid ?? (await readPidFile(path.join(this.stateDir(id), 'conmon.pid')))
    if (conmonPid && isConmonOf(conmonPid, id)) await waitGone(conmonPid, 10_000)
    await this.removeFiles(id, e.meta.bundleDir, this.stateDir(id))
    this.log.debug('deleted', { id })
  }

  /** The container's root filesystem on the host, from its bundle. */
  private async rootOf(bundleDir: string): Promise<string | undefined> {
    try {
      const spec = JSON.parse(await fsp.readFile(path.join(bundleDir, 'config.json'), 'utf8')) as { root?: { path?: string } }
      const p = spec.root?.path
      return p ? path.resolve(bundleDir, p) : undefined
    } catch {
      return undefined
    }
  }

  /**
   * Connect to conmon's attach socket. Resolves once conmon has accepted the
   * connection (a new socket in its fd table), so output written right after
   * `start` reaches this client: a connection still in the listen backlog
   * would miss it. Attaches to one container are serialized for the count.
   */
  async attach(id: string, opts: { stdin: boolean }): Promise<AttachStream> {
    const e = await this.entry(id)
    if (opts.stdin && !e.meta.openStdin) throw conflict(`container ${id} was not created with stdin open`)
    const prev = this.attaching.get(id) ?? Promise.resolve()
    const next = prev.then(async () => {
      const conmonPid = e.conmonPid
      const before = conmonPid ? await socketCount(conmonPid) : undefined
      const stream = await ConmonAttach.connect(path.join(e.meta.bundleDir, 'attach'), opts)
      if (conmonPid && before !== undefined) {
        const deadline = performance.now() + 500
        while (performance.now() < deadline && ((await socketCount(conmonPid)) ?? Infinity) <= before) await new Promise((r) => setTimeout(r, 1))
      }
      return stream
    })
    const settled = next.then(() => undefined, () => undefined)
    this.attaching.set(id, settled)
    void settled.then(() => {
      if (this.attaching.get(id) === settled) this.attaching.delete(id)
    })
    return next
  }

  async resize(id: string, size: { height: number; width: number }): Promise<void> {
    const e = await this.entry(id)
    if (!e.meta.tty) throw conflict(`container ${id} has no TTY`)
    await writeCtl(path.join(e.meta.bundleDir, 'ctl'), size)
  }

  /**
   * Run a process in the container under its own conmon (exec mode with
   * --exec-attach, as podman does): the attach socket exists before the
   * runtime runs the process, so no output is lost, and a TTY works although
   * Node cannot receive the console fd.
   */
  async exec(id: string, o: ExecOptions): Promise<ExecSession> {
    if (!idPattern.test(o.execId)) throw invalidArgument(`invalid exec id: ${o.execId}`)
    const e = await this.entry(id)
    const cli = await this.cli(e.meta.runtime)
    const dir = path.join(this.stateDir(id), 'exec', o.execId)
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 })
    const processSpec = path.join(dir, 'process.json')
    const proc: OciProcess = { ...o.process, terminal: o.tty }
    if (o.tty && o.consoleSize) proc.consoleSize = o.consoleSize
    await fsp.writeFile(processSpec, JSON.stringify(proc))
    const cleanup = () => fsp.rm(dir, { recursive: true, force: true })
    if (o.tty || o.attach === false) {
      // Under conmon some runtimes' start errors are lost: name a missing program the way runc does.
      const root = await this.rootOf(e.meta.bundleDir)
      const cmd = proc.args[0] ?? ''
      if (root && !cmd.includes('/') && !(await lookPathInRoot(root, cmd, proc.env ?? []))) {
        await cleanup()
        const failed = execStartFailure(`exec failed: unable to start container process: exec: "${cmd}": executable file not found in $PATH`)
        return { execId: o.execId, pid: 0, stream: undefined, resize: () => Promise.resolve(), exit: Promise.resolve(failed.exitCode), error: failed.message }
      }
    }
    if (!o.tty && o.attach !== false) {
      const rt = cli.conmonRuntime('exec')
      const d = directExec({ runtimePath: rt.path, runtimeArgs: rt.args, id, processSpec, pidFile: path.join(dir, 'pid'), stdin: o.stdin })
      const exit = d.exit.then(async (code) => {
        await cleanup()
        return code
      })
      return {
        execId: o.execId,
        get pid() {
          return d.pid()
        },
        stream: d.stream,
        resize: () => Promise.resolve(),
        exit,
      }
    }
    const cm = spawnConmon({
      conmonPath: this.conmonPath,
      cwd: dir,
      execPipes: true,
      args: conmonArgs({
        id,
        uuid: o.execId,
        runtime: cli.conmonRuntime('exec'),
        bundle: dir,
        pidFile: path.join(dir, 'pid'),
        log: 'none',
        tty: o.tty,
        stdin: o.stdin,
        exec: { processSpec },
        logLevel: this.conmonLogLevel,
      }),
    })
    const startPipe = cm.start!
    let stream: ConmonAttach | undefined
    try {
      // First write: conmon may fork. It then sets up the attach socket and says so.
      startPipe.write('0')
      const ready = await cm.attachReady!.next()
      if (!ready) {
        await cm.exited
        throw internal(`exec in ${id}: conmon failed: ${cm.stderr() || 'no attach socket'}`)
      }
      if (o.attach !== false) stream = await ConmonAttach.connect(path.join(dir, 'attach'), { stdin: o.stdin })
      // Second write: its child may now run `<runtime> exec`.
      startPipe.end('1')
      cm.attachReady!.close()
    } catch (err) {
      stream?.close()
      cm.sync.close()
      cm.start?.destroy()
      cm.attachReady?.close()
      await cleanup()
      throw err
    }
    const first = await cm.sync.next()
    const session: ExecSession = {
      execId: o.execId,
      pid: 0,
      stream,
      resize: (size) => (o.tty ? writeCtl(path.join(dir, 'ctl'), size) : Promise.resolve()),
      exit: Promise.resolve(0),
    }
    if (!first || first.data <= 0) {
      const detail = cleanRuntimeMessage(first?.message ?? '') || cm.stderr() || 'conmon exited without a pid'
      const failed = execStartFailure(detail)
      session.error = failed.message
      session.exit = Promise.resolve(failed.exitCode)
      cm.sync.close()
      stream?.close()
      await cleanup()
      return session
    }
    session.pid = first.data
    session.exit = (async () => {
      const last = await cm.sync.next()
      cm.sync.close()
      await cleanup()
      if (!last) return 255
      return last.data < 0 ? 255 : last.data
    })()
    return session
  }

  /**
   * After a berthd restart: every container this exec root knows, with its
   * status. Exited ones carry their exit (they exited while berthd was down,
   * or just now) and get no onExit event; later exits do.
   */
  async restore(): Promise<RestoredContainer[]> {
    await this.init()
    const ids = await fsp.readdir(path.join(this.execRoot, 'containers')).catch(() => [] as string[])
    const out: RestoredContainer[] = []
    await Promise.all(
      ids.map(async (id) => {
        let e: Live
        try {
          e = await this.entry(id)
        } catch {
          this.log.warn('restore: no metadata, removing', { id })
          await fsp.rm(this.stateDir(id), { recursive: true, force: true })
          return
        }
        const conmonPid = await readPidFile(path.join(this.stateDir(id), 'conmon.pid'))
        const monitored = !!conmonPid && isConmonOf(conmonPid, id)
        if (monitored) e.conmonPid = conmonPid
        const read = await this.exits.read(id)
        if (read) {
          this.exits.markReported(id)
          const exit = await this.withOom(id, read)
          out.push({ id, pid: 0, status: 'stopped', runtime: e.meta.runtime, exit, monitored })
          return
        }
        try {
          const s = await (await this.cli(e.meta.runtime)).state(id)
          if (s.status === 'running' || s.status === 'paused') this.ooms.watch(id, e.meta.bundleDir)
          out.push({ id, pid: s.pid, status: s.status, runtime: e.meta.runtime, monitored })
        } catch (err) {
          this.log.warn('restore: runtime has no state', { id, err })
          out.push({ id, pid: 0, status: 'stopped', runtime: e.meta.runtime, monitored })
        }
      }),
    )
    // Exits that landed between the scan above and now still get their event.
    await this.exits.scan()
    return out
  }

  /** Stop watching; containers and their conmons keep running. */
  close(): void {
    this.ooms.close()
    this.exits.stop()
  }
}

function normalizeSignal(sig: string | number): string {
  if (typeof sig === 'number') {
    if (!Number.isInteger(sig) || sig <= 0 || sig > 64) throw invalidArgument(`invalid signal: ${sig}`)
    return String(sig)
  }
  const s = sig.trim().toUpperCase()
  if (/^\d+$/.test(s)) return normalizeSignal(Number(s))
  if (!/^(SIG)?[A-Z0-9+-]+$/.test(s)) throw invalidArgument(`invalid signal: ${sig}`)
  return s.startsWith('SIG') ? s : `SIG${s}`
}

async function readPidFile(file: string): Promise<number | undefined> {
  try {
    const n = Number.parseInt((await fsp.readFile(file, 'utf8')).trim(), 10)
    return n > 0 ? n : undefined
  } catch {
    return undefined
  }
}

/** Guards against pid reuse: the process must be conmon for this container. */
function isConmonOf(pid: number, id: string): boolean {
  try {
    // Synchronous on purpose: a tiny procfs read, used on rare paths.
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    return cmd.includes('conmon') && cmd.split('\0').includes(id)
  } catch {
    return false
  }
}

async function waitGone(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let delay = 1
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0)
    } catch {
      return
    }
    // A zombie is gone for our purposes: it holds no files.
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      if (/\) Z /.test(stat)) return
    } catch {
      return
    }
    await new Promise((r) => setTimeout(r, delay))
    delay = Math.min(delay * 2, 50)
  }
  throw internal(`conmon ${pid} did not exit within ${timeoutMs} ms`)
}

/** conmon's ctl fifo: `<type> <height> <width>\n`, type 1 = resize. It keeps a writer open, so this never blocks. */
async function writeCtl(file: string, size: { height: number; width: number }): Promise<void> {
  const h = Math.max(0, Math.floor(size.height))
  const w = Math.max(0, Math.floor(size.width))
  let fh
  try {
    fh = await fsp.open(file, fsc.O_WRONLY | fsc.O_NONBLOCK)
  } catch (err) {
    throw conflict(`resize: the container's monitor is gone (${(err as Error).message})`)
  }
  try {
    await fh.write(`1 ${h} ${w}\n`)
  } finally {
    await fh.close()
  }
}

/** Sockets open in a process: conmon gains one per accepted attach client. */
async function socketCount(pid: number): Promise<number | undefined> {
  const dir = `/proc/${pid}/fd`
  let fds: string[]
  try {
    fds = await fsp.readdir(dir)
  } catch {
    return undefined
  }
  let n = 0
  for (const fd of fds) {
    const target = await fsp.readlink(`${dir}/${fd}`).catch(() => '')
    if (target.startsWith('socket:')) n++
  }
  return n
}
