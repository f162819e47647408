/** Domain types of the image service; api/routes/images/convert.ts maps them to docker's JSON. */
import type { ImageConfig } from '../oci/index.js'

export interface ImageRecord {
  /** `sha256:` + sha256 of the config bytes. */
  id: string
  config: ImageConfig
  rawConfig: Buffer
  /** Familiar `name:tag` strings, as docker lists them. */
  repoTags: string[]
  /** Familiar `name@sha256:…` strings. */
  repoDigests: string[]
  /** Parent image ID ('' when none): set by builds and by loads that carry one. */
  parent: string
  /** Unpacked bytes of all layers. */
  size: number
  /** chainIDs bottom to top; empty for an image without layers. */
  chainIds: string[]
  /** RFC 3339, or null if never tagged through tag/import. */
  lastTagTime: string | null
}

export interface ImageSummary {
  id: string
  parentId: string
  repoTags: string[]
  repoDigests: string[]
  /** Unix seconds (0 when the config has no created time). */
  created: number
  size: number
  labels: Record<string, string> | null
  /** -1: not computed. */
  containers: number
}

export interface ListOptions {
  all?: boolean
  /** docker filter map: reference, dangling, label, before, since, until. */
  filters?: Map<string, string[]>
}

export interface HistoryItem {
  /** Image ID for the top entry (and any entry that is a local image), else "<missing>". */
  id: string
  created: number
  createdBy: string
  tags: string[] | null
  size: number
  comment: string
}

export type DeleteItem = { untagged: string } | { deleted: string }

export interface RemoveOptions {
  force?: boolean
  noPrune?: boolean
}

export interface PruneReport {
  imagesDeleted: DeleteItem[]
  spaceReclaimed: number
}

export interface ImportOptions {
  /** Repository[:tag] to tag the result with. */
  ref?: string
  /** Dockerfile instructions, as `--change`. */
  changes?: readonly string[]
  /** History comment; docker uses "Imported from <src>". */
  message?: string
  signal?: AbortSignal
}

/** Progress of a long image operation, drawn by the API as docker's JSON messages. */
export type ImageProgress =
  | { kind: 'message'; text: string }
  | { kind: 'layer'; id: string; action: string; current: number; total: number }

export interface LoadOptions {
  signal?: AbortSignal
  progress?: (ev: ImageProgress) => void
}
