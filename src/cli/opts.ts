/** Parsers for docker's flag value syntaxes (filters, env files, ports, timestamps, …). */
import { readFileSync } from 'node:fs'
import type { FilterMap, PortBinding, PortMap, PortSet, RestartPolicy } from '../api/types/index.js'

/** A usage error: printed with the command's help hint, exit 125. */
export class UsageError extends Error {}

/** `-f key=value` (repeatable) → `{"key":{"value":true}}`. */
export function parseFilters(values: string[] | undefined): FilterMap {
  const out: FilterMap = {}
  for (const v of values ?? []) {
    const i = v.indexOf('=')
    if (i < 0) throw new UsageError(`bad format of filter (expected name=value)`)
    const key = v.slice(0, i).trim().toLowerCase()
    const value = v.slice(i + 1)
    const entry = out[key] ?? {}
    entry[value] = true
    out[key] = entry
  }
  return out
}

/** `-e KEY` takes KEY's value from the environment when set, as docker's ValidateEnv. */
export function normalizeEnv(v: string): string {
  if (v.includes('=')) {
    if (v.startsWith('=')) throw new UsageError(`invalid environment variable: ${v}`)
    return v
  }
  const val = process.env[v]
  return val === undefined ? v : `${v}=${val}`
}

function readLinesFile(path: string, what: string): string[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new UsageError(`open ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`)
  }
  const lines: string[] = []
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const line = raw.trimStart()
    if (!line || line.startsWith('#')) continue
    if (what === 'env' && !line.includes('=')) {
      const val = process.env[line.trim()]
      if (val !== undefined) lines.push(`${line.trim()}=${val}`)
      continue
    }
    lines.push(line)
  }
  return lines
}

export function readEnvFiles(files: string[] | undefined): string[] {
  return (files ?? []).flatMap((f) => readLinesFile(f, 'env'))
}

export function readLabelFiles(files: string[] | undefined): string[] {
  return (files ?? []).flatMap((f) => readLinesFile(f, 'label'))
}

/** `k=v` and bare `k` (empty value) into a map; later entries win. */
export function kvMap(values: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const v of values) {
    const i = v.indexOf('=')
    if (i < 0) out[v] = ''
    else out[v.slice(0, i)] = v.slice(i + 1)
  }
  return out
}

function parseRange(s: string, what: string, original: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s)
  if (!m) throw new UsageError(`invalid ${what}: ${original}`)
  const a = Number(m[1])
  const b = m[2] !== undefined ? Number(m[2]) : a
  if (b < a || a > 65535 || b > 65535) throw new UsageError(`invalid ${what}: ${original}`)
  return [a, b]
}

/** `-p [ip:][hostPort:]containerPort[/proto]` with ranges, as nat.ParsePortSpecs. */
export function parsePublish(specs: string[]): { exposed: PortSet; bindings: PortMap } {
  const exposed: PortSet = {}
  const bindings: PortMap = {}
  for (const spec of specs) {
    let rest = spec
    let proto = 'tcp'
    const slash = rest.lastIndexOf('/')
    if (slash >= 0) {
      proto = rest.slice(slash + 1).toLowerCase()
      rest = rest.slice(0, slash)
      if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new UsageError(`invalid proto: ${proto}`)
    }
    let ip = ''
    let hostPart = ''
    let containerPart: string
    const ipv6 = /^\[([^\]]+)\]:(.*)$/.exec(rest)
    if (ipv6) {
      ip = ipv6[1] ?? ''
      const parts = (ipv6[2] ?? '').split(':')
      if (parts.length !== 2) throw new UsageError(`invalid port format: ${spec}`)
      hostPart = parts[0] ?? ''
      containerPart = parts[1] ?? ''
    } else {
      const parts = rest.split(':')
      if (parts.length === 1) containerPart = parts[0] ?? ''
      else if (parts.length === 2) { hostPart = parts[0] ?? ''; containerPart = parts[1] ?? '' } else if (parts.length === 3) {
        ip = parts[0] ?? ''; hostPart = parts[1] ?? ''; containerPart = parts[2] ?? ''
      } else throw new UsageError(`invalid port format: ${spec}`)
    }
    if (!containerPart) throw new UsageError(`no port specified: ${spec}<empty>`)
    const [cs, ce] = parseRange(containerPart, 'containerPort', containerPart)
    let hs = 0
    let he = 0
    if (hostPart) {
      ;[hs, he] = parseRange(hostPart, 'hostPort', hostPart)
      if (he - hs !== ce - cs && he - hs !== 0 && ce !== cs) {
        throw new UsageError(`invalid ranges specified for container and host Ports: ${containerPart} and ${hostPart}`)
      }
    }
    for (let i = 0; i <= ce - cs; i++) {
      const key = `${cs + i}/${proto}`
      exposed[key] = {}
      let hostPort = ''
      if (hostPart) hostPort = he !== hs && ce === cs ? `${hs}-${he}` : String(hs + i)
      const binding: PortBinding = { HostIp: ip, HostPort: hostPort }
      const list = bindings[key] ?? []
      list.push(binding)
      bindings[key] = list
    }
  }
  return { exposed, bindings }
}

/**
 * `--restart NAME[:N]` split as docker's opts.ParseRestartPolicy: only the
 * shape is checked here; the daemon validates the policy name and count.
 */
export function parseRestartPolicy(v: string | undefined): RestartPolicy {
  if (!v) return { Name: '', MaximumRetryCount: 0 }
  const i = v.indexOf(':')
  const name = i < 0 ? v : v.slice(0, i)
  const count = i < 0 ? '' : v.slice(i + 1)
  if (i >= 0 && name === '') throw new UsageError('invalid restart policy format: no policy provided before colon')
  let n = 0
  if (count !== '') {
    if (!/^[+-]?\d+$/.test(count)) throw new UsageError('invalid restart policy format: maximum retry count must be an integer')
    n = Number(count)
  }
  return { Name: name, MaximumRetryCount: n }
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000,
}

/** Go's time.ParseDuration, in milliseconds; undefined when it is not a duration. */
export function parseGoDuration(s: string): number | undefined {
  let rest = s
  let sign = 1
  if (rest.startsWith('-') || rest.startsWith('+')) { sign = rest.startsWith('-') ? -1 : 1; rest = rest.slice(1) }
  if (rest === '0') return 0
  if (!rest) return undefined
  let total = 0
  const re = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/
  while (rest) {
    const m = re.exec(rest)
    if (!m) return undefined
    total += Number(m[1]) * (DURATION_UNITS[m[2] ?? ''] ?? 0)
    rest = rest.slice(m[0].length)
  }
  return sign * total
}

/**
 * docker's GetTimestamp for --since/--until: durations are relative to now
 * and sent as whole unix seconds; dates as "sec.nanosec"; unix times pass through.
 */
export function getTimestamp(value: string, now: number = Date.now()): string {
  const d = value !== '0' ? parseGoDuration(value) : undefined
  if (d !== undefined) return String(Math.floor((now - d) / 1000))
  const hasZone = /[zZ+]/.test(value) || (value.match(/-/g) ?? []).length === 3
  const dateRe = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?(Z|z|[+-]\d{2}:\d{2})?$/
  const m = dateRe.exec(value)
  if (m) {
    const [, y, mo, da, h = '0', mi = '0', se = '0', frac = '', zone] = m
    const nanos = Number(frac.padEnd(9, '0') || '0')
    let ms: number
    if (zone || hasZone) {
      const z = !zone || zone === 'Z' || zone === 'z' ? 'Z' : zone
      ms = Date.parse(`${y}-${mo}-${da}T${h.padStart(2, '0')}:${mi.padStart(2, '0')}:${se.padStart(2, '0')}${z}`)
    } else {
      ms = new Date(Number(y), Number(mo) - 1, Number(da), Number(h), Number(mi), Number(se)).getTime()
    }
    if (Number.isNaN(ms)) throw new UsageError(`failed to parse value as time or duration: "${value}"`)
    return `${Math.floor(ms / 1000)}.${String(nanos).padStart(9, '0')}`
  }
  if (value.includes('-')) throw new UsageError(`parsing time "${value}": cannot parse as RFC3339`)
  if (/^\d+(\.\d+)?$/.test(value)) return value
  throw new UsageError(`failed to parse value as time or duration: "${value}"`)
}

/** Validates `-a stdin|stdout|stderr`. */
export function parseAttach(values: string[]): Set<'stdin' | 'stdout' | 'stderr'> {
  const out = new Set<'stdin' | 'stdout' | 'stderr'>()
  for (const v of values) {
    const s = v.toLowerCase()
    if (s !== 'stdin' && s !== 'stdout' && s !== 'stderr') throw new UsageError(`valid streams are STDIN, STDOUT and STDERR`)
    out.add(s)
  }
  return out
}
