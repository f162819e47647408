/** version, info and events. */
import type { EventMessage, SystemInfo, VersionResponse } from '../../api/types/index.js'
import { ClientError, readJSONStream } from '../../client/index.js'
import { parseTemplate, dockerFuncs } from '../../gotemplate/index.js'
import type { Handler } from '../app.js'
import { err, getClient, out, str, strs } from '../context.js'
import { getTimestamp, parseFilters } from '../opts.js'
import { bytesSize } from '../../lib/index.js'
import { goStruct } from '../output/struct.js'

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
    for (const o of i.SecurityOptions) l.push(`  ${o.replace(/^name=/, '')}`)
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
