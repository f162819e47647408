/**
 * Image-spec JSON documents (config, manifest, index), field names as on the
 * wire: these bytes are hashed into image IDs and digests, so they stay raw.
 */
import type { Digest } from './digest.js'

export interface Descriptor {
  mediaType: string
  digest: Digest
  size: number
  urls?: string[]
  annotations?: Record<string, string>
  platform?: Platform
}

export interface Platform {
  architecture: string
  os: string
  'os.version'?: string
  'os.features'?: string[]
  variant?: string
}

export interface HealthcheckConfig {
  Test?: string[]
  Interval?: number
  Timeout?: number
  StartPeriod?: number
  StartInterval?: number
  Retries?: number
}

/** The runtime part of an image config; docker's container.Config keys. */
export interface RunConfig {
  Hostname?: string
  Domainname?: string
  User?: string
  AttachStdin?: boolean
  AttachStdout?: boolean
  AttachStderr?: boolean
  ExposedPorts?: Record<string, Record<string, never>> | null
  Tty?: boolean
  OpenStdin?: boolean
  StdinOnce?: boolean
  Env?: string[] | null
  Cmd?: string[] | null
  Healthcheck?: HealthcheckConfig | null
  ArgsEscaped?: boolean
  Image?: string
  Volumes?: Record<string, Record<string, never>> | null
  WorkingDir?: string
  Entrypoint?: string[] | null
  OnBuild?: string[] | null
  Labels?: Record<string, string> | null
  StopSignal?: string
  Shell?: string[] | null
}

export interface HistoryEntry {
  created?: string
  created_by?: string
  author?: string
  comment?: string
  empty_layer?: boolean
}

export interface ImageConfig {
  architecture: string
  os: string
  variant?: string
  'os.version'?: string
  created?: string
  author?: string
  comment?: string
  docker_version?: string
  parent?: string
  config?: RunConfig | null
  container_config?: RunConfig | null
  container?: string
  rootfs: { type: string; diff_ids: Digest[] }
  history?: HistoryEntry[]
}

export interface Manifest {
  schemaVersion: 2
  mediaType?: string
  config: Descriptor
  layers: Descriptor[]
  annotations?: Record<string, string>
}

export interface Index {
  schemaVersion: 2
  mediaType?: string
  manifests: Descriptor[]
  annotations?: Record<string, string>
}

/**
 * docker's container.HealthConfig with durations in nanoseconds, as the
 * builder parses HEALTHCHECK and containers run it; 0 means "inherit" (at
 * create) or "the default" (when probing).
 */
export interface HealthConfig {
  /** `['NONE']`, `['CMD', ...argv]`, `['CMD-SHELL', command]`; empty inherits the image's. */
  test: string[]
  interval: number
  timeout: number
  startPeriod: number
  startInterval: number
  retries: number
}
