/** System wire types: version, info, events, ping, disk usage. */
import type { ContainerSummary } from './container.js'
import type { ImageSummary } from './image.js'
import type { Volume } from './volume.js'

export interface ComponentVersion {
  Name: string
  Version: string
  Details?: Record<string, string>
}

/** GET /version. */
export interface VersionResponse {
  Platform?: { Name: string }
  Components?: ComponentVersion[]
  Version: string
  ApiVersion: string
  MinAPIVersion?: string
  GitCommit: string
  GoVersion: string
  Os: string
  Arch: string
  KernelVersion?: string
  Experimental?: boolean
  BuildTime?: string
}

export interface PluginsInfo {
  Volume: string[] | null
  Network: string[] | null
  Authorization: string[] | null
  Log: string[] | null
}

export interface IndexInfo {
  Name: string
  Mirrors: string[]
  Secure: boolean
  Official: boolean
}

export interface RegistryServiceConfig {
  InsecureRegistryCIDRs: string[]
  IndexConfigs: Record<string, IndexInfo>
  Mirrors: string[]
}

export interface Runtime {
  path?: string
  runtimeArgs?: string[]
  status?: Record<string, string>
}

export interface Commit {
  ID: string
  Expected?: string
}

export interface SwarmInfo {
  NodeID: string
  NodeAddr: string
  LocalNodeState: '' | 'inactive' | 'pending' | 'active' | 'error' | 'locked'
  ControlAvailable: boolean
  Error: string
  RemoteManagers: { NodeID: string; Addr: string }[] | null
  Nodes?: number
  Managers?: number
  Cluster?: Record<string, unknown>
}

/** GET /info. */
export interface SystemInfo {
  ID: string
  Containers: number
  ContainersRunning: number
  ContainersPaused: number
  ContainersStopped: number
  Images: number
  Driver: string
  DriverStatus: [string, string][] | null
  DockerRootDir: string
  Plugins: PluginsInfo
  MemoryLimit: boolean
  SwapLimit: boolean
  KernelMemoryTCP?: boolean
  CpuCfsPeriod: boolean
  CpuCfsQuota: boolean
  CPUShares: boolean
  CPUSet: boolean
  PidsLimit: boolean
  OomKillDisable: boolean
  IPv4Forwarding: boolean
  BridgeNfIptables?: boolean
  BridgeNfIp6tables?: boolean
  Debug: boolean
  NFd: number
  NGoroutines: number
  SystemTime: string
  LoggingDriver: string
  CgroupDriver: 'cgroupfs' | 'systemd' | 'none' | string
  CgroupVersion: '1' | '2' | string
  NEventsListener: number
  KernelVersion: string
  OperatingSystem: string
  OSVersion: string
  OSType: string
  Architecture: string
  NCPU: number
  MemTotal: number
  IndexServerAddress: string
  RegistryConfig: RegistryServiceConfig | null
  GenericResources?: unknown[] | null
  HttpProxy: string
  HttpsProxy: string
  NoProxy: string
  Name: string
  Labels: string[]
  ExperimentalBuild: boolean
  ServerVersion: string
  Runtimes: Record<string, Runtime>
  DefaultRuntime: string
  Swarm: SwarmInfo
  LiveRestoreEnabled: boolean
  Isolation: string
  InitBinary: string
  ContainerdCommit: Commit
  RuncCommit: Commit
  InitCommit: Commit
  SecurityOptions: string[]
  ProductLicense?: string
  DefaultAddressPools?: { Base: string; Size: number }[]
  FirewallBackend?: { Driver: string; Info?: [string, string][] }
  CDISpecDirs?: string[]
  DiscoveredDevices?: { Source: string; ID: string }[]
  Containerd?: { Address: string; Namespaces: { Containers: string; Plugins: string } } | null
  Warnings: string[] | null
}

export type EventType = 'builder' | 'config' | 'container' | 'daemon' | 'image' | 'network' | 'node'
  | 'plugin' | 'secret' | 'service' | 'volume'

export interface EventActor {
  ID: string
  Attributes: Record<string, string>
}

/** One line of GET /events. */
export interface EventMessage {
  Type: EventType | string
  Action: string
  Actor: EventActor
  scope?: 'local' | 'swarm'
  /** Unix seconds. */
  time: number
  timeNano: number
  // Deprecated duplicates that docker still sends for container and image events.
  status?: string
  id?: string
  from?: string
}

/** Headers of HEAD/GET /_ping, as parsed by a client. */
export interface PingInfo {
  ApiVersion: string
  OSType: string
  Experimental: boolean
  BuilderVersion?: string
  SwarmStatus?: string
}

/**
 * One record of the build cache in GET /system/df (moby build.CacheRecord).
 * moby's struct tag for Parents has a leading space (`json:" Parents,omitempty"`),
 * so dockerd sends and the docker CLI reads the key " Parents"; berth keeps it.
 */
export interface BuildCacheRecord {
  ID: string
  /** Before API 1.42 only; omitted when empty. */
  Parent?: string
  /** API 1.42 and later; omitted when empty. */
  ' Parents'?: string[]
  Type: string
  Description: string
  InUse: boolean
  Shared: boolean
  Size: number
  /** RFC 3339 with nanoseconds, as Go encodes a time.Time. */
  CreatedAt: string
  LastUsedAt: string | null
  UsageCount: number
}

/**
 * GET /system/df (moby types.DiskUsage): every key is sent, a part the
 * `type` parameters (API 1.42+) left out is null, LayersSize 0.
 */
export interface DiskUsage {
  LayersSize: number
  Images: ImageSummary[] | null
  Containers: ContainerSummary[] | null
  Volumes: Volume[] | null
  BuildCache: BuildCacheRecord[] | null
  /** Before API 1.42 only: the build cache's total size; omitted when 0. */
  BuilderSize?: number
}

export type DiskUsageType = 'container' | 'image' | 'volume' | 'build-cache'
