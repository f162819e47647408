/**
 * The content store: immutable blobs addressed by digest. Split by role so a
 * caller takes only what it needs (containerd core/content: Provider,
 * Ingester, Manager).
 */
import type { Readable } from 'node:stream'
import type { Digest } from '../oci/index.js'

export interface BlobInfo {
  digest: Digest
  size: number
}

export interface Provider {
  /** A stream of the blob's bytes; not-found if absent. */
  read(digest: Digest): Promise<Readable>
  readAll(digest: Digest): Promise<Buffer>
  stat(digest: Digest): Promise<BlobInfo | null>
  /** The blob's file path, for tools that want a path (GNU tar -f). */
  path(digest: Digest): string
}

export interface IngestOptions {
  /** Reject (and keep nothing) if the bytes do not hash to this. */
  expected?: Digest
  /** Reject once more than this many bytes arrive. */
  maxSize?: number
  signal?: AbortSignal
}

export interface Ingester {
  /**
   * Store a stream. Either the blob ends up complete and verified under its
   * digest, or nothing is kept (a crash leaves only a temp file that the
   * next open removes).
   */
  ingest(src: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, opts?: IngestOptions): Promise<BlobInfo>
  ingestBytes(data: Uint8Array, expected?: Digest): Promise<BlobInfo>
  /**
   * Keep an existing file (one berthd wrote and will not touch again) as the
   * blob `expected`, linked into place instead of copied; hashed first unless
   * `verified` says its bytes were already checked. On another filesystem it
   * is copied through ingest.
   */
  adopt(file: string, expected: Digest, opts?: { verified?: boolean; signal?: AbortSignal }): Promise<BlobInfo>
}

export interface Manager {
  delete(digest: Digest): Promise<void>
  list(): Promise<BlobInfo[]>
  walk(fn: (info: BlobInfo) => Promise<void> | void): Promise<void>
}

export type ContentStore = Provider & Ingester & Manager
