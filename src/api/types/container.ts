/** Container wire types: create, inspect, list, wait, top, exec. */
import type { GraphDriverData, Labels, OCIDescriptor, Port, PortMap, PortSet } from './common.js'
import type { EndpointSettings, NetworkSettings, NetworkingConfig } from './network.js'

export interface HealthConfig {
  /** ["NONE"], ["CMD", args...], ["CMD-SHELL", command]; empty inherits. */
  Test?: string[]
  /** Nanoseconds; 0 inherits. */
  Interval?: number
  Timeout?: number
  Retries?: number
  StartPeriod?: number
  StartInterval?: number
}

/** The container's configuration that is portable between hosts. */
export interface ContainerConfig {
  Hostname?: string
  Domainname?: string
  User?: string
  AttachStdin?: boolean
  AttachStdout?: boolean
  AttachStderr?: boolean
  ExposedPorts?: PortSet | null
  Tty?: boolean
  OpenStdin?: boolean
  StdinOnce?: boolean
  Env?: string[] | null
  Cmd?: string[] | null
  Healthcheck?: HealthConfig
  ArgsEscaped?: boolean
  Image?: string
  Volumes?: Record<string, Record<string, never>> | null
  WorkingDir?: string
  Entrypoint?: string[] | null
  NetworkDisabled?: boolean
  /** Deprecated since 1.44; per-endpoint MacAddress replaces it. */
  MacAddress?: string
  OnBuild?: string[] | null
  Labels?: Labels | null
  StopSignal?: string
  StopTimeout?: number | null
  Shell?: string[] | null
}

export type RestartPolicyName = '' | 'no' | 'always' | 'unless-stopped' | 'on-failure'

export interface RestartPolicy {
  Name: RestartPolicyName | string
  MaximumRetryCount?: number
}

export interface LogConfig {
  Type: string
  Config?: Record<string, string> | null
}

export type MountType = 'bind' | 'volume' | 'image' | 'tmpfs' | 'npipe' | 'cluster'

export interface BindOptions {
  Propagation?: string
  NonRecursive?: boolean
  CreateMountpoint?: boolean
  ReadOnlyNonRecursive?: boolean
  ReadOnlyForceRecursive?: boolean
}

export interface VolumeOptions {
  NoCopy?: boolean
  Labels?: Labels
  Subpath?: string
  DriverConfig?: { Name?: string; Options?: Record<string, string> }
}

export interface TmpfsOptions {
  SizeBytes?: number
  Mode?: number
  Options?: string[][]
}

/** A mount requested in HostConfig.Mounts (the --mount flag). */
export interface Mount {
  Target: string
  Source?: string
  Type: MountType | string
  ReadOnly?: boolean
  Consistency?: string
  BindOptions?: BindOptions
  VolumeOptions?: VolumeOptions
  ImageOptions?: { Subpath?: string }
  TmpfsOptions?: TmpfsOptions
}

/** A mount as inspect and list report it. */
export interface MountPoint {
  Type: MountType | string
  Name?: string
  Source: string
  Destination: string
  Driver?: string
  Mode: string
  RW: boolean
  Propagation: string
}

export interface DeviceMapping {
  PathOnHost: string
  PathInContainer: string
  CgroupPermissions: string
}

export interface DeviceRequest {
  Driver?: string
  Count?: number
  DeviceIDs?: string[] | null
  Capabilities?: string[][] | null
  Options?: Record<string, string> | null
}

export interface ThrottleDevice {
  Path: string
  Rate: number
}

export interface WeightDevice {
  Path: string
  Weight: number
}

export interface Ulimit {
  Name: string
  Soft: number
  Hard: number
}

/** Host-dependent configuration of a container. */
export interface HostConfig {
  // Resources
  CpuShares?: number
  Memory?: number
  CgroupParent?: string
  BlkioWeight?: number
  BlkioWeightDevice?: WeightDevice[] | null
  BlkioDeviceReadBps?: ThrottleDevice[] | null
  BlkioDeviceWriteBps?: ThrottleDevice[] | null
  BlkioDeviceReadIOps?: ThrottleDevice[] | null
  BlkioDeviceWriteIOps?: ThrottleDevice[] | null
  CpuPeriod?: number
  CpuQuota?: number
  CpuRealtimePeriod?: number
  CpuRealtimeRuntime?: number
  CpusetCpus?: string
  CpusetMems?: string
  Devices?: DeviceMapping[] | null
  DeviceCgroupRules?: string[] | null
  DeviceRequests?: DeviceRequest[] | null
  /** Dropped by the daemon from API 1.42 on, as docker does. */
  KernelMemory?: number
  KernelMemoryTCP?: number
  MemoryReservation?: number
  MemorySwap?: number
  MemorySwappiness?: number | null
  NanoCpus?: number
  OomKillDisable?: boolean | null
  Init?: boolean | null
  PidsLimit?: number | null
  Ulimits?: Ulimit[] | null
  CpuCount?: number
  CpuPercent?: number
  IOMaximumIOps?: number
  IOMaximumBandwidth?: number

  Binds?: string[] | null
  ContainerIDFile?: string
  LogConfig?: LogConfig
  NetworkMode?: string
  PortBindings?: PortMap | null
  RestartPolicy?: RestartPolicy
  AutoRemove?: boolean
  VolumeDriver?: string
  VolumesFrom?: string[] | null
  Mounts?: Mount[] | null
  /** [height, width] of the TTY at create time. */
  ConsoleSize?: [number, number] | null
  Annotations?: Record<string, string> | null
  CapAdd?: string[] | null
  CapDrop?: string[] | null
  CgroupnsMode?: '' | 'private' | 'host' | string
  Dns?: string[] | null
  DnsOptions?: string[] | null
  DnsSearch?: string[] | null
  ExtraHosts?: string[] | null
  GroupAdd?: string[] | null
  IpcMode?: string
  Cgroup?: string
  Links?: string[] | null
  OomScoreAdj?: number
  PidMode?: string
  Privileged?: boolean
  PublishAllPorts?: boolean
  ReadonlyRootfs?: boolean
  SecurityOpt?: string[] | null
  StorageOpt?: Record<string, string> | null
  Tmpfs?: Record<string, string> | null
  UTSMode?: string
  UsernsMode?: string
  ShmSize?: number
  Sysctls?: Record<string, string> | null
  Runtime?: string
  Isolation?: string
  MaskedPaths?: string[] | null
  ReadonlyPaths?: string[] | null
}

/** Body of POST /containers/create. */
export interface ContainerCreateRequest extends ContainerConfig {
  HostConfig?: HostConfig
  NetworkingConfig?: NetworkingConfig
}

export interface ContainerCreateResponse {
  Id: string
  Warnings: string[] | null
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead'

export interface HealthcheckResult {
  Start: string
  End: string
  ExitCode: number
  Output: string
}

export interface Health {
  Status: 'none' | 'starting' | 'healthy' | 'unhealthy'
  FailingStreak: number
  Log: HealthcheckResult[] | null
}

export interface ContainerState {
  Status: ContainerStatus
  Running: boolean
  Paused: boolean
  Restarting: boolean
  OOMKilled: boolean
  Dead: boolean
  Pid: number
  ExitCode: number
  Error: string
  /** RFC3339Nano; "0001-01-01T00:00:00Z" when never started. */
  StartedAt: string
  FinishedAt: string
  Health?: Health
}

/** GET /containers/{id}/json. */
export interface ContainerInspect {
  Id: string
  Created: string
  Path: string
  Args: string[]
  State: ContainerState
  Image: string
  ResolvConfPath: string
  HostnamePath: string
  HostsPath: string
  LogPath: string
  Name: string
  RestartCount: number
  Driver: string
  Platform: string
  ImageManifestDescriptor?: OCIDescriptor
  MountLabel: string
  ProcessLabel: string
  AppArmorProfile: string
  ExecIDs: string[] | null
  HostConfig: HostConfig
  GraphDriver: GraphDriverData
  SizeRw?: number
  SizeRootFs?: number
  Mounts: MountPoint[]
  Config: ContainerConfig
  NetworkSettings: NetworkSettings
}

/** One item of GET /containers/json. */
export interface ContainerSummary {
  Id: string
  Names: string[]
  Image: string
  ImageID: string
  ImageManifestDescriptor?: OCIDescriptor
  Command: string
  /** Unix seconds. */
  Created: number
  Ports: Port[]
  SizeRw?: number
  SizeRootFs?: number
  Labels: Labels
  State: ContainerStatus | string
  Status: string
  HostConfig: { NetworkMode?: string; Annotations?: Record<string, string> }
  NetworkSettings: { Networks: Record<string, EndpointSettings> }
  Mounts: MountPoint[]
}

export interface ContainerTopResponse {
  Titles: string[]
  Processes: string[][]
}

export interface ContainerWaitExitError {
  Message: string
}

export interface ContainerWaitResponse {
  StatusCode: number
  Error?: ContainerWaitExitError | null
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed'

/** One item of GET /containers/{id}/changes. */
export interface FilesystemChange {
  Path: string
  /** 0 modified, 1 added, 2 deleted. */
  Kind: 0 | 1 | 2
}

/** Body of POST /containers/{id}/update. */
export interface ContainerUpdateRequest extends Partial<HostConfig> {
  RestartPolicy?: RestartPolicy
}

export interface ContainerUpdateResponse {
  Warnings: string[] | null
}

/** Body of POST /containers/{id}/exec. */
export interface ExecConfig {
  User?: string
  Privileged?: boolean
  Tty?: boolean
  ConsoleSize?: [number, number] | null
  AttachStdin?: boolean
  AttachStderr?: boolean
  AttachStdout?: boolean
  Detach?: boolean
  DetachKeys?: string
  Env?: string[] | null
  WorkingDir?: string
  Cmd: string[]
}

/** Body of POST /exec/{id}/start, sent on the upgrade request. */
export interface ExecStartConfig {
  Detach?: boolean
  Tty?: boolean
  ConsoleSize?: [number, number] | null
}

export interface ExecProcessConfig {
  tty: boolean
  entrypoint: string
  arguments: string[]
  privileged?: boolean
  user?: string
}

/** GET /exec/{id}/json. */
export interface ExecInspect {
  CanRemove: boolean
  DetachKeys: string
  ID: string
  Running: boolean
  /** null while the process runs. */
  ExitCode: number | null
  ProcessConfig: ExecProcessConfig
  OpenStdin: boolean
  OpenStderr: boolean
  OpenStdout: boolean
  ContainerID: string
  Pid: number
}

/** X-Docker-Container-Path-Stat of HEAD/GET /containers/{id}/archive (base64 JSON). */
export interface ContainerPathStat {
  name: string
  size: number
  /** Go's os.FileMode (lib/filemode.ts). */
  mode: number
  /** RFC 3339 with nanoseconds, as Go's time.Time. */
  mtime: string
  linkTarget: string
}

/** GET /containers/{id}/stats (moby api/types/container StatsResponse): every uint64 is a number, Go's JSON names. */
export interface ThrottlingData {
  periods: number
  throttled_periods: number
  throttled_time: number
}

export interface CpuUsage {
  total_usage: number
  /** cgroup v1 only. */
  percpu_usage?: number[]
  usage_in_kernelmode: number
  usage_in_usermode: number
}

export interface CpuStats {
  cpu_usage: CpuUsage
  /** Omitted when 0, as Go's omitempty. */
  system_cpu_usage?: number
  online_cpus?: number
  throttling_data: ThrottlingData
}

export interface MemoryStats {
  usage?: number
  /** cgroup v1 only. */
  max_usage?: number
  stats?: Record<string, number>
  failcnt?: number
  limit?: number
}

export interface BlkioStatEntry {
  major: number
  minor: number
  op: string
  value: number
}

export interface BlkioStats {
  io_service_bytes_recursive: BlkioStatEntry[] | null
  io_serviced_recursive: BlkioStatEntry[] | null
  io_queue_recursive: BlkioStatEntry[] | null
  io_service_time_recursive: BlkioStatEntry[] | null
  io_wait_time_recursive: BlkioStatEntry[] | null
  io_merged_recursive: BlkioStatEntry[] | null
  io_time_recursive: BlkioStatEntry[] | null
  sectors_recursive: BlkioStatEntry[] | null
}

export interface NetworkStats {
  rx_bytes: number
  rx_packets: number
  rx_errors: number
  rx_dropped: number
  tx_bytes: number
  tx_packets: number
  tx_errors: number
  tx_dropped: number
}

export interface StatsResponse {
  /** With docker's leading slash. */
  name?: string
  id?: string
  /** RFC 3339 with nanoseconds; Go's zero time when there is no sample. */
  read: string
  preread: string
  pids_stats: { current?: number; limit?: number }
  blkio_stats: BlkioStats
  num_procs: number
  storage_stats: { read_count_normalized?: number; read_size_bytes?: number; write_count_normalized?: number; write_size_bytes?: number }
  cpu_stats: CpuStats
  precpu_stats: CpuStats
  memory_stats: MemoryStats
  networks?: Record<string, NetworkStats>
}
