/**
 * The volume domain: named storage that outlives containers. The local driver
 * keeps each volume's data in <data-root>/volumes/<name>/_data, or mounts what
 * its options say (type, device, o) there while containers use it.
 */

export interface VolumeRecord {
  name: string
  driver: 'local'
  /** RFC 3339, as docker prints CreatedAt. */
  created: string
  labels: Record<string, string>
  /** Driver options (local: type, device, o). */
  options: Record<string, string>
  scope: 'local'
  /** Made for a container (`-v /path`, an image VOLUME): `rm -v`, `--rm` and prune remove it. */
  anonymous: boolean
}

export interface VolumeCreateRequest {
  name: string
  driver: string
  options: Record<string, string>
  labels: Record<string, string>
}
