/**
 * docker's three ways of asking for mounts — HostConfig.Binds (`-v src:dst:opts`),
 * HostConfig.Mounts (`--mount`) and Config.Volumes — parsed into the domain's
 * MountSpec with docker's error messages. Pure: whether a bind source exists is
 * the container service's question.
 */
import type { MountSpec } from '../../../containers/index.js'
import { invalidArgument } from '../../../errors/index.js'
import type { Mount, MountPoint } from '../../types/index.js'

const PROPAGATION = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'])
const LABELS = new Set(['z', 'Z'])
const CONSISTENCY = new Set(['consistent', 'cached', 'delegated'])

function absolute(p: string, type: string): void {
  if (!p.startsWith('/')) throw invalidArgument(`invalid mount config for type "${type}": invalid mount path: '${p}' mount path must be absolute`)
}

/** One `-v` entry: `name:/dst`, `/host:/dst`, each with `:ro,z,nocopy,rshared,...`. */
export function parseBind(spec: string): MountSpec {
  const parts = spec.split(':')
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) throw invalidArgument(`invalid volume specification: '${spec}'`)
  const [src = '', dst = '', modeText = ''] = parts
  const type = src.startsWith('/') ? 'bind' : 'volume'
  absolute(dst, type)
  if (dst === '/') throw invalidArgument(`invalid volume specification: '${spec}': invalid mount config for type "${type}": invalid specification: destination can't be '/'`)
  let readonly = false
  let propagation = ''
  let noCopy = false
  let rwSeen = 0
  for (const m of modeText ? modeText.split(',') : []) {
    if (m === 'ro' || m === 'rw') {
      rwSeen++
      readonly = m === 'ro'
    } else if (PROPAGATION.has(m)) {
      if (type === 'volume') throw invalidArgument(`invalid mode: ${modeText}`)
      propagation = m
    } else if (m === 'nocopy') {
      if (type === 'bind') throw invalidArgument(`invalid mode: ${modeText}`)
      noCopy = true
    } else if (!LABELS.has(m) && !CONSISTENCY.has(m)) {
      throw invalidArgument(`invalid mode: ${modeText}`)
    }
  }
  if (rwSeen > 1) throw invalidArgument(`invalid mode: ${modeText}`)
  return {
    type,
    source: src,
    target: dst,
    readonly,
    mode: modeText,
    propagation: type === 'bind' ? propagation || 'rprivate' : '',
    noCopy,
    origin: 'binds',
    ...(type === 'bind' ? { createSource: true } : {}),
  }
}

/** One `--mount` entry (HostConfig.Mounts). */
export function parseMount(m: Mount): MountSpec {
  if (!m || typeof m !== 'object') throw invalidArgument('invalid mount config: expected an object')
  const type = m.Type
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') {
    if (type === 'npipe' || type === 'cluster' || type === 'image') throw invalidArgument(`invalid mount config for type "${type}": mount type unknown or not supported on this platform`)
    throw invalidArgument(`invalid mount config: mount type unknown: "${String(type)}"`)
  }
  const target = m.Target ?? ''
  if (target === '') throw invalidArgument(`invalid mount config for type "${type}": field Target must not be empty`)
  absolute(target, type)
  const source = m.Source ?? ''
  const wrong = (field: string) => invalidArgument(`invalid mount config for type "${type}": field ${field} must not be specified`)
  if (type === 'bind') {
    if (source === '') throw invalidArgument('invalid mount config for type "bind": field Source must not be empty')
    absolute(source, type)
    if (m.VolumeOptions) throw wrong('VolumeOptions')
    if (m.TmpfsOptions) throw wrong('TmpfsOptions')
    const prop = m.BindOptions?.Propagation ?? ''
    if (prop && !PROPAGATION.has(prop)) throw invalidArgument(`invalid mount config for type "bind": invalid propagation mode: ${prop}`)
    return { type, source, target, readonly: m.ReadOnly === true, mode: '', propagation: prop || 'rprivate', noCopy: false, origin: 'mounts', createSource: m.BindOptions?.CreateMountpoint === true }
  }
  if (type === 'volume') {
    if (m.BindOptions) throw wrong('BindOptions')
    if (m.TmpfsOptions) throw wrong('TmpfsOptions')
    const vo = m.VolumeOptions
    return {
      type,
      source,
      target,
      readonly: m.ReadOnly === true,
      mode: '',
      propagation: '',
      noCopy: vo?.NoCopy === true,
      origin: 'mounts',
      volumeOptions: { driver: vo?.DriverConfig?.Name ?? '', options: { ...(vo?.DriverConfig?.Options ?? {}) }, labels: { ...(vo?.Labels ?? {}) } },
    }
  }
  if (source !== '') throw wrong('Source')
  if (m.BindOptions) throw wrong('BindOptions')
  if (m.VolumeOptions) throw wrong('VolumeOptions')
  const size = m.TmpfsOptions?.SizeBytes ?? 0
  if (size < 0) throw invalidArgument(`invalid mount config for type "tmpfs": invalid tmpfs size ${size}`)
  return { type, source: '', target, readonly: m.ReadOnly === true, mode: '', propagation: '', noCopy: false, origin: 'mounts', tmpfs: { size, mode: m.TmpfsOptions?.Mode ?? 0 } }
}

/** Every mount a create request asks for, checked for a destination given twice. */
export function mountsFromCreate(binds: string[], mounts: Mount[] | null | undefined): MountSpec[] {
  const out = [...binds.map(parseBind), ...(mounts ?? []).map(parseMount)]
  const seen = new Set<string>()
  for (const m of out) {
    const t = m.target.replace(/\/+$/, '') || '/'
    if (seen.has(t)) throw invalidArgument(`Duplicate mount point: ${t}`)
    seen.add(t)
  }
  return out
}

/** HostConfig.Mounts as the user gave them (the --mount ones). */
export function hostConfigMounts(mounts: MountSpec[]): Mount[] | undefined {
  const given = mounts.filter((m) => m.origin === 'mounts')
  if (!given.length) return undefined
  return given.map((m) => {
    const out: Mount = { Type: m.type, Source: m.anonymous ? '' : m.source, Target: m.target }
    if (m.readonly) out.ReadOnly = true
    if (m.type === 'bind' && m.propagation !== 'rprivate') out.BindOptions = { Propagation: m.propagation }
    if (m.type === 'volume' && (m.noCopy || Object.keys(m.volumeOptions?.labels ?? {}).length)) out.VolumeOptions = { NoCopy: m.noCopy, ...(Object.keys(m.volumeOptions?.labels ?? {}).length ? { Labels: m.volumeOptions?.labels } : {}) }
    if (m.type === 'tmpfs' && m.tmpfs && (m.tmpfs.size || m.tmpfs.mode)) out.TmpfsOptions = { ...(m.tmpfs.size ? { SizeBytes: m.tmpfs.size } : {}), ...(m.tmpfs.mode ? { Mode: m.tmpfs.mode } : {}) }
    return out
  })
}

/** inspect's and ps's Mounts. */
export function mountPoints(mounts: MountSpec[], volumePath: (name: string) => string): MountPoint[] {
  return mounts.map((m) => {
    if (m.type === 'volume') {
      return { Type: 'volume', Name: m.source, Source: volumePath(m.source), Destination: m.target, Driver: 'local', Mode: m.origin === 'mounts' ? '' : m.mode || 'z', RW: !m.readonly, Propagation: '' }
    }
    if (m.type === 'bind') return { Type: 'bind', Source: m.source, Destination: m.target, Mode: m.mode, RW: !m.readonly, Propagation: m.propagation }
    return { Type: 'tmpfs', Source: '', Destination: m.target, Mode: '', RW: !m.readonly, Propagation: '' }
  })
}
