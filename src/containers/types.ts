/**
 * The container domain: what a container is, independent of the wire. The API
 * layer's convert.ts maps docker's Config/HostConfig to and from these.
 */
import type { EndpointConfig } from '../network/index.js'
import type { HealthConfig } from '../oci/index.js'

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead'

export type NamespaceMode =
  | { kind: 'private' }
  | { kind: 'host' }
  | { kind: 'container'; ref: string }
  /** ipc only: private, but other containers may join it. */
  | { kind: 'shareable' }

/** `network`: the container has its own namespace, joined to the networks in `spec.networks`. */
export type NetworkMode = { kind: 'network' } | { kind: 'none' } | { kind: 'host' } | { kind: 'container'; ref: string }

export interface RestartPolicy {
  name: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure'
  maximumRetryCount: number
}

/** A mount of the container, resolved at create (anonymous volumes named then). */
export interface MountSpec {
  type: 'volume' | 'bind' | 'tmpfs'
  /** volume: its name ('' until an anonymous one is made at create); bind: the host path. */
  source: string
  target: string
  readonly: boolean
  /** -v's options as given (ro, z, nocopy, ...): inspect's Mode. */
  mode: string
  /** bind propagation (rprivate unless asked). */
  propagation: string
  /** Don't copy the image's files into an empty volume. */
  noCopy: boolean
  /** A volume made for this container: `rm -v` and `--rm` remove it. */
  anonymous?: boolean
  volumeOptions?: { driver: string; options: Record<string, string>; labels: Record<string, string> }
  tmpfs?: { size: number; mode: number }
  /** `binds` (-v), `mounts` (--mount), `volumes` (Config.Volumes and the image's VOLUME), `from` (--volumes-from). */
  origin: 'binds' | 'mounts' | 'volumes' | 'from'
  /** --mount type=bind,bind-create-mountpoint... docker's bind with -v makes a missing source; --mount refuses. */
  createSource?: boolean
}

export type { HealthConfig }

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy'

/** One probe run; times are RFC 3339 with nanoseconds, as inspect shows them. */
export interface HealthResult {
  start: string
  end: string
  exitCode: number
  output: string
}

export interface HealthState {
  status: HealthStatus
  failingStreak: number
  /** The last five results, oldest first. */
  log: HealthResult[]
}

export interface PortBinding {
  hostIp: string
  hostPort: string
}

/** What the user asked for; fixed at create time (rename and update aside). */
export interface ContainerSpec {
  image: string
  hostname: string
  domainname: string
  user: string
  env: string[]
  cmd: string[] | null
  entrypoint: string[] | null
  workingDir: string
  labels: Record<string, string>
  tty: boolean
  openStdin: boolean
  stdinOnce: boolean
  attachStdin: boolean
  attachStdout: boolean
  attachStderr: boolean
  stopSignal: string
  stopTimeout: number | null
  exposedPorts: string[]
  volumes: string[]
  onBuild: string[] | null
  /** Config.Shell: the shell of CMD-SHELL health probes (the image's when absent). */
  shell?: string[]
  host: HostSpec
  /** Networks to join (mode `network`), by the name the user gave, in join order; changed by connect/disconnect. */
  networks: Record<string, EndpointConfig>
  /** Config.Healthcheck as given at create (absent: the image's applies). */
  healthcheck?: HealthConfig | null
}

export interface HostSpec {
  autoRemove: boolean
  restartPolicy: RestartPolicy
  network: NetworkMode
  /** The network mode as the client spelled it ("default" becomes "bridge"). */
  networkModeName: string
  pid: NamespaceMode
  ipc: NamespaceMode
  uts: NamespaceMode
  privileged: boolean
  capAdd: string[]
  capDrop: string[]
  readonlyRootfs: boolean
  init: boolean
  runtime: string
  portBindings: Record<string, PortBinding[]>
  publishAllPorts: boolean
  binds: string[]
  /** Every mount but the tmpfs map: from -v, --mount, --volumes-from and VOLUMEs. */
  mounts: MountSpec[]
  /** --volumes-from as given: `container[:ro|rw]`. */
  volumesFrom: string[]
  logConfig: { type: string; config: Record<string, string> }
  shmSize: number
  consoleSize: [number, number]
  groupAdd: string[]
  dns: string[]
  dnsSearch: string[]
  dnsOptions: string[]
  extraHosts: string[]
  /** Legacy links, `container:alias`, resolved to container IDs at create. */
  links: string[]
  oomScoreAdj: number
  securityOpt: string[]
  /** HostConfig.MaskedPaths / ReadonlyPaths: docker's defaults filled in at create (none for --privileged), [] for systempaths=unconfined. */
  maskedPaths?: string[]
  readonlyPaths?: string[]
  tmpfs: Record<string, string>
  sysctls: Record<string, string>
  /** Resource limits, kept as given (docker's names) until the cgroups issue wires them. */
  resources: Record<string, unknown>
  /** HostConfig.CgroupParent: the container's cgroup is `<parent>/<id>` (cgroupfs); '' takes the daemon's. */
  cgroupParent?: string
  /** HostConfig.UsernsMode: '' (the daemon's remapping, if any) or 'host'. */
  usernsMode?: string
  /** HostConfig.Annotations: passed to the OCI runtime in the spec's annotations. */
  annotations?: Record<string, string>
  /** HostConfig.VolumeDriver: the driver of -v named and anonymous volumes that name none. */
  volumeDriver?: string
  /** HostConfig.ContainerIDFile: kept for inspect (the client writes the file). */
  containerIdFile?: string
  /** HostConfig.Isolation ('' or 'default' on Linux). */
  isolation?: string
  /** HostConfig.StorageOpt: per-container storage driver options (none is accepted yet: create refuses them as overlay2 without quotas). */
  storageOpt?: Record<string, string>
  /** HostConfig.DeviceRequests (`--gpus`): no device driver serves them here, so start refuses them as dockerd without one. */
  deviceRequests?: DeviceRequest[]
}

/** docker's container.DeviceRequest. */
export interface DeviceRequest {
  driver: string
  count: number
  deviceIds: string[] | null
  capabilities: string[][] | null
  options: Record<string, string> | null
}

export interface ContainerState {
  status: ContainerStatus
  pid: number
  exitCode: number
  error: string
  oomKilled: boolean
  startedAt: string
  finishedAt: string
  restartCount: number
  /** Stopped by the user (stop/kill), so `unless-stopped` and `always` hold off. */
  stoppedByUser: boolean
  /** Present once a container with a health check has started (docker's State.Health). */
  health?: HealthState
}

export interface ContainerRecord {
  id: string
  /** Without docker's leading slash. */
  name: string
  created: string
  imageId: string
  spec: ContainerSpec
  state: ContainerState
  /** Resolved process: entrypoint + cmd after image defaults. */
  path: string
  args: string[]
  /** The image's config merged into the spec: env, workdir, user, labels. */
  effective: { cmd: string[] | null; entrypoint: string[] | null; env: string[]; workingDir: string; user: string; labels: Record<string, string>; exposedPorts: string[]; volumes: string[]; stopSignal: string; healthcheck?: HealthConfig; shell?: string[] }
  /** Files the daemon made for the container. */
  /** driverLog: the file a logging driver with files of its own writes (json-file, local); `log` is conmon's. */
  paths: { dir: string; hostname: string; hosts: string; resolvConf: string; log: string; driverLog?: string }
}

export const NULL_TIME = '0001-01-01T00:00:00Z'

export function initialState(): ContainerState {
  return { status: 'created', pid: 0, exitCode: 0, error: '', oomKilled: false, startedAt: NULL_TIME, finishedAt: NULL_TIME, restartCount: 0, stoppedByUser: false }
}
