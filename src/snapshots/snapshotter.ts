/**
 * Snapshotter: read-only layers keyed by chainID, plus one writable snapshot
 * per key (a container) on top of a layer. It returns mounts and never mounts:
 * containers/ and build/ do that (containerd core/mount: "Mount is the lingua
 * franca").
 *
 * Lifecycle: commitLayer() each layer bottom-up (idempotent per chainID) →
 * prepare(key, top chainID) → caller mounts, runs, unmounts → remove(key).
 * removeLayer() only once no image and no snapshot sits on the layer; the
 * caller (images/) keeps those reference counts.
 */
import type { Readable } from 'node:stream'

export interface Mount {
  /** Filesystem type for mount(2): 'overlay', 'bind'. */
  type: string
  source: string
  options: string[]
  /**
   * Directory to mount from: option paths are relative to it (overlay's
   * lowerdir list stays under a page for deep images). Spawn mount with this cwd.
   */
  cwd?: string
}

export interface LayerInfo {
  chainId: string
  diffId: string
  parent: string | null
  /** Unpacked bytes of this layer alone. */
  size: number
  /** Bytes of the tar it was unpacked from; absent for layers recorded before this was kept. */
  tarSize?: number
}

export interface CommitLayerOptions {
  /** The diffID the stream must hash to; lets an existing layer be skipped without unpacking. */
  expectedDiffId?: string
  signal?: AbortSignal
}

/** Paths docker reports as GraphDriver.Data (overlay2: LowerDir, UpperDir, WorkDir, MergedDir). */
export type DriverData = Record<string, string>

export interface Snapshotter {
  readonly driverName: string

  /** Apply an uncompressed layer tar on top of parent (null: a base layer). */
  commitLayer(parent: string | null, tar: Readable, opts?: CommitLayerOptions): Promise<LayerInfo>
  hasLayer(chainId: string): Promise<boolean>
  /** What commitLayer returned for the layer; not-found if it is not here. */
  layerInfo(chainId: string): Promise<LayerInfo>
  removeLayer(chainId: string): Promise<void>
  /** GraphDriver data for an image whose top layer is chainId. */
  layerDriverData(chainId: string | null): Promise<DriverData>
  /** The layer's unpacked directory, read-only by contract (export, save fallback). */
  layerDir(chainId: string): string

  /** Create the writable snapshot `key` over parent (null: an empty rootfs); returns how to mount it. */
  prepare(key: string, parent: string | null): Promise<Mount[]>
  /** The mounts of an existing snapshot (after a daemon restart). */
  mounts(key: string): Promise<Mount[]>
  /** Where the caller may mount the snapshot (docker's MergedDir). */
  mountpoint(key: string): string
  /** The writable directory (overlay upper), for diff and commit. */
  upperDir(key: string): string
  snapshotDriverData(key: string): Promise<DriverData>
  /** Bytes written in the snapshot (for `ps -s`). */
  usage(key: string): Promise<{ size: number; inodes: number }>
  /** Remove the snapshot; it must be unmounted. Missing keys are fine. */
  remove(key: string): Promise<void>
  /** Remove the layers and snapshots not kept (crash leftovers); only while nothing else uses the snapshotter. */
  prune(keep: { layers: ReadonlySet<string>; snapshots: ReadonlySet<string> }): Promise<string[]>
  exists(key: string): Promise<boolean>
}
