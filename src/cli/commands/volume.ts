/**
 * `berth volume …`: flags → request → docker's output (docker/cli
 * cli/command/volume, formatter/volume.go, inspect/inspector.go).
 */
import type { ClusterVolumeSpec, FilterMap, Volume, VolumeCreateOptions } from '../../api/types/index.js'
import { ClientError, compareVersions } from '../../client/index.js'
import { dockerFuncs, parseTemplate } from '../../gotemplate/index.js'
import { humanSize } from '../../lib/index.js'
import type { Handler, Opts } from '../app.js'
import { bool, configFormat, err, getClient, out, str, strs } from '../context.js'
import { kvMap, parseFilters, ramInBytes, UsageError } from '../opts.js'
import { renderFormat } from '../output/format.js'
import { naturalCompare } from '../output/networks.js'
import { goStruct } from '../output/struct.js'
import { confirm, indentJSON } from './container.js'

function daemonError(e: unknown): string {
  return e instanceof ClientError ? `Error response from daemon: ${e.message}` : (e as Error).message
}

/** A copy of a string map with Go's sorted key order (encoding/json sorts map keys). */
function sortedMap(m: Record<string, string> | null | undefined): Record<string, string> | null {
  if (!m) return null
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

/** A Go nil map for templates: prints as `map[]`, indexes to `<no value>`, encodes as null. */
function nilMap(): Map<string, string> {
  return Object.assign(new Map<string, string>(), { toJSON: () => null })
}

// ---------------------------------------------------------------- create

/** The cluster-volume flags docker hides on a node that is no swarm manager; setting one still sends a spec. */
const CLUSTER_FLAGS = ['group', 'scope', 'sharing', 'availability', 'type', 'limitBytes', 'requiredBytes'] as const

/** The body docker's CLI sends: empty fields left out (omitempty), in volume.CreateOptions' order. */
export function buildVolumeCreate(name: string, opts: Opts): VolumeCreateOptions {
  const body: VolumeCreateOptions = {}
  // docker's hasClusterVolumeOptionSet; it asks for "secrets", a flag that does not exist, so --secret alone does not count.
  if (CLUSTER_FLAGS.some((f) => opts[f] !== undefined)) body.ClusterVolumeSpec = clusterSpecOf(opts)
  const driver = str(opts.driver) ?? 'local'
  if (driver) body.Driver = driver
  // Go marshals maps with sorted keys.
  const driverOpts = sortedMap(kvMap(strs(opts.opt)))
  if (driverOpts && Object.keys(driverOpts).length) body.DriverOpts = driverOpts
  const labels = sortedMap(kvMap(strs(opts.label)))
  if (labels && Object.keys(labels).length) body.Labels = labels
  if (name) body.Name = name
  return body
}

function clusterSpecOf(opts: Opts): ClusterVolumeSpec {
  const spec: ClusterVolumeSpec = {}
  const group = str(opts.group) ?? ''
  if (group) spec.Group = group
  const accessMode: NonNullable<ClusterVolumeSpec['AccessMode']> = { Scope: str(opts.scope) ?? 'single', Sharing: str(opts.sharing) ?? 'none' }
  const type = str(opts.type) ?? 'block'
  if (type === 'mount') accessMode.MountVolume = {}
  if (type === 'block') accessMode.BlockVolume = {}
  spec.AccessMode = accessMode
  const segments = (values: string[]) => values.map((t) => ({ Segments: Object.fromEntries(t.split(',').map((s) => {
    const i = s.indexOf('=')
    return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)]
  })) }))
  const requisite = segments(strs(opts.topologyRequired))
  const preferred = segments(strs(opts.topologyPreferred))
  spec.AccessibilityRequirements = { ...(requisite.length ? { Requisite: requisite } : {}), ...(preferred.length ? { Preferred: preferred } : {}) }
  const bytes = (v: unknown) => (typeof v === 'string' ? ramInBytes(v) : 0)
  spec.CapacityRange = { RequiredBytes: bytes(opts.requiredBytes), LimitBytes: bytes(opts.limitBytes) }
  const secrets = Object.entries(kvMap(strs(opts.secret))).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([Key, Secret]) => ({ Key, Secret }))
  if (secrets.length) spec.Secrets = secrets
  spec.Availability = str(opts.availability) ?? 'active'
  return spec
}

export const volumeCreateCommand: Handler = async ([arg], opts, ctx) => {
  let name = str(opts.name) ?? ''
  if (arg !== undefined) {
    if (name !== '') throw new UsageError('conflicting options: cannot specify a volume-name through both --name and as a positional arg')
    name = arg
  }
  const vol = await getClient(ctx.globals).volumeCreate(buildVolumeCreate(name, opts))
  out(`${vol.Name}\n`)
}

// ---------------------------------------------------------------- ls

export const VOLUME_HEADERS: Record<string, string> = {
  ID: 'ID', Name: 'VOLUME NAME', Group: 'GROUP', Driver: 'DRIVER', Scope: 'SCOPE', Availability: 'AVAILABILITY',
  Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Links: 'LINKS', Size: 'SIZE', Status: 'STATUS',
}

const CLUSTER_TABLE = 'table {{.Name}}\t{{.Group}}\t{{.Driver}}\t{{.Availability}}\t{{.Status}}'

/** formatter.NewVolumeFormat: `table` (quiet: names), `raw`, or the user's template. */
export function volumeFormat(source: string, quiet: boolean): string {
  if (source === 'table') return quiet ? '{{.Name}}' : 'table {{.Driver}}\t{{.Name}}'
  if (source === 'raw') return quiet ? 'name: {{.Name}}' : 'name: {{.Name}}\\ndriver: {{.Driver}}\\n'
  return source
}

export interface VolumeRow {
  Availability: string
  Driver: string
  Group: string
  Label: (name: string) => string
  Labels: string
  Links: string
  Mountpoint: string
  Name: string
  Scope: string
  Size: string
  Status: string
}

/** docker's volumeContext; fields in sorted order, as its MarshalJSON prints them. */
export function volumeRow(v: Volume): VolumeRow {
  const labels = v.Labels ?? {}
  const cv = v.ClusterVolume
  let status = 'N/A'
  if (cv) {
    const n = cv.PublishStatus?.length ?? 0
    status = !cv.Info?.VolumeID ? 'pending creation' : n === 0 ? 'created' : n === 1 ? 'in use (1 node)' : `in use (${n} nodes)`
  }
  return goStruct('formatter.volumeContext', {
    Availability: cv ? cv.Spec.Availability ?? '' : 'N/A',
    Driver: v.Driver,
    Group: cv ? cv.Spec.Group ?? '' : 'N/A',
    Label: (name: string) => labels[name] ?? '',
    // Go ranges over the map in random order; sorted is one of the orders it may print.
    Labels: Object.entries(labels).map(([k, val]) => `${k}=${val}`).sort().join(','),
    Links: v.UsageData ? String(v.UsageData.RefCount) : 'N/A',
    Mountpoint: v.Mountpoint,
    Name: v.Name,
    Scope: v.Scope,
    Size: v.UsageData ? humanSize(v.UsageData.Size) : 'N/A',
    Status: status,
  })
}

export const volumeLsCommand: Handler = async (_args, opts, ctx) => {
  const res = await getClient(ctx.globals).volumeList(parseFilters(strs(opts.filter)))
  let volumes = res.Volumes ?? []
  const quiet = bool(opts.quiet)
  let format = str(opts.format) || (quiet ? undefined : configFormat('volumesFormat')) || 'table'
  if (bool(opts.cluster)) {
    // docker keeps only cluster volumes and their own table; --format is not consulted.
    volumes = volumes.filter((v) => v.ClusterVolume)
    format = quiet ? 'table' : CLUSTER_TABLE
  }
  volumes.sort((a, b) => naturalCompare(a.Name, b.Name))
  out(renderFormat(volumeFormat(format, quiet), volumes.map(volumeRow), VOLUME_HEADERS))
}

// ---------------------------------------------------------------- inspect

/**
 * A volume as the docker CLI holds it after decoding into volume.Volume:
 * every field present (zero when absent), maps in sorted order, and for JSON
 * output the omitempty fields left out.
 */
export function inspectValue(v: Volume): object {
  const encoded: Record<string, unknown> = {}
  if (v.ClusterVolume) encoded.ClusterVolume = v.ClusterVolume
  if (v.CreatedAt) encoded.CreatedAt = v.CreatedAt
  Object.assign(encoded, {
    Driver: v.Driver ?? '', Labels: sortedMap(v.Labels), Mountpoint: v.Mountpoint ?? '', Name: v.Name ?? '',
    Options: sortedMap(v.Options), Scope: v.Scope ?? '',
  })
  if (v.Status && Object.keys(v.Status).length) encoded.Status = v.Status
  if (v.UsageData) encoded.UsageData = { RefCount: v.UsageData.RefCount, Size: v.UsageData.Size }
  const data = goStruct('volume.Volume', {
    ClusterVolume: v.ClusterVolume ?? null, CreatedAt: v.CreatedAt ?? '', Driver: v.Driver ?? '', Labels: sortedMap(v.Labels) ?? nilMap(),
    Mountpoint: v.Mountpoint ?? '', Name: v.Name ?? '', Options: sortedMap(v.Options) ?? nilMap(), Scope: v.Scope ?? '',
    Status: v.Status ?? nilMap(), UsageData: v.UsageData ?? null,
  })
  Object.defineProperty(data, 'toJSON', { value: () => encoded, enumerable: false })
  return data
}

export const volumeInspectCommand: Handler = async (names, opts, ctx) => {
  const client = getClient(ctx.globals)
  const format = str(opts.format) ?? ''
  let tmpl
  if (format !== '' && format !== 'json') {
    try {
      tmpl = parseTemplate(format, { funcs: dockerFuncs })
    } catch (e) {
      err(`template parsing error: ${(e as Error).message}\n`)
      return 64
    }
  }
  const errors: string[] = []
  const found: object[] = []
  let text = ''
  for (const name of names) {
    let v: object
    try {
      v = inspectValue(await client.volumeInspect(name))
    } catch (e) {
      errors.push(daemonError(e))
      continue
    }
    if (!tmpl) {
      found.push(v)
      continue
    }
    try {
      text += tmpl.execute(v) + '\n'
    } catch (e) {
      errors.push(`template parsing error: ${(e as Error).message}`)
    }
  }
  if (tmpl) out(text === '' ? '\n' : text)
  // json.Marshal of the typed values: compact for `json`, MarshalIndent otherwise; both escape <, > and &.
  else if (format === 'json') out(found.length ? `${JSON.stringify(found).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`)}\n` : '[]\n')
  else out(found.length ? `${indentJSON(found)}\n` : '[]\n')
  if (errors.length) {
    err(`${errors.join('\n')}\n`)
    return 1
  }
  return 0
}

// ---------------------------------------------------------------- rm

export const volumeRmCommand: Handler = async (names, opts, ctx) => {
  const client = getClient(ctx.globals)
  const errors: string[] = []
  for (const name of names) {
    try {
      await client.volumeRemove(name, bool(opts.force))
      out(`${name}\n`)
    } catch (e) {
      errors.push(daemonError(e))
    }
  }
  if (!errors.length) return 0
  // docker joins the errors (errors.Join) and exits 1.
  err(`${errors.join('\n')}\n`)
  return 1
}

// ---------------------------------------------------------------- prune

const ANONYMOUS_WARNING = 'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] '
const ALL_WARNING = 'WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue? [y/N] '

/** The filters and prompt docker's volume prune uses for an API version: --all is a filter since 1.42, and everything before. */
export function pruneRequest(opts: Opts, apiVersion: string): { filters: FilterMap; warning: string } {
  const filters = parseFilters(strs(opts.filter))
  if (compareVersions(apiVersion, '1.42') < 0) return { filters, warning: ALL_WARNING }
  if (!bool(opts.all)) return { filters, warning: ANONYMOUS_WARNING }
  if (filters.all) throw new Error('conflicting options: cannot specify both --all and --filter all=1')
  filters.all = { true: true }
  return { filters, warning: ALL_WARNING }
}

export const volumePruneCommand: Handler = async (_args, opts, ctx) => {
  const client = getClient(ctx.globals)
  const { filters, warning } = pruneRequest(opts, await client.apiVersion())
  // A cancelled prune is not an error for docker: nothing more is printed.
  if (!bool(opts.force) && !(await confirm(warning))) return 0
  const report = await client.volumesPrune(filters)
  const deleted = report.VolumesDeleted ?? []
  if (deleted.length) out(`Deleted Volumes:\n${deleted.map((n) => `${n}\n`).join('')}\n`)
  out(`Total reclaimed space: ${humanSize(deleted.length ? report.SpaceReclaimed ?? 0 : 0)}\n`)
}
