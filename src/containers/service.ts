import { promises as fsp } from 'node:fs'
import path from 'node:path'
import type { Duplex } from 'node:stream'
import { conflict, EngineError, forbidden, invalidArgument, isKind, messageOf, notFound, notModified } from '../errors/index.js'
import type { EndpointConfig } from '../network/index.js'
import type { EventBus } from '../events/index.js'
import type { Logger } from '../lib/index.js'
import { exclusive, newId } from '../lib/index.js'
import { readLogs, type LogEntry } from '../logs/index.js'
import { attachClient, type AttachOptions } from './attach.js'
import { mergeCommand, mergeEnv } from './config-merge.js'
import { ExecManager } from './exec.js'
import { healthcheckError, HealthMonitor, LimitedOutput, mergeHealthcheck } from './health.js'
import { nextBackoff, policyRestarts } from './restart.js'
import { randomName, VALID_NAME } from './names.js'
import type { ExitInfo, ImageInfo, ImagesPort, LogPort, MountPort, NetworkPort, NetworkSandbox, NsSpec, RuntimePort, SpecBuilder, SpecInput, VolumePort } from './ports.js'
import type { ContainerStore } from './store.js'
import { initialState, NULL_TIME, type ContainerRecord, type ContainerSpec, type HealthConfig, type HostSpec, type MountSpec, type NamespaceMode } from './types.js'
import { signalNumber } from './signals.js'
import { adaptResources, FULL_SYSINFO, mergeUpdate, verifyResources, type SysInfo } from './resources.js'
import type { RestartPolicy } from './types.js'

export interface ContainerServiceOptions {
  store: ContainerStore
  images: ImagesPort
  runtime: RuntimePort
  specs: SpecBuilder
  mounts: MountPort
  network: NetworkPort
  volumes: VolumePort
  /** Logging drivers; without it, `logs` reads conmon's k8s-file and nothing is shipped. */
  logs?: LogPort
  events: EventBus
  logger: Logger
  dataRoot: string
  defaultRuntime: string
  runtimes: readonly string[]
  /** What the host's cgroups can limit; everything when absent. */
  sysInfo?: SysInfo
  /** The daemon's own checks of a new container's host settings (user namespaces, cgroup parent); throws docker's errors. */
  checkHost?: (host: HostSpec) => void
  /**
   * Containers whose network namespace the runtime makes (with their user
   * namespace, under --userns-remap): networking is attached to it between
   * the runtime's create and start rather than before create.
   */
  netnsByRuntime?: (rec: ContainerRecord) => boolean
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed'

interface Waiter {
  condition: WaitCondition
  resolve: (r: { statusCode: number; error?: string }) => void
}

interface Live {
  waiters: Waiter[]
  /** Attach clients waiting for the container to start. */
  pendingAttach: Array<{ connect: () => Promise<void>; fail: (message: string) => void }>
  /** Resolves when the current run ends. */
  exited?: Promise<void>
  markExited?: () => void
  stopping?: boolean
  restartTimer?: NodeJS.Timeout
  /** Dropping the runtime's record and the rootfs mount after an exit; a new start or a removal waits for it. */
  teardown?: Promise<void>
  /** The network namespace of the current run. */
  sandbox?: NetworkSandbox
  /** Settles once a start has published its `start` event: a fast exit's `die` waits for it. */
  started?: Promise<void>
  /** Volume, bind and tmpfs mounts of the current run, as the runtime gets them. */
  mounts?: SpecInput['mounts']
  /** The restart manager's last delay (ms), doubled per restart; in memory as docker's. */
  backoffMs?: number
  /** A stop or kill cancelled the restart manager until the next manual start (docker's Cancel). */
  restartCanceled?: boolean
}

/** A mount of a container as a reader of its files (cp) sees it. */
export interface FsMount {
  source: string
  destination: string
  readonly: boolean
}

/** A container's files held for a reader: see ContainerService.holdFs. */
export interface FsHold {
  rec: ContainerRecord
  /** The rootfs mount on the host (without volumes). */
  rootfs: string
  /** Volumes, binds and berth's /etc files, shallowest first. */
  mounts: FsMount[]
  release(): Promise<void>
}

/**
 * Container lifecycle: create, start, stop, kill, remove, wait, attach, logs.
 * The state machine lives here; the runtime runs processes and reports exits.
 */
export class ContainerService {
  readonly exec: ExecManager
  private readonly health: HealthMonitor
  private readonly live = new Map<string, Live>()
  /** Names of containers being created, held from the start of create (docker's ReserveName): concurrent creates must not pick the same one. */
  private readonly reservedNames = new Map<string, string>()
  /** Readers holding a container's rootfs mount (cp, export), and who waits for them to finish. */
  private readonly fsReaders = new Map<string, { count: number; idle: Promise<void>; done: () => void }>()
  private readonly o: ContainerServiceOptions
  private readonly log: Logger

  constructor(o: ContainerServiceOptions) {
    this.o = o
    this.log = o.logger.child({ module: 'containers' })
    this.exec = new ExecManager({ service: this, runtime: o.runtime, specs: o.specs, events: o.events, logger: this.log })
    this.health = new HealthMonitor({
      get: (id) => this.o.store.get(id),
      probe: async (rec, argv, po) => {
        const out = new LimitedOutput()
        const r = await this.exec.probe(rec.id, argv, { ...po, sink: (c) => out.write(c) })
        return { ...r, output: out.toString() }
      },
      save: (rec) => this.o.store.save(rec),
      event: (rec, action) => this.o.events.publish('container', action, rec.id, this.attrs(rec)),
      logger: this.log,
    })
    o.runtime.onExit((id, info) => {
      void this.handleExit(id, info).catch((err: unknown) => this.log.error('exit handling failed', { id, err }))
    })
    o.runtime.onOom?.((id) => this.handleOom(id))
  }

  private liveOf(id: string): Live {
    let l = this.live.get(id)
    if (!l) {
      l = { waiters: [], pendingAttach: [] }
      this.live.set(id, l)
    }
    return l
  }

  list(): ContainerRecord[] {
    return this.o.store.all()
  }

  get(ref: string): ContainerRecord {
    return this.o.store.resolve(ref)
  }

  /** IDs of containers created from an image (image removal must not strand them). */
  usingImage(imageId: string): string[] {
    return this.o.store.all().filter((c) => c.imageId === imageId).map((c) => c.id)
  }

  /**
   * docker update: new resource limits (non-zero fields) and restart policy,
   * checked as at create, kept with the container and, while it runs, applied
   * through the runtime; a runtime refusal leaves the old settings.
   */
  async update(ref: string, u: { resources: Record<string, unknown>; restartPolicy?: RestartPolicy }): Promise<{ warnings: string[] }> {
    const rec = this.o.store.resolve(ref)
    const asked = { ...u.resources }
    const warnings = verifyResources(asked, this.o.sysInfo ?? FULL_SYSINFO, true)
    const cannot = (kind: 'conflict' | 'internal', msg: string, cause?: unknown) => new EngineError(kind, `Cannot update container ${rec.id}: ${msg}`, { cause })
    if (rec.state.status === 'removing' || rec.state.status === 'dead') throw cannot('conflict', 'container is marked for removal and cannot be "update"')
    let resources: Record<string, unknown>
    try {
      resources = mergeUpdate(rec.spec.host.resources, asked)
    } catch (err) {
      throw cannot('conflict', messageOf(err), err)
    }
    const before = rec.spec.host
    let restartPolicy = before.restartPolicy
    if (u.restartPolicy && u.restartPolicy.name !== '') {
      if (before.autoRemove && u.restartPolicy.name !== 'no') throw cannot('conflict', 'Restart policy cannot be updated because AutoRemove is enabled for the container')
      restartPolicy = u.restartPolicy
    }
    rec.spec.host = { ...before, resources, restartPolicy }
    this.o.store.save(rec)
    const st = rec.state.status
    if ((st === 'running' || st === 'paused') && this.o.runtime.update) {
      try {
        await this.o.runtime.update(rec.id, resources)
      } catch (err) {
        rec.spec.host = before
        this.o.store.save(rec)
        throw cannot('internal', messageOf(err), err)
      }
    }
    this.o.events.publish('container', 'update', rec.id, this.attrs(rec))
    return { warnings }
  }

  async create(spec: ContainerSpec, requestedName?: string): Promise<{ id: string; warnings: string[] }> {
    const id = newId()
    let name = requestedName ?? ''
    if (name !== '') {
      if (!VALID_NAME.test(name)) throw invalidArgument(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`)
      name = name.replace(/^\//, '')
      const holder = this.nameHolder(name)
      if (holder) {
        throw conflict(`Conflict. The container name "/${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`)
      }
    } else {
      name = randomName((n) => this.nameHolder(n) !== undefined)
    }
    this.reservedNames.set(name, id)
    try {
      return await this.createReserved(id, name, spec)
    } finally {
      this.reservedNames.delete(name)
    }
  }

  /** The container holding a name, or being created under it. */
  private nameHolder(name: string): string | undefined {
    return this.o.store.nameTaken(name) ?? this.reservedNames.get(name)
  }

  private async createReserved(id: string, name: string, spec: ContainerSpec): Promise<{ id: string; warnings: string[] }> {
    if (spec.image === '') throw invalidArgument('config cannot be empty in order to create a container')
    const runtime = spec.host.runtime || this.o.defaultRuntime
    if (!this.o.runtimes.includes(runtime)) throw invalidArgument(`unknown or invalid runtime name: ${runtime}`)
    spec.host.runtime = runtime
    for (const mode of [spec.host.pid, spec.host.ipc, spec.host.uts]) {
      if (mode.kind === 'container') mode.ref = this.o.store.resolve(mode.ref).id
    }
    if (spec.host.network.kind === 'container') spec.host.network.ref = this.o.store.resolve(spec.host.network.ref).id
    if (spec.host.network.kind === 'network') {
      const entries = Object.entries(spec.networks)
      const names = this.o.network.validate(entries.map(([name, config]) => ({ name, config })), { missingOk: true })
      spec.networks = Object.fromEntries(entries.map(([, config], i) => [names[i] ?? '', config]))
    } else spec.networks = {}
    if (spec.host.links.length && spec.host.network.kind === 'host') throw invalidArgument("conflicting options: host type networking can't be used with links. This would result in undefined behavior")
    for (const l of spec.host.links) {
      const [target = ''] = l.split(':')
      if (!this.o.store.nameTaken(target.replace(/^\//, '')) && !this.o.store.get(target)) throw invalidArgument(`could not get container for ${target}`)
    }
    for (const m of spec.host.mounts) {
      if (m.type !== 'bind') continue
      if (await fsp.access(m.source).then(() => true, () => false)) continue
      if (!m.createSource) throw invalidArgument(`invalid mount config for type "bind": bind source path does not exist: ${m.source}`)
    }
    if (spec.host.restartPolicy.name !== '' && spec.host.restartPolicy.name !== 'no' && spec.host.autoRemove) {
      throw invalidArgument(`can't create 'AutoRemove' container with restart policy`)
    }
    if (this.o.logs) spec.host.logConfig = this.o.logs.resolve(spec.host.logConfig)
    checkPlatform(spec.host)
    this.o.specs.checkCreate?.(spec.host)
    this.o.checkHost?.(spec.host)

    const healthError = healthcheckError(spec.healthcheck)
    if (healthError) throw invalidArgument(healthError)
    const image = await this.o.images.resolveForContainer(spec.image)
    const ic = image.config
    const healthcheck = mergeHealthcheck(spec.healthcheck, healthOfImage(ic.Healthcheck))
    const { entrypoint, cmd } = mergeCommand(spec, ic)
    const argv = [...entrypoint, ...cmd]
    // moby refuses only an empty command here; `[""]` fails at start, in the runtime (exit 127).
    if (argv.length === 0) throw invalidArgument('no command specified')

    const resourceWarnings = verifyResources(spec.host.resources, this.o.sysInfo ?? FULL_SYSINFO, false)
    if (spec.host.oomScoreAdj < -1000 || spec.host.oomScoreAdj > 1000) throw invalidArgument(`Invalid value ${spec.host.oomScoreAdj}, range for oom score adj is [-1000, 1000]`)
    adaptResources(spec.host.resources)
    const dir = path.join(this.o.dataRoot, 'containers', id)
    const hostname = spec.hostname || (spec.host.uts.kind === 'host' || spec.host.network.kind === 'host' ? (await fsp.readFile('/etc/hostname', 'utf8').catch(() => 'localhost')).trim() : id.slice(0, 12))
    const rec: ContainerRecord = {
      id,
      name,
      created: new Date().toISOString(),
      imageId: image.id,
      spec: { ...spec, hostname },
      state: initialState(),
      path: argv[0] ?? '',
      args: argv.slice(1),
      effective: {
        cmd: cmd.length ? cmd : null,
        entrypoint: entrypoint.length ? entrypoint : null,
        env: mergeEnv(ic.Env ?? [], spec.env),
        workingDir: spec.workingDir || ic.WorkingDir || '/',
        user: spec.user || ic.User || '',
        labels: { ...(ic.Labels ?? {}), ...spec.labels },
        exposedPorts: [...new Set([...Object.keys(ic.ExposedPorts ?? {}), ...spec.exposedPorts])],
        volumes: [...new Set([...Object.keys(ic.Volumes ?? {}), ...spec.volumes])],
        stopSignal: spec.stopSignal || ic.StopSignal || 'SIGTERM',
        ...(healthcheck ? { healthcheck } : {}),
        ...(spec.shell?.length || ic.Shell?.length ? { shell: spec.shell?.length ? spec.shell : [...(ic.Shell ?? [])] } : {}),
      },
      paths: {
        dir,
        hostname: path.join(dir, 'hostname'),
        hosts: path.join(dir, 'hosts'),
        resolvConf: path.join(dir, 'resolv.conf'),
        log: path.join(dir, 'container.log'),
        ...(spec.host.logConfig.type === 'json-file' ? { driverLog: path.join(dir, `${id}-json.log`) } : {}),
        ...(spec.host.logConfig.type === 'local' ? { driverLog: path.join(dir, 'local-logs', 'container.log') } : {}),
      },
    }
    await fsp.mkdir(dir, { recursive: true, mode: 0o710 })
    const anonymous: string[] = []
    try {
      rec.spec.host = { ...rec.spec.host, mounts: await this.resolveMounts(rec, anonymous) }
      await this.writeEtcFiles(rec)
      await this.o.images.rootfsFor(id, image.id)
      this.o.store.add(rec)
    } catch (err) {
      await this.o.images.releaseRootfs(id).catch(() => {})
      await fsp.rm(dir, { recursive: true, force: true })
      for (const v of anonymous) await this.o.volumes.remove(v).catch(() => {})
      throw err
    }
    this.o.events.publish('container', 'create', id, this.attrs(rec))
    const warnings: string[] = [...resourceWarnings]
    if (spec.host.network.kind === 'host' && Object.keys(spec.host.portBindings).length > 0) warnings.push('Published ports are discarded when using host network mode')
    return { id, warnings }
  }

  /**
   * Every mount the container will have: -v and --mount as asked, plus an
   * anonymous volume for each VOLUME (Config.Volumes, the image's) that no
   * mount covers. Named volumes are made if missing, as docker's create does.
   */
  private async resolveMounts(rec: ContainerRecord, made: string[]): Promise<MountSpec[]> {
    const norm = (p: string) => p.replace(/\/+$/, '') || '/'
    const mounts = rec.spec.host.mounts.map((m) => ({ ...m }))
    const covered = new Set(mounts.map((m) => norm(m.target)))
    // --volumes-from: the other container's volumes and binds at the same places, its mode unless :ro/:rw says otherwise.
    for (const f of rec.spec.host.volumesFrom) {
      const [ref = '', mode = ''] = f.split(':')
      if (mode !== '' && mode !== 'ro' && mode !== 'rw') throw invalidArgument(`invalid mode for volumes-from: ${mode}`)
      const other = this.o.store.resolve(ref)
      for (const m of other.spec.host.mounts) {
        if (m.type === 'tmpfs' || covered.has(norm(m.target))) continue
        covered.add(norm(m.target))
        mounts.push({ ...m, readonly: mode === '' ? m.readonly : mode === 'ro', anonymous: false, origin: 'from', createSource: false })
      }
    }
    for (const v of rec.effective.volumes) {
      if (covered.has(norm(v))) continue
      covered.add(norm(v))
      mounts.push({ type: 'volume', source: '', target: norm(v), readonly: false, mode: '', propagation: '', noCopy: false, origin: 'volumes' })
    }
    const driver = rec.spec.host.volumeDriver ?? ''
    for (const m of mounts) {
      // --volume-driver names the driver of -v volumes and VOLUMEs; only `local` exists here (no volume plugins).
      if (m.type === 'volume' && driver !== '' && driver !== 'local' && (m.origin === 'binds' || m.origin === 'volumes')) {
        throw notFound(`create ${m.source || newId()}: error looking up volume plugin ${driver}: plugin ${JSON.stringify(driver)} not found`)
      }
      // -v makes a missing source a directory; an existing one (a file bind too) is used as it is.
      if (m.type === 'bind' && m.createSource && !(await fsp.lstat(m.source).then(() => true, () => false))) await fsp.mkdir(m.source, { recursive: true })
      if (m.type !== 'volume') continue
      if (m.source === '') {
        m.source = await this.o.volumes.createAnonymous()
        m.anonymous = true
        made.push(m.source)
      } else {
        await this.o.volumes.ensure(m.source, m.volumeOptions)
      }
    }
    return mounts
  }

  /**
   * Mounts for the runtime, parents before children: volumes are mounted (and
   * filled from the image when empty) now, binds and tmpfs as they are.
   */
  private async runtimeMounts(rec: ContainerRecord, rootfs: string): Promise<SpecInput['mounts']> {
    const out: SpecInput['mounts'] = []
    const depth = (p: string) => p.split('/').filter(Boolean).length
    for (const m of [...rec.spec.host.mounts].sort((a, b) => depth(a.target) - depth(b.target))) {
      if (m.type === 'tmpfs') {
        const opts = ['nosuid', 'nodev', ...(m.tmpfs?.size ? [`size=${m.tmpfs.size}`] : []), ...(m.tmpfs?.mode ? [`mode=${m.tmpfs.mode.toString(8)}`] : []), ...(m.readonly ? ['ro'] : [])]
        out.push({ source: 'tmpfs', destination: m.target, type: 'tmpfs', options: opts })
        continue
      }
      let source = m.source
      if (m.type === 'volume') {
        source = await this.o.volumes.acquire(m.source)
        // docker's setupMounts announces each volume of each start.
        this.o.events.publish('volume', 'mount', m.source, { container: rec.id, destination: m.target, driver: m.volumeOptions?.driver || 'local', propagation: '', 'read/write': String(!m.readonly) })
        if (!m.noCopy) {
          // The image's files at the mount point, resolved without leaving the container's root.
          const real = await fsp.realpath(path.join(rootfs, m.target)).catch(() => undefined)
          if (real && real.startsWith(rootfs + '/')) await this.o.volumes.copyUp(real, m.source)
        }
      }
      out.push({ source, destination: m.target, type: 'bind', options: ['rbind', m.readonly ? 'ro' : 'rw', m.propagation || 'rprivate'] })
    }
    return out
  }

  /** Regenerable files: written plainly, no fsync on the create path; rewritten at start with the addresses. */
  private async writeEtcFiles(rec: ContainerRecord, sandbox?: NetworkSandbox): Promise<void> {
    const { hostname } = rec.spec
    await fsp.writeFile(rec.paths.hostname, `${hostname}\n`)
    const hosts = [
      '127.0.0.1\tlocalhost',
      '::1\tlocalhost ip6-localhost ip6-loopback',
      'fe00::0\tip6-localnet',
      'ff00::0\tip6-mcastprefix',
      'ff02::1\tip6-allnodes',
      'ff02::2\tip6-allrouters',
    ]
    for (const h of sandbox?.hosts ?? []) hosts.push(`${h.ip}\t${h.names.join(' ')}`)
    if (rec.spec.host.network.kind !== 'host' && !sandbox?.hosts.length) hosts.push(`127.0.1.1\t${hostname}`)
    for (const h of rec.spec.host.extraHosts) {
      const i = h.indexOf(':')
      if (i > 0) hosts.push(`${h.slice(i + 1)}\t${h.slice(0, i)}`)
    }
    await fsp.writeFile(rec.paths.hosts, hosts.join('\n') + '\n')
    let resolv = await fsp.readFile('/etc/resolv.conf', 'utf8').catch(() => '')
    if (rec.spec.host.network.kind !== 'host') {
      // Loopback resolvers of the host are unreachable from the container's own network namespace.
      resolv = resolv.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1)/.test(l)).join('\n')
    }
    // The embedded DNS forwards to the container's --dns servers itself.
    const dns = (sandbox?.nameservers ?? rec.spec.host.dns).map((d) => `nameserver ${d}`)
    const search = rec.spec.host.dnsSearch.length ? [`search ${rec.spec.host.dnsSearch.join(' ')}`] : []
    const options = rec.spec.host.dnsOptions.length ? [`options ${rec.spec.host.dnsOptions.join(' ')}`] : []
    if (dns.length || search.length || options.length) {
      resolv = [...(dns.length ? dns : resolv.split('\n').filter((l) => /^\s*nameserver/.test(l))), ...search, ...options].join('\n') + '\n'
    }
    await fsp.writeFile(rec.paths.resolvConf, resolv)
  }

  /** Publish a container event for work done on it elsewhere (cp's `archive-path`, `export`). */
  announce(rec: ContainerRecord, action: string): void {
    this.o.events.publish('container', action, rec.id, this.attrs(rec))
  }

  private attrs(rec: ContainerRecord, extra: Record<string, string> = {}): Record<string, string> {
    return { ...rec.effective.labels, image: rec.spec.image, name: rec.name, ...extra }
  }

  async start(ref: string): Promise<void> {
    const rec = this.o.store.resolve(ref)
    const s = rec.state.status
    if (s === 'paused') throw conflict('cannot start a paused container, try unpause instead')
    if (s === 'running' || s === 'restarting') throw notModified('container already started')
    if (s === 'removing' || s === 'dead') throw conflict(`container is marked for removal and cannot be started`)
    this.resetRestartManager(rec)
    await this.startRecord(rec)
  }

  /** A start by the user (or at daemon start) begins a fresh restart manager: count, back-off and cancellation cleared. */
  private resetRestartManager(rec: ContainerRecord): void {
    const live = this.liveOf(rec.id)
    live.backoffMs = 0
    live.restartCanceled = false
    rec.state = { ...rec.state, restartCount: 0, stoppedByUser: false }
  }

  private nsSpec(mode: NamespaceMode): NsSpec {
    if (mode.kind === 'host') return 'host'
    if (mode.kind === 'container') {
      const other = this.o.store.get(mode.ref)
      if (!other) throw notFound(`No such container: ${mode.ref}`)
      if (other.state.status !== 'running' || other.state.pid <= 0) throw conflict(`cannot join namespace of a non running container: container ${mode.ref} is not running`)
      return { path: `/proc/${other.state.pid}/ns` }
    }
    return 'private'
  }

  specInput(rec: ContainerRecord, rootfs: string): SpecInput {
    const h = rec.spec.host
    const ns = (mode: NamespaceMode, kind: string): NsSpec => {
      const s = this.nsSpec(mode)
      return typeof s === 'object' ? { path: `${s.path}/${kind}` } : s
    }
    const sandbox = this.live.get(rec.id)?.sandbox
    const net: NsSpec = h.network.kind === 'host' ? 'host' : h.network.kind === 'container' ? ns({ kind: 'container', ref: h.network.ref }, 'net') : sandbox ? { path: sandbox.netnsPath } : 'private'
    // The user's mounts first, then the files berth writes on top of them (a
    // volume on /etc must not hide /etc/hosts); a user's own mount of one of
    // those files wins, as in docker.
    const mounts: SpecInput['mounts'] = [...(this.live.get(rec.id)?.mounts ?? [])]
    for (const [dest, opts] of Object.entries(h.tmpfs)) {
      mounts.push({ source: 'tmpfs', destination: dest, type: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', ...opts.split(',').filter(Boolean)] })
    }
    const taken = new Set(mounts.map((m) => m.destination))
    for (const [source, destination] of [[rec.paths.resolvConf, '/etc/resolv.conf'], [rec.paths.hostname, '/etc/hostname'], [rec.paths.hosts, '/etc/hosts']] as const) {
      // Read-only with the rootfs, as docker's NetworkMounts.
      if (!taken.has(destination)) mounts.push({ source, destination, type: 'bind', options: ['rbind', 'rprivate', ...(rec.spec.host.readonlyRootfs ? ['ro'] : [])] })
    }
    return {
      id: rec.id,
      rootfs,
      readonlyRootfs: h.readonlyRootfs,
      args: [rec.path, ...rec.args],
      env: rec.effective.env,
      cwd: rec.effective.workingDir,
      user: rec.effective.user,
      groupAdd: h.groupAdd,
      hostname: rec.spec.hostname,
      tty: rec.spec.tty,
      namespaces: { pid: ns(h.pid, 'pid'), ipc: ns(h.ipc, 'ipc'), uts: ns(h.uts, 'uts'), net },
      mounts,
      capAdd: h.capAdd,
      capDrop: h.capDrop,
      privileged: h.privileged,
      init: h.init,
      shmSize: h.shmSize,
      oomScoreAdj: h.oomScoreAdj,
      sysctls: h.sysctls,
      securityOpt: h.securityOpt,
      ...(h.maskedPaths ? { maskedPaths: h.maskedPaths } : {}),
      ...(h.readonlyPaths ? { readonlyPaths: h.readonlyPaths } : {}),
      ownNetns: h.network.kind !== 'host' && h.network.kind !== 'container',
      resources: h.resources,
      ...(h.cgroupParent ? { cgroupParent: h.cgroupParent } : {}),
      ...(h.usernsMode ? { usernsMode: h.usernsMode } : {}),
      ...(rec.spec.domainname ? { domainname: rec.spec.domainname } : {}),
      ...(h.annotations ? { annotations: h.annotations } : {}),
      ...(h.deviceRequests?.length ? { deviceRequests: h.deviceRequests } : {}),
    }
  }

  /**
   * The container's files for cp and export, in any state. The rootfs mount is
   * the one the runtime uses, counted as moby counts RWLayer mounts: a start
   * reuses it, and an exit or removal leaves unmounting to the last reader.
   * Volumes are acquired (a volume with driver options is mounted) until release.
   */
  async holdFs(ref: string): Promise<FsHold> {
    const rec = this.o.store.resolve(ref)
    if (rec.state.status === 'removing' || rec.state.status === 'dead') throw conflict(`container ${rec.id} is marked for removal`)
    await this.live.get(rec.id)?.teardown
    let r = this.fsReaders.get(rec.id)
    if (!r) {
      let done = () => {}
      const idle = new Promise<void>((res) => (done = res))
      r = { count: 0, idle, done }
      this.fsReaders.set(rec.id, r)
    }
    r.count++
    const acquired: string[] = []
    const rootfs = this.rootfsPath(rec)
    const release = async () => {
      for (const name of acquired) await this.o.volumes.release(name).catch((err: unknown) => this.log.warn('releasing a volume after a copy', { id: rec.id, volume: name, err }))
      const cur = this.fsReaders.get(rec.id)
      if (!cur || --cur.count > 0) return
      this.fsReaders.delete(rec.id)
      const st = this.o.store.get(rec.id)?.state.status
      if (st !== 'running' && st !== 'paused' && st !== 'restarting') await this.o.mounts.unmount(rootfs).catch((err: unknown) => this.log.warn('unmount after a copy failed', { id: rec.id, err }))
      cur.done()
    }
    try {
      await this.o.mounts.mount(await this.o.images.rootfsFor(rec.id, rec.imageId), rootfs)
      const mounts: FsMount[] = []
      const depth = (p: string) => p.split('/').filter(Boolean).length
      for (const m of [...rec.spec.host.mounts].sort((a, b) => depth(a.target) - depth(b.target))) {
        if (m.type === 'tmpfs') continue
        let source = m.source
        if (m.type === 'volume') {
          source = await this.o.volumes.acquire(m.source)
          acquired.push(m.source)
        }
        mounts.push({ source, destination: m.target, readonly: m.readonly })
      }
      const taken = new Set(mounts.map((m) => m.destination))
      for (const [source, destination] of [[rec.paths.resolvConf, '/etc/resolv.conf'], [rec.paths.hostname, '/etc/hostname'], [rec.paths.hosts, '/etc/hosts']] as const) {
        if (!taken.has(destination)) mounts.push({ source, destination, readonly: rec.spec.host.readonlyRootfs })
      }
      return { rec, rootfs, mounts, release }
    } catch (err) {
      await release()
      throw err
    }
  }

  /** Resolves once no reader holds the container's rootfs. */
  private fsIdle(id: string): Promise<void> {
    return this.fsReaders.get(id)?.idle ?? Promise.resolve()
  }

  private unmountRootfs(rec: ContainerRecord): Promise<void> {
    // A reader's hold keeps the mount; its release unmounts.
    if (this.fsReaders.has(rec.id)) return Promise.resolve()
    return this.o.mounts.unmount(this.rootfsPath(rec))
  }

  rootfsPath(rec: ContainerRecord): string {
    return this.o.images.rootfsMountpoint(rec.id)
  }

  private async startRecord(rec: ContainerRecord): Promise<void> {
    const live = this.liveOf(rec.id)
    let started = () => {}
    live.started = new Promise<void>((r) => (started = r))
    try {
      await this.startRun(rec, live)
    } finally {
      started()
    }
  }

  private async startRun(rec: ContainerRecord, live: Live): Promise<void> {
    await live.teardown
    const rootfs = this.rootfsPath(rec)
    let mounted = false
    let networking = false
    let specifying = false
    try {
      const mounts = await this.o.images.rootfsFor(rec.id, rec.imageId)
      await this.o.mounts.mount(mounts, rootfs)
      mounted = true
      live.mounts = await this.runtimeMounts(rec, rootfs)
      // A namespace berth made would belong to the host's user namespace, which the container's root cannot
      // use (runc's exec joins the user namespace first, sysfs and net sysctls are refused): the runtime makes it.
      const late = rec.spec.host.network.kind === 'network' && (this.o.netnsByRuntime?.(rec) ?? false)
      if (late) live.sandbox = undefined
      if (rec.spec.host.network.kind === 'network' && !late) {
        networking = true
        live.sandbox = await this.o.network.attach(rec)
        networking = false
        await this.writeEtcFiles(rec, live.sandbox)
      }
      specifying = true
      const spec = await this.o.specs.container(this.specInput(rec, rootfs))
      specifying = false
      // Create the log file ourselves so it belongs to the container dir even before the first line.
      await (await fsp.open(rec.paths.log, 'a')).close()
      live.exited = new Promise<void>((r) => (live.markExited = r))
      const logMaxSize = this.o.logs?.conmonLogMax(rec)
      const [h, w] = rec.spec.host.consoleSize
      const { pid } = await this.o.runtime.create({
        id: rec.id,
        bundleDir: rec.paths.dir,
        spec,
        runtime: rec.spec.host.runtime,
        tty: rec.spec.tty,
        openStdin: rec.spec.openStdin,
        stdinOnce: rec.spec.stdinOnce,
        logPath: rec.paths.log,
        ...(logMaxSize ? { logMaxSize } : {}),
        ...(h && w ? { consoleSize: { height: h, width: w } } : {}),
      })
      if (late) {
        networking = true
        live.sandbox = await this.o.network.attach(rec, { netns: `/proc/${pid}/ns/net` })
        networking = false
        // The /etc files are bound by inode: rewritten in place, the created container sees the new addresses.
        await this.writeEtcFiles(rec, live.sandbox)
      }
      // Attach clients that came before start get every byte: connect them now, before the process runs.
      const pending = live.pendingAttach.splice(0)
      await Promise.all(pending.map((p) => p.connect().catch((err: unknown) => this.log.warn('attach failed', { id: rec.id, err }))))
      rec.state = { ...rec.state, status: 'running', pid, exitCode: 0, error: '', oomKilled: false, startedAt: new Date().toISOString(), finishedAt: NULL_TIME, stoppedByUser: false }
      this.o.store.save(rec)
      this.o.logs?.start(rec)
      await this.o.runtime.start(rec.id)
    } catch (err) {
      const msg = messageOf(err)
      await this.o.runtime.delete(rec.id, { force: true }).catch(() => {})
      if (mounted) await this.unmountRootfs(rec).catch(() => {})
      if (live.sandbox) {
        live.sandbox = undefined
        await this.o.network.detach(rec.id).catch((e: unknown) => this.log.warn('network teardown after failed start', { id: rec.id, err: e }))
      }
      const code = /executable file not found|no such file or directory/.test(msg) ? 127 : /permission denied/.test(msg) ? 126 : 128
      rec.state = { ...rec.state, status: rec.state.startedAt === NULL_TIME ? 'created' : 'exited', pid: 0, exitCode: code, error: msg, finishedAt: new Date().toISOString() }
      this.o.store.save(rec)
      live.markExited?.()
      // Network errors reach the user as docker words them, without the task prefix; so do
      // errors building the spec (-u nosuchuser), which moby's start answers as a system error.
      const kind = networking && err instanceof EngineError ? err.kind : specifying ? 'internal' : code === 127 || code === 126 ? 'invalid-argument' : 'internal'
      const message = networking || specifying ? msg : `failed to create task for container: ${msg}`
      // Clients attached before start would wait forever: end their streams.
      for (const p of live.pendingAttach.splice(0)) p.fail(message)
      if (rec.spec.host.autoRemove) await this.removeRecord(rec).catch((e: unknown) => this.log.warn('auto-remove after failed start', { id: rec.id, err: e }))
      throw new EngineError(kind, message, { cause: err })
    }
    this.o.events.publish('container', 'start', rec.id, this.attrs(rec))
    this.health.init(rec)
  }

  private async handleExit(id: string, info: ExitInfo): Promise<void> {
    const rec = this.o.store.get(id)
    if (!rec) return
    if (rec.state.status !== 'running' && rec.state.status !== 'paused' && rec.state.status !== 'restarting') return
    const live = this.liveOf(id)
    this.health.stop(rec)
    // An OOM the container lived through was announced then (handleOom); it still counts at the exit, as docker's.
    const announced = rec.state.oomKilled
    const oomKilled = announced || (info.oomKilled ?? false)
    // moby's restart manager decides at the exit, before `die`: the count goes up and the state is restarting.
    const ranMs = info.exitedAt.getTime() - Date.parse(rec.state.startedAt)
    live.backoffMs = nextBackoff(live.backoffMs ?? 0, ranMs)
    const restart =
      !live.stopping &&
      !live.restartCanceled &&
      !rec.spec.host.autoRemove &&
      policyRestarts(rec.spec.host.restartPolicy, { exitCode: info.exitCode, restartCount: rec.state.restartCount, manuallyStopped: rec.state.stoppedByUser })
    rec.state = {
      ...rec.state,
      status: restart ? 'restarting' : 'exited',
      pid: 0,
      exitCode: info.exitCode,
      oomKilled,
      finishedAt: info.exitedAt.toISOString(),
      restartCount: rec.state.restartCount + (restart ? 1 : 0),
    }
    try {
      this.o.store.save(rec)
    } catch (err) {
      // A full disk (SQLITE_FULL) must not leave the container running forever: the record
      // is changed in memory, so waiters, ps and rm see the exit; it reaches berth.db with the
      // container's next write, and a restart before that reads the exit from conmon's exit file.
      this.log.error('recording the exit failed', { id, err })
    }
    // The runtime's record and the mount go in the background; the network goes
    // before waiters hear of the exit, as docker's: when `stop` returns, the
    // container's ports and addresses are free for the next one.
    const network = this.o.network.detach(id).catch((err: unknown) => this.log.warn('network teardown after exit failed', { id, err }))
    live.teardown = Promise.all([
      this.o.runtime.delete(id, { force: true }).catch((err: unknown) => this.log.debug('runtime delete after exit', { id, err })),
      this.unmountRootfs(rec).catch((err: unknown) => this.log.warn('unmount after exit failed', { id, err })),
      this.releaseVolumes(rec),
      network,
    ]).then(() => {})
    live.sandbox = undefined
    // Not part of the teardown: a driver waiting on a dead receiver must not hold up a start or a removal.
    this.o.logs?.finish(id).catch((err: unknown) => this.log.warn('shipping the last logs failed', { id, err }))
    this.exec.containerExited(id)
    // A process that ends at once can exit before its start has been announced.
    await live.started
    // moby publishes `oom` from the runtime's OOM event, which comes before the exit.
    if (oomKilled && !announced) this.o.events.publish('container', 'oom', id, this.attrs(rec))
    const execDuration = String(Math.max(0, Math.floor(ranMs / 1000)))
    this.o.events.publish('container', 'die', id, this.attrs(rec, { execDuration, exitCode: String(info.exitCode) }))
    await network
    live.markExited?.()
    this.settleWaiters(id, ['not-running', 'next-exit'], { statusCode: info.exitCode })

    if (rec.spec.host.autoRemove) {
      await this.removeRecord(rec, { background: true }).catch((err: unknown) => this.log.error('auto-remove failed', { id, err }))
      return
    }
    if (restart) this.scheduleRestart(rec, live.backoffMs)
  }

  /** moby's EventOOM: the flag and the `oom` event come when the kernel kills, whether or not the container lives on. */
  private handleOom(id: string): void {
    const rec = this.o.store.get(id)
    if (!rec || (rec.state.status !== 'running' && rec.state.status !== 'paused') || rec.state.oomKilled) return
    rec.state = { ...rec.state, oomKilled: true }
    this.o.store.save(rec)
    this.o.events.publish('container', 'oom', id, this.attrs(rec))
  }

  /** The restart manager's timer; the start it makes announces itself with `start` only, as docker's. */
  private scheduleRestart(rec: ContainerRecord, delay: number): void {
    const live = this.liveOf(rec.id)
    live.restartTimer = setTimeout(() => {
      live.restartTimer = undefined
      const cur = this.o.store.get(rec.id)
      if (!cur || cur.state.status !== 'restarting') return
      void this.startRecord(cur).catch((err: unknown) => this.log.warn('restart failed', { id: cur.id, err }))
    }, delay)
    live.restartTimer.unref()
  }

  private settleWaiters(id: string, conditions: WaitCondition[], r: { statusCode: number; error?: string }): void {
    const live = this.live.get(id)
    if (!live) return
    live.waiters = live.waiters.filter((w) => {
      if (!conditions.includes(w.condition)) return true
      w.resolve(r)
      return false
    })
  }

  /**
   * Resolves with the exit status when the condition is met; registered
   * synchronously. An aborted wait (the client went away) is dropped.
   */
  wait(ref: string, condition: WaitCondition, signal?: AbortSignal): Promise<{ statusCode: number; error?: string }> {
    const rec = this.o.store.resolve(ref)
    const st = rec.state.status
    const running = st === 'running' || st === 'paused' || st === 'restarting'
    if (condition === 'not-running' && !running) return Promise.resolve({ statusCode: rec.state.exitCode })
    const live = this.liveOf(rec.id)
    return new Promise((resolve) => {
      const w: Waiter = { condition, resolve }
      live.waiters.push(w)
      signal?.addEventListener('abort', () => {
        live.waiters = live.waiters.filter((x) => x !== w)
      })
    })
  }

  async stop(ref: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
    const rec = this.o.store.resolve(ref)
    const live = this.liveOf(rec.id)
    live.restartCanceled = true
    if (live.restartTimer) {
      clearTimeout(live.restartTimer)
      live.restartTimer = undefined
      rec.state = { ...rec.state, status: 'exited', stoppedByUser: true }
      this.o.store.save(rec)
      this.o.events.publish('container', 'stop', rec.id, this.attrs(rec))
      return
    }
    if (rec.state.status !== 'running' && rec.state.status !== 'paused') throw notModified('container already stopped')
    rec.state = { ...rec.state, stoppedByUser: true }
    this.o.store.save(rec)
    const signal = opts.signal || rec.effective.stopSignal || 'SIGTERM'
    const timeout = opts.timeout ?? rec.spec.stopTimeout ?? 10
    live.stopping = true
    try {
      const exited = live.exited ?? Promise.resolve()
      // moby 28's containerStop sends the stop signal even with a zero timeout; a paused container gets it once thawed.
      this.o.events.publish('container', 'kill', rec.id, this.attrs(rec, { signal: String(signalNumber(signal)) }))
      await this.o.runtime.kill(rec.id, signal).catch((err: unknown) => this.log.debug('stop signal', { err }))
      if (rec.state.status === 'paused') await this.o.runtime.resume?.(rec.id).catch(() => {})
      const inTime = timeout < 0 ? await exited.then(() => true) : await raceTimeout(exited, timeout * 1000)
      if (!inTime) {
        this.o.events.publish('container', 'kill', rec.id, this.attrs(rec, { signal: '9' }))
        await this.o.runtime.kill(rec.id, 'SIGKILL').catch(() => {})
        if (!(await raceTimeout(exited, 10_000))) throw new EngineError('internal', `container ${rec.id} did not exit after SIGKILL`)
      }
    } finally {
      live.stopping = false
    }
    this.o.events.publish('container', 'stop', rec.id, this.attrs(rec))
  }

  async kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    const rec = this.o.store.resolve(ref)
    const num = signalNumber(signal)
    const live = this.liveOf(rec.id)
    if (rec.state.status === 'restarting') {
      // docker: a restarting container has no process; the kill just ends the restarts.
      if (live.restartTimer) clearTimeout(live.restartTimer)
      live.restartTimer = undefined
      live.restartCanceled = true
      rec.state = { ...rec.state, status: 'exited', stoppedByUser: true }
      this.o.store.save(rec)
      return
    }
    if (rec.state.status !== 'running' && rec.state.status !== 'paused') throw conflict(`cannot kill container: ${ref}: container ${rec.id} is not running`)
    // moby's killWithSignal: every kill counts as a manual stop; SIGKILL or the stop signal
    // (any signal when none was configured) also cancels the restart manager.
    const configured = rec.spec.stopSignal || (rec.effective.stopSignal === 'SIGTERM' ? '' : rec.effective.stopSignal)
    if (num === 9 || !configured || num === signalNumber(configured)) live.restartCanceled = true
    rec.state = { ...rec.state, stoppedByUser: true }
    this.o.store.save(rec)
    this.o.events.publish('container', 'kill', rec.id, this.attrs(rec, { signal: String(num) }))
    await this.o.runtime.kill(rec.id, signal)
  }

  async restart(ref: string, opts: { signal?: string; timeout?: number } = {}): Promise<void> {
    const rec = this.o.store.resolve(ref)
    if (rec.state.status === 'running' || rec.state.status === 'paused') await this.stop(rec.id, opts)
    else if (rec.state.status === 'restarting') await this.stop(rec.id, opts)
    const cur = this.o.store.resolve(rec.id)
    this.resetRestartManager(cur)
    await this.startRecord(cur)
    this.o.events.publish('container', 'restart', cur.id, this.attrs(cur))
  }

  async pause(ref: string): Promise<void> {
    const rec = this.o.store.resolve(ref)
    if (rec.state.status !== 'running') throw conflict(`container ${rec.id} is not running`)
    if (!this.o.runtime.pause) throw new EngineError('not-implemented', 'pause is not supported by this runtime')
    await this.o.runtime.pause(rec.id)
    rec.state = { ...rec.state, status: 'paused' }
    this.health.stop(rec)
    this.o.store.save(rec)
    this.o.events.publish('container', 'pause', rec.id, this.attrs(rec))
  }

  async unpause(ref: string): Promise<void> {
    const rec = this.o.store.resolve(ref)
    if (rec.state.status !== 'paused') throw conflict(`container ${rec.id} is not paused`)
    await this.o.runtime.resume?.(rec.id)
    rec.state = { ...rec.state, status: 'running' }
    this.o.store.save(rec)
    this.health.resume(rec)
    this.o.events.publish('container', 'unpause', rec.id, this.attrs(rec))
  }

  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const rec = this.o.store.resolve(ref)
    const st = rec.state.status
    if (st === 'running' || st === 'paused' || st === 'restarting') {
      if (!opts.force) {
        throw conflict(`cannot remove container "/${rec.name}": container is ${st}: stop the container before removing or force remove`)
      }
      const live = this.liveOf(rec.id)
      if (live.restartTimer) clearTimeout(live.restartTimer)
      rec.state = { ...rec.state, stoppedByUser: true }
      if (st === 'running' || st === 'paused') {
        live.stopping = true
        await this.o.runtime.kill(rec.id, 'SIGKILL').catch(() => {})
        await raceTimeout(live.exited ?? Promise.resolve(), 10_000)
        live.stopping = false
      }
      // The exit handler may have auto-removed it already.
      if (!this.o.store.get(rec.id)) return
    }
    if (rec.state.status === 'removing') throw conflict(`removal of container ${rec.id} is already in progress`)
    await this.removeRecord(rec, { volumes: opts.volumes === true })
  }

  /**
   * Forget a container that is not running: the record goes first (its name is
   * free and `wait removed` answers at once), then its files. What a crash
   * leaves behind is collected on the next start (restore). Only a removal cut
   * short by a crash needs the runtime asked again.
   */
  private async removeRecord(rec: ContainerRecord, opts: { runtime?: boolean; background?: boolean; volumes?: boolean } = {}): Promise<void> {
    const before = rec.state
    rec.state = { ...rec.state, status: 'removing' }
    const teardown = this.live.get(rec.id)?.teardown
    try {
      this.o.store.remove(rec.id)
    } catch (err) {
      rec.state = before
      if (!diskFull(err)) throw err
      // Deleting a row needs room in SQLite's journal. On a full disk the container's own
      // files (often what filled it) go first, then the row; if that still fails, a later rm
      // finds the record without its rootfs and finishes.
      await teardown
      await this.fsIdle(rec.id)
      await this.o.mounts.unmount(this.rootfsPath(rec)).catch(() => {})
      await this.o.images.releaseRootfs(rec.id)
      await fsp.rm(rec.paths.dir, { recursive: true, force: true })
      rec.state = { ...rec.state, status: 'removing' }
      try {
        this.o.store.remove(rec.id)
      } catch (again) {
        rec.state = before
        throw again
      }
    }
    this.exec.containerRemoved(rec.id)
    this.o.events.publish('container', 'destroy', rec.id, this.attrs(rec))
    this.settleWaiters(rec.id, ['removed', 'not-running', 'next-exit'], { statusCode: rec.state.exitCode })
    this.live.delete(rec.id)
    const cleanup = (async () => {
      await teardown
      if (opts.runtime) await this.o.runtime.delete(rec.id, { force: true }).catch(() => {})
      await this.o.network.detach(rec.id).catch((err: unknown) => this.log.warn('network teardown at removal failed', { id: rec.id, err }))
      // A copy still reading the container finishes first (docker's cp holds the container's lock).
      await this.fsIdle(rec.id)
      await this.o.mounts.unmount(this.rootfsPath(rec)).catch(() => {})
      await this.o.images.releaseRootfs(rec.id)
      await this.o.logs?.forget(rec.id).catch((err: unknown) => this.log.warn('forgetting logs at removal failed', { id: rec.id, err }))
      await fsp.rm(rec.paths.dir, { recursive: true, force: true })
      // `rm -v` and `--rm` take the container's anonymous volumes with it; named ones stay.
      if (opts.volumes || rec.spec.host.autoRemove) {
        for (const m of rec.spec.host.mounts) {
          if (m.type === 'volume' && m.anonymous) await this.o.volumes.remove(m.source).catch((err: unknown) => this.log.warn('removing an anonymous volume', { id: rec.id, volume: m.source, err }))
        }
      }
    })()
    if (opts.background) cleanup.catch((err: unknown) => this.log.warn('cleanup after removal failed', { id: rec.id, err }))
    else await cleanup
  }

  /** `network connect`: a running container joins now; a stopped one on its next start. */
  async connectNetwork(ref: string, network: string, config: EndpointConfig): Promise<void> {
    const rec = this.o.store.resolve(ref)
    const st = rec.state.status
    if (st === 'removing' || st === 'dead') throw conflict(`Container ${rec.id} is marked for removal and cannot be connected or disconnected to the network`)
    const mode = rec.spec.host.network.kind
    if (mode === 'host' || mode === 'container') throw forbidden('container sharing network namespace with another container or host cannot be connected to any other network')
    if (mode === 'none') throw forbidden('container cannot be connected to multiple networks with one of the networks in private (none) mode')
    const [name = network] = this.o.network.validate([{ name: network, config }])
    if (name === 'none' || name === 'host') throw forbidden('container cannot be disconnected from host network or connected to host network')
    const running = st === 'running' || st === 'paused'
    if (rec.spec.networks[name]) {
      throw forbidden(running ? `endpoint with name ${rec.name} already exists in network ${name}` : `${rec.name} is already attached to network ${name}`)
    }
    if (running) {
      const sandbox = await this.o.network.connect(rec, name, config)
      // As docker's: joining a user network switches the container to the embedded DNS.
      this.liveOf(rec.id).sandbox = sandbox
      await this.writeEtcFiles(rec, sandbox).catch((err: unknown) => this.log.warn('rewriting /etc files after connect', { id: rec.id, err }))
    }
    rec.spec.networks = { ...rec.spec.networks, [name]: config }
    this.o.store.save(rec)
  }

  async disconnectNetwork(ref: string, network: string, force: boolean): Promise<void> {
    const rec = this.o.store.resolve(ref)
    const st = rec.state.status
    if (st === 'removing' || st === 'dead') throw conflict(`Container ${rec.id} is marked for removal and cannot be connected or disconnected to the network`)
    if (rec.spec.host.network.kind === 'host' && network === 'host') throw forbidden('container cannot be disconnected from host network or connected to host network')
    let name = network
    try {
      name = this.o.network.validate([{ name: network, config: { aliases: [], links: [], ipv4: '', ipv6: '', mac: '', driverOpts: {}, gwPriority: 0 } }])[0] ?? network
    } catch (err) {
      if (!force || !isKind(err, 'not-found')) throw err
    }
    if (!rec.spec.networks[name]) throw forbidden(`container ${rec.id} is not connected to the network ${name}`)
    if (st === 'running' || st === 'paused') await this.o.network.disconnect(rec, name)
    const rest = { ...rec.spec.networks }
    delete rest[name]
    rec.spec.networks = rest
    this.o.store.save(rec)
  }

  private async releaseVolumes(rec: ContainerRecord): Promise<void> {
    // Published before the first await: like docker's Cleanup, before the container's `die`.
    for (const m of rec.spec.host.mounts) {
      if (m.type === 'volume') this.o.events.publish('volume', 'unmount', m.source, { container: rec.id, driver: m.volumeOptions?.driver || 'local' })
    }
    for (const m of rec.spec.host.mounts) {
      if (m.type === 'volume') await this.o.volumes.release(m.source).catch((err: unknown) => this.log.warn('releasing a volume', { id: rec.id, volume: m.source, err }))
    }
  }

  async rename(ref: string, newName: string): Promise<void> {
    const rec = this.o.store.resolve(ref)
    const name = newName.replace(/^\//, '')
    if (name === '') throw invalidArgument('Neither old nor new names may be empty')
    if (!VALID_NAME.test(name)) throw invalidArgument(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`)
    if (name === rec.name) throw invalidArgument('Renaming a container with the same name as its current name')
    const holder = this.nameHolder(name)
    if (holder) throw conflict(`Error when allocating new name: Conflict. The container name "/${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`)
    const old = rec.name
    rec.name = name
    this.o.store.save(rec)
    this.o.network.renamed(rec, old)
    this.o.events.publish('container', 'rename', rec.id, this.attrs(rec, { oldName: `/${old}` }))
  }

  async resize(ref: string, size: { height: number; width: number }): Promise<void> {
    const rec = this.o.store.resolve(ref)
    if (rec.state.status !== 'running') throw conflict(`cannot resize container ${rec.id}: container is not running`)
    if (!rec.spec.tty) return
    await this.o.runtime.resize(rec.id, size)
  }

  async top(ref: string): Promise<number[]> {
    const rec = this.o.store.resolve(ref)
    if (rec.state.status !== 'running' && rec.state.status !== 'paused') throw conflict(`container ${rec.id} is not running`)
    return this.o.runtime.pids(rec.id)
  }

  async sizeRw(rec: ContainerRecord): Promise<number> {
    return this.o.images.rootfsUsage(rec.id).catch(() => 0)
  }

  /**
   * Attach a hijacked client. A created container's clients wait for start and
   * are connected before its process runs; a stopped one cannot be attached.
   */
  async attach(ref: string, socket: Duplex, early: Buffer, opts: Omit<AttachOptions, 'tty' | 'stdinOnce'> & { logs: boolean; stream: boolean }): Promise<void> {
    const rec = this.o.store.resolve(ref)
    const full: AttachOptions = { ...opts, tty: rec.spec.tty, stdin: opts.stdin && rec.spec.openStdin, stdinOnce: rec.spec.stdinOnce }
    const write = (entry: LogEntry) => full.write(entry.stream, entry.line)
    if (opts.logs) {
      for await (const e of readLogs(rec.paths.log, {})) write(e)
    }
    if (!opts.stream) {
      socket.end()
      return
    }
    const connect = async () => {
      if (socket.destroyed) return
      const stream = await this.o.runtime.attach(rec.id, { stdin: full.stdin })
      attachClient(stream, socket, early, full, () => this.o.events.publish('container', 'detach', rec.id, this.attrs(rec)))
    }
    const st = rec.state.status
    this.o.events.publish('container', 'attach', rec.id, this.attrs(rec))
    if (st === 'running' || st === 'paused') {
      await connect()
      return
    }
    // A stopped container's streams connect at its next start (`start -a` attaches first), as docker's.
    if (st === 'created' || st === 'restarting' || st === 'exited') {
      const live = this.liveOf(rec.id)
      const entry = { connect, fail: () => socket.end() }
      live.pendingAttach.push(entry)
      socket.on('close', () => {
        const i = live.pendingAttach.indexOf(entry)
        if (i >= 0) live.pendingAttach.splice(i, 1)
      })
      return
    }
    throw conflict('You cannot attach to a stopped container, start it first')
  }

  /** The container's log entries (k8s-file, written by its monitor). */
  logs(ref: string, opts: { sinceNano?: bigint; untilNano?: bigint; tail?: number; follow?: boolean; signal?: AbortSignal }): { rec: ContainerRecord; entries: AsyncGenerator<LogEntry> } {
    const rec = this.o.store.resolve(ref)
    const running = rec.state.status === 'running' || rec.state.status === 'paused' || rec.state.status === 'restarting'
    const live = this.liveOf(rec.id)
    const done = running && opts.follow ? (live.exited ?? this.wait(rec.id, 'not-running').then(() => {})) : Promise.resolve()
    const o = { ...opts, follow: opts.follow === true && running, done }
    return { rec, entries: this.o.logs?.read(rec, o) ?? readLogs(rec.paths.log, o) }
  }

  /**
   * After a daemon restart: adopt containers their monitors kept running, record
   * exits that happened meanwhile, and apply restart policies.
   */
  async restore(): Promise<void> {
    const alive = new Map((await this.o.runtime.restore()).map((r) => [r.id, r]))
    for (const rec of this.o.store.all()) {
      const r = alive.get(rec.id)
      const wasRunning = rec.state.status === 'running' || rec.state.status === 'paused' || rec.state.status === 'restarting'
      if (rec.state.status === 'removing') {
        await this.removeRecord(rec, { runtime: true }).catch((err: unknown) => this.log.warn('finishing removal failed', { id: rec.id, err }))
        continue
      }
      if (r && (r.status === 'running' || r.status === 'paused') && !r.exit) {
        const live = this.liveOf(rec.id)
        live.exited = new Promise<void>((res) => (live.markExited = res))
        rec.state = { ...rec.state, status: r.status === 'paused' ? 'paused' : 'running', pid: r.pid }
        this.o.store.save(rec)
        this.o.logs?.start(rec)
        if (rec.state.status === 'running') this.health.init(rec)
        continue
      }
      // What a container wrote while berthd was down, up to its exit, is shipped now (handleExit finishes it).
      this.o.logs?.start(rec)
      if (rec.state.status === 'restarting') {
        // Its exit was handled before berthd went away; the policy is applied below, as at any daemon start.
        rec.state = { ...rec.state, status: 'exited' }
        this.o.store.save(rec)
        if (r) await this.o.runtime.delete(rec.id, { force: true }).catch(() => {})
      } else if (wasRunning) {
        const exit = r?.exit ?? { exitCode: 255, exitedAt: new Date() }
        await this.handleExit(rec.id, exit)
        continue
      } else if (r) {
        // A start the crash cut short: the runtime made the container (its init waits, holding the
        // cgroup and the network namespace with its veths) but it never ran. As a failed start: gone.
        await this.o.runtime.delete(rec.id, { force: true }).catch((err: unknown) => this.log.warn('deleting a container whose start was interrupted', { id: rec.id, err }))
      }
      // A stopped container's rootfs is mounted only while a copy reads it: a crash may have left it.
      await this.o.mounts.unmount(this.rootfsPath(rec)).catch((err: unknown) => this.log.warn('unmounting a stopped container\'s rootfs', { id: rec.id, err }))
      this.o.logs?.finish(rec.id).catch((err: unknown) => this.log.warn('shipping the last logs failed', { id: rec.id, err }))
    }
    await this.collectOrphans([...alive.keys()])
    // moby's restore: a container started before whose policy wants it (always even after a stop,
    // unless-stopped unless stopped by the user, on-failure after a failure within its count) starts afresh.
    for (const rec of this.o.store.all()) {
      if (rec.state.status !== 'exited' || rec.state.startedAt === NULL_TIME) continue
      const wants = policyRestarts(rec.spec.host.restartPolicy, { exitCode: rec.state.exitCode, restartCount: rec.state.restartCount, manuallyStopped: rec.state.stoppedByUser })
      if (!wants) continue
      this.resetRestartManager(rec)
      await this.startRecord(rec).catch((err: unknown) => this.log.warn('restart on boot failed', { id: rec.id, err }))
    }
  }

  /**
   * What a crash between a removal's record and its files left behind: runtime
   * state, rootfs snapshots and container directories without a record.
   */
  private async collectOrphans(runtimeIds: string[]): Promise<void> {
    const known = (id: string) => this.o.store.get(id) !== undefined
    const dir = path.join(this.o.dataRoot, 'containers')
    const dirs = await fsp.readdir(dir).catch(() => [] as string[])
    const orphans = new Set([...runtimeIds, ...this.o.images.rootfsOwners(), ...dirs.filter((d) => /^[0-9a-f]{64}$/.test(d))].filter((id) => !known(id)))
    for (const id of orphans) {
      this.log.info('collecting what a removed container left', { id })
      if (runtimeIds.includes(id)) await this.o.runtime.delete(id, { force: true }).catch(() => {})
      await this.o.mounts.unmount(this.o.images.rootfsMountpoint(id)).catch(() => {})
      await this.o.images.releaseRootfs(id).catch((err: unknown) => this.log.warn('releasing an orphan rootfs failed', { id, err }))
      await fsp.rm(path.join(dir, id), { recursive: true, force: true })
    }
  }

  /** Containers that stopped: for `container prune`. */
  private readonly pruning = exclusive(() => conflict('a prune operation is already running'))

  prune(keep: (rec: ContainerRecord) => boolean): Promise<{ deleted: string[]; reclaimed: number }> {
    return this.pruning(() => this.pruneNow(keep))
  }

  private async pruneNow(keep: (rec: ContainerRecord) => boolean): Promise<{ deleted: string[]; reclaimed: number }> {
    const deleted: string[] = []
    let reclaimed = 0
    for (const rec of this.o.store.all()) {
      if (rec.state.status !== 'exited' && rec.state.status !== 'created' && rec.state.status !== 'dead') continue
      if (!keep(rec)) continue
      const size = await this.sizeRw(rec)
      try {
        await this.removeRecord(rec)
        deleted.push(rec.id)
        reclaimed += size
      } catch (err) {
        if (!isKind(err, 'not-found')) this.log.warn('prune: remove failed', { id: rec.id, err })
      }
    }
    return { deleted, reclaimed }
  }

  /** Stop timers; containers keep running under their monitors (live restore). */
  shutdown(): void {
    this.health.shutdown()
    for (const l of this.live.values()) if (l.restartTimer) clearTimeout(l.restartTimer)
  }
}

function healthOfImage(h: ImageInfo['config']['Healthcheck']): HealthConfig | undefined {
  if (!h) return undefined
  return { test: h.Test ?? [], interval: h.Interval ?? 0, timeout: h.Timeout ?? 0, startPeriod: h.StartPeriod ?? 0, startInterval: h.StartInterval ?? 0, retries: h.Retries ?? 0 }
}

function raceTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms)
    p.then(
      () => {
        clearTimeout(t)
        resolve(true)
      },
      () => {
        clearTimeout(t)
        resolve(true)
      },
    )
  })
}

/** The disk under the data root is full: ENOSPC from the file system, SQLITE_FULL from berth.db. */
function diskFull(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code
    if (code === 'ENOSPC' || code === 'SQLITE_FULL') return true
  }
  return false
}

/**
 * moby's verifyPlatformContainerSettings for Linux, and the overlay2 driver's
 * StorageOpt check: berth's overlay has no project quotas (as overlay2 off
 * xfs/pquota), so `size` is refused with dockerd's words.
 */
function checkPlatform(h: HostSpec): void {
  const iso = h.isolation ?? ''
  if (iso !== '' && iso.toLowerCase() !== 'default') throw invalidArgument(`invalid isolation '${iso}' on linux`)
  if (h.annotations && Object.hasOwn(h.annotations, '')) throw invalidArgument('invalid Annotations: the empty string is not permitted as an annotation key')
  const opts = Object.keys(h.storageOpt ?? {})
  if (opts.includes('size')) throw invalidArgument("--storage-opt is supported only for overlay over xfs with 'pquota' mount option")
  if (opts[0] !== undefined) throw invalidArgument(`Unknown option ${opts[0].toLowerCase()}`)
}
