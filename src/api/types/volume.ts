/** Volume wire types (moby api/types/volume): the /volumes resource, its create body and prune report. */
import type { VolumePruneReport } from './image.js'

/** Size and users of a volume; only `system df` fills it (docker's LocalVolumesSize). */
export interface VolumeUsageData {
  /** Bytes under the volume's data; -1 when it could not be measured. */
  Size: number
  /** Containers referencing the volume. */
  RefCount: number
}

/** Key order is Go's struct order: the docker CLI re-marshals inspect output in it. */
export interface Volume {
  ClusterVolume?: ClusterVolume
  /** RFC 3339 to the second. */
  CreatedAt?: string
  Driver: string
  Labels: Record<string, string> | null
  Mountpoint: string
  Name: string
  Options: Record<string, string> | null
  Scope: string
  /** Driver status (local volumes have none). */
  Status?: Record<string, unknown>
  UsageData?: VolumeUsageData
}

export interface VolumeListResponse {
  Volumes: Volume[] | null
  Warnings: string[] | null
}

/** POST /volumes/create. The docker CLI omits empty fields (Go's omitempty). */
export interface VolumeCreateOptions {
  ClusterVolumeSpec?: ClusterVolumeSpec | null
  /** '' or absent means the local driver. */
  Driver?: string
  DriverOpts?: Record<string, string> | null
  Labels?: Record<string, string> | null
  /** '' or absent makes an anonymous volume with a random name. */
  Name?: string
}

/** PUT /volumes/{name}?version=N: cluster volumes only. */
export interface VolumeUpdateOptions {
  Spec?: ClusterVolumeSpec | null
}

/** The old name (types.VolumesPruneReport) of POST /volumes/prune's answer. */
export type VolumesPruneReport = VolumePruneReport

// Cluster (CSI) volumes exist only on swarm managers; berth accepts the shapes to refuse them as docker does.

export interface ClusterVolumeSpec {
  Group?: string
  AccessMode?: {
    /** single | multi */
    Scope?: string
    /** none | readonly | onewriter | all */
    Sharing?: string
    MountVolume?: { FsType?: string; MountFlags?: string[] } | null
    BlockVolume?: Record<string, never> | null
  } | null
  AccessibilityRequirements?: { Requisite?: VolumeTopology[]; Preferred?: VolumeTopology[] } | null
  CapacityRange?: { RequiredBytes: number; LimitBytes: number } | null
  Secrets?: Array<{ Key: string; Secret: string }>
  /** active | pause | drain */
  Availability?: string
}

export interface VolumeTopology {
  Segments?: Record<string, string>
}

export interface ClusterVolume {
  ID: string
  Version?: { Index?: number }
  CreatedAt?: string
  UpdatedAt?: string
  Spec: ClusterVolumeSpec
  PublishStatus?: Array<{ NodeID?: string; State?: string; PublishContext?: Record<string, string> }>
  Info?: { CapacityBytes?: number; VolumeContext?: Record<string, string>; VolumeID?: string; AccessibleTopology?: VolumeTopology[] }
}
