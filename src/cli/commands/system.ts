/** version, info, events, df and prune. */
import type {
  BuildCacheRecord, ContainerSummary, DiskUsage, EventMessage, FilterMap, ImageSummary, SystemInfo, VersionResponse, Volume,
} from '../../api/types/index.js'
import { ClientError, readJSONStream, type EngineClient } from '../../client/index.js'
import { parseTemplate, dockerFuncs } from '../../gotemplate/index.js'
import type { Handler } from '../app.js'
import { bool, err, getClient, out, str, strs } from '../context.js'
import { getTimestamp, parseFilters } from '../opts.js'
import { bytesSize, humanDuration, humanSize, humanSizeWithPrecision } from '../../lib/index.js'
import { CONTAINER_HEADERS, IMAGE_HEADERS, containerRow, imageRows, truncateID } from '../output/contexts.js'
import { finalTemplate, isTable, renderFormat } from '../output/format.js'
import { naturalLess } from '../output/networks.js'
import { goStruct, isGoStruct } from '../output/struct.js'
import { confirm } from './container.js'
import { VOLUME_HEADERS, volumeRow } from './volume.js'

const CLIENT_VERSION = '0.1.0'

/** A --format error: printed as is, with docker's exit status. */
class FormatError extends Error {
  constructor(message: string, readonly status: number) {
    super(message)
  }
}

/**
 * Runs a version/info --format template as docker does: a parse error is
 * "template parsing error: …" (status 64); an execution error is printed as
 * is (status 1) after an empty line on stdout.
 */
function runTemplate(format: string, data: unknown, name: string, type: string): string {
  const text = format === 'json' ? '{{json .}}' : format.replace(/\\t/g, '\t').replace(/\\n/g, '\n')
  let tmpl
  try {
    tmpl = parseTemplate(text, { funcs: dockerFuncs, name })
  } catch (e) {
    throw new FormatError(`template parsing error: ${(e as Error).message}`, 64)
  }
  try {
    return tmpl.execute(data)
  } catch (e) {
    // docker's data is a value, not a pointer, of `type`.
    out('\n')
    throw new FormatError((e as Error).message.replace(`*${type}`, type), 1)
  }
}

function formatFailure(e: unknown): number {
  if (!(e instanceof FormatError)) throw e
  err(`${e.message}\n`)
  return e.status
}

/**
 * docker's types.Version: Go field names for templates ({{.Server.APIVersion}}),
 * encoding to the wire names with empty optional fields left out (omitempty).
 */
function serverVersion(v: VersionResponse): object {
  const platform = goStruct('struct { Name string }', { Name: v.Platform?.Name ?? '' })
  const components = (v.Components ?? []).map((c) => {
    const details: Record<string, unknown> = {}
    for (const k of Object.keys(c.Details ?? {}).sort()) details[k] = (c.Details as Record<string, unknown>)[k]
    return goStruct('types.ComponentVersion', { Name: c.Name, Version: c.Version, Details: c.Details ? details : null })
  })
  const wire: Record<string, unknown> = {}
  if (v.Platform) wire.Platform = platform
  wire.Components = components.map((c) => goStruct('types.ComponentVersion', { Name: c.Name, Version: c.Version, ...(c.Details ? { Details: c.Details } : {}) }))
  wire.Version = v.Version
  wire.ApiVersion = v.ApiVersion
  if (v.MinAPIVersion) wire.MinAPIVersion = v.MinAPIVersion
  wire.GitCommit = v.GitCommit
  wire.GoVersion = v.GoVersion
  wire.Os = v.Os
  wire.Arch = v.Arch
  if (v.KernelVersion) wire.KernelVersion = v.KernelVersion
  if (v.Experimental) wire.Experimental = v.Experimental
  if (v.BuildTime) wire.BuildTime = v.BuildTime
  const json = goStruct('types.Version', wire)
  return goStruct('types.Version', {
    Platform: platform, Components: components, Version: v.Version, APIVersion: v.ApiVersion, MinAPIVersion: v.MinAPIVersion ?? '',
    GitCommit: v.GitCommit, GoVersion: v.GoVersion, Os: v.Os, Arch: v.Arch, KernelVersion: v.KernelVersion ?? '',
    Experimental: v.Experimental ?? false, BuildTime: v.BuildTime ?? '', toJSON: () => json,
  })
}

/** docker's clientVersion: Go field names, ApiVersion on the wire. */
function clientVersion(c: Record<string, unknown>): object {
  const json = goStruct('system.clientVersion', c)
  const fields: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(c)) fields[k === 'ApiVersion' ? 'APIVersion' : k] = v
  return goStruct('system.clientVersion', { ...fields, toJSON: () => json })
}

/** docker's system.Info field order, which `info --format '{{json .}}'` follows. */
const INFO_FIELDS = ['ID', 'Containers', 'ContainersRunning', 'ContainersPaused', 'ContainersStopped', 'Images', 'Driver', 'DriverStatus',
  'SystemStatus', 'Plugins', 'MemoryLimit', 'SwapLimit', 'KernelMemory', 'KernelMemoryTCP', 'CpuCfsPeriod', 'CpuCfsQuota', 'CPUShares', 'CPUSet',
  'PidsLimit', 'IPv4Forwarding', 'BridgeNfIptables', 'BridgeNfIp6tables', 'Debug', 'NFd', 'OomKillDisable', 'NGoroutines', 'SystemTime',
  'LoggingDriver', 'CgroupDriver', 'CgroupVersion', 'NEventsListener', 'KernelVersion', 'OperatingSystem', 'OSVersion', 'OSType',
  'Architecture', 'IndexServerAddress', 'RegistryConfig', 'NCPU', 'MemTotal', 'GenericResources', 'DockerRootDir', 'HttpProxy',
  'HttpsProxy', 'NoProxy', 'Name', 'Labels', 'ExperimentalBuild', 'ServerVersion', 'Runtimes', 'DefaultRuntime', 'Swarm',
  'LiveRestoreEnabled', 'Isolation', 'InitBinary', 'ContainerdCommit', 'RuncCommit', 'InitCommit', 'SecurityOptions', 'ProductLicense',
  'DefaultAddressPools', 'FirewallBackend', 'CDISpecDirs', 'Containerd', 'Warnings']

/** Plain objects as Maps, which the template engine encodes with sorted keys as Go does maps. */
function sortedMaps(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedMaps)
  if (v && typeof v === 'object') return new Map(Object.entries(v).map(([k, x]) => [k, sortedMaps(x)]))
  return v
}

/** The data of `info --format`: the daemon's fields in docker's order, then ClientInfo. */
export function infoData(i: SystemInfo): Record<string, unknown> {
  const src = i as unknown as Record<string, unknown>
  const o: Record<string, unknown> = {}
  for (const k of INFO_FIELDS) if (k in src) o[k] = src[k]
  for (const k of Object.keys(src)) if (!(k in o)) o[k] = src[k]
  // registry.ServiceConfig marshals through a map: its JSON keys come out sorted, nested ones too.
  if (o.RegistryConfig && typeof o.RegistryConfig === 'object') o.RegistryConfig = sortedMaps(o.RegistryConfig)
  if (!('CDISpecDirs' in o)) o.CDISpecDirs = null
  if (!('Warnings' in o)) o.Warnings = null
  o.ClientInfo = {
    Debug: false, Version: CLIENT_VERSION, DefaultAPIVersion: '1.50', GitCommit: '', GoVersion: nodeVersion(), Os: 'linux',
    Arch: goArch(), BuildTime: '', Context: 'default', Plugins: [], Warnings: null,
  }
  return goStruct('system.dockerInfo', o)
}

const nodeVersion = (): string => `node${process.versions.node}`
const goArch = (): string => (process.arch === 'x64' ? 'amd64' : process.arch)

export const versionCommand: Handler = async (_args, opts, ctx) => {
  const client = getClient(ctx.globals)
  const clientInfo = {
    Platform: { Name: 'berth' }, Version: CLIENT_VERSION, ApiVersion: '1.50', DefaultAPIVersion: '1.50',
    GitCommit: '', GoVersion: nodeVersion(), Os: 'linux', Arch: goArch(),
    BuildTime: '', Context: 'default',
  }
  let server: VersionResponse | undefined
  let serverErr: unknown
  try {
    server = await client.version()
  } catch (e) {
    serverErr = e
  }
  const format = str(opts.format)
  if (format) {
    try {
      const data = goStruct('system.versionInfo', { Client: clientVersion(clientInfo), Server: server ? serverVersion(server) : null })
      out(runTemplate(format, data, 'version', 'system.versionInfo') + '\n')
    } catch (e) {
      return formatFailure(e)
    }
  } else {
    let s = `Client:\n Version:           ${clientInfo.Version}\n API version:       ${clientInfo.ApiVersion}\n Node version:      ${clientInfo.GoVersion}\n OS/Arch:           linux/${clientInfo.Arch}\n Context:           default\n`
    if (server) {
      s += `\nServer: ${server.Platform?.Name ?? ''}\n`
      for (const c of server.Components ?? []) {
        s += ` ${c.Name}:\n  Version:          ${c.Version}\n`
        if (c.Name === 'Engine') {
          s += `  API version:      ${server.ApiVersion} (minimum version ${server.MinAPIVersion ?? ''})\n`
          s += `  Go version:       ${server.GoVersion}\n  Git commit:       ${server.GitCommit}\n  Built:            ${server.BuildTime ?? ''}\n`
          s += `  OS/Arch:          ${server.Os}/${server.Arch}\n  Experimental:     ${server.Experimental ? 'true' : 'false'}\n`
        } else {
          for (const [k, v] of Object.entries(c.Details ?? {})) s += `  ${k}:${' '.repeat(Math.max(1, 17 - k.length))}${v}\n`
        }
      }
    }
    out(s)
  }
  if (serverErr) {
    err(`${serverErr instanceof ClientError ? `Error response from daemon: ${serverErr.message}` : (serverErr as Error).message}\n`)
    return 1
  }
}

function renderInfo(i: SystemInfo): string {
  const l: string[] = []
  l.push(` Containers: ${i.Containers}`, `  Running: ${i.ContainersRunning}`, `  Paused: ${i.ContainersPaused}`, `  Stopped: ${i.ContainersStopped}`)
  l.push(` Images: ${i.Images}`, ` Server Version: ${i.ServerVersion}`, ` Storage Driver: ${i.Driver}`)
  for (const [k, v] of i.DriverStatus ?? []) l.push(`  ${k}: ${v}`)
  l.push(` Logging Driver: ${i.LoggingDriver}`, ` Cgroup Driver: ${i.CgroupDriver}`, ` Cgroup Version: ${i.CgroupVersion}`)
  l.push(' Plugins:', `  Volume: ${(i.Plugins?.Volume ?? []).join(' ')}`, `  Network: ${(i.Plugins?.Network ?? []).join(' ')}`, `  Log: ${(i.Plugins?.Log ?? []).join(' ')}`)
  l.push(` Swarm: ${i.Swarm?.LocalNodeState || 'inactive'}`)
  l.push(` Runtimes: ${Object.keys(i.Runtimes ?? {}).join(' ')}`, ` Default Runtime: ${i.DefaultRuntime}`)
  l.push(` Init Binary: ${i.InitBinary}`, ` containerd version: ${i.ContainerdCommit?.ID ?? ''}`, ` runc version: ${i.RuncCommit?.ID ?? ''}`, ` init version: ${i.InitCommit?.ID ?? ''}`)
  if (i.SecurityOptions?.length) {
    l.push(' Security Options:')
    // docker's DecodeSecurityOptions: `name=seccomp,profile=builtin` is a name line and a Profile line.
    for (const o of i.SecurityOptions) {
      const kv = o.split(',').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)] as const)
      l.push(`  ${kv.find(([k]) => k === 'name')?.[1] ?? o}`)
      for (const [k, v] of kv) if (k === 'profile') l.push(`   Profile: ${v}`)
    }
  }
  l.push(` Kernel Version: ${i.KernelVersion}`, ` Operating System: ${i.OperatingSystem}`, ` OSType: ${i.OSType}`, ` Architecture: ${i.Architecture}`)
  l.push(` CPUs: ${i.NCPU}`, ` Total Memory: ${bytesSize(i.MemTotal)}`, ` Name: ${i.Name}`, ` ID: ${i.ID}`, ` Docker Root Dir: ${i.DockerRootDir}`)
  l.push(` Debug Mode: ${i.Debug ? 'true' : 'false'}`, ` Experimental: ${i.ExperimentalBuild ? 'true' : 'false'}`)
  if (i.Labels?.length) {
    l.push(' Labels:')
    for (const x of i.Labels) l.push(`  ${x}`)
  }
  const reg = (i as { RegistryConfig?: { InsecureRegistryCIDRs?: string[]; IndexConfigs?: Record<string, { Name: string; Secure: boolean }>; Mirrors?: string[] } }).RegistryConfig
  const indexes = Object.values(reg?.IndexConfigs ?? {})
  if (reg && ((reg.InsecureRegistryCIDRs ?? []).length || indexes.length)) {
    l.push(' Insecure Registries:')
    for (const x of indexes) if (!x.Secure) l.push(`  ${x.Name}`)
    for (const c of reg.InsecureRegistryCIDRs ?? []) l.push(`  ${c}`)
  }
  if (reg?.Mirrors?.length) {
    l.push(' Registry Mirrors:')
    for (const m of reg.Mirrors) l.push(`  ${m}`)
  }
  l.push(` Live Restore Enabled: ${i.LiveRestoreEnabled ? 'true' : 'false'}`)
  // docker ends the server section with an empty line.
  return l.join('\n') + '\n\n'
}

export const infoCommand: Handler = async (_args, opts, ctx) => {
  const client = getClient(ctx.globals)
  const format = str(opts.format)
  const info = await client.info().catch((e: unknown) => e)
  if (format) {
    if (info instanceof Error) throw info
    try {
      out(runTemplate(format, infoData(info as SystemInfo), '', 'system.dockerInfo') + '\n')
    } catch (e) {
      return formatFailure(e)
    }
    return 0
  }
  out(`Client:\n Version:    ${CLIENT_VERSION}\n Context:    default\n Debug Mode: false\n\nServer:\n`)
  if (info instanceof Error) {
    out(`ERROR: ${info instanceof ClientError ? `Error response from daemon: ${info.message}` : info.message}\nerrors pretty printing info\n`)
    return 1
  }
  const i = info as SystemInfo
  out(renderInfo(i))
  for (const w of i.Warnings ?? []) err(`${w}\n`)
  return 0
}

/** An event with timeNano kept exact: it does not fit a double. */
export interface Event extends Omit<EventMessage, 'timeNano'> {
  timeNano: bigint
}

/** Parses one /events JSON value, reading timeNano as a bigint. */
export function parseEvent(text: string): Event {
  const e = JSON.parse(text.replace(/"timeNano":\s*(\d+)/, '"timeNano":"$1"')) as EventMessage & { timeNano: unknown }
  const tn = e.timeNano
  return { ...e, timeNano: typeof tn === 'string' ? BigInt(tn) : typeof tn === 'number' ? BigInt(Math.round(tn)) : BigInt(e.time ?? 0) * 1000000000n }
}

/**
 * The template data of `events --format`: docker's events.Message struct (Go
 * field names, so {{.ID}} and {{.Status}} work), encoding to its JSON.
 */
export function eventData(e: Event): object {
  const actor = goStruct('events.Actor', { ID: e.Actor?.ID ?? '', Attributes: e.Actor?.Attributes ?? null })
  const wire = goStruct('events.Message', {
    ...(e.status ? { status: e.status } : {}),
    ...(e.id ? { id: e.id } : {}),
    ...(e.from ? { from: e.from } : {}),
    Type: e.Type ?? '', Action: e.Action ?? '', Actor: actor, scope: e.scope ?? '', time: e.time ?? 0, timeNano: e.timeNano,
  })
  return goStruct('events.Message', {
    Status: e.status ?? '', ID: e.id ?? '', From: e.from ?? '', Type: e.Type ?? '', Action: e.Action ?? '', Actor: actor,
    Scope: e.scope ?? '', Time: e.time ?? 0, TimeNano: e.timeNano, toJSON: () => wire,
  })
}

/** docker's events line: "2024-01-02T15:04:05.000000000Z container start <id> (image=…, name=…)". */
export function formatEvent(e: Event): string {
  const nanos = e.timeNano
  const secs = Number(nanos / 1000000000n)
  const frac = String(nanos % 1000000000n).padStart(9, '0')
  const d = new Date(secs * 1000)
  const pad = (n: number): string => String(n).padStart(2, '0')
  const off = -d.getTimezoneOffset()
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.trunc(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`
  const ts = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${frac}${zone}`
  const attrs = Object.keys(e.Actor?.Attributes ?? {}).sort().map((k) => `${k}=${e.Actor.Attributes[k]}`)
  return `${ts} ${e.Type} ${e.Action} ${e.Actor?.ID ?? ''}${attrs.length ? ` (${attrs.join(', ')})` : ''}`
}

export const eventsCommand: Handler = async (_args, opts, ctx) => {
  const client = getClient(ctx.globals)
  const format = str(opts.format)
  let tmpl
  try {
    tmpl = format ? parseTemplate(format === 'json' ? '{{json .}}' : format, { funcs: dockerFuncs }) : undefined
  } catch (e) {
    err(`Error parsing format: ${(e as Error).message}\n`)
    return 64
  }
  // docker runs the template once over an empty message before streaming.
  try {
    tmpl?.execute(eventData({ Type: '', Action: '', Actor: { ID: '', Attributes: {} }, time: 0, timeNano: 0n }))
  } catch (e) {
    err(`Error parsing format: ${(e as Error).message}\n`)
    return 64
  }
  const since = str(opts.since)
  const until = str(opts.until)
  const res = await client.events({
    since: since ? getTimestamp(since) : undefined,
    until: until ? getTimestamp(until) : undefined,
    filters: parseFilters(strs(opts.filter)),
  })
  for await (const ev of readJSONStream(res, parseEvent)) out((tmpl ? tmpl.execute(eventData(ev)) : formatEvent(ev)) + '\n')
}

// ---------------------------------------------------------------- df

const DF_HEADERS: Record<string, string> = { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' }
const DF_TABLE = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}'
const DF_RAW = 'type: {{.Type}}\\ntotal: {{.TotalCount}}\\nactive: {{.Active}}\\nsize: {{.Size}}\\nreclaimable: {{.Reclaimable}}\\n'
const DF_IMAGE_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}'
const DF_CONTAINER_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}'
const DF_VOLUME_TABLE = 'table {{.Name}}\t{{.Links}}\t{{.Size}}'
const DF_BUILD_CACHE_TABLE = 'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}'

/** `-v --format raw`: docker's raw formats of each list, one range each (formatter.NewDiskUsageFormat). */
const DF_VERBOSE_RAW = `{{range .Images}}type: Image
repository: {{ .Repository }}
tag: {{.Tag}}
digest: {{.Digest}}
image_id: {{.ID}}
created_at: {{.CreatedAt}}
virtual_size: {{.Size}}

{{end -}}
{{range .Containers}}type: Container
container_id: {{.ID}}
image: {{.Image}}
command: {{.Command}}
created_at: {{.CreatedAt}}
state: {{- pad .State 1 0}}
status: {{- pad .Status 1 0}}
names: {{.Names}}
labels: {{- pad .Labels 1 0}}
ports: {{- pad .Ports 1 0}}
size: {{.Size}}\\n
{{end -}}
{{range .Volumes}}type: Volume
name: {{.Name}}\\ndriver: {{.Driver}}\\n
{{end -}}
{{range .BuildCache}}type: Build Cache
build_cache_id: {{.ID}}
parent_id: {{.Parent}}
build_cache_type: {{.CacheType}}
description: {{.Description}}
created_at: {{.CreatedAt}}
created_since: {{.CreatedSince}}
last_used_at: {{.LastUsedAt}}
last_used_since: {{.LastUsedSince}}
usage_count: {{.UsageCount}}
in_use: {{.InUse}}
shared: {{.Shared}}

{{end -}}`

export const BUILD_CACHE_HEADERS: Record<string, string> = {
  ID: 'CACHE ID', Parent: 'PARENT', CacheType: 'CACHE TYPE', Size: 'SIZE', CreatedSince: 'CREATED', LastUsedSince: 'LAST USED',
  UsageCount: 'USAGE', InUse: 'IN USE', Shared: 'SHARED', Description: 'DESCRIPTION',
}

/** Go's `(part*100)/total` on int64s, as docker's percentages. */
const percent = (part: number, total: number): number => Math.trunc((part * 100) / total)

const withPercent = (reclaimable: number, total: number): string =>
  total > 0 ? `${humanSize(reclaimable)} (${percent(reclaimable, total)}%)` : humanSize(reclaimable)

const isActive = (c: ContainerSummary): boolean => c.State === 'running' || c.State === 'paused' || c.State === 'restarting'

/** The build cache's size as docker's CLI counts it: records not shared with images. */
export function builderSize(cache: readonly BuildCacheRecord[]): number {
  return cache.filter((b) => !b.Shared).reduce((n, b) => n + b.Size, 0)
}

interface DfRow {
  Active: string
  Reclaimable: string
  Size: string
  TotalCount: string
  Type: string
}

/** The four rows of `system df` (formatter.diskUsage{Images,Containers,Volumes,Builder}Context). */
export function dfRows(du: DiskUsage): DfRow[] {
  const images = du.Images ?? []
  const containers = du.Containers ?? []
  const volumes = du.Volumes ?? []
  const cache = du.BuildCache ?? []
  const layers = du.LayersSize ?? 0
  let imagesUsed = 0
  for (const i of images) if (i.Containers !== 0 && i.Size !== -1 && i.SharedSize !== -1) imagesUsed += i.Size - i.SharedSize
  const rw = (cs: ContainerSummary[]) => cs.reduce((n, c) => n + (c.SizeRw ?? 0), 0)
  const measured = volumes.filter((v) => (v.UsageData?.Size ?? -1) !== -1)
  const volSize = (vs: Volume[]) => vs.reduce((n, v) => n + (v.UsageData?.Size ?? 0), 0)
  const unused = measured.filter((v) => (v.UsageData?.RefCount ?? 0) === 0)
  const bsz = builderSize(cache)
  const inUse = cache.filter((b) => b.InUse && !b.Shared).reduce((n, b) => n + b.Size, 0)
  return [
    { Type: 'Images', TotalCount: images.length, Active: images.filter((i) => i.Containers > 0).length, Size: humanSize(layers), Reclaimable: withPercent(layers - imagesUsed, layers) },
    { Type: 'Containers', TotalCount: containers.length, Active: containers.filter(isActive).length, Size: humanSize(rw(containers)), Reclaimable: withPercent(rw(containers.filter((c) => !isActive(c))), rw(containers)) },
    { Type: 'Local Volumes', TotalCount: volumes.length, Active: volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length, Size: humanSize(volSize(measured)), Reclaimable: withPercent(volSize(unused), volSize(measured)) },
    { Type: 'Build Cache', TotalCount: cache.length, Active: cache.filter((b) => b.InUse).length, Size: humanSize(bsz), Reclaimable: humanSize(bsz - inUse) },
  ].map((r, i) => goStruct(`formatter.${['diskUsageImagesContext', 'diskUsageContainersContext', 'diskUsageVolumesContext', 'diskUsageBuilderContext'][i] ?? ''}`, {
    Active: String(r.Active), Reclaimable: r.Reclaimable, Size: r.Size, TotalCount: String(r.TotalCount), Type: r.Type,
  }))
}

/**
 * Go's time.Time.String() of an RFC 3339 time as the docker CLI decodes it:
 * the fraction as sent (trailing zeros dropped), UTC for Z, the bare offset
 * as the zone name otherwise.
 */
export function goTimeOfRfc3339(s: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(s)
  if (!m) return s
  const frac = (m[3] ?? '').replace(/0+$/, '').replace(/^\.$/, '')
  const zone = m[4] === 'Z' ? '+0000 UTC' : `${(m[4] ?? '').replace(':', '')} ${(m[4] ?? '').replace(':', '')}`
  return `${m[1]} ${m[2]}${frac} ${zone}`
}

/** docker's buildCacheContext. */
export function buildCacheRow(b: BuildCacheRecord, trunc: boolean, now = Date.now()): object {
  const id = trunc ? truncateID(b.ID) : b.ID
  const parents = b[' Parents'] ?? []
  const parent = parents.length ? parents.join(', ') : b.Parent ?? ''
  const since = (t: string) => `${humanDuration(now - Date.parse(t))} ago`
  return goStruct('formatter.buildCacheContext', {
    CacheType: b.Type,
    CreatedAt: goTimeOfRfc3339(b.CreatedAt),
    CreatedSince: since(b.CreatedAt),
    Description: b.Description,
    ID: b.InUse ? `${id}*` : id,
    InUse: String(b.InUse),
    LastUsedAt: b.LastUsedAt ? goTimeOfRfc3339(b.LastUsedAt) : '',
    LastUsedSince: b.LastUsedAt ? since(b.LastUsedAt) : '',
    Parent: trunc ? truncateID(parent) : parent,
    Shared: String(b.Shared),
    Size: humanSizeWithPrecision(b.Size, 3),
    UsageCount: String(b.UsageCount),
  })
}

/** docker's buildCacheSort: never-used first, then by last use, ties by ID. */
function sortBuildCache(cache: BuildCacheRecord[]): BuildCacheRecord[] {
  const byId = (a: BuildCacheRecord, b: BuildCacheRecord) => (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0)
  return [...cache].sort((a, b) => {
    if (!a.LastUsedAt && !b.LastUsedAt) return byId(a, b)
    if (!a.LastUsedAt) return -1
    if (!b.LastUsedAt) return 1
    const d = Date.parse(a.LastUsedAt) - Date.parse(b.LastUsedAt)
    return d !== 0 ? d : byId(a, b)
  })
}

/** An image as `df -v` lists it: its first tag (or <none>), no digest; an unparsable tag leaves it out. */
function dfImageRows(images: ImageSummary[], trunc: boolean, now: number): object[] {
  return images.flatMap((i) => {
    const tags = i.RepoTags ?? []
    const one = { ...i, RepoTags: tags.slice(0, 1), RepoDigests: [] }
    return imageRows([one], { trunc, digest: false, needDigest: false }, now).map((r) => Object.assign(r, { Digest: '' }))
  })
}

/** The data of `df -v` templates (formatter.diskUsageContext). */
export function dfVerboseData(du: DiskUsage, trunc: boolean, now = Date.now()): object {
  return goStruct('formatter.diskUsageContext', {
    Images: dfImageRows(du.Images ?? [], trunc, now),
    // df shows the writable layer only, not the virtual size.
    Containers: (du.Containers ?? []).map((c) => containerRow({ ...c, SizeRootFs: 0 }, trunc, now)),
    Volumes: (du.Volumes ?? []).map(volumeRow),
    BuildCache: sortBuildCache(du.BuildCache ?? []).map((b) => buildCacheRow(b, trunc, now)),
  })
}

/** `df -v` in its four tables, as formatter.verboseWriteTable prints them. */
export function dfVerboseTable(du: DiskUsage, now = Date.now()): string {
  const d = dfVerboseData(du, true, now) as Record<string, object[]>
  let s = 'Images space usage:\n\n' + renderFormat(DF_IMAGE_TABLE, d.Images ?? [], IMAGE_HEADERS)
  s += '\nContainers space usage:\n\n' + renderFormat(DF_CONTAINER_TABLE, d.Containers ?? [], CONTAINER_HEADERS)
  s += '\nLocal Volumes space usage:\n\n' + renderFormat(DF_VOLUME_TABLE, d.Volumes ?? [], VOLUME_HEADERS)
  s += `\nBuild cache usage: ${humanSize(builderSize(du.BuildCache ?? []))}\n\n` + renderFormat(DF_BUILD_CACHE_TABLE, d.BuildCache ?? [], BUILD_CACHE_HEADERS)
  return s
}

/** docker's `json` template function; what a context marshals itself has <, > and & escaped (json.Marshal). */
function contextJSON(...args: unknown[]): unknown {
  const s = (dockerFuncs.json as (...a: unknown[]) => unknown)(...args)
  if (args.length !== 1 || !isGoStruct(args[0]) || typeof s !== 'string') return s
  return s.replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`)
}

/** `df -v` with a template: one execution over all four lists, nothing added after it. */
export function dfVerboseTemplate(format: string, du: DiskUsage, now = Date.now()): string {
  const source = format === 'raw' ? DF_VERBOSE_RAW : format
  let tmpl
  try {
    tmpl = parseTemplate(finalTemplate(source), { funcs: { ...dockerFuncs, json: contextJSON } })
  } catch (e) {
    throw new Error(`template parsing error: ${(e as Error).message}`)
  }
  return tmpl.execute(dfVerboseData(du, isTable(format), now))
}

/** docker system df: `table` (default), `raw`, `json` or a template; -v lists every image, container, volume and cache record. */
export function renderDf(du: DiskUsage, format: string, verbose: boolean, now = Date.now()): string {
  if (verbose) return format === 'table' ? dfVerboseTable(du, now) : dfVerboseTemplate(format, du, now)
  const source = format === 'table' ? DF_TABLE : format === 'raw' ? DF_RAW : format
  return renderFormat(source, dfRows(du), DF_HEADERS)
}

export const dfCommand: Handler = async (_args, opts, ctx) => {
  // docker's CLI asks for every part (it has no flag for `type`).
  const du = await getClient(ctx.globals).diskUsage()
  out(renderDf(du, str(opts.format) || 'table', bool(opts.verbose)))
}

// ---------------------------------------------------------------- prune

/** docker system prune's question (cli/command/system/prune.go confirmationMessage), without the " [y/N] " prompt.Confirm adds. */
export function pruneConfirmation(o: { all: boolean; volumes: boolean; filters: FilterMap }): string {
  const warnings = ['all stopped containers', 'all networks not used by at least one container']
  if (o.volumes) warnings.push('all anonymous volumes not used by at least one container')
  warnings.push(o.all ? 'all images without at least one container associated to them' : 'all dangling images')
  warnings.push(o.all ? 'all build cache' : 'unused build cache')
  const shown: string[] = []
  for (const name of ['label', 'label!', 'until']) for (const v of Object.keys(o.filters[name] ?? {})) shown.push(`${name}=${v}`)
  shown.sort((a, b) => (naturalLess(a, b) ? -1 : naturalLess(b, a) ? 1 : 0))
  let s = 'WARNING! This will remove:'
  for (const w of warnings) s += `\n  - ${w}`
  s += '\n'
  if (shown.length) {
    s += '\n  Items to be pruned will be filtered with:'
    for (const f of shown) s += `\n  - ${f}`
    s += '\n'
  }
  return s + '\nAre you sure you want to continue?'
}

const copyFilters = (f: FilterMap): FilterMap => Object.fromEntries(Object.entries(f).map(([k, v]) => [k, { ...v }]))

/** One prune of system prune: the bytes it counts and what it prints (each object's RunPrune). */
type PruneStep = (client: EngineClient, all: boolean, filters: FilterMap) => Promise<{ reclaimed: number; output: string }>

const listed = (title: string, items: string[]): string => (items.length ? `${title}:\n${items.map((i) => `${i}\n`).join('')}` : '')

const pruneContainers: PruneStep = async (client, _all, filters) => {
  const r = await client.containerPrune(filters)
  const deleted = r.ContainersDeleted ?? []
  return { reclaimed: deleted.length ? r.SpaceReclaimed ?? 0 : 0, output: listed('Deleted Containers', deleted) }
}

const pruneNetworks: PruneStep = async (client, _all, filters) => {
  const r = await client.networkPrune(filters)
  return { reclaimed: 0, output: listed('Deleted Networks', r.NetworksDeleted ?? []) }
}

const pruneVolumes: PruneStep = async (client, _all, filters) => {
  // Without --all (which system prune never passes) docker 28 leaves named volumes unless `--filter all=true`.
  const r = await client.volumesPrune(filters)
  const deleted = r.VolumesDeleted ?? []
  return { reclaimed: deleted.length ? r.SpaceReclaimed ?? 0 : 0, output: listed('Deleted Volumes', deleted) }
}

const pruneImages: PruneStep = async (client, all, filters) => {
  filters.dangling = { ...(filters.dangling ?? {}), [String(!all)]: true }
  const r = await client.imagePrune(filters)
  const items = r.ImagesDeleted ?? []
  const lines = items.map((i) => ('Untagged' in i ? `untagged: ${i.Untagged}` : `deleted: ${i.Deleted}`))
  return { reclaimed: items.length ? r.SpaceReclaimed ?? 0 : 0, output: listed('Deleted Images', lines) }
}

const pruneBuildCache: PruneStep = async (client, all, filters) => {
  const r = await client.buildPrune({ all, filters })
  return { reclaimed: r.SpaceReclaimed ?? 0, output: listed('Deleted build cache objects', r.CachesDeleted ?? []) }
}

/** docker system prune: containers, networks, (anonymous) volumes with --volumes, images, build cache; each prints what went, then the total. */
export const systemPruneCommand: Handler = async (_args, opts, ctx) => {
  const filters = parseFilters(strs(opts.filter))
  const all = bool(opts.all)
  const volumes = bool(opts.volumes)
  if (volumes && filters.until) {
    err('ERROR: The "until" filter is not supported with "--volumes"\n')
    return 1
  }
  // A cancelled prune is not an error for docker: nothing more is printed.
  if (!bool(opts.force) && !(await confirm(`${pruneConfirmation({ all, volumes, filters })} [y/N] `))) return 0
  const client = getClient(ctx.globals)
  const steps: PruneStep[] = [pruneContainers, pruneNetworks, ...(volumes ? [pruneVolumes] : []), pruneImages, pruneBuildCache]
  let total = 0
  for (const step of steps) {
    const { reclaimed, output } = await step(client, all, copyFilters(filters))
    total += reclaimed
    if (output) out(`${output}\n`)
  }
  out(`Total reclaimed space: ${humanSize(total)}\n`)
}
