/**
 * Volumes between the domain's records and docker's JSON (moby
 * api/types/volume, volume/service/convert.go volumeToAPIType), and the
 * checks dockerd's local driver makes on a create request.
 */
import { randomBytes } from 'node:crypto'
import { invalidArgument, notFound } from '../../../errors/index.js'
import type { VolumeCreateRequest, VolumeRecord } from '../../../volumes/index.js'
import type { Volume, VolumeCreateOptions } from '../../types/index.js'
import { goString, goStringMap, goStrings, type GoType } from '../networks/decode.js'
import type { VolumeDetail } from './backend.js'

/** The label dockerd puts on anonymous volumes; prune without `all` takes only volumes carrying it. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous'

/** The only volume driver berth has. */
export const LOCAL_DRIVER = 'local'

/** A record's labels as docker shows them: anonymous volumes carry ANONYMOUS_LABEL. */
export function labelsOf(v: VolumeRecord): Record<string, string> {
  if (!v.anonymous || Object.hasOwn(v.labels, ANONYMOUS_LABEL)) return v.labels
  return { ...v.labels, [ANONYMOUS_LABEL]: '' }
}

/**
 * A volume in docker's JSON, keys in Go's struct order. Empty labels and
 * options are null, as dockerd stores what the CLI sent (it omits empty
 * maps). UsageData only when `size` is given: dockerd measures volumes for
 * `system df` alone.
 */
export function toVolume(d: VolumeDetail, size?: number): Volume {
  const labels = labelsOf(d.volume)
  const options = d.volume.options
  const out: Volume = {
    CreatedAt: d.volume.created,
    Driver: d.volume.driver,
    Labels: Object.keys(labels).length ? { ...labels } : null,
    Mountpoint: d.mountpoint,
    Name: d.volume.name,
    Options: Object.keys(options).length ? { ...options } : null,
    Scope: d.volume.scope,
  }
  if (size !== undefined) out.UsageData = { RefCount: d.usedBy.length, Size: size }
  return out
}

const topologyType: GoType = { kind: 'struct', go: 'volume.Topology', fields: { Segments: goStringMap } }

const clusterVolumeSpecType: GoType = {
  kind: 'struct', go: 'volume.ClusterVolumeSpec',
  fields: {
    Group: goString,
    AccessMode: {
      kind: 'struct', go: 'volume.AccessMode',
      fields: {
        Scope: { kind: 'string', go: 'volume.Scope' },
        Sharing: { kind: 'string', go: 'volume.SharingMode' },
        MountVolume: { kind: 'struct', go: 'volume.TypeMount', fields: { FsType: goString, MountFlags: goStrings } },
        BlockVolume: { kind: 'struct', go: 'volume.TypeBlock', fields: {} },
      },
    },
    AccessibilityRequirements: {
      kind: 'struct', go: 'volume.TopologyRequirement',
      fields: {
        Requisite: { kind: 'slice', go: '[]volume.Topology', elem: topologyType },
        Preferred: { kind: 'slice', go: '[]volume.Topology', elem: topologyType },
      },
    },
    CapacityRange: { kind: 'struct', go: 'volume.CapacityRange', fields: { RequiredBytes: { kind: 'int', go: 'int64' }, LimitBytes: { kind: 'int', go: 'int64' } } },
    Secrets: { kind: 'slice', go: '[]volume.Secret', elem: { kind: 'struct', go: 'volume.Secret', fields: { Key: goString, Secret: goString } } },
    Availability: { kind: 'string', go: 'volume.Availability' },
  },
}

/** volume.CreateOptions as encoding/json sees it. */
export const createOptionsType: GoType = {
  kind: 'struct', go: 'volume.CreateOptions',
  fields: { ClusterVolumeSpec: clusterVolumeSpecType, Driver: goString, DriverOpts: goStringMap, Labels: goStringMap, Name: goString },
}

/** Go's %q of a string: double-quoted, Go's escapes for control and invalid characters. */
export function goQuote(s: string): string {
  let out = '"'
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0
    const esc: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' }
    const e = esc[ch]
    if (e) out += e
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`
    else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd'
    else if (c >= 0x80 && c <= 0x9f) out += `\\u${c.toString(16).padStart(4, '0')}`
    else out += ch
  }
  return out + '"'
}

const NAME_CHARS = '[a-zA-Z0-9][a-zA-Z0-9_.-]'
const NAME_PATTERN = new RegExp(`^${NAME_CHARS}+$`)

/** The local driver's name rules (volume/local validateName), worded as dockerd's create error. */
export function validateVolumeName(name: string): void {
  // Go's len counts bytes: one multibyte character fails the pattern instead.
  if (Buffer.byteLength(name) === 1) {
    throw invalidArgument(`create ${name}: volume name is too short, names should be at least two alphanumeric characters`)
  }
  if (!NAME_PATTERN.test(name)) {
    throw invalidArgument(`create ${name}: ${goQuote(name)} includes invalid characters for a local volume name, only ${goQuote(NAME_CHARS)} are allowed. If you intended to pass a host directory, use absolute path`)
  }
}

/**
 * The domain's create request from docker's body, checked as dockerd's
 * volume store does: the driver first (only `local` exists; '' means it),
 * then a given name against the local driver's rules.
 */
export function createSpecOf(body: VolumeCreateOptions): VolumeCreateRequest {
  const name = body.Name ?? ''
  const driver = body.Driver || LOCAL_DRIVER
  if (driver !== LOCAL_DRIVER) {
    // dockerd names an anonymous volume before looking the driver up, so its error shows the random name.
    const shown = name || randomBytes(32).toString('hex')
    throw notFound(`create ${shown}: error looking up volume plugin ${driver}: plugin ${goQuote(driver)} not found`)
  }
  if (name !== '') validateVolumeName(name)
  return { name, driver, options: { ...(body.DriverOpts ?? {}) }, labels: { ...(body.Labels ?? {}) } }
}
