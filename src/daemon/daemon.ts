import { promises as fsp, readlinkSync } from 'node:fs'
import { createSecureContext } from 'node:tls'
import os from 'node:os'
import path from 'node:path'
import { ApiServer, API_VERSION, MIN_API_VERSION, Router, type TlsOptions } from '../api/server/index.js'
import { authRoutes } from '../api/routes/auth/index.js'
import { buildRoutes } from '../api/routes/build/index.js'
import { archiveRoutes, commitRoutes, containerRoutes, statsRoutes, updateRoutes } from '../api/routes/containers/index.js'
import { ContainerFs } from '../containerfs/index.js'
import { imageRoutes, searchRoutes } from '../api/routes/images/index.js'
import { checkRoutes, systemRoutes } from '../api/routes/system/index.js'
import type { SystemInfo, VersionResponse } from '../api/types/index.js'
import { Builder } from '../builder/index.js'
import { ContainerService, ContainerStore, type ContainerRecord, type SpecBuilder, type SpecInput, type SysInfo } from '../containers/index.js'
import { openDb, type Db } from '../db/index.js'
import { invalidArgument, unavailable } from '../errors/index.js'
import { EventBus } from '../events/index.js'
import { ImageService } from '../images/index.js'
import { login as registryLogin, searchRegistry } from '../registry/index.js'
import type { Logger } from '../lib/index.js'
import { ConmonRuntime, loadDaemonSeccomp, securityInfo, type RuntimeConfig } from '../runtime/index.js'
import { cgroupProcs, detectCgroups, mount as sysMount, psFor, unmount as sysUnmount, isMountpoint } from '../sys/index.js'
import { buildContainersPort, buildImagesPort } from './build-port.js'
import { containerCommitter } from './commit.js'
import { DEFAULT_SOCKET_GROUP, type DaemonConfig } from './config.js'
import { imagesPort } from './images-port.js'
import { runtimePort } from './runtime-port.js'
import { RegistryService } from './registry-service.js'
import { chainPrefix, networkPort, networksBackend, networkView, openNetwork } from './network-port.js'
import { containersOf, volumePort, volumesBackend, volumeUsers } from './volume-port.js'
import { volumeRoutes } from '../api/routes/volumes/index.js'
import { swarmRoutes } from '../api/routes/swarm/index.js'
import { pluginRoutes } from '../api/routes/plugins/index.js'
import { VolumeService } from '../volumes/index.js'
import { networkRoutes } from '../api/routes/networks/index.js'
import type { NetworkService } from '../network/index.js'
import { OciSpecBuilder } from './specs.js'
import { logPort } from './log-port.js'
import { LogShipper, logSinks } from '../logs/index.js'
import { diskUsageBackend, removeCacheImage } from './disk-usage.js'
import { overlayDriverStatus } from './storage-info.js'
import { probeSysInfo } from './sysinfo.js'
import { IdleCollector } from './idle-gc.js'
import { cgroupsPathFor, cgroupWarnings, validateCgroupParent } from './cgroups.js'
import { checkUsernsConflicts, setupRemappedRoot, type RemapIdentity } from './userns.js'
import { checkTraversable, remapContainerFs, remapImagesPort, remapVolumePort, RemappedSysfs, ShiftedLayers, unshiftingCommits } from './userns-storage.js'
import { statsService } from './stats.js'
import { checkDaemon } from './check.js'

export const BERTH_VERSION = '0.1.0'

/** Runtimes berth knows by name; each is offered when its binary is installed. */
const KNOWN_RUNTIMES: Record<string, RuntimeConfig> = {
  runc: { path: 'runc' },
  crun: { path: 'crun' },
  runsc: { path: 'runsc', args: ['--platform=ptrace'] },
}

async function onPath(bin: string): Promise<string | undefined> {
  if (bin.includes('/')) return (await fsp.access(bin).then(() => true, () => false)) ? bin : undefined
  for (const dir of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = path.join(dir, bin)
    if (await fsp.access(p, 1).then(() => true, () => false)) return p
  }
  return undefined
}

/**
 * The composition root: builds every service from the configuration, restores
 * state, serves the API, and shuts down in order.
 */
export class Daemon {
  private constructor(
    readonly cfg: DaemonConfig,
    private readonly log: Logger,
    private readonly db: Db,
    private readonly server: ApiServer,
    private readonly runtime: ConmonRuntime,
    private readonly containers: ContainerService,
    private readonly network: NetworkService,
    private readonly events: EventBus,
    private readonly registryService: RegistryService | undefined,
  ) {}

  static async start(cfg: DaemonConfig, log: Logger): Promise<Daemon> {
    await fsp.mkdir(cfg.dataRoot, { recursive: true, mode: 0o711 })
    // The socket lives in the exec root: its group must get through (0711), as through /var/run to docker.sock.
    // What else is there keeps to itself: containers/, runtime/ and exits/ are 0700.
    await fsp.mkdir(cfg.execRoot, { recursive: true, mode: 0o711 })
    await fsp.chmod(cfg.execRoot, 0o711)
    // Checked before anything starts: a bad group or certificate stops berthd with nothing to undo.
    const socketGid = await socketGroup(cfg, log)
    const tls = await loadTls(cfg)
    await claimPidfile(cfg.pidfile)

    const runtimes: Record<string, RuntimeConfig> = {}
    for (const [name, r] of Object.entries(KNOWN_RUNTIMES)) {
      const p = await onPath(r.path)
      if (p) runtimes[name] = { ...r, path: p }
    }
    for (const [name, r] of Object.entries(cfg.runtimes)) runtimes[name] = { path: r.path, ...(r.runtimeArgs ? { args: r.runtimeArgs } : {}) }
    if (!runtimes[cfg.defaultRuntime]) {
      throw unavailable(`default runtime ${cfg.defaultRuntime} is not installed: install it (apt-get install -y ${cfg.defaultRuntime}) or pick another with --default-runtime`)
    }

    const identity = await setupRemappedRoot(cfg.usernsRemap, log.child({ module: 'userns' }))
    let shifted: ShiftedLayers | undefined
    let sysfs: RemappedSysfs | undefined
    if (identity) {
      // As dockerd's setupDaemonRoot: the remapped root must get through to its rootfs and /etc files.
      await fsp.chmod(cfg.dataRoot, 0o711)
      await checkTraversable(cfg.dataRoot, identity)
      await fsp.mkdir(path.join(cfg.dataRoot, 'containers'), { recursive: true, mode: 0o711 })
      await fsp.chmod(path.join(cfg.dataRoot, 'containers'), 0o711)
      shifted = new ShiftedLayers({ dataRoot: cfg.dataRoot, identity, logger: log.child({ module: 'userns' }) })
      await shifted.collect()
      sysfs = new RemappedSysfs(path.join(cfg.dataRoot, 'userns', 'sys'))
    }
    // As dockerd lays its root out: image and layer data are not for other local users. A container's rootfs is
    // overlay2/<id>/merged, so the remapped root gets overlay2's group (as dockerd gives it); volumes stay
    // traversable (0701) for bind mounts made inside a user namespace.
    for (const [dir, mode, gid] of [['overlay2', 0o710, identity?.rootGid ?? 0], ['volumes', 0o701, 0], ['blobs', 0o700, 0], ['tmp', 0o700, 0]] as const) {
      const p = path.join(cfg.dataRoot, dir)
      await fsp.mkdir(p, { recursive: true, mode })
      await fsp.chown(p, 0, gid)
      await fsp.chmod(p, mode)
    }
    // docker's default seccomp profile (from the Debian file) and daemon.json seccomp-profile, read once.
    const seccomp = loadDaemonSeccomp(cfg.seccompProfile)
    if (seccomp.warning) log.warn(seccomp.warning)
    const security = { seccomp, noNewPrivileges: cfg.noNewPrivileges === true }
    const db = openDb(path.join(cfg.dataRoot, 'berth.db'))
    const events = new EventBus()
    const runtime = new ConmonRuntime({ execRoot: cfg.execRoot, logger: log, runtimes })
    // The image service asks about containers, which are built after it.
    const late: { containers?: ContainerService } = {}
    const images = await ImageService.open({
      db,
      dataRoot: cfg.dataRoot,
      logger: log,
      events,
      registry: { insecureRegistries: cfg.insecureRegistries, mirrors: cfg.registryMirrors, userAgent: `berth/${BERTH_VERSION}` },
      containersUsing: (imageId: string) => late.containers?.usingImage(imageId) ?? [],
      containerRunning: (id: string) => {
        const st = late.containers?.list().find((c) => c.id === id)?.state.status
        return st === 'running' || st === 'paused' || st === 'restarting'
      },
    })
    // Probed once, while the rest starts; `info` waits for it.
    const driverStatus = overlayDriverStatus(path.join(cfg.dataRoot, 'overlay2'), log.child({ module: 'storage' }))
    const network = await openNetwork({ cfg, db, events, logger: log, engineId: await daemonId(cfg.dataRoot) })
    await network.init()
    const volumes = new VolumeService({
      db,
      dataRoot: cfg.dataRoot,
      events,
      logger: log,
      usedBy: (name) => volumeUsers(containersOf(late), name),
      runningUsers: (name) => volumeUsers(containersOf(late), name, true),
    })
    const shipper = new LogShipper({ db, logger: log.child({ module: 'logs' }) })
    const store = new ContainerStore(db)
    const sysInfo = probeSysInfo()
    // Containers in the daemon's user namespace; a record not stored yet (mid-create) is settled at its start.
    const remapped = (id: string) => identity !== undefined && store.get(id) !== undefined && store.get(id)?.spec.host.usernsMode !== 'host'
    const containers: ContainerService = new ContainerService({
      store,
      images: identity && shifted ? remapImagesPort(imagesPort(images), { dataRoot: cfg.dataRoot, identity, layers: shifted, remapped }) : imagesPort(images),
      runtime: runtimePort(runtime, (id) => cgroupProcs(cgroupsPathFor(id, store.get(id)?.spec.host.cgroupParent, cfg.cgroupParent))),
      specs: wrapSpecs(sysfs, new OciSpecBuilder({
        cgroupsPath: (i) => cgroupsPathFor(i.id, i.cgroupParent, cfg.cgroupParent),
        idMappings: (i) => (identity && i.usernsMode !== 'host' ? { uidMappings: identity.uidMaps, gidMappings: identity.gidMaps, ...sharedUserNs(i) } : undefined),
      }, security)),
      mounts: {
        mount: async (mounts, target) => {
          if (await isMountpoint(target)) return
          for (const m of mounts) await sysMount({ type: m.type, source: m.source, options: m.options }, target, m.cwd ? { cwd: m.cwd } : {})
        },
        unmount: async (target) => {
          if (await isMountpoint(target)) await sysUnmount(target)
          // The rootfs mount point is <data-root>/overlay2/<id>/merged.
          await sysfs?.release(path.basename(path.dirname(target)))
        },
      },
      network: networkPort(network, () => containers),
      volumes: identity ? remapVolumePort(volumePort(volumes), identity, path.join(cfg.dataRoot, 'volumes')) : volumePort(volumes),
      logs: logPort(shipper, cfg, logSinks, log.child({ module: 'logs' })),
      events,
      logger: log,
      dataRoot: cfg.dataRoot,
      defaultRuntime: cfg.defaultRuntime,
      runtimes: Object.keys(runtimes),
      sysInfo,
      checkHost: (h) => {
        checkUsernsConflicts({ remapped: identity !== undefined, usernsMode: h.usernsMode ?? '', privileged: h.privileged, networkHost: h.network.kind === 'host', pidHost: h.pid.kind === 'host' })
        validateCgroupParent(h.cgroupParent ?? '')
      },
      netnsByRuntime: (rec) => identity !== undefined && rec.spec.host.usernsMode !== 'host',
    })
    late.containers = containers
    await containers.restore()
    await sysfs?.collect((id) => {
      const st = store.get(id)?.state.status
      return st === 'running' || st === 'paused' || st === 'restarting'
    })
    await volumes.unmountUnused()
    await network.adopt((id) => {
      const st = store.get(id)?.state.status
      return st === 'running' || st === 'paused' || st === 'restarting'
    })

    const cgroups = await detectCgroups().catch(() => undefined)
    // Commits (docker commit and build steps) see a remapped container's files as the container does.
    const commitImages = identity ? unshiftingCommits(images, { dataRoot: cfg.dataRoot, identity, remapped }) : images
    const builder = new Builder({
      images: buildImagesPort(commitImages),
      containers: buildContainersPort(containers),
      db,
      tmpDir: path.join(cfg.dataRoot, 'tmp', 'build'),
      logger: log,
      imageExists: (id) => images.find(id) !== undefined,
      removeIfUnused: (id) => removeCacheImage(images, id),
    })
    const router = new Router()
    const c = containers
    systemRoutes(router, {
      events,
      version: async () => versionInfo(),
      diskUsage: diskUsageBackend({ images, containers: c, volumes, network, builder }),
      info: async () => systemInfo({ cfg, containers: c.list(), images: images.list({ all: true }).length, runtimes, cgroupMode: cgroups?.mode ?? 'v1', sysInfo, driverStatus: await driverStatus, identity, security: securityInfo({ ...security, userns: identity !== undefined }) }),
    })
    checkRoutes(router, {
      check: () => checkDaemon({ dataRoot: cfg.dataRoot, execRoot: cfg.execRoot, cgroupParent: cfg.cgroupParent, images, containers: () => c.list(), network, volumes, firewallPrefix: cfg.network.iptables ? chainPrefix(cfg.network.bridge) : null }),
    })
    containerRoutes(router, {
      containers: c,
      imageName: (rec: ContainerRecord) => rec.spec.image,
      imageSize: (id) => images.imageSize(id),
      graphDriver: (rec) => images.rootfsDriverData(rec.id),
      top: async (rec, psArgs) => psFor(await c.top(rec.id), psArgs),
      isAncestor: (rec, ref) => images.find(ref)?.id === rec.imageId,
      networkView: (rec) => networkView(network, rec),
      volumePath: (name) => volumes.mountpoint(name),
    })
    networkRoutes(router, networksBackend(network, c))
    volumeRoutes(router, volumesBackend(volumes, () => c.list()))
    swarmRoutes(router)
    pluginRoutes(router)
    commitRoutes(router, containerCommitter({ containers: c, images: commitImages, events, logger: log }))
    const containerFs = new ContainerFs({ containers: c })
    archiveRoutes(router, identity ? remapContainerFs(containerFs, { identity, remapped: (ref) => remapped(c.get(ref).id) }) : containerFs)
    updateRoutes(router, { containers: c })
    statsRoutes(router, statsService({ containers: c, cgroupVersion: async () => ((await runtime.cgroupInfo()).mode === 'v2' ? 2 : 1), machineMemory: os.totalmem() }))
    imageRoutes(router, images)
    buildRoutes(router, builder)
    searchRoutes(router, { search: (q, signal) => searchRegistry({ ...q, insecureRegistries: cfg.insecureRegistries, userAgent: `berth/${BERTH_VERSION}`, signal }) })
    authRoutes(router, { login: (a, signal) => registryLogin(a.serverAddress, a.username, a.password, { insecureRegistries: cfg.insecureRegistries, userAgent: `berth/${BERTH_VERSION}`, signal }) })

    const idle = new IdleCollector()
    const server = new ApiServer({
      router,
      logger: log.child({ module: 'api' }),
      serverName: `berth/${BERTH_VERSION} (linux)`,
      pingHeaders: () => ({ Swarm: 'inactive' }),
      onActivity: () => idle.touch(),
    })
    for (const h of cfg.hosts) {
      if (h.startsWith('unix://')) {
        await server.listenUnix(h.slice('unix://'.length), socketGid)
        continue
      }
      const u = new URL(h)
      if (!tls?.verify) {
        // dockerd's words; berthd got here only because TLS was turned off (or verification) explicitly.
        log.warn('Binding to IP address without --tlsverify is insecure and gives root access on this machine to everyone who has access to your network.', { host: h })
        log.warn('Binding to an IP address, even on localhost, can also give access to scripts run in a browser. Be safe out there!', { host: h })
      }
      await server.listenTcp(u.hostname.replace(/^\[|\]$/g, ''), Number(u.port), tls)
    }
    events.publish('daemon', 'start', 'berthd', { name: os.hostname() })
    const registryService = cfg.registryService ? new RegistryService(cfg.registryService, log.child({ module: 'registry' })) : undefined
    registryService?.start()
    log.info('berthd started', { hosts: cfg.hosts, dataRoot: cfg.dataRoot, runtimes: Object.keys(runtimes) })
    return new Daemon(cfg, log, db, server, runtime, containers, network, events, registryService)
  }

  /** Stop serving; containers keep running under their monitors. */
  async stop(): Promise<void> {
    this.log.info('berthd shutting down')
    this.events.publish('daemon', 'shutdown', 'berthd')
    await this.server.close()
    await this.registryService?.stop()
    this.containers.shutdown()
    await this.network.shutdown()
    this.runtime.close()
    this.db.close()
    await fsp.rm(this.cfg.pidfile, { force: true })
  }
}

/**
 * The gid for the unix sockets, as dockerd's listeners.Init: a group name
 * from /etc/group or a number; the default group missing is a warning and
 * root's group, a group named with -G missing is an error; '' is root's.
 */
async function socketGroup(cfg: DaemonConfig, log: Logger): Promise<number> {
  if (cfg.group === '') return process.getgid?.() ?? 0
  const text = await fsp.readFile('/etc/group', 'utf8').catch(() => '')
  const entry = text.split('\n').map((l) => l.split(':')).find((f) => f[0] === cfg.group && /^\d+$/.test(f[2] ?? ''))
  if (entry) return Number(entry[2])
  if (/^\d+$/.test(cfg.group)) return Number(cfg.group)
  const why = `group ${cfg.group} not found`
  if (cfg.groupExplicit && cfg.group !== DEFAULT_SOCKET_GROUP) throw invalidArgument(why)
  for (const h of cfg.hosts.filter((x) => x.startsWith('unix://'))) log.warn(`could not change group ${h.slice('unix://'.length)} to ${cfg.group}: ${why}`)
  return process.getgid?.() ?? 0
}

/** The TLS listener's PEM files, read and checked once, with dockerd's "invalid TLS configuration". */
async function loadTls(cfg: DaemonConfig): Promise<TlsOptions | undefined> {
  const t = cfg.tls
  if (!t?.enabled || !cfg.hosts.some((h) => h.startsWith('tcp://'))) return undefined
  const read = async (what: string, file: string) => {
    try {
      return await fsp.readFile(file)
    } catch (err) {
      throw invalidArgument(`invalid TLS configuration: could not read ${what} ${file}: ${(err as Error).message}`, err)
    }
  }
  const opts: TlsOptions = { cert: await read('certificate', t.certFile), key: await read('key', t.keyFile), verify: t.verify }
  if (t.verify) opts.ca = await read('CA certificate', t.caFile)
  try {
    createSecureContext({ cert: opts.cert, key: opts.key, ...(opts.ca ? { ca: opts.ca } : {}) })
  } catch (err) {
    throw invalidArgument(`invalid TLS configuration: could not load X509 key pair (cert: ${JSON.stringify(t.certFile)}, key: ${JSON.stringify(t.keyFile)}): ${(err as Error).message}`, err)
  }
  return opts
}

async function claimPidfile(file: string): Promise<void> {
  const old = await fsp.readFile(file, 'utf8').catch(() => '')
  const pid = Number(old.trim())
  if (pid > 0 && pid !== process.pid) {
    const cmdline = await fsp.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
    if (cmdline.includes('berthd')) {
      throw unavailable(`pid file found, ensure berthd is not running or delete ${file} (process ${pid} holds it)`)
    }
  }
  await fsp.mkdir(path.dirname(file), { recursive: true })
  await fsp.writeFile(file, `${process.pid}\n`)
}

function versionInfo(): VersionResponse {
  const kernel = os.release()
  return {
    Platform: { Name: 'berth' },
    Components: [
      {
        Name: 'Engine',
        Version: BERTH_VERSION,
        Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Arch: 'amd64', Os: 'linux', KernelVersion: kernel, GitCommit: 'berth', GoVersion: `node${process.versions.node}`, BuildTime: '', Experimental: 'false' },
      },
    ],
    Version: BERTH_VERSION,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: 'berth',
    GoVersion: `node${process.versions.node}`,
    Os: 'linux',
    Arch: os.arch() === 'x64' ? 'amd64' : os.arch(),
    KernelVersion: kernel,
    BuildTime: '',
  }
}

async function osName(): Promise<{ name: string; version: string }> {
  const text = await fsp.readFile('/etc/os-release', 'utf8').catch(() => '')
  const get = (k: string) => new RegExp(`^${k}="?([^"\\n]*)"?`, 'm').exec(text)?.[1] ?? ''
  return { name: get('PRETTY_NAME') || 'Linux', version: get('VERSION_ID') }
}

async function systemInfo(o: { cfg: DaemonConfig; containers: ContainerRecord[]; images: number; runtimes: Record<string, RuntimeConfig>; cgroupMode: string; sysInfo: SysInfo; driverStatus: Array<[string, string]>; identity?: RemapIdentity | undefined; security?: { options: string[]; warnings: string[] } }): Promise<SystemInfo> {
  const cgroupVersion = o.cgroupMode === 'v2' ? '2' : '1'
  const count = (s: string[]) => o.containers.filter((c) => s.includes(c.state.status)).length
  const osr = await osName()
  return {
    ID: await daemonId(o.cfg.dataRoot),
    Containers: o.containers.length,
    // As docker: a restarting container counts as stopped.
    ContainersRunning: count(['running']),
    ContainersPaused: count(['paused']),
    ContainersStopped: count(['exited', 'created', 'dead', 'removing', 'restarting']),
    Images: o.images,
    Driver: 'overlay2',
    DriverStatus: o.driverStatus,
    DockerRootDir: o.cfg.dataRoot,
    Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'macvlan', 'null'], Authorization: null, Log: ['json-file', 'k8s-file'] },
    MemoryLimit: o.sysInfo.memoryLimit,
    SwapLimit: o.sysInfo.swapLimit,
    CpuCfsPeriod: o.sysInfo.cpuCfsPeriod,
    CpuCfsQuota: o.sysInfo.cpuCfs,
    CPUShares: o.sysInfo.cpuShares,
    CPUSet: o.sysInfo.cpuset,
    PidsLimit: o.sysInfo.pidsLimit,
    OomKillDisable: o.sysInfo.oomKillDisable,
    IPv4Forwarding: true,
    Debug: o.cfg.debug,
    NFd: await fsp.readdir('/proc/self/fd').then((f) => f.length, () => 0),
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: o.cfg.logDriver,
    CgroupDriver: o.cfg.cgroupDriver,
    CgroupVersion: cgroupVersion,
    NEventsListener: 0,
    KernelVersion: os.release(),
    OperatingSystem: osr.name,
    OSVersion: osr.version,
    OSType: 'linux',
    Architecture: os.machine(),
    NCPU: os.cpus().length,
    MemTotal: os.totalmem(),
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: {
      InsecureRegistryCIDRs: [...new Set([...o.cfg.insecureRegistries.filter((r) => r.includes('/')), '::1/128', '127.0.0.0/8'])],
      IndexConfigs: {
        ...Object.fromEntries(o.cfg.insecureRegistries.filter((r) => !r.includes('/')).map((r) => [r, { Name: r, Mirrors: [], Secure: false, Official: false }])),
        'docker.io': { Name: 'docker.io', Mirrors: o.cfg.registryMirrors.map((m) => m.replace(/\/*$/, '/')), Secure: true, Official: true },
      },
      Mirrors: o.cfg.registryMirrors.map((m) => m.replace(/\/*$/, '/')),
    },
    GenericResources: null,
    HttpProxy: '',
    HttpsProxy: '',
    NoProxy: '',
    Name: os.hostname(),
    Labels: o.cfg.labels,
    ExperimentalBuild: false,
    ServerVersion: BERTH_VERSION,
    Runtimes: Object.fromEntries(Object.entries(o.runtimes).map(([k, v]) => [k, { path: v.path, ...(v.args ? { runtimeArgs: v.args } : {}) }])),
    DefaultRuntime: o.cfg.defaultRuntime,
    Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
    LiveRestoreEnabled: true,
    Isolation: '',
    InitBinary: 'docker-init',
    ContainerdCommit: { ID: '' },
    RuncCommit: { ID: '' },
    InitCommit: { ID: '' },
    SecurityOptions: [...(o.security?.options ?? []), ...(o.identity ? ['name=userns'] : [])],
    // docker's info has no field for a hybrid host; say what berth found where users read.
    Warnings: [
      ...cgroupWarnings(cgroupVersion, o.sysInfo),
      ...(o.security?.warnings ?? []),
      ...(o.cgroupMode === 'hybrid' ? ['WARNING: cgroup v1 with a cgroup2 "unified" mount (hybrid): berth uses v1; crun runs with the unified mount hidden'] : []),
    ],
  }
}

/**
 * As moby: a container sharing another's PID, IPC or network namespace must
 * share its user namespace too (proc and mqueue are mounted for the owning
 * user namespace; a remapped container's network namespace is made by the
 * runtime in its user namespace, and exec joins the user namespace first).
 * A `--userns=host` container's network namespace is joined without it.
 */
function sharedUserNs(i: SpecInput): { userNsPath?: string } {
  for (const s of [i.namespaces.pid, i.namespaces.ipc, i.namespaces.net]) {
    const m = typeof s === 'object' ? /^(\/proc\/\d+\/ns)\/([a-z]+)$/.exec(s.path) : null
    if (!m) continue
    const userNs = `${m[1]}/user`
    if (m[2] === 'net' && readlinkOr(userNs) === readlinkOr('/proc/self/ns/user')) continue
    return { userNsPath: userNs }
  }
  return {}
}

function readlinkOr(p: string): string {
  try {
    return readlinkSync(p)
  } catch {
    return ''
  }
}

function wrapSpecs(sysfs: RemappedSysfs | undefined, specs: OciSpecBuilder): SpecBuilder {
  return sysfs ? sysfs.wrap(specs) : specs
}

async function daemonId(dataRoot: string): Promise<string> {
  const file = path.join(dataRoot, 'engine-id')
  const existing = (await fsp.readFile(file, 'utf8').catch(() => '')).trim()
  if (existing) return existing
  const id = crypto.randomUUID()
  await fsp.writeFile(file, id + '\n')
  return id
}
