import type { VolumeCreateRequest, VolumeRecord } from '../../../volumes/index.js'

export interface VolumeDetail {
  volume: VolumeRecord
  mountpoint: string
  /** Containers (running or not) that mount it. */
  usedBy: string[]
}

/**
 * What the /volumes routes need; the daemon hands in the volume service. The
 * routes check docker's parameters, the driver name and the volume name, and
 * turn docker's filters into predicates; the service holds the rest.
 */
export interface VolumesBackend {
  list(): VolumeDetail[]
  /** Throws not-found `get <name>: no such volume`. */
  inspect(name: string): VolumeDetail
  /**
   * Driver is 'local' and a non-empty name is valid by then; an empty name
   * makes an anonymous volume with a random 64-hex name. A name already taken
   * returns the existing volume (docker compares only the driver).
   */
  create(req: VolumeCreateRequest): Promise<VolumeDetail>
  /**
   * 409 `remove <name>: volume is in use - [<ids>]` while used; not-found
   * `get <name>: no such volume`, unless `force`, which also drops the record
   * when the data cannot be removed (docker's PurgeOnError).
   */
  remove(name: string, force: boolean): Promise<void>
  /**
   * Removes the volumes no container uses that `keep` selects (the routes
   * have folded in docker's rules: local driver, no driver options, anonymous
   * unless `all`, labels); names in removal order and bytes freed. A second
   * prune while one runs is a conflict `a prune operation is already running`.
   */
  prune(keep: (v: VolumeRecord) => boolean): Promise<{ deleted: string[]; reclaimed: number }>
}
