/** version, info and events. */
import type { EventMessage, SystemInfo, VersionResponse } from '../../api/types/index.js'
import { ClientError, readJSONStream } from '../../client/index.js'
import { parseTemplate, dockerFuncs } from '../../gotemplate/index.js'
import type { Handler } from '../app.js'
import { err, getClient, out, str, strs } from '../context.js'
import { getTimestamp, parseFilters } from '../opts.js'
import { bytesSize } from '../../lib/index.js'

const CLIENT_VERSION = '0.1.0'

function runTemplate(format: string, data: unknown): string {
  const text = format === 'json' ? '{{json .}}' : format.replace(/\\t/g, '\t').replace(/\\n/g, '\n')
  return parseTemplate(text, { funcs: dockerFuncs }).execute(data)
}

export const versionCommand: Handler = async (_args, opts, ctx) => {
  const client = getClient(ctx.globals)
  const clientInfo = {
    Platform: { Name: 'berth' }, Version: CLIENT_VERSION, ApiVersion: '1.50', DefaultAPIVersion: '1.50',
    GitCommit: '', GoVersion: process.version, Os: 'linux', Arch: process.arch === 'x64' ? 'amd64' : process.arch,
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
    out(runTemplate(format, { Client: clientInfo, Server: server ?? null }) + '\n')
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
  l.push(` Runtimes: ${Object.keys(i.Runtimes ?? {}).sort().join(' ')}`, ` Default Runtime: ${i.DefaultRuntime}`)
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
  l.push(` Live Restore Enabled: ${i.LiveRestoreEnabled ? 'true' : 'false'}`)
  return l.join('\n') + '\n'
}

export const infoCommand: Handler = async (_args, opts, ctx) => {
  const client = getClient(ctx.globals)
  const format = str(opts.format)
  const info = await client.info().catch((e: unknown) => e)
  if (format) {
    if (info instanceof Error) throw info
    out(runTemplate(format, info) + '\n')
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

/** docker's events line: "2024-01-02T15:04:05.000000000Z container start <id> (image=…, name=…)". */
export function formatEvent(e: EventMessage): string {
  const nanos = BigInt(e.timeNano ?? e.time * 1e9)
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
  const since = str(opts.since)
  const until = str(opts.until)
  const res = await client.events({
    since: since ? getTimestamp(since) : undefined,
    until: until ? getTimestamp(until) : undefined,
    filters: parseFilters(strs(opts.filter)),
  })
  const format = str(opts.format)
  const tmpl = format ? parseTemplate(format === 'json' ? '{{json .}}' : format, { funcs: dockerFuncs }) : undefined
  for await (const ev of readJSONStream<EventMessage>(res)) out((tmpl ? tmpl.execute(ev) : formatEvent(ev)) + '\n')
}
