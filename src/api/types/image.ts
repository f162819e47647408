/** Image wire types: list, inspect, history, delete, prune, progress. */
import type { GraphDriverData, Labels, OCIDescriptor, Platform } from './common.js'
import type { ContainerConfig } from './container.js'

export interface ImageManifestSummary {
  ID: string
  Descriptor: OCIDescriptor
  Available: boolean
  Size: { Total: number; Content: number }
  Kind: 'image' | 'attestation' | 'unknown'
  ImageData?: { Platform: Platform; Containers: string[]; Size: { Unpacked: number } }
  AttestationData?: { For: string }
}

/** One item of GET /images/json. */
export interface ImageSummary {
  Id: string
  ParentId: string
  RepoTags: string[] | null
  RepoDigests: string[] | null
  /** Unix seconds. */
  Created: number
  Size: number
  /** -1 when not computed (shared-size=false). */
  SharedSize: number
  /** Removed in 1.44 but still accepted by old clients. */
  VirtualSize?: number
  Labels: Labels | null
  /** -1 when not computed. */
  Containers: number
  Manifests?: ImageManifestSummary[]
  Descriptor?: OCIDescriptor
}

export interface ImageRootFS {
  Type: string
  Layers?: string[]
}

export interface ImageMetadata {
  LastTagTime?: string
}

/** The image's Config as inspect reports it (a subset of ContainerConfig). */
export type ImageConfig = Pick<ContainerConfig,
  'User' | 'ExposedPorts' | 'Env' | 'Cmd' | 'Healthcheck' | 'ArgsEscaped' | 'Volumes' | 'WorkingDir'
  | 'Entrypoint' | 'OnBuild' | 'Labels' | 'StopSignal' | 'Shell'> & Partial<ContainerConfig>

/** GET /images/{name}/json. */
export interface ImageInspect {
  Id: string
  Descriptor?: OCIDescriptor
  Manifests?: ImageManifestSummary[]
  RepoTags: string[]
  RepoDigests: string[]
  Parent: string
  Comment: string
  Created?: string
  DockerVersion: string
  Author: string
  Config: ImageConfig | null
  Architecture: string
  Variant?: string
  Os: string
  OsVersion?: string
  Size: number
  GraphDriver: GraphDriverData
  RootFS: ImageRootFS
  Metadata: ImageMetadata
}

/** One item of GET /images/{name}/history. */
export interface HistoryItem {
  /** "<missing>" for layers without a local image. */
  Id: string
  /** Unix seconds. */
  Created: number
  CreatedBy: string
  Tags: string[] | null
  Size: number
  Comment: string
}

export type ImageDeleteResponseItem = { Untagged: string } | { Deleted: string }

export interface ImagePruneReport {
  ImagesDeleted: ImageDeleteResponseItem[] | null
  SpaceReclaimed: number
}

export interface ContainerPruneReport {
  ContainersDeleted: string[] | null
  SpaceReclaimed: number
}

export interface VolumePruneReport {
  VolumesDeleted: string[] | null
  SpaceReclaimed: number
}

export interface NetworkPruneReport {
  NetworksDeleted: string[] | null
}

export interface BuildCachePruneReport {
  CachesDeleted: string[] | null
  SpaceReclaimed: number
}

export interface JSONProgress {
  current?: number
  total?: number
  start?: number
  hidecounts?: boolean
  units?: string
}

export interface JSONError {
  code?: number
  message: string
}

/**
 * One line of a progress stream (pull, push, load, import, build). docker's
 * jsonmessage.JSONMessage: lower-case names, unlike the rest of the API.
 */
export interface JSONMessage {
  stream?: string
  status?: string
  progressDetail?: JSONProgress
  /** Pre-rendered bar; deprecated in 1.48 but still sent. */
  progress?: string
  id?: string
  from?: string
  time?: number
  timeNano?: number
  errorDetail?: JSONError
  /** Deprecated copy of errorDetail.message. */
  error?: string
  aux?: unknown
}
