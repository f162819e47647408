import type { EndpointConfig } from '../network/index.js'
import type { ContainerRecord, DeviceRequest, HostSpec } from './types.js'
/**
 * What the container service needs from the layers below it. The daemon hands
 * in the real runtime and image service; unit tests hand in fakes.
 */

/** A mount to make, as a snapshotter describes it (overlay lowerdirs may be relative to cwd). */
export interface Mount {
  type: string
  source: string
  options: string[]
  cwd?: string
}

export interface AttachStream {
  onData(cb: (stream: 'stdout' | 'stderr', chunk: Buffer) => void): void
  /** The process's output has ended (it exited, or the monitor went away). */
  onEnd(cb: () => void): void
  writeStdin(chunk: Buffer): void
  closeStdin(): void
  close(): void
}

export interface ExecHandle {
  attach: AttachStream
  pid: number
  exit: Promise<number>
  resize(size: { height: number; width: number }): Promise<void>
}

export interface ImageInfo {
  id: string
  config: {
    Env?: string[] | null
    Cmd?: string[] | null
    Entrypoint?: string[] | null
    WorkingDir?: string
    User?: string
    Labels?: Record<string, string> | null
    ExposedPorts?: Record<string, unknown> | null
    Volumes?: Record<string, unknown> | null
    StopSignal?: string
    Shell?: string[] | null
    /** The image's HEALTHCHECK, docker's JSON (durations in ns). */
    Healthcheck?: { Test?: string[] | null; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number } | null
  }
}

export interface ImagesPort {
  /** The image a reference names; throws not-found with docker's `No such image: x` message. */
  resolveForContainer(ref: string): Promise<ImageInfo> | ImageInfo
  /** Prepare the container's rw layer; returns the mounts that make its root. */
  rootfsFor(containerId: string, imageId: string): Promise<Mount[]>
  /** Where the container's root is mounted (overlay2's merged dir). */
  rootfsMountpoint(containerId: string): string
  releaseRootfs(containerId: string): Promise<void>
  /** Containers holding a rootfs, to find those a crash left without a record. */
  rootfsOwners(): string[]
  rootfsUsage(containerId: string): Promise<number>
  imageSize(imageId: string): number
  /** The name an image ID is best shown by (first tag), or its ID. */
  displayName?(imageId: string): string | undefined
}

export interface ExitInfo {
  exitCode: number
  exitedAt: Date
  oomKilled?: boolean
}

export interface RuntimeCreateOptions {
  id: string
  bundleDir: string
  spec: unknown
  runtime: string
  tty: boolean
  openStdin: boolean
  stdinOnce: boolean
  logPath: string
  /** conmon truncates its log file past this many bytes (none: it grows). */
  logMaxSize?: number
  consoleSize?: { height: number; width: number }
}

export interface RuntimeExecOptions {
  execId: string
  process: unknown
  tty: boolean
  stdin: boolean
  consoleSize?: { height: number; width: number }
  /** False for a detached exec: nobody reads its output, and it outlives the daemon. */
  attach?: boolean
}

export interface RuntimePort {
  /** Create the container under its monitor; its process exists but has not started. */
  create(o: RuntimeCreateOptions): Promise<{ pid: number }>
  start(id: string): Promise<void>
  kill(id: string, signal: string): Promise<void>
  delete(id: string, o?: { force?: boolean }): Promise<void>
  attach(id: string, o: { stdin: boolean }): Promise<AttachStream>
  resize(id: string, size: { height: number; width: number }): Promise<void>
  /**
   * Run a process in the container. One the runtime cannot start rejects with
   * an error whose `exitCode` is dockerd's for it, or, started in the
   * foreground, ends with dockerd's words on its stream, that code and pid 0.
   */
  exec(id: string, o: RuntimeExecOptions): Promise<ExecHandle>
  onExit(cb: (id: string, info: ExitInfo) => void): void
  /** An OOM kill in a running container's cgroup (the container may live on). */
  onOom?(cb: (id: string) => void): void
  /** Containers the monitor still runs, and those that exited while the daemon was away. */
  restore(): Promise<Array<{ id: string; pid: number; status: string; exit?: ExitInfo }>>
  pids(id: string): Promise<number[]>
  pause?(id: string): Promise<void>
  resume?(id: string): Promise<void>
  /** Apply new limits (docker's HostConfig resource names) to a running container's cgroup. */
  update?(id: string, resources: Record<string, unknown>): Promise<void>
}

export type NsSpec = 'private' | 'host' | { path: string }

/** What the runtime layer needs to write a container's OCI spec. */
export interface SpecInput {
  id: string
  rootfs: string
  readonlyRootfs: boolean
  args: string[]
  env: string[]
  cwd: string
  /** docker's -u form; resolved against the rootfs by the runtime layer. */
  user: string
  groupAdd: string[]
  hostname: string
  tty: boolean
  namespaces: { pid: NsSpec; ipc: NsSpec; uts: NsSpec; net: NsSpec }
  mounts: Array<{ source: string; destination: string; type: string; options: string[] }>
  capAdd: string[]
  capDrop: string[]
  privileged: boolean
  init: boolean
  shmSize: number
  oomScoreAdj: number
  sysctls: Record<string, string>
  /** --security-opt as given; masked/read-only paths when the container overrides docker's. */
  securityOpt?: string[]
  maskedPaths?: string[]
  readonlyPaths?: string[]
  /** The container has a network namespace of its own (not host, not another container's). */
  ownNetns?: boolean
  resources: Record<string, unknown>
  /** HostConfig.CgroupParent ('' for the daemon's). */
  cgroupParent?: string
  /** HostConfig.UsernsMode ('' or 'host'). */
  usernsMode?: string
  /** Config.Domainname: set through the kernel.domainname sysctl, as moby does. */
  domainname?: string
  annotations?: Record<string, string>
  deviceRequests?: DeviceRequest[]
}

export interface ExecSpecInput {
  containerSpec: SpecInput
  args: string[]
  /** The exec's own -e, applied over the container's environment (containerSpec.env). */
  env: string[]
  cwd: string
  user: string
  tty: boolean
  privileged: boolean
}

export interface SpecBuilder {
  container(input: SpecInput): Promise<unknown>
  /** The OCI `process` object for an exec in a running container. */
  execProcess(input: ExecSpecInput): Promise<unknown>
  /** Create-time checks of the security settings with docker's errors; fills in docker's defaults (masked paths). */
  checkCreate?(host: HostSpec): void
}

/** Where a container's output goes besides conmon's k8s-file (logging drivers, src/logs). */
export interface LogPort {
  /** The driver and options a new container gets (the daemon's default when it names none); docker's error for a bad one. */
  resolve(config: { type: string; config: Record<string, string> }): { type: string; config: Record<string, string> }
  /** Ship a running container's output to its driver. */
  start(rec: ContainerRecord): void
  /** The container stopped: ship the rest. */
  finish(id: string): Promise<void>
  /** The container is gone. */
  forget(id: string): Promise<void>
  /** How big conmon's file of the container may grow: a driver's files or the dual-logging cache bound it; undefined for berth's k8s-file. */
  conmonLogMax(rec: ContainerRecord): number | undefined
  /** `logs` from the driver's own files; undefined when conmon's k8s-file is what `logs` reads. */
  read(rec: ContainerRecord, opts: { sinceNano?: bigint; untilNano?: bigint; tail?: number; follow?: boolean; done?: Promise<void>; signal?: AbortSignal }): AsyncGenerator<LogEntryLike> | undefined
}

export interface LogEntryLike {
  stream: 'stdout' | 'stderr'
  timeNano: bigint
  line: Buffer
}

export interface MountPort {
  mount(mounts: Mount[], target: string): Promise<void>
  unmount(target: string): Promise<void>
}

/** A started container's network namespace and what its /etc files should say. */
export interface NetworkSandbox {
  netnsPath: string
  hosts: Array<{ ip: string; names: string[] }>
  /** The embedded DNS's addresses, when the container is on a network that has one. */
  nameservers: string[] | null
}

/** What the container service needs from the network service. */
export interface NetworkPort {
  /**
   * The canonical names of the networks a container asks for; throws docker's errors (unknown network, bad --ip, ...).
   * With missingOk (create), a network that does not exist keeps its name and fails only at start, as docker's.
   */
  validate(networks: Array<{ name: string; config: EndpointConfig }>, opts?: { missingOk?: boolean }): string[]
  /**
   * Before the process starts: its namespace with every endpoint and published port.
   * `netns`: the namespace the runtime made (`/proc/<pid>/ns/net`), to use instead of a new one.
   */
  attach(rec: ContainerRecord, o?: { netns?: string }): Promise<NetworkSandbox>
  /** After it stops (or is removed): everything attach made goes. Idempotent. */
  detach(containerId: string): Promise<void>
  /** Live changes to a running container. */
  connect(rec: ContainerRecord, network: string, config: EndpointConfig): Promise<NetworkSandbox>
  disconnect(rec: ContainerRecord, network: string): Promise<void>
  renamed(rec: ContainerRecord, oldName: string): void
}

/** What the container service needs from the volume service. */
export interface VolumePort {
  /** Make a named volume unless it exists (`-v name:/dst` and `--mount` create on first use). */
  ensure(name: string, o?: { driver: string; options: Record<string, string>; labels: Record<string, string> }): Promise<void>
  /** A new volume for one container (`-v /dst`, an image VOLUME); returns its name. */
  createAnonymous(): Promise<string>
  /** The host directory to mount (a volume with driver options is mounted now). */
  acquire(name: string): Promise<string>
  release(name: string): Promise<void>
  remove(name: string): Promise<void>
  /** Copy the image's files at a mount point into a volume that is still empty (docker's copy-up). */
  copyUp(from: string, name: string): Promise<void>
}
