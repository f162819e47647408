/** POST /build: docker's build.ImageBuildOptions (sent as query parameters) and its aux result; the prune report is in image.ts. */
import type { AuthConfig } from './auth.js'
import type { Ulimit } from './container.js'

/** build.BuilderVersion: "1" is the classic builder, "2" BuildKit. */
export type BuilderVersion = '1' | '2'

/** build.ImageBuildOutput: BuildKit's exporters; the classic builder ignores them. */
export interface ImageBuildOutput {
  Type: string
  Attrs?: Record<string, string>
}

/**
 * build.ImageBuildOptions, the client's side of POST /build. The client
 * turns each set field into docker's query parameter (`t`, `buildargs`,
 * `rm=0`…) and AuthConfigs into the X-Registry-Config header.
 */
export interface ImageBuildOptions {
  Tags?: string[]
  SuppressOutput?: boolean
  /** A URL the daemon fetches the context from, instead of the request body. */
  RemoteContext?: string
  NoCache?: boolean
  /** Defaults to true; only `false` is sent (`rm=0`). */
  Remove?: boolean
  ForceRemove?: boolean
  PullParent?: boolean
  Isolation?: string
  CPUSetCPUs?: string
  CPUSetMems?: string
  CPUShares?: number
  CPUQuota?: number
  CPUPeriod?: number
  Memory?: number
  MemorySwap?: number
  CgroupParent?: string
  NetworkMode?: string
  ShmSize?: number
  /** Path of the Dockerfile inside the context. */
  Dockerfile?: string
  Ulimits?: Ulimit[]
  /** A null value: the argument was named without a value (`--build-arg A` with no A in the environment). */
  BuildArgs?: Record<string, string | null>
  /** Registry credentials by server, for FROM images to pull. */
  AuthConfigs?: Record<string, AuthConfig>
  Labels?: Record<string, string>
  Squash?: boolean
  CacheFrom?: string[]
  SecurityOpt?: string[]
  ExtraHosts?: string[]
  Target?: string
  SessionID?: string
  Platform?: string
  Version?: BuilderVersion
  BuildID?: string
  Outputs?: ImageBuildOutput[]
}

/** The `aux` payload of a build stream (build.Result): the image built. */
export interface BuildResult {
  ID: string
}
