/** Parsers for docker's flag value syntaxes (filters, env files, ports, timestamps, …). */
import { readFileSync } from 'node:fs'
import { isIPv4, isIPv6 } from 'node:net'
import type { DeviceRequest, EndpointSettings, FilterMap, IPAM, IPAMConfig, PortMap, PortSet, RestartPolicy } from '../api/types/index.js'
import { ramInBytes as goRamInBytes } from '../lib/index.js'

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

// ---------------------------------------------------------------- addresses

export interface IpAddr {
  family: 4 | 6
  value: bigint
}

/** Go's net.ParseIP (no zones, no IPv4 leading zeros); IPv4-mapped IPv6 reads as IPv4, as Go's To4 does. */
export function parseIp(s: string): IpAddr | undefined {
  if (isIPv4(s)) return { family: 4, value: s.split('.').reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n) }
  if (!isIPv6(s) || s.includes('%')) return undefined
  // The URL parser spells IPv6 in full hex groups with at most one "::".
  const host = new URL(`http://[${s}]/`).hostname.slice(1, -1)
  const [head = '', tail] = host.split('::')
  const a = head ? head.split(':') : []
  const b = tail ? tail.split(':') : []
  const groups = tail === undefined ? a : [...a, ...Array<string>(8 - a.length - b.length).fill('0'), ...b]
  const value = groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n)
  if (value >> 32n === 0xffffn) return { family: 4, value: value & 0xffffffffn }
  return { family: 6, value }
}

/** Go's net.IP.String(): dotted IPv4, RFC 5952 IPv6. */
export function formatIp(a: IpAddr): string {
  if (a.family === 4) return [24n, 16n, 8n, 0n].map((sh) => String((a.value >> sh) & 0xffn)).join('.')
  const groups = [...Array(8).keys()].map((i) => Number((a.value >> BigInt(112 - 16 * i)) & 0xffffn))
  let best = -1
  let bestLen = 1
  for (let i = 0; i < 8;) {
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen) { best = i; bestLen = j - i }
    i = j === i ? i + 1 : j
  }
  const hex = (g: number[]) => g.map((x) => x.toString(16)).join(':')
  return best < 0 ? hex(groups) : `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`
}

interface Cidr {
  family: 4 | 6
  base: bigint
  bits: number
}

/** Go's net.ParseCIDR: an address and a prefix length; host bits are dropped. */
function parseCidr(s: string): Cidr | undefined {
  const i = s.indexOf('/')
  if (i < 0) return undefined
  const ip = parseIp(s.slice(0, i))
  const len = s.slice(i + 1)
  if (!ip || !/^\d{1,3}$/.test(len)) return undefined
  // An IPv4-mapped IPv6 network keeps its IPv6 length in Go; only plain IPv4 has 32 bits.
  const family = isIPv4(s.slice(0, i)) ? 4 : 6
  const width = family === 4 ? 32 : 128
  const bits = Number(len)
  if (bits > width) return undefined
  const value = family === 6 && ip.family === 4 ? ip.value | (0xffffn << 32n) : ip.value
  const mask = ((1n << BigInt(width)) - 1n) ^ ((1n << BigInt(width - bits)) - 1n)
  return { family, base: value & mask, bits }
}

function cidrContains(n: Cidr, ip: IpAddr | undefined): boolean {
  if (!ip) return false
  const width = n.family === 4 ? 32 : 128
  let value = ip.value
  if (n.family !== ip.family) {
    if (n.family === 6 && ip.family === 4) value = ip.value | (0xffffn << 32n)
    else return false
  }
  return value >> BigInt(width - n.bits) === n.base >> BigInt(width - n.bits)
}

// ---------------------------------------------------------------- flag value validators
// Each returns the value docker sends, or throws a UsageError with docker's reason.

/** opts.ValidateIPAddress (--dns): the address in Go's spelling. */
export function validateIpAddress(v: string): string {
  const ip = parseIp(v.trim())
  if (!ip) throw new UsageError(`IP address is not correctly formatted: ${v}`)
  return formatIp(ip)
}

/**
 * opts.ValidateDNSSearch: "." or a domain, returned without its trailing dot.
 * The pattern keeps docker's quirk of allowing a ':' before each label.
 */
export function validateDnsSearch(v: string): string {
  const t = v.replace(/^ +| +$/g, '')
  if (t === '.') return t
  const label = '(?::?[a-zA-Z0-9]|(?::?[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))'
  const m = new RegExp(`^(:?${label}(?::?\\.${label})*)\\.?\\s*$`).exec(t)
  if (!/[a-zA-Z]/.test(t) || !m || (m[1] ?? '').length >= 255) throw new UsageError(`${t} is not a valid domain`)
  return m[1] ?? ''
}

/** opts.ValidateExtraHost (--add-host host:ip, host=ip, host=[ipv6]): sent as host:ip. */
export function validateExtraHost(v: string): string {
  let i = v.indexOf('=')
  if (i < 0) i = v.indexOf(':')
  const k = i < 0 ? v : v.slice(0, i)
  let ip = i < 0 ? '' : v.slice(i + 1)
  if (i < 0 || k === '' || k.includes(':')) throw new UsageError(`bad format for add-host: ${JSON.stringify(v)}`)
  if (ip !== 'host-gateway') {
    if (ip.length > 2 && ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1)
    if (!parseIp(ip.trim())) throw new UsageError(`invalid IP address in add-host: ${JSON.stringify(ip)}`)
  }
  return `${k}:${ip}`
}

/** opts.ValidateLink: `name` or `name:alias`. */
export function validateLink(v: string): string {
  if (v === '') throw new UsageError('empty string specified for links')
  if (v.split(':').length > 2) throw new UsageError(`bad format for links: ${v}`)
  return v
}

/** opts.ValidateLabel: a key without whitespace, an optional value. */
export function validateLabel(v: string): string {
  const key = (v.includes('=') ? v.slice(0, v.indexOf('=')) : v).replace(/^[ \t]+/, '')
  if (key === '') throw new UsageError(`invalid label '${v}': empty name`)
  if (/[ \t]/.test(key)) throw new UsageError(`label '${key}' contains whitespaces`)
  return v
}

/** Go's net.ParseMAC: 6, 8 or 20 octets as hex pairs split by ':' or '-', or dotted hex quads. */
export function isMacAddress(v: string): boolean {
  const s = v.trim()
  for (const sep of [':', '-']) {
    const parts = s.split(sep)
    if ([6, 8, 20].includes(parts.length) && parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) return true
  }
  const quads = s.split('.')
  return [3, 4, 10].includes(quads.length) && quads.every((p) => /^[0-9a-fA-F]{4}$/.test(p))
}

// ---------------------------------------------------------------- ports

/** Go's strconv.ParseUint(s, 10, 16) error text, or the number. */
function parseUint16(s: string): number | string {
  if (!/^\d+$/.test(s)) return `strconv.ParseUint: parsing ${JSON.stringify(s)}: invalid syntax`
  const n = Number(s)
  if (n > 65535) return `strconv.ParseUint: parsing ${JSON.stringify(s)}: value out of range`
  return n
}

/** nat.ParsePortRange: `N` or `N-M`; the reason when it is neither. */
export function parsePortRange(s: string): [number, number] | string {
  if (s === '') return 'empty string specified for ports'
  const parts = s.split('-')
  const a = parseUint16(parts[0] ?? '')
  if (typeof a === 'string') return a
  if (parts.length === 1) return [a, a]
  const b = parseUint16(parts[1] ?? '')
  if (typeof b === 'string') return b
  if (b < a) return `invalid range specified for port: ${s}`
  return [a, b]
}

/** nat.SplitProtoPort: `80/udp` → ["udp", "80"]; tcp when none is named. */
function splitProtoPort(raw: string): [string, string] {
  const parts = raw.split('/')
  if (raw === '' || (parts[0] ?? '') === '') return ['', '']
  if (parts.length === 1) return ['tcp', raw]
  if ((parts[1] ?? '') === '') return ['tcp', parts[0] ?? '']
  return [parts[1] ?? '', parts[0] ?? '']
}

/** `-p published=8080,target=80,protocol=udp` as the short form, as docker's convertToStandardNotation. */
function standardPublish(spec: string): string {
  if (!spec.includes('=')) return spec
  const params: Record<string, string> = { protocol: 'tcp' }
  for (const param of spec.split(',')) {
    const i = param.indexOf('=')
    if (i <= 0) throw new UsageError(`invalid publish opts format (should be name=value but got '${param}')`)
    params[param.slice(0, i)] = param.slice(i + 1)
  }
  return `${params.published ?? ''}:${params.target ?? ''}/${params.protocol ?? ''}`
}

/** Go's json marshalling sorts map keys; the request mirrors docker's byte for byte. */
function sortedKeys<T>(m: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

/**
 * `-p [ip:][hostPort:]containerPort[/proto]` (ranges, `[v6]:` addresses, the
 * long `published=,target=` form) and `--expose port[-port][/proto]`, as
 * nat.ParsePortSpecs and docker's run flags read them.
 */
export function parsePublish(specs: string[], expose: string[] = []): { exposed: PortSet; bindings: PortMap } {
  const exposed: PortSet = {}
  const bindings: PortMap = {}
  for (const raw of specs.map(standardPublish)) {
    const parts = raw.split(':')
    const n = parts.length
    let hostPart = n >= 2 ? parts[n - 2] ?? '' : ''
    let ip = n === 3 ? parts[0] ?? '' : n > 3 ? parts.slice(0, n - 2).join(':') : ''
    const [proto, containerPart] = splitProtoPort(parts[n - 1] ?? '')
    if (ip.startsWith('[')) {
      const close = ip.indexOf(']')
      if (close < 0 || close !== ip.length - 1) throw new UsageError(`invalid IP address ${ip}: address ${ip}: missing ']' in address`)
      ip = ip.slice(1, -1)
    }
    if (ip !== '' && !parseIp(ip)) throw new UsageError(`invalid IP address: ${ip}`)
    if (containerPart === '') throw new UsageError(`no port specified: ${raw}<empty>`)
    const cr = parsePortRange(containerPart)
    if (typeof cr === 'string') throw new UsageError(`invalid containerPort: ${containerPart}`)
    let hr: [number, number] = [0, 0]
    if (hostPart !== '') {
      const r = parsePortRange(hostPart)
      if (typeof r === 'string') throw new UsageError(`invalid hostPort: ${hostPart}`)
      hr = r
    }
    const [cs, ce] = cr
    const [hs, he] = hr
    // A host range against one container port is the range to pick a free host port from.
    if (hostPart !== '' && ce - cs !== he - hs && ce !== cs) {
      throw new UsageError(`invalid ranges specified for container and host Ports: ${containerPart} and ${hostPart}`)
    }
    if (!['tcp', 'udp', 'sctp'].includes(proto.toLowerCase())) throw new UsageError(`invalid proto: ${proto}`)
    for (let i = 0; i <= ce - cs; i++) {
      if (hostPart !== '') hostPart = String(hs + i)
      if (cs === ce && hs !== he) hostPart = `${hostPart}-${he}`
      const key = `${cs + i}/${proto.toLowerCase()}`
      exposed[key] = {}
      const list = bindings[key] ?? []
      list.push({ HostIp: ip, HostPort: hostPart })
      bindings[key] = list
    }
  }
  for (const e of expose) {
    if (e.includes(':')) throw new UsageError(`invalid port format for --expose: ${e}`)
    const [proto, port] = splitProtoPort(e)
    const r = parsePortRange(port)
    if (typeof r === 'string') throw new UsageError(`invalid range format for --expose: ${e}, error: ${r}`)
    for (let p = r[0]; p <= r[1]; p++) exposed[`${p}/${proto}`] = {}
  }
  return { exposed: sortedKeys(exposed), bindings: sortedKeys(bindings) }
}

// ---------------------------------------------------------------- networks

/** One `--network` value: a name, or docker's `name=…,alias=…,ip=…` form (opts.NetworkAttachmentOpts). */
export interface NetworkAttachment {
  target: string
  aliases: string[]
  driverOpts: Record<string, string>
  links: string[]
  ipv4: string
  ipv6: string
  linkLocalIPs: string[]
  mac: string
  gwPriority: number
}

/** encoding/csv's reading of one record: commas split, double quotes group and "" escapes. */
function csvFields(s: string): string[] {
  const out: string[] = []
  let i = 0
  for (;;) {
    let field = ''
    if (s[i] === '"') {
      i++
      for (;;) {
        if (i >= s.length) throw new UsageError('record on line 1; parse error on line 2, column 0: extraneous or missing " in quoted-field')
        if (s[i] === '"') {
          if (s[i + 1] === '"') { field += '"'; i += 2; continue }
          i++
          break
        }
        field += s[i]
        i++
      }
      if (i < s.length && s[i] !== ',') throw new UsageError(`parse error on line 1, column ${i + 1}: extraneous or missing " in quoted-field`)
    } else {
      const j = s.indexOf(',', i)
      field = j < 0 ? s.slice(i) : s.slice(i, j)
      if (field.includes('"')) throw new UsageError(`parse error on line 1, column ${i + field.indexOf('"') + 1}: bare " in non-quoted-field`)
      i = j < 0 ? s.length : j
    }
    out.push(field)
    if (i >= s.length) return out
    i++
  }
}

/** pflag's StringSlice flags: each value is a CSV record, "" adds nothing. */
export function splitStringSlice(values: string[]): string[] {
  return values.flatMap((v) => (v === '' ? [] : csvFields(v)))
}

/** opts.GpuOpts.Set: `all`, `2`, or `count=…,device=…,driver=…,capabilities=…,options=…`. */
export function parseGpuRequest(value: string): DeviceRequest {
  const req: DeviceRequest = { Driver: '', Count: 0, DeviceIDs: null, Capabilities: null, Options: null }
  const count = (s: string): number => {
    if (s === 'all') return -1
    if (!/^[+-]?\d+$/.test(s)) throw new UsageError(`invalid count (${s}): value must be either "all" or an integer: invalid syntax`)
    return Number(s)
  }
  const seen = new Set<string>()
  for (const field of csvFields(value)) {
    const eq = field.indexOf('=')
    const key = eq < 0 ? field : field.slice(0, eq)
    const val = eq < 0 ? '' : field.slice(eq + 1)
    if (seen.has(key)) throw new UsageError(`gpu request key '${key}' can be specified only once`)
    seen.add(key)
    if (eq < 0) {
      seen.add('count')
      req.Count = count(key)
      continue
    }
    switch (key) {
      case 'driver': req.Driver = val; break
      case 'count': req.Count = count(val); break
      case 'device': req.DeviceIDs = val.split(','); break
      case 'capabilities': req.Capabilities = [[...val.split(','), 'gpu']]; break
      case 'options': req.Options = kvMap(csvFields(val)); break
      default: throw new UsageError(`unexpected key '${key}' in '${field}'`)
    }
  }
  if (!seen.has('count') && req.DeviceIDs === null) req.Count = 1
  req.Options ??= {}
  req.Capabilities ??= [['gpu']]
  return req
}

/** parseStorageOpts: `key=value` each. */
export function parseStorageOpts(values: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const v of values) {
    const i = v.indexOf('=')
    if (i < 0) throw new UsageError('invalid storage option')
    out[v.slice(0, i)] = v.slice(i + 1)
  }
  return out
}

/** opts.NetworkOpt.Set: docker lowercases the long form's keys and values alike. */
export function parseNetworkOpt(value: string): NetworkAttachment {
  const att: NetworkAttachment = { target: '', aliases: [], driverOpts: {}, links: [], ipv4: '', ipv6: '', linkLocalIPs: [], mac: '', gwPriority: 0 }
  if (!/\w+=\w+(,\w+=\w+)*/.test(value)) {
    att.target = value
    return att
  }
  for (const field of csvFields(value)) {
    const lower = field.toLowerCase()
    const i = lower.indexOf('=')
    if (i <= 0) throw new UsageError(`invalid field ${field}`)
    const key = lower.slice(0, i).trim()
    const val = lower.slice(i + 1).trim()
    switch (key) {
      case 'name': att.target = val; break
      case 'alias': att.aliases.push(val); break
      case 'ip': att.ipv4 = val; break
      case 'ip6': att.ipv6 = val; break
      case 'mac-address': att.mac = val; break
      case 'link-local-ip': att.linkLocalIPs.push(val); break
      case 'driver-opt': {
        const j = val.indexOf('=')
        if (j <= 0) throw new UsageError('invalid key value pair format in driver options')
        att.driverOpts[val.slice(0, j).trim()] = val.slice(j + 1).trim()
        break
      }
      case 'gw-priority': {
        if (!/^[+-]?\d+$/.test(val)) throw new UsageError(`invalid gw-priority (${val}): invalid syntax`)
        att.gwPriority = Number(val)
        if (!Number.isSafeInteger(att.gwPriority)) throw new UsageError(`invalid gw-priority (${val}): value out of range`)
        break
      }
      default:
        throw new UsageError(`invalid field key ${key}`)
    }
  }
  if (att.target === '') throw new UsageError('network name/id is not specified')
  return att
}

/** container.NetworkMode.IsUserDefined. */
export function isUserDefinedNetwork(mode: string): boolean {
  return !['default', 'bridge', 'host', 'none'].includes(mode) && !mode.startsWith('container:')
}

export interface NetworkFlags {
  /** --network/--net values in order. */
  networks: string[]
  aliases: string[]
  links: string[]
  ip: string
  ip6: string
  mac: string
  linkLocalIPs: string[]
}

/** An endpoint as docker's CLI marshals one: every field present. */
function endpointSettings(a: NetworkAttachment): EndpointSettings {
  if (a.target.trim() === '') throw new UsageError('no name set for network')
  if (!isUserDefinedNetwork(a.target)) {
    if (a.aliases.length) throw new UsageError('network-scoped aliases are only supported for user-defined networks')
    if (a.links.length) throw new UsageError('links are only supported for user-defined networks')
  }
  let ipam: EndpointSettings['IPAMConfig'] = null
  if (a.ipv4 || a.ipv6 || a.linkLocalIPs.length) {
    ipam = {}
    if (a.ipv4) ipam.IPv4Address = a.ipv4
    if (a.ipv6) ipam.IPv6Address = a.ipv6
    if (a.linkLocalIPs.length) ipam.LinkLocalIPs = a.linkLocalIPs
  }
  if (a.mac && !isMacAddress(a.mac)) throw new UsageError(`${a.mac} is not a valid mac address`)
  return {
    IPAMConfig: ipam, Links: a.links.length ? a.links : null, Aliases: a.aliases.length ? a.aliases : null, MacAddress: a.mac,
    DriverOpts: Object.keys(a.driverOpts).length ? a.driverOpts : null, GwPriority: a.gwPriority,
    NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '',
    GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null,
  }
}

function isEmptyEndpoint(e: EndpointSettings): boolean {
  return e.IPAMConfig === null && e.Links === null && e.Aliases === null && e.MacAddress === '' && e.DriverOpts === null && e.GwPriority === 0
}

/**
 * The NetworkMode and EndpointsConfig docker's CLI sends (cli/command/container
 * opts.go parseNetworkOpts): the first network takes --network-alias, --link,
 * --ip, --ip6, --mac-address and --link-local-ip; one network with nothing to
 * say sends no endpoint, no network at all sends an empty "default" one.
 */
export function parseNetworkFlags(f: NetworkFlags): { mode: string; endpoints: Record<string, EndpointSettings> } {
  if (f.mac && !isMacAddress(f.mac)) throw new UsageError(`${f.mac} is not a valid mac address`)
  const atts = f.networks.map(parseNetworkOpt)
  const endpoints: Record<string, EndpointSettings> = {}
  const apply = (n: NetworkAttachment): void => {
    const conflict = (what: string) => new UsageError(`conflicting options: cannot specify both ${what}`)
    if (n.aliases.length && f.aliases.length) throw conflict('--network-alias and per-network alias')
    if (n.links.length && f.links.length) throw conflict('--link and per-network links')
    if (n.ipv4 && f.ip) throw conflict('--ip and per-network IPv4 address')
    if (n.ipv6 && f.ip6) throw conflict('--ip6 and per-network IPv6 address')
    if (n.mac && f.mac) throw conflict('--mac-address and per-network MAC address')
    if (n.linkLocalIPs.length && f.linkLocalIPs.length) throw conflict('--link-local-ip and per-network link-local IP addresses')
    if (f.aliases.length) n.aliases = [...f.aliases]
    // On a user-defined network --link makes an alias; on the default bridge it is a legacy link (HostConfig.Links).
    if (isUserDefinedNetwork(n.target) && f.links.length) n.links = [...f.links]
    if (f.ip) n.ipv4 = f.ip
    if (f.ip6) n.ipv6 = f.ip6
    if (f.mac) n.mac = f.mac
    if (f.linkLocalIPs.length) n.linkLocalIPs = [...f.linkLocalIPs]
  }
  if (atts.length === 0) {
    const n = parseNetworkOpt('default')
    apply(n)
    endpoints.default = endpointSettings(n)
  }
  let userDefined = false
  let other = false
  atts.forEach((n, i) => {
    if (isUserDefinedNetwork(n.target)) userDefined = true
    else other = true
    if (i === 0) apply(n)
    const ep = endpointSettings(n)
    if (Object.hasOwn(endpoints, n.target)) throw new UsageError(`network ${JSON.stringify(n.target)} is specified multiple times`)
    if (i === 0 && atts.length === 1 && isEmptyEndpoint(ep)) return
    endpoints[n.target] = ep
  })
  if (userDefined && other) throw new UsageError('conflicting options: cannot attach both user-defined and non-user-defined network-modes')
  // The container-wide MacAddress docker derived from this is dropped by its client from API 1.44 on.
  return { mode: atts[0]?.target ?? 'default', endpoints }
}

// ---------------------------------------------------------------- network create

export interface IpamFlags {
  driver: string
  subnets: string[]
  ipRanges: string[]
  gateways: string[]
  auxAddresses: Array<[string, string]>
  options: Record<string, string>
}

/**
 * docker network create's pairing of --subnet with --ip-range, --gateway and
 * --aux-address (cli/command/network/create.go createIPAMConfig): each goes to
 * the subnet containing it; subnets may not overlap. Configs keep the order
 * of the subnets (docker's come in map order).
 */
export function ipamFromFlags(o: IpamFlags): IPAM {
  if (o.subnets.length < o.ipRanges.length || o.subnets.length < o.gateways.length) {
    throw new Error('every ip-range or gateway must have a corresponding subnet')
  }
  const subnetOf = (s: string): Cidr => {
    const c = parseCidr(s)
    if (!c) throw new Error(`invalid subnet: invalid CIDR address: ${s}`)
    return c
  }
  /** subnetMatches: whether `data` (an address, or a CIDR's address) lies in `subnet`. */
  const matches = (subnet: string, data: string): boolean => {
    const s = subnetOf(subnet)
    if (data.includes('/')) {
      if (!parseCidr(data)) throw new Error(`invalid CIDR address: ${data}`)
      return cidrContains(s, parseIp(data.slice(0, data.indexOf('/'))))
    }
    return cidrContains(s, parseIp(data))
  }
  const configs = new Map<string, IPAMConfig & { AuxiliaryAddresses: Record<string, string> }>()
  for (const s of o.subnets) {
    for (const k of configs.keys()) {
      if (matches(s, k) || matches(k, s)) throw new Error('multiple overlapping subnet configuration is not supported')
    }
    configs.set(s, { Subnet: s, AuxiliaryAddresses: {} })
  }
  for (const r of o.ipRanges) {
    let found = false
    for (const s of o.subnets) {
      if (!parseCidr(r)) throw new Error(`invalid CIDR address: ${r}`)
      if (!matches(s, r)) continue
      const c = configs.get(s)
      if (c?.IPRange) throw new Error(`cannot configure multiple ranges (${r}, ${c.IPRange}) on the same subnet (${s})`)
      if (c) c.IPRange = r
      found = true
    }
    if (!found) throw new Error(`no matching subnet for range ${r}`)
  }
  for (const g of o.gateways) {
    let found = false
    for (const s of o.subnets) {
      if (!matches(s, g)) continue
      const c = configs.get(s)
      if (c?.Gateway) throw new Error(`cannot configure multiple gateways (${g}, ${c.Gateway}) for the same subnet (${s})`)
      if (c) c.Gateway = g
      found = true
    }
    if (!found) throw new Error(`no matching subnet for gateway ${g}`)
  }
  for (const [key, addr] of new Map(o.auxAddresses)) {
    let found = false
    for (const s of o.subnets) {
      if (!matches(s, addr)) continue
      const c = configs.get(s)
      if (c) c.AuxiliaryAddresses[key] = addr
      found = true
    }
    if (!found) throw new Error(`no matching subnet for aux-address ${addr}`)
  }
  const config: IPAMConfig[] = [...configs.values()].map((c) => {
    const out: IPAMConfig = { Subnet: c.Subnet }
    if (c.IPRange) out.IPRange = c.IPRange
    if (c.Gateway) out.Gateway = c.Gateway
    if (Object.keys(c.AuxiliaryAddresses).length) out.AuxiliaryAddresses = c.AuxiliaryAddresses
    return out
  })
  return { Driver: o.driver, Options: o.options, Config: config }
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

/** docker's RAMInBytes: 64m, 1g, 512k, 100 (bytes); binary units; a usage error when it is not a size. */
export function ramInBytes(v: string): number {
  try {
    return goRamInBytes(v)
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

/** One --mount value (CSV of key=value), as docker's opts.MountOpt reads it. */
export function parseMountFlag(value: string): import('../api/types/index.js').Mount {
  const out: import('../api/types/index.js').Mount = { Type: 'volume', Target: '' }
  const bool = (k: string, v: string | undefined): boolean => {
    if (v === undefined || /^(1|t|true)$/i.test(v)) return true
    if (/^(0|f|false)$/i.test(v)) return false
    throw new UsageError(`invalid argument "${value}" for "--mount" flag: invalid value for ${k}: ${v}`)
  }
  const fields = value.split(',').filter((f) => f !== '')
  for (const f of fields) {
    const i = f.indexOf('=')
    const key = (i < 0 ? f : f.slice(0, i)).toLowerCase()
    const val = i < 0 ? undefined : f.slice(i + 1)
    const need = () => {
      if (val === undefined) throw new UsageError(`invalid argument "${value}" for "--mount" flag: invalid field '${f}' must be a key=value pair`)
      return val
    }
    switch (key) {
      case 'type': out.Type = need(); break
      case 'source': case 'src': out.Source = need(); break
      case 'target': case 'dst': case 'destination': out.Target = need(); break
      case 'readonly': case 'ro': out.ReadOnly = bool(key, val); break
      case 'consistency': out.Consistency = need(); break
      case 'bind-propagation': out.BindOptions = { ...out.BindOptions, Propagation: need() }; break
      case 'bind-create-mountpoint': out.BindOptions = { ...out.BindOptions, CreateMountpoint: bool(key, val) }; break
      case 'volume-nocopy': out.VolumeOptions = { ...out.VolumeOptions, NoCopy: bool(key, val) }; break
      case 'volume-driver': out.VolumeOptions = { ...out.VolumeOptions, DriverConfig: { ...out.VolumeOptions?.DriverConfig, Name: need() } }; break
      case 'volume-label': {
        const [k = '', ...rest] = need().split('=')
        out.VolumeOptions = { ...out.VolumeOptions, Labels: { ...out.VolumeOptions?.Labels, [k]: rest.join('=') } }
        break
      }
      case 'volume-opt': {
        const [k = '', ...rest] = need().split('=')
        const dc = out.VolumeOptions?.DriverConfig
        out.VolumeOptions = { ...out.VolumeOptions, DriverConfig: { ...dc, Options: { ...dc?.Options, [k]: rest.join('=') } } }
        break
      }
      case 'tmpfs-size': out.TmpfsOptions = { ...out.TmpfsOptions, SizeBytes: ramInBytes(need()) }; break
      case 'tmpfs-mode': {
        const mode = parseInt(need(), 8)
        if (Number.isNaN(mode)) throw new UsageError(`invalid argument "${value}" for "--mount" flag: invalid value for ${key}: ${val ?? ''}`)
        out.TmpfsOptions = { ...out.TmpfsOptions, Mode: mode }
        break
      }
      default:
        throw new UsageError(`invalid argument "${value}" for "--mount" flag: unexpected key '${key}' in '${f}'`)
    }
  }
  if (out.Type === '') throw new UsageError(`invalid argument "${value}" for "--mount" flag: type is required`)
  if (out.Target === '') throw new UsageError(`invalid argument "${value}" for "--mount" flag: target is required`)
  return out
}

const KNOWN_OS = new Set(['aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'hurd', 'illumos', 'ios', 'js', 'linux', 'nacl', 'netbsd', 'openbsd', 'plan9', 'solaris', 'wasip1', 'windows', 'zos'])
const KNOWN_ARCH = new Set([
  '386', 'amd64', 'amd64p32', 'arm', 'armbe', 'arm64', 'arm64be', 'loong64', 'mips', 'mipsle', 'mips64', 'mips64le', 'mips64p32', 'mips64p32le',
  'ppc', 'ppc64', 'ppc64le', 'riscv', 'riscv64', 's390', 's390x', 'sparc', 'sparc64', 'wasm',
])
const ARCH_ALIASES: Record<string, string> = { i386: '386', x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm' }

/** containerd's platforms.Parse as the docker CLI runs it (`--platform`), with its errors; the host is linux/amd64. */
export function parsePlatformFlag(spec: string): { os: string; architecture: string; variant?: string } {
  if (spec.includes('*')) throw new Error(`${JSON.stringify(spec)}: wildcards not yet supported: invalid argument`)
  const parts = spec.split('/')
  for (const part of parts) {
    if (!/^[A-Za-z0-9_-]+$/.test(part)) {
      throw new Error(`${JSON.stringify(part)}: is an invalid component of ${JSON.stringify(spec)}: platform specifier component must match "^[A-Za-z0-9_-]+$": invalid argument`)
    }
  }
  const os = (s: string) => (s.toLowerCase() === 'macos' ? 'darwin' : s.toLowerCase())
  const arch = (a: string, v = ''): { architecture: string; variant?: string } => {
    let architecture = ARCH_ALIASES[a.toLowerCase()] ?? a.toLowerCase()
    let variant = v.toLowerCase()
    if (architecture === 'aarch64') architecture = 'arm64'
    if (architecture === 'arm64' && (variant === '8' || variant === 'v8')) variant = ''
    if (architecture === 'arm' && variant === '') variant = 'v7'
    if (architecture === 'arm' && /^\d$/.test(variant)) variant = `v${variant}`
    if (architecture === 'amd64' && variant === 'v1') variant = ''
    return variant ? { architecture, variant } : { architecture }
  }
  if (parts.length === 1) {
    const one = parts[0] as string
    if (KNOWN_OS.has(os(one))) return { os: os(one), architecture: 'amd64' }
    const a = arch(one)
    if (KNOWN_ARCH.has(a.architecture)) return { os: 'linux', ...a }
    throw new Error(`${JSON.stringify(spec)}: unknown operating system or architecture: invalid argument`)
  }
  if (parts.length === 2) return { os: os(parts[0] as string), ...arch(parts[1] as string) }
  if (parts.length === 3) return { os: os(parts[0] as string), ...arch(parts[1] as string, parts[2]) }
  throw new Error(`${JSON.stringify(spec)}: cannot parse platform specifier: invalid argument`)
}
