/** `berth network …` and `berth port`: flags → request → docker's output (cli/command/network, container/port.go). */
import type { EndpointSettings, NetworkCreateRequest, NetworkInspect } from '../../api/types/index.js'
import { ClientError } from '../../client/index.js'
import { confirm } from './container.js'
import { dockerFuncs, parseTemplate } from '../../gotemplate/index.js'
import type { Handler, Opts } from '../app.js'
import { bool, configFormat, err, getClient, int, out, str, strs } from '../context.js'
import { ipamFromFlags, kvMap, parseFilters, splitStringSlice, UsageError } from '../opts.js'
import { renderFormat } from '../output/format.js'
import { goTimeOf, joinHostPort, naturalCompare, NETWORK_HEADERS, networkFormat, networkRow } from '../output/networks.js'

function daemonError(e: unknown): string {
  return e instanceof ClientError ? `Error response from daemon: ${e.message}` : (e as Error).message
}

/** `-o k=v` and friends: pflag map flags split at the first '=' (no '=': empty value). */
function mapFlag(values: string[]): Array<[string, string]> {
  return values.map((v) => {
    const i = v.indexOf('=')
    return i < 0 ? [v, ''] : [v.slice(0, i), v.slice(i + 1)]
  })
}

export const networkLsCommand: Handler = async (_args, opts, ctx) => {
  const client = getClient(ctx.globals)
  const list = await client.networkList(parseFilters(strs(opts.filter)))
  list.sort((a, b) => naturalCompare(a.Name, b.Name))
  const format = networkFormat(str(opts.format) || (bool(opts.quiet) ? undefined : configFormat('networksFormat')) || 'table', bool(opts.quiet))
  out(renderFormat(format, list.map((n) => networkRow(n, opts.trunc !== false)), NETWORK_HEADERS))
}

/** The body docker's CLI sends, field for field and in its order (CreateOptions, then Name). */
export function buildNetworkCreate(opts: Opts): Omit<NetworkCreateRequest, 'Name'> {
  const ipam = ipamFromFlags({
    driver: str(opts.ipamDriver) ?? 'default',
    subnets: splitStringSlice(strs(opts.subnet)),
    ipRanges: splitStringSlice(strs(opts.ipRange)),
    gateways: splitStringSlice(strs(opts.gateway)),
    auxAddresses: mapFlag(strs(opts.auxAddress)),
    options: Object.fromEntries(mapFlag(strs(opts.ipamOpt))),
  })
  const body: Omit<NetworkCreateRequest, 'Name'> = { Driver: str(opts.driver) ?? 'bridge', Scope: str(opts.scope) ?? '' }
  // Sent only when given, so the daemon's defaults (and daemon.json) apply otherwise.
  if (typeof opts.ipv4 === 'boolean') body.EnableIPv4 = opts.ipv4
  if (typeof opts.ipv6 === 'boolean') body.EnableIPv6 = opts.ipv6
  return {
    ...body,
    IPAM: ipam,
    Internal: bool(opts.internal),
    Attachable: bool(opts.attachable),
    Ingress: bool(opts.ingress),
    ConfigOnly: bool(opts.configOnly),
    ConfigFrom: str(opts.configFrom) ? { Network: str(opts.configFrom) ?? '' } : null,
    Options: Object.fromEntries(mapFlag(strs(opts.opt))),
    Labels: kvMap(strs(opts.label)),
  }
}

export const networkCreateCommand: Handler = async ([name = ''], opts, ctx) => {
  const body = buildNetworkCreate(opts)
  const res = await getClient(ctx.globals).networkCreate(name, body)
  out(`${res.Id}\n`)
}

const INGRESS_WARNING = 'WARNING! Before removing the routing-mesh network, make sure all the nodes in your swarm run the same docker engine version. '
  + 'Otherwise, removal may not be effective and functionality of newly create ingress networks will be impaired.\nAre you sure you want to continue? [y/N] '

export const networkRmCommand: Handler = async (names, opts, ctx) => {
  const client = getClient(ctx.globals)
  let failed = false
  for (const name of names) {
    // docker looks first, to ask before removing a swarm routing-mesh network.
    const nw = await client.networkInspect(name).catch(() => undefined)
    if (nw?.Ingress && !(await confirm(INGRESS_WARNING))) continue
    try {
      await client.networkRemove(name)
      out(`${name}\n`)
    } catch (e) {
      if (bool(opts.force) && e instanceof ClientError && e.statusCode === 404) continue
      err(`${daemonError(e)}\n`)
      failed = true
    }
  }
  if (!failed) return 0
  // docker 28 ends with its StatusError's text.
  err('exit status 1\n')
  return 1
}

/** docker network connect's EndpointSettings: IPAMConfig always sent, its empty fields omitted. */
export function buildEndpointSettings(opts: Opts): EndpointSettings {
  const driverOpts: Record<string, string> = {}
  for (const o of splitStringSlice(strs(opts.driverOpt))) {
    const i = o.indexOf('=')
    const k = (i < 0 ? o : o.slice(0, i)).trim()
    if (i < 0 || k === '') throw new UsageError('invalid key/value pair format in driver options')
    driverOpts[k] = o.slice(i + 1).trim()
  }
  const ipam: NonNullable<EndpointSettings['IPAMConfig']> = {}
  if (str(opts.ip)) ipam.IPv4Address = str(opts.ip)
  if (str(opts.ip6)) ipam.IPv6Address = str(opts.ip6)
  const linkLocal = splitStringSlice(strs(opts.linkLocalIp))
  if (linkLocal.length) ipam.LinkLocalIPs = linkLocal
  const links = strs(opts.link)
  return {
    IPAMConfig: ipam, Links: links.length ? links : null, Aliases: splitStringSlice(strs(opts.alias)), MacAddress: '',
    DriverOpts: driverOpts, GwPriority: int(opts.gwPriority, '--gw-priority') ?? 0,
    NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '',
    GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null,
  }
}

export const networkConnectCommand: Handler = async ([network = '', container = ''], opts, ctx) => {
  await getClient(ctx.globals).networkConnect(network, container, buildEndpointSettings(opts))
}

export const networkDisconnectCommand: Handler = async ([network = '', container = ''], opts, ctx) => {
  await getClient(ctx.globals).networkDisconnect(network, container, bool(opts.force))
}


export const networkPruneCommand: Handler = async (_args, opts, ctx) => {
  const filters = parseFilters(strs(opts.filter))
  if (!bool(opts.force)) {
    const ok = await confirm('WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ')
    // A cancelled prune is not an error for docker: nothing more is printed.
    if (!ok) return 0
  }
  const report = await getClient(ctx.globals).networkPrune(filters)
  const deleted = report.NetworksDeleted ?? []
  if (deleted.length) out(`Deleted Networks:\n${deleted.map((n) => `${n}\n`).join('')}\n`)
}

/** inspect's data for templates: Created reads as Go's time.Time (printed by String(), encoded as sent). */
function templateData(n: NetworkInspect): unknown {
  const created = n.Created
  return { ...n, Created: { String: () => goTimeOf(created), toJSON: () => created } }
}

export const networkInspectCommand: Handler = async (names, opts, ctx) => {
  const client = getClient(ctx.globals)
  const format = str(opts.format) ?? ''
  let tmpl
  if (format !== '' && format !== 'json') {
    try {
      tmpl = parseTemplate(format, { funcs: dockerFuncs, missingKey: 'error' })
    } catch (e) {
      err(`template parsing error: ${(e as Error).message}\n`)
      return 64
    }
  }
  const errors: string[] = []
  const found: NetworkInspect[] = []
  let text = ''
  for (const name of names) {
    try {
      const { network } = await client.networkInspectRaw(name, { verbose: bool(opts.verbose) })
      if (tmpl) {
        try {
          text += tmpl.execute(templateData(network)) + '\n'
        } catch (e) {
          errors.push(`template parsing error: ${(e as Error).message}`)
        }
      } else found.push(network)
    } catch (e) {
      errors.push(daemonError(e))
    }
  }
  if (tmpl) out(text === '' ? '\n' : text)
  else if (format === 'json') out(found.length ? `${JSON.stringify(found)}\n` : '[]\n')
  // The daemon's JSON re-indented, as docker's json.Indent of the raw bodies (no HTML escaping).
  else out(found.length ? `${JSON.stringify(found, null, 4)}\n` : '[]\n')
  if (errors.length) {
    err(`${errors.join('\n')}\n`)
    return 1
  }
  return 0
}

/** `berth port CONTAINER [PRIVATE_PORT[/PROTO]]` from inspect's NetworkSettings.Ports, as docker's runPort. */
export const portCommand: Handler = async ([container = '', port], _opts, ctx) => {
  const info = await getClient(ctx.globals).containerInspect(container)
  const ports = info.NetworkSettings?.Ports ?? {}
  const lines: string[] = []
  if (port !== undefined && port !== '') {
    const i = port.indexOf('/')
    const num = i < 0 ? port : port.slice(0, i)
    const proto = (i < 0 ? '' : port.slice(i + 1)) || 'tcp'
    if (!/^\d+$/.test(num) || Number(num) > 65535) {
      const why = /^\d+$/.test(num) ? 'value out of range' : 'invalid syntax'
      throw new Error(`Error: invalid port (${num}): strconv.ParseUint: parsing ${JSON.stringify(num)}: ${why}`)
    }
    const frontends = ports[`${num}/${proto}`]
    if (!frontends || frontends.length === 0) throw new Error(`Error: No public port '${port}' published for ${container}`)
    for (const f of frontends) lines.push(joinHostPort(f.HostIp ?? '', f.HostPort ?? ''))
  } else {
    for (const [from, frontends] of Object.entries(ports)) {
      for (const f of frontends ?? []) lines.push(`${from} -> ${joinHostPort(f.HostIp ?? '', f.HostPort ?? '')}`)
    }
  }
  if (lines.length) out(`${lines.sort(naturalCompare).join('\n')}\n`)
}
