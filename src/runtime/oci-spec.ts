/**
 * The subset of the OCI runtime-spec 1.0 config.json that berth writes. Field
 * names are the spec's (camelCase already), so objects serialize as-is.
 */
export interface OciUser {
  uid: number
  gid: number
  umask?: number
  additionalGids?: number[]
  username?: string
}

export interface OciCapabilities {
  bounding: string[]
  effective: string[]
  permitted: string[]
  inheritable?: string[]
  ambient?: string[]
}

export interface OciRlimit {
  type: string
  hard: number
  soft: number
}

export interface OciProcess {
  terminal?: boolean
  consoleSize?: { height: number; width: number }
  user: OciUser
  args: string[]
  env?: string[]
  cwd: string
  capabilities?: OciCapabilities
  rlimits?: OciRlimit[]
  noNewPrivileges?: boolean
  oomScoreAdj?: number
  apparmorProfile?: string
  selinuxLabel?: string
}

export interface OciMount {
  destination: string
  type?: string
  source?: string
  options?: string[]
}

export type NamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup'

export interface OciNamespace {
  type: NamespaceType
  path?: string
}

export interface OciDeviceRule {
  allow: boolean
  type?: 'a' | 'b' | 'c'
  major?: number
  minor?: number
  access?: string
}

export interface OciDevice {
  path: string
  type: 'c' | 'b' | 'u' | 'p'
  major: number
  minor: number
  fileMode?: number
  uid?: number
  gid?: number
}

export interface OciResources {
  devices?: OciDeviceRule[]
  memory?: {
    limit?: number
    reservation?: number
    swap?: number
    kernel?: number
    swappiness?: number
    disableOOMKiller?: boolean
  }
  cpu?: {
    shares?: number
    quota?: number
    period?: number
    realtimeRuntime?: number
    realtimePeriod?: number
    cpus?: string
    mems?: string
  }
  pids?: { limit: number }
  blockIO?: {
    weight?: number
    weightDevice?: Array<{ major: number; minor: number; weight?: number }>
    throttleReadBpsDevice?: OciThrottleDevice[]
    throttleWriteBpsDevice?: OciThrottleDevice[]
    throttleReadIOPSDevice?: OciThrottleDevice[]
    throttleWriteIOPSDevice?: OciThrottleDevice[]
  }
}

export interface OciThrottleDevice {
  major: number
  minor: number
  rate: number
}

/** linux.uidMappings / gidMappings: container ids [containerID, containerID+size) are host ids from hostID. */
export interface OciIdMapping {
  containerID: number
  hostID: number
  size: number
}

export interface OciLinux {
  namespaces: OciNamespace[]
  uidMappings?: OciIdMapping[]
  gidMappings?: OciIdMapping[]
  cgroupsPath?: string
  resources?: OciResources
  devices?: OciDevice[]
  maskedPaths?: string[]
  readonlyPaths?: string[]
  sysctl?: Record<string, string>
  seccomp?: unknown
  rootfsPropagation?: string
}

export interface OciSpec {
  ociVersion: string
  process: OciProcess
  root: { path: string; readonly?: boolean }
  hostname?: string
  mounts: OciMount[]
  linux: OciLinux
  annotations?: Record<string, string>
}
