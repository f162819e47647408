import { existsSync, promises as fsp } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { conflict, EngineError, forbidden, invalidArgument, isKind, messageOf, notFound } from '../errors/index.js'
import type { EventBus } from '../events/index.js'
import { newId, shortId, type Logger } from '../lib/index.js'
import { formatIp, macFromIp, parseCidrAddr, parseIp, Prefix, randomMac, tryParseIp, type Addr } from './cidr.js'
import { EmbeddedDns, type DnsAnswer, type DnsQuestion } from './dns.js'
import { Firewall, type FirewallState } from './firewall.js'
import { AddressSpace, allocateSubnet, checkSubnetClaim, DEFAULT_ADDRESS_POOLS, DEFAULT_IPV6_POOLS, validateIpamConfigs, type AddressPool, type SubnetClaim } from './ipam.js'
import { ipBatch, kernelHas, linkExists, NetnsDir, routedPrefixes, writeSysctl } from './iproute.js'
import { startProxy, type Proxy } from './proxy.js'
import type { EndpointConfig, EndpointRecord, IpamConfig, NetworkCreateRequest, NetworkRecord, PortBinding, Proto, SandboxRecord } from './types.js'
import type { NetworkStore } from './store.js'

export const BRIDGE_OPT = {
  name: 'com.docker.network.bridge.name',
  icc: 'com.docker.network.bridge.enable_icc',
  masquerade: 'com.docker.network.bridge.enable_ip_masquerade',
  hostBinding: 'com.docker.network.bridge.host_binding_ipv4',
  defaultBridge: 'com.docker.network.bridge.default_bridge',
  mtu: 'com.docker.network.driver.mtu',
} as const

const PREDEFINED = new Set(['bridge', 'host', 'none'])

export interface DefaultBridgeConfig {
  /** Linux bridge of the `bridge` network; berth0 unless daemon.json says otherwise. */
  name: string
  /** bip: the bridge's address with prefix (gateway + subnet). */
  bip?: string
  fixedCidr?: string
  mtu: number
  icc: boolean
  ipMasq: boolean
}

export interface NetworkServiceOptions {
  store: NetworkStore
  events: EventBus
  logger: Logger
  /** Where namespace files are kept (exec root). */
  netnsDir: string
  defaultBridge: DefaultBridgeConfig
  pools?: AddressPool[]
  /** Where `--ipv6` networks without a subnet get theirs: docker's ULA /48 of this host. */
  pools6?: AddressPool[]
  /** null: daemon.json `"iptables": false`; berth leaves the firewall alone. */
  firewall: Firewall | null
  /** daemon.json `ip-forward`: berthd turns on IPv4 forwarding unless false. */
  ipForward?: boolean
  /** The host's resolvers, for names the embedded DNS does not own. */
  hostResolvers: () => string[]
}

/** What a container brings to its sandbox: read from its record by the container service. */
export interface SandboxRequest {
  containerId: string
  containerName: string
  hostname: string
  /** Networks in attach order: NetworkMode's first. Keys as the user named them. */
  networks: Array<{ name: string; config: EndpointConfig }>
  portBindings: Record<string, Array<{ hostIp: string; hostPort: string }>>
  publishAll: boolean
  exposedPorts: string[]
  /** The container's --dns: the embedded DNS forwards to them instead of the host's resolvers. */
  dns: string[]
  /** Legacy links: hosts entries on the default bridge, container-scoped DNS names on user networks. */
  links: Array<{ containerId: string; names: string[] }>
}

export interface SandboxInfo {
  netnsPath: string
  /** Lines for the container's /etc/hosts. */
  hosts: Array<{ ip: string; names: string[] }>
  /** Set when the container should ask the embedded DNS: its addresses. */
  nameservers: string[] | null
}

/** A container's network state for inspect and ps. */
export interface ContainerNetworkView {
  sandbox: SandboxRecord | undefined
  endpoints: Array<EndpointRecord & { networkName: string }>
}

interface Live {
  proxies: Map<string, Proxy[]>
  dns: Map<string, EmbeddedDns>
  spaces: Map<string, { v4?: AddressSpace; v6?: AddressSpace }>
}

const boolOpt = (v: string | undefined, name: string, dflt: boolean): boolean => {
  if (v === undefined || v === '') return dflt
  if (/^(1|t|true)$/i.test(v)) return true
  if (/^(0|f|false)$/i.test(v)) return false
  throw invalidArgument(`failed to parse ${name} value: strconv.ParseBool: parsing "${v}": invalid syntax`)
}

/** RFC 3339 with nine fraction digits, as Go prints time.Time (the clock gives milliseconds). */
function goTime(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z')
}

/**
 * Networks and container sandboxes on one host: the bridge, macvlan, host and
 * null drivers, IPAM, published ports, the firewall and the embedded DNS.
 * Containers come and go through attach/detach; the state that must outlive
 * berthd (addresses, namespaces, rules) is rebuilt from the store by restore().
 */
export class NetworkService {
  private readonly o: NetworkServiceOptions
  private readonly log: Logger
  private readonly netns: NetnsDir
  private readonly live: Live = { proxies: new Map(), dns: new Map(), spaces: new Map() }
  private readonly pools: AddressPool[]
  /** Serializes changes: address allocation and firewall syncs must not interleave. */
  private queue: Promise<unknown> = Promise.resolve()
  private lastPort = 0

  constructor(o: NetworkServiceOptions) {
    this.o = o
    this.log = o.logger.child({ module: 'network' })
    this.netns = new NetnsDir(o.netnsDir)
    this.pools = o.pools ?? DEFAULT_ADDRESS_POOLS
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn, fn)
    this.queue = p.catch(() => {})
    return p
  }

  // ---- networks ------------------------------------------------------------

  list(): NetworkRecord[] {
    return this.o.store.allNetworks()
  }

  /** Full ID, exact name, or unique ID prefix (docker's order). */
  find(ref: string): NetworkRecord {
    const all = this.o.store.allNetworks()
    const byId = all.find((n) => n.id === ref)
    if (byId) return byId
    const byName = all.find((n) => n.name === ref)
    if (byName) return byName
    const pre = ref.length > 0 ? all.filter((n) => n.id.startsWith(ref)) : []
    if (pre.length === 1 && pre[0]) return pre[0]
    if (pre.length > 1) throw invalidArgument(`network ${ref} is ambiguous (${pre.length} matches found based on ID prefix)`)
    throw notFound(`network ${ref} not found`)
  }

  private tryFind(ref: string): NetworkRecord | undefined {
    try {
      return this.find(ref)
    } catch (err) {
      if (err instanceof EngineError && err.kind === 'not-found') return undefined
      throw err
    }
  }

  endpointsOf(networkId: string): EndpointRecord[] {
    return this.o.store.endpointsOf(networkId)
  }

  containerView(containerId: string): ContainerNetworkView {
    return {
      sandbox: this.o.store.sandbox(containerId),
      endpoints: this.o.store.endpointsFor(containerId).map((e) => ({ ...e, networkName: this.o.store.network(e.networkId)?.name ?? '' })),
    }
  }

  isPredefined(n: NetworkRecord): boolean {
    return PREDEFINED.has(n.name)
  }

  async create(req: NetworkCreateRequest): Promise<{ id: string; warning: string }> {
    return this.serial(() => this.createLocked(req))
  }

  private async createLocked(req: NetworkCreateRequest, fixedId?: string): Promise<{ id: string; warning: string }> {
    const name = req.name
    if (!name) throw invalidArgument('network name must not be empty')
    if (PREDEFINED.has(name) && !fixedId) throw forbidden(`${name} is a pre-defined network and cannot be created`)
    if (this.o.store.byName(name)) throw conflict(`network with name ${name} already exists`)
    const driver = req.driver || 'bridge'
    if (driver === 'host' || driver === 'null') {
      if (!fixedId) throw forbidden(`only one instance of "${driver}" network is allowed`)
    } else if (driver !== 'bridge' && driver !== 'macvlan') {
      throw notFound(`could not find plugin ${driver} in v1 plugin registry: plugin not found`)
    }
    if (req.ipam.driver && req.ipam.driver !== 'default') throw notFound(`could not find plugin ${req.ipam.driver} in v1 plugin registry: plugin not found`)
    if (req.configOnly || req.configFrom) throw new EngineError('not-implemented', 'config-only networks are not supported by berth yet')
    if (req.ingress) throw forbidden('ingress networks are for swarm mode, which this node is not part of')
    const id = fixedId ?? newId()
    let parentLink: string[] | undefined
    const enableIPv4 = req.enableIPv4 ?? true
    const enableIPv6 = req.enableIPv6 ?? false
    const rec: NetworkRecord = {
      id,
      name,
      driver: driver as NetworkRecord['driver'],
      created: goTime(),
      scope: 'local',
      enableIPv4: driver === 'host' || driver === 'null' ? false : enableIPv4,
      enableIPv6,
      internal: req.internal,
      attachable: req.attachable,
      ipam: { driver: 'default', options: req.ipam.options, config: [] },
      options: { ...req.options },
      labels: { ...req.labels },
      ifname: '',
    }
    if (driver === 'bridge' || driver === 'macvlan') {
      rec.ipam.config = await this.ipamConfigs(rec, req.ipam.config)
      // Only addresses in subnets the user chose may be asked for with --ip (docker's rule).
      rec.userSubnets = req.ipam.config.some((c) => c.subnet)
      if (driver === 'bridge') {
        boolOpt(rec.options[BRIDGE_OPT.icc], BRIDGE_OPT.icc, true)
        boolOpt(rec.options[BRIDGE_OPT.masquerade], BRIDGE_OPT.masquerade, true)
        const mtu = rec.options[BRIDGE_OPT.mtu]
        if (mtu !== undefined && !/^\d+$/.test(mtu)) throw invalidArgument(`invalid MTU value "${mtu}"`)
        rec.ifname = rec.options[BRIDGE_OPT.name] || `br-${id.slice(0, 12)}`
        if (rec.ifname.length > 15) throw invalidArgument(`bridge name ${rec.ifname} is longer than 15 characters`)
        const clash = this.o.store.allNetworks().find((n) => n.driver === 'bridge' && n.ifname === rec.ifname)
        if (clash) throw forbidden(`cannot create network ${id} (${rec.ifname}): conflicts with network ${clash.id} (${clash.ifname}): networks have same bridge name`)
      } else {
        const mode = rec.options['macvlan_mode'] ?? 'bridge'
        if (!['bridge', 'private', 'vepa', 'passthru'].includes(mode)) throw invalidArgument(`requested macvlan mode '${mode}' is not valid, 'bridge' mode is the macvlan driver default`)
        parentLink = await this.macvlanParent(rec, rec.options['parent'] ?? '')
      }
    }
    try {
      if (parentLink) await ipBatch(parentLink)
      if (driver === 'bridge') await this.ensureBridge(rec)
      this.o.store.saveNetwork(rec)
      this.spacesOf(rec)
      if (driver === 'bridge') {
        await this.syncFirewall()
        await this.startDns(rec)
      }
    } catch (err) {
      // The row may never have been written (a full disk fails saveNetwork); the links go regardless.
      try {
        this.o.store.removeNetwork(rec.id)
      } catch (rmErr) {
        this.log.warn('removing the record of a network that failed to create', { id: rec.id, err: rmErr })
      }
      this.live.spaces.delete(rec.id)
      if (parentLink) await ipBatch([`link del ${rec.ifname}`]).catch(() => {})
      if (driver === 'bridge') {
        await this.stopDns(rec.id)
        await ipBatch([`link del ${rec.ifname}`]).catch(() => {})
        await this.syncFirewall().catch(() => {})
      }
      throw err
    }
    this.o.events.publish('network', 'create', id, { name, type: driver })
    return { id, warning: '' }
  }

  /**
   * macvlan's parent, as docker's driver finds or makes it: none given, a
   * dummy link `dm-<id12>` (the network is then internal); `eth0.10`, a VLAN
   * sub-interface of eth0 made for the network. Returns the commands that make
   * a link berth then owns (removed with the network), if any.
   */
  private async macvlanParent(rec: NetworkRecord, parent: string): Promise<string[] | undefined> {
    if (parent === 'lo') throw invalidArgument('loopback interface is not a valid macvlan parent link')
    if (parent === '') {
      rec.ifname = `dm-${rec.id.slice(0, 12)}`
      rec.internal = true
      rec.ownsParent = true
      // Kernels without the dummy driver get a veth pair whose other end stays unused: as isolated.
      const kind = (await kernelHas('dummy')) ? 'dummy' : `veth peer name dn-${rec.id.slice(0, 12)}`
      return [`link add ${rec.ifname} type ${kind}`, `link set ${rec.ifname} up`]
    }
    rec.ifname = parent
    if (await linkExists(parent)) {
      // A link another network made stays until the last network on it goes.
      rec.ownsParent = this.o.store.allNetworks().some((n) => n.driver === 'macvlan' && n.ifname === parent && n.ownsParent)
      return undefined
    }
    if (!parent.includes('.')) throw invalidArgument(`invalid subinterface vlan name ${parent}, example formatting is eth0.10`)
    const parts = parent.split('.')
    if (parts.length !== 2) throw invalidArgument(`required interface name format is: name.vlan_id, ex. eth0.10 for vlan 10, instead received ${parent}`)
    const [master = '', vidText = ''] = parts
    if (!/^\d+$/.test(vidText)) throw invalidArgument(`unable to parse a valid vlan id from: ${vidText} (ex. eth0.10 for vlan 10)`)
    if (!(await linkExists(master))) throw invalidArgument(`-o parent interface was not found on the host: ${master}`)
    const vid = Number(vidText)
    if (vid < 1 || vid > 4094) throw invalidArgument(`vlan id must be between 1-4094, received: ${vid}`)
    if (!(await kernelHas('vlan'))) throw new EngineError('not-implemented', `cannot make the VLAN sub-interface ${parent}: this kernel has no 802.1Q VLAN support (CONFIG_VLAN_8021Q / the 8021q module); make the interface yourself or use an existing parent`)
    rec.ownsParent = true
    return [`link add link ${master} name ${parent} type vlan id ${vid}`, `link set ${parent} up`]
  }

  /** Subnets and gateways: as asked (checked against every other network), else from the pools. */
  private async ipamConfigs(rec: NetworkRecord, asked: IpamConfig[]): Promise<IpamConfig[]> {
    const claims: SubnetClaim[] = this.o.store.allNetworks().flatMap((n) => n.ipam.config.map((c) => ({ subnet: Prefix.parse(c.subnet), ...(c.ipRange ? { ipRange: Prefix.parse(c.ipRange, 'ip-range') } : {}) })))
    const others = claims.map((c) => c.subnet)
    validateIpamConfigs(asked.filter((c) => c.subnet), rec.enableIPv6)
    const out: IpamConfig[] = []
    for (const c of asked) {
      if (!c.subnet) {
        if (c.ipRange || c.gateway) throw invalidArgument('invalid pool request: ip-range and gateway need a subnet')
        continue
      }
      const subnet = Prefix.parse(c.subnet)
      if (subnet.family === 6 && !rec.enableIPv6) continue
      const claim: SubnetClaim = { subnet, ...(c.ipRange ? { ipRange: Prefix.parse(c.ipRange, 'ip-range') } : {}) }
      checkSubnetClaim(claim, claims)
      claims.push(claim)
      const cfg: IpamConfig = { subnet: subnet.toString() }
      if (claim.ipRange) cfg.ipRange = claim.ipRange.toString()
      if (c.gateway) cfg.gateway = formatIp(parseIp(c.gateway))
      if (c.auxAddresses && Object.keys(c.auxAddresses).length) cfg.auxAddresses = { ...c.auxAddresses }
      out.push(cfg)
    }
    const fam = (c: IpamConfig) => Prefix.parse(c.subnet).family
    const want: Array<4 | 6> = []
    if (rec.enableIPv4 && !out.some((c) => fam(c) === 4)) want.push(4)
    if (rec.enableIPv6 && !out.some((c) => fam(c) === 6)) want.push(6)
    if (want.length) {
      const routed = (await routedPrefixes()).flatMap((r) => {
        try {
          return [Prefix.parse(r.includes('/') ? r : r.includes(':') ? `${r}/128` : `${r}/32`)]
        } catch {
          return []
        }
      })
      const taken = [...others, ...out.map((c) => Prefix.parse(c.subnet)), ...routed]
      for (const f of want) {
        const p = allocateSubnet(f === 4 ? this.pools : (this.o.pools6 ?? DEFAULT_IPV6_POOLS), taken, f)
        if (!p) throw forbidden('could not find an available, non-overlapping IPv' + f + ' address pool among the defaults to assign to the network')
        out.push({ subnet: p.toString() })
        taken.push(p)
      }
    }
    // Docker's gateway: the first usable address of the ip-range, else of the subnet.
    for (const c of out) {
      if (c.gateway) continue
      const space = new AddressSpace(Prefix.parse(c.subnet), c.ipRange ? { ipRange: Prefix.parse(c.ipRange) } : {})
      if (space.gateway) c.gateway = formatIp(space.gateway)
    }
    return out
  }

  private spacesOf(n: NetworkRecord): { v4?: AddressSpace; v6?: AddressSpace } {
    let s = this.live.spaces.get(n.id)
    if (s) return s
    s = {}
    for (const c of n.ipam.config) {
      const subnet = Prefix.parse(c.subnet)
      const space = new AddressSpace(subnet, {
        ...(c.ipRange ? { ipRange: Prefix.parse(c.ipRange, 'ip-range') } : {}),
        gateway: c.gateway ? parseIp(c.gateway) : null,
        auxAddresses: Object.fromEntries(Object.entries(c.auxAddresses ?? {}).map(([k, a]) => [k, parseIp(a)])),
      })
      if (subnet.family === 4) s.v4 ??= space
      else s.v6 ??= space
    }
    for (const e of this.o.store.endpointsOf(n.id)) {
      if (e.ipv4 && s.v4) s.v4.markUsed(parseIp(e.ipv4.split('/')[0] ?? ''))
      if (e.ipv6 && s.v6) s.v6.markUsed(parseIp(e.ipv6.split('/')[0] ?? ''))
    }
    this.live.spaces.set(n.id, s)
    return s
  }

  private bridgeOf(n: NetworkRecord) {
    return {
      icc: boolOpt(n.options[BRIDGE_OPT.icc], BRIDGE_OPT.icc, true),
      masquerade: boolOpt(n.options[BRIDGE_OPT.masquerade], BRIDGE_OPT.masquerade, true),
      hostBinding: n.options[BRIDGE_OPT.hostBinding] || '',
      mtu: Number(n.options[BRIDGE_OPT.mtu] || 1500),
    }
  }

  private async ensureBridge(n: NetworkRecord): Promise<void> {
    const { mtu } = this.bridgeOf(n)
    const cmds: string[] = []
    // A bridge without an address of its own takes the lowest of its ports' and
    // changes it as containers come and go: the gateway would vanish from every
    // container's neighbour cache. A fixed random one, as docker sets.
    if (!(await linkExists(n.ifname))) cmds.push(`link add ${n.ifname} address ${randomMac()} type bridge`)
    else if ((await fsp.readFile(`/sys/class/net/${n.ifname}/addr_assign_type`, 'utf8').catch(() => '3')).trim() !== '3') cmds.push(`link set ${n.ifname} address ${randomMac()}`)
    cmds.push(`link set ${n.ifname} mtu ${mtu}`)
    for (const c of n.ipam.config) {
      if (!c.gateway) continue
      const bits = Prefix.parse(c.subnet).bits
      cmds.push(`addr replace ${c.gateway}/${bits} dev ${n.ifname}${c.gateway.includes(':') ? ' nodad' : ''}`)
    }
    cmds.push(`link set ${n.ifname} up`)
    if (n.enableIPv6) await writeSysctl(`net.ipv6.conf.${n.ifname}.disable_ipv6`, '0').catch(() => {})
    // Traffic within one bridge reaches iptables only through br_netfilter: enable_icc=false needs it.
    if (!this.bridgeOf(n).icc && this.o.firewall) {
      for (const fam of ['iptables', 'ip6tables']) {
        await writeSysctl(`net.bridge.bridge-nf-call-${fam}`, '1').catch((err: unknown) => this.log.warn('enable_icc=false needs br_netfilter (modprobe br_netfilter); containers on this network can still reach each other', { network: n.name, err }))
      }
    }
    await ipBatch(cmds)
  }

  async remove(ref: string): Promise<void> {
    const n = this.find(ref)
    if (PREDEFINED.has(n.name)) throw forbidden(`${n.name} is a pre-defined network and cannot be removed`)
    await this.serial(async () => {
      const eps = this.o.store.endpointsOf(n.id)
      if (eps.length) {
        // docker 28's wording (libnetwork ActiveEndpointsError); dockerd 20.10 said `network X id Y has active endpoints`.
        const names = eps.map((e) => `name:"${this.o.store.sandbox(e.containerId)?.containerName ?? e.containerId.slice(0, 12)}" id:"${e.id.slice(0, 12)}"`)
        throw forbidden(`error while removing network: network ${n.name} has active endpoints (${names.join(', ')})`)
      }
      await this.stopDns(n.id)
      if (n.driver === 'bridge') await ipBatch([`link del ${n.ifname}`]).catch((err: unknown) => this.log.warn('removing bridge', { bridge: n.ifname, err }))
      const shared = this.o.store.allNetworks().some((o) => o.id !== n.id && o.driver === 'macvlan' && o.ifname === n.ifname)
      if (n.driver === 'macvlan' && n.ownsParent && !shared) await ipBatch([`link del ${n.ifname}`]).catch((err: unknown) => this.log.warn('removing macvlan parent', { parent: n.ifname, err }))
      this.o.store.removeNetwork(n.id)
      this.live.spaces.delete(n.id)
      if (n.driver === 'bridge') await this.syncFirewall()
    })
    this.o.events.publish('network', 'destroy', n.id, { name: n.name, type: n.driver })
  }

  // ---- start-up ------------------------------------------------------------

  /**
   * Bring the host in line with the store: predefined networks, bridges,
   * firewall rules, DNS servers; sandboxes of containers no longer running
   * are released (`running` says which containers still are).
   */
  async init(): Promise<void> {
    await this.netns.init()
    if (this.o.firewall && this.o.ipForward !== false) await writeSysctl('net.ipv4.ip_forward', '1').catch((err: unknown) => this.log.warn('enabling IP forwarding', { err }))
    await this.ensurePredefined()
    for (const n of this.o.store.allNetworks()) {
      if (n.driver === 'bridge') await this.ensureBridge(n).catch((err: unknown) => this.log.error('bringing up bridge', { bridge: n.ifname, err }))
    }
    await this.syncFirewall()
    for (const n of this.o.store.allNetworks()) if (n.driver === 'bridge') await this.startDns(n)
  }

  /**
   * After the containers are restored: sandboxes of containers no longer
   * running are released (`running` says which still are), what a crash
   * left half-made is collected, and published ports are bound again.
   */
  async adopt(running: (containerId: string) => boolean): Promise<void> {
    await this.serial(async () => {
      for (const s of this.o.store.allSandboxes()) {
        if (!running(s.containerId)) await this.releaseSandbox(s.containerId).catch((err: unknown) => this.log.warn('releasing a stale sandbox', { id: s.containerId, err }))
      }
      // Endpoints without a sandbox were left by a crash mid-attach.
      for (const e of this.o.store.allEndpoints()) {
        if (!this.o.store.sandbox(e.containerId)) this.o.store.removeEndpoint(e.id)
      }
      const known = new Set(this.o.store.allSandboxes().map((s) => path.basename(s.netnsPath)))
      for (const f of await this.netns.list()) if (!known.has(f)) await this.netns.remove(f).catch(() => {})
      this.live.spaces.clear()
      await this.syncFirewall()
      for (const s of this.o.store.allSandboxes()) {
        if (!this.live.proxies.has(s.containerId)) await this.openProxies(s).catch((err: unknown) => this.log.warn('re-binding published ports', { id: s.containerId, err }))
      }
    })
  }

  /**
   * The default bridge follows the daemon's configuration, as dockerd's does
   * on every start: when bridge, bip, fixed-cidr, mtu, icc or ip-masq changed,
   * the network is made again (once no container is on it).
   */
  private async ensurePredefined(): Promise<void> {
    const b = this.o.defaultBridge
    const config: IpamConfig[] = []
    if (b.bip) {
      const { addr, prefix } = parseCidrAddr(b.bip.includes('/') ? b.bip : `${b.bip}/24`)
      config.push({ subnet: prefix.toString(), gateway: formatIp(addr), ...(b.fixedCidr ? { ipRange: b.fixedCidr } : {}) })
    }
    const options = {
      [BRIDGE_OPT.defaultBridge]: 'true',
      [BRIDGE_OPT.icc]: String(b.icc),
      [BRIDGE_OPT.masquerade]: String(b.ipMasq),
      [BRIDGE_OPT.hostBinding]: '0.0.0.0',
      [BRIDGE_OPT.name]: b.name,
      [BRIDGE_OPT.mtu]: String(b.mtu),
    }
    const existing = this.o.store.byName('bridge')
    if (existing) {
      const sameIpam = !b.bip || (existing.ipam.config[0]?.subnet === config[0]?.subnet && existing.ipam.config[0]?.gateway === config[0]?.gateway && existing.ipam.config[0]?.ipRange === config[0]?.ipRange)
      const same = sameIpam && JSON.stringify(existing.options) === JSON.stringify(options)
      if (same) return this.ensureHostAndNone()
      if (this.o.store.endpointsOf(existing.id).length) {
        this.log.warn('the default bridge keeps its old settings while containers run on it; restart berthd once they are stopped', { bridge: existing.ifname })
        return this.ensureHostAndNone()
      }
      this.log.info('default bridge settings changed: making it again', { bridge: b.name })
      await ipBatch([`link del ${existing.ifname}`]).catch(() => {})
      this.o.store.removeNetwork(existing.id)
      this.live.spaces.delete(existing.id)
    }
    await this.createLocked({ name: 'bridge', driver: 'bridge', internal: false, attachable: false, ipam: { driver: 'default', options: {}, config }, options, labels: {} }, existing?.id ?? newId())
    await this.ensureHostAndNone()
  }

  private async ensureHostAndNone(): Promise<void> {
    for (const [name, driver] of [['host', 'host'], ['none', 'null']] as const) {
      if (!this.o.store.byName(name)) {
        await this.createLocked({ name, driver, internal: false, attachable: false, ipam: { driver: 'default', options: {}, config: [] }, options: {}, labels: {} }, newId())
      }
    }
  }

  // ---- sandboxes -----------------------------------------------------------

  /** Check a container's networks at create (and connect to a stopped one): returns canonical names. */
  validate(networks: Array<{ name: string; config: EndpointConfig }>, opts: { missingOk?: boolean } = {}): string[] {
    const out: string[] = []
    for (const { name, config } of networks) {
      // docker's create keeps a network it cannot find (it may be made before start); start says `network X not found`.
      const n = opts.missingOk ? this.tryFind(name === 'default' ? 'bridge' : name) : this.find(name === 'default' ? 'bridge' : name)
      if (!n) {
        out.push(name)
        continue
      }
      if (n.driver === 'host' || n.driver === 'null') {
        if (networks.length > 1) throw invalidArgument(n.driver === 'null' ? 'container cannot be connected to multiple networks with one of the networks in private (none) mode' : 'container cannot be connected to multiple networks with one of the networks in host mode')
      }
      try {
        this.validateEndpoint(n, config)
      } catch (err) {
        if (!(err instanceof EngineError)) throw err
        throw new EngineError(err.kind, `invalid config for network ${name}: invalid endpoint settings:\n${err.message}`, { cause: err })
      }
      out.push(n.name)
    }
    return out
  }

  private validateEndpoint(n: NetworkRecord, c: EndpointConfig): void {
    const userSubnets = n.name !== 'bridge' && n.userSubnets === true
    if ((c.ipv4 || c.ipv6) && (n.name === 'bridge' || n.driver === 'host' || n.driver === 'null')) {
      throw invalidArgument('user specified IP address is supported on user defined networks only')
    }
    if ((c.ipv4 || c.ipv6) && !userSubnets) throw invalidArgument('user specified IP address is supported only when connecting to networks with user configured subnets')
    if (c.aliases.length && n.name === 'bridge') throw invalidArgument('network-scoped alias is supported only for containers in user defined networks')
    for (const [ip, fam] of [[c.ipv4, 4], [c.ipv6, 6]] as const) {
      if (!ip) continue
      const a = parseIp(ip)
      if (a.family !== fam) throw invalidArgument(`invalid IPv${fam} address: ${ip}`)
      const subnets = n.ipam.config.map((x) => Prefix.parse(x.subnet)).filter((p) => p.family === fam)
      if (!subnets.some((p) => p.contains(a))) throw invalidArgument(`no configured subnet or ip-range contain the IP address ${ip}`)
    }
    for (const ll of c.linkLocalIPs ?? []) if (!tryParseIp(ll)) throw invalidArgument(`invalid link-local IP address: ${ll}`)
    if (c.mac && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(c.mac)) throw invalidArgument(`invalid MAC address ${c.mac}`)
  }

  /**
   * Give a starting container its namespace, addresses and published ports.
   * `netns` is a namespace the runtime made with the container's user
   * namespace (`/proc/<pid>/ns/net` of the created, not yet started
   * container): it is kept as the sandbox's file instead of a new one, as
   * libnetwork's SetKey does for dockerd under user namespaces.
   */
  async attach(req: SandboxRequest, o: { netns?: string } = {}): Promise<SandboxInfo> {
    return this.serial(() => this.attachLocked(req, o.netns))
  }

  private async attachLocked(req: SandboxRequest, source?: string): Promise<SandboxInfo> {
    await this.releaseSandboxLocked(req.containerId)
        const nets = req.networks.map((x) => ({ n: this.find(x.name === 'default' ? 'bridge' : x.name), config: x.config }))
    const name = req.containerId.slice(0, 12)
    const netnsPath = this.netns.pathOf(name)
    const sandbox: SandboxRecord = { containerId: req.containerId, containerName: req.containerName, netnsPath, ports: [], dns: req.dns, links: req.links }
    const endpoints: EndpointRecord[] = []
    try {
      for (const [i, { n, config }] of nets.entries()) endpoints.push(this.allocateEndpoint(n, config, req, `eth${i}`))
      const gw = this.gatewayEndpoint(endpoints, nets.map((x) => x.config.gwPriority))
      const inside = ['link set lo up']
      const host: string[] = []
      const later: string[] = []
      for (const e of endpoints) {
        const n = this.networkOf(e)
        const cmds = this.endpointCommands(n, e, e === gw)
        if (n.driver === 'bridge') {
          inside.push(`link add ${e.ifname} type veth peer name ${e.hostIfname} netns ${process.pid}`, ...cmds)
          host.push(`link set ${e.hostIfname} master ${n.ifname}`, `link set ${e.hostIfname} mtu ${this.bridgeOf(n).mtu}`, `link set ${e.hostIfname} up`, `link set ${e.hostIfname} type bridge_slave hairpin on`)
        } else {
          const tmp = `mv${e.id.slice(0, 10)}`
          host.push(`link add ${tmp} link ${n.ifname} type macvlan mode ${n.options['macvlan_mode'] ?? 'bridge'}`, `link set ${tmp} netns ${netnsPath}`)
          later.push(`link set ${tmp} name ${e.ifname}`, ...cmds)
        }
      }
      if (source) await this.netns.adopt(name, source, inside)
      else await this.netns.create(name, inside)
      await ipBatch(host)
      if (later.length) await ipBatch(later, { netns: netnsPath })
      sandbox.ports = await this.bindPorts(req, gw)
      this.o.store.transaction(() => {
        this.o.store.saveSandbox(sandbox)
        for (const e of endpoints) this.o.store.saveEndpoint(e)
      })
      await this.openProxies(sandbox)
      // Rules are per bridge and per published port: a container without ports changes none.
      if (sandbox.ports.length) await this.syncFirewall()
    } catch (err) {
      for (const e of endpoints) this.releaseAddresses(e)
      await this.closeProxies(req.containerId)
      this.o.store.transaction(() => {
        this.o.store.removeSandbox(req.containerId)
        for (const e of endpoints) this.o.store.removeEndpoint(e.id)
      })
      await this.netns.remove(name).catch(() => {})
      throw err instanceof EngineError ? err : new EngineError('internal', `failed to set up container networking: ${messageOf(err)}`, { cause: err })
    }
    for (const e of endpoints) this.o.events.publish('network', 'connect', e.networkId, { container: req.containerId, name: this.networkOf(e).name, type: this.networkOf(e).driver })
    return this.sandboxInfo(req, endpoints, netnsPath)
  }

  private sandboxInfo(req: SandboxRequest, endpoints: EndpointRecord[], netnsPath: string): SandboxInfo {
    const hosts: SandboxInfo['hosts'] = []
    for (const e of endpoints) {
      if (e.ipv4) hosts.push({ ip: e.ipv4.split('/')[0] ?? '', names: [req.hostname] })
      if (e.ipv6) hosts.push({ ip: e.ipv6.split('/')[0] ?? '', names: [req.hostname] })
    }
    const onDefault = endpoints.some((e) => this.networkOf(e).name === 'bridge')
    if (onDefault) {
      for (const l of req.links) {
        const ep = this.o.store.endpointsFor(l.containerId).find((x) => this.networkOf(x).name === 'bridge')
        if (ep?.ipv4) hosts.push({ ip: ep.ipv4.split('/')[0] ?? '', names: l.names })
      }
    }
    const dnsNet = endpoints.map((e) => this.networkOf(e)).find((n) => n.driver === 'bridge' && n.name !== 'bridge')
    const nameservers = dnsNet ? dnsNet.ipam.config.filter((c) => c.gateway && !c.gateway.includes(':')).map((c) => c.gateway ?? '') : null
    return { netnsPath, hosts, nameservers: nameservers?.length ? nameservers : null }
  }

  private networkOf(e: EndpointRecord): NetworkRecord {
    const n = this.o.store.network(e.networkId)
    if (!n) throw notFound(`network ${e.networkId} not found`)
    return n
  }

  /** The endpoint that carries the default route: highest gw-priority, then attach order; internal networks never. */
  private gatewayEndpoint(eps: EndpointRecord[], prio: number[]): EndpointRecord | undefined {
    let best: EndpointRecord | undefined
    let bestPrio = -Infinity
    for (const [i, e] of eps.entries()) {
      if (this.networkOf(e).internal) continue
      const p = prio[i] ?? 0
      if (p > bestPrio) {
        best = e
        bestPrio = p
      }
    }
    return best
  }

  private allocateEndpoint(n: NetworkRecord, c: EndpointConfig, req: SandboxRequest, ifname: string): EndpointRecord {
    if (n.driver === 'host' || n.driver === 'null') throw invalidArgument(`container cannot be attached to the ${n.name} network this way`)
    this.validateEndpoint(n, c)
    const dup = this.o.store.endpointsOf(n.id).find((e) => e.containerId === req.containerId)
    if (dup) throw forbidden(`endpoint with name ${req.containerName} already exists in network ${n.name}`)
    const spaces = this.spacesOf(n)
    const id = newId()
    const e: EndpointRecord = {
      id,
      networkId: n.id,
      containerId: req.containerId,
      ipv4: '',
      ipv6: '',
      gateway: '',
      gateway6: '',
      mac: c.mac,
      aliases: [...c.aliases],
      ...(c.linkLocalIPs?.length ? { linkLocalIPs: [...c.linkLocalIPs] } : {}),
      dnsNames: [],
      hostIfname: n.driver === 'bridge' ? `veth${id.slice(0, 7)}` : '',
      ifname,
    }
    try {
      for (const cfg of n.ipam.config) {
        const p = Prefix.parse(cfg.subnet)
        if (p.family === 4 && spaces.v4 && !e.ipv4) {
          const a = spaces.v4.allocate(c.ipv4 ? parseIp(c.ipv4) : undefined)
          e.ipv4 = `${formatIp(a)}/${p.bits}`
          e.gateway = cfg.gateway ?? ''
        } else if (p.family === 6 && spaces.v6 && !e.ipv6) {
          const a = spaces.v6.allocate(c.ipv6 ? parseIp(c.ipv6) : undefined)
          e.ipv6 = `${formatIp(a)}/${p.bits}`
          e.gateway6 = cfg.gateway ?? ''
        }
      }
      // On a bridge the MAC follows the IPv4 address (docker's 02:42 form): a
      // reused address never meets a neighbour cache that remembers another MAC.
      e.mac ||= n.driver === 'bridge' && e.ipv4 ? macFromIp(parseIp(e.ipv4.split('/')[0] ?? '')) : randomMac()
    } catch (err) {
      this.releaseAddresses(e)
      if (isKind(err, 'unavailable')) throw new EngineError('unavailable', `no available IPv${e.ipv4 ? 6 : 4} addresses on this network's address pools: ${n.name} (${n.id})`, { cause: err })
      throw err
    }
    if (n.name !== 'bridge') {
      const names = [req.containerName, ...c.aliases, shortId(req.containerId), req.hostname]
      e.dnsNames = [...new Set(names.filter(Boolean))]
    }
    return e
  }

  private endpointCommands(n: NetworkRecord, e: EndpointRecord, gateway: boolean): string[] {
    const cmds = [`link set ${e.ifname} address ${e.mac}`]
    if (n.driver === 'bridge') cmds.push(`link set ${e.ifname} mtu ${this.bridgeOf(n).mtu}`)
    if (e.ipv4) cmds.push(`addr add ${e.ipv4} dev ${e.ifname}`)
    if (e.ipv6) cmds.push(`addr add ${e.ipv6} dev ${e.ifname} nodad`)
    for (const ll of e.linkLocalIPs ?? []) cmds.push(ll.includes(':') ? `addr add ${ll}/64 dev ${e.ifname} nodad` : `addr add ${ll}/16 dev ${e.ifname}`)
    cmds.push(`link set ${e.ifname} up`)
    if (gateway && e.gateway) cmds.push(`route replace default via ${e.gateway} dev ${e.ifname}`)
    if (gateway && e.gateway6) cmds.push(`route replace default via ${e.gateway6} dev ${e.ifname}`)
    return cmds
  }

  private releaseAddresses(e: EndpointRecord): void {
    const n = this.o.store.network(e.networkId)
    if (!n) return
    const s = this.spacesOf(n)
    if (e.ipv4 && s.v4) s.v4.release(parseIp(e.ipv4.split('/')[0] ?? ''))
    if (e.ipv6 && s.v6) s.v6.release(parseIp(e.ipv6.split('/')[0] ?? ''))
  }

  /** A stopping container's sandbox goes: namespace (and with it the veths), addresses, ports. Idempotent. */
  async detach(containerId: string): Promise<void> {
    await this.serial(() => this.releaseSandboxLocked(containerId))
  }

  private async releaseSandboxLocked(containerId: string): Promise<void> {
    const s = this.o.store.sandbox(containerId)
    const eps = this.o.store.endpointsFor(containerId)
    if (!s && eps.length === 0) return
    await this.releaseSandbox(containerId)
    if (s?.ports.length) await this.syncFirewall()
    for (const e of eps) {
      const n = this.o.store.network(e.networkId)
      if (n) this.o.events.publish('network', 'disconnect', n.id, { container: containerId, name: n.name, type: n.driver })
    }
  }

  private async releaseSandbox(containerId: string): Promise<void> {
    const s = this.o.store.sandbox(containerId)
    const eps = this.o.store.endpointsFor(containerId)
    await this.closeProxies(containerId)
    for (const e of eps) this.releaseAddresses(e)
    this.o.store.transaction(() => {
      for (const e of eps) this.o.store.removeEndpoint(e.id)
      this.o.store.removeSandbox(containerId)
    })
    if (s) await this.netns.remove(path.basename(s.netnsPath))
  }

  /** A renamed container answers to its new name on every network (docker's DNSNames follow). */
  renamed(containerId: string, oldName: string, newName: string): void {
    const s = this.o.store.sandbox(containerId)
    if (s) this.o.store.saveSandbox({ ...s, containerName: newName })
    for (const e of this.o.store.endpointsFor(containerId)) {
      if (!e.dnsNames.includes(oldName)) continue
      this.o.store.saveEndpoint({ ...e, dnsNames: [...new Set(e.dnsNames.map((d) => (d === oldName ? newName : d)))] })
    }
  }

  /** Join a running container to one more network. */
  /** Returns what the container's /etc files should now say (a user network brings the embedded DNS). */
  async connect(req: SandboxRequest, network: string, config: EndpointConfig): Promise<SandboxInfo> {
    return this.serial(async () => {
      const s = this.o.store.sandbox(req.containerId)
      if (!s) throw conflict(`container ${req.containerId} has no network namespace`)
      const n = this.find(network)
      if (n.driver === 'host' || n.driver === 'null') throw forbidden('container sharing network namespace with another container or host cannot be connected to any other network')
      const current = this.o.store.endpointsFor(req.containerId)
      if (current.some((e) => this.networkOf(e).driver === 'null' || this.networkOf(e).driver === 'host')) throw forbidden('container cannot be connected to multiple networks with one of the networks in private (none) mode')
      const used = new Set(current.map((e) => e.ifname))
      let i = 0
      while (used.has(`eth${i}`)) i++
      const e = this.allocateEndpoint(n, config, req, `eth${i}`)
      try {
        const hasGw = current.some((x) => x.gateway && !this.networkOf(x).internal)
        const cmds = this.endpointCommands(n, e, !hasGw && !n.internal)
        if (n.driver === 'bridge') {
          await ipBatch([`link add ${e.hostIfname} type veth peer name ${e.ifname} netns ${s.netnsPath}`, `link set ${e.hostIfname} master ${n.ifname}`, `link set ${e.hostIfname} mtu ${this.bridgeOf(n).mtu}`, `link set ${e.hostIfname} up`, `link set ${e.hostIfname} type bridge_slave hairpin on`])
          await ipBatch(cmds, { netns: s.netnsPath })
        } else {
          const tmp = `mv${e.id.slice(0, 10)}`
          await ipBatch([`link add ${tmp} link ${n.ifname} type macvlan mode ${n.options['macvlan_mode'] ?? 'bridge'}`, `link set ${tmp} netns ${s.netnsPath}`])
          await ipBatch([`link set ${tmp} name ${e.ifname}`, ...cmds], { netns: s.netnsPath })
        }
        this.o.store.saveEndpoint(e)
      } catch (err) {
        this.releaseAddresses(e)
        if (n.driver === 'bridge') await ipBatch([`link del ${e.hostIfname}`]).catch(() => {})
        throw err instanceof EngineError ? err : new EngineError('internal', `failed to connect to network ${n.name}: ${messageOf(err)}`, { cause: err })
      }
      this.o.events.publish('network', 'connect', n.id, { container: req.containerId, name: n.name, type: n.driver })
      return this.sandboxInfo(req, this.o.store.endpointsFor(req.containerId), s.netnsPath)
    })
  }

  /** Take a running container off a network. */
  async disconnect(containerId: string, network: string): Promise<void> {
    await this.serial(async () => {
      const n = this.find(network)
      const s = this.o.store.sandbox(containerId)
      const e = this.o.store.endpointsFor(containerId).find((x) => x.networkId === n.id)
      if (!e || !s) throw forbidden(`container ${containerId} is not connected to network ${n.name}`)
      await ipBatch([`link del ${e.ifname}`], { netns: s.netnsPath }).catch((err: unknown) => this.log.warn('removing interface', { err }))
      this.releaseAddresses(e)
      this.o.store.removeEndpoint(e.id)
      if (n.driver === 'bridge') await this.syncFirewall()
      this.o.events.publish('network', 'disconnect', n.id, { container: containerId, name: n.name, type: n.driver })
    })
  }

  // ---- published ports -----------------------------------------------------

  private async bindPorts(req: SandboxRequest, gw: EndpointRecord | undefined): Promise<PortBinding[]> {
    const wanted: Array<{ proto: Proto; containerPort: number; hostIp: string; hostPort: string }> = []
    for (const [key, bs] of Object.entries(req.portBindings)) {
      const [port, proto = 'tcp'] = key.split('/')
      for (const b of bs.length ? bs : [{ hostIp: '', hostPort: '' }]) wanted.push({ proto: proto as Proto, containerPort: Number(port), hostIp: b.hostIp, hostPort: b.hostPort })
    }
    if (req.publishAll) {
      for (const key of req.exposedPorts) {
        if (req.portBindings[key]) continue
        const [port, proto = 'tcp'] = key.split('/')
        wanted.push({ proto: proto as Proto, containerPort: Number(port), hostIp: '', hostPort: '' })
      }
    }
    if (wanted.length === 0) return []
    if (!gw || !gw.ipv4) return []
    const gwNet = this.networkOf(gw)
    if (gwNet.driver !== 'bridge') return []
    const defaultIp = this.bridgeOf(gwNet).hostBinding
    const taken = new Set(this.o.store.allSandboxes().flatMap((s) => s.ports.map((p) => `${p.proto}/${p.hostPort}/${p.hostIp}`)))
    const clash = (proto: string, port: number, ips: string[]) => ips.some((ip) => taken.has(`${proto}/${port}/${ip}`) || taken.has(`${proto}/${port}/0.0.0.0`) || taken.has(`${proto}/${port}/::`) || ((ip === '0.0.0.0' || ip === '::') && [...taken].some((t) => t.startsWith(`${proto}/${port}/`) && net.isIPv6(t.split('/')[2] ?? '') === net.isIPv6(ip))))
    const out: PortBinding[] = []
    for (const w of wanted) {
      const ip = w.hostIp || defaultIp
      const ips = ip === '' || ip === '0.0.0.0' && !w.hostIp ? (ipv6Available() ? ['0.0.0.0', '::'] : ['0.0.0.0']) : [ip]
      let port: number
      if (w.hostPort === '' || w.hostPort.includes('-')) {
        const [lo, hi] = w.hostPort === '' ? await ephemeralRange() : w.hostPort.split('-').map(Number) as [number, number]
        const start = w.hostPort === '' && this.lastPort >= lo && this.lastPort < hi ? this.lastPort + 1 : lo
        port = 0
        for (let k = 0; k <= hi - lo; k++) {
          const cand = lo + ((start - lo + k) % (hi - lo + 1))
          if (!clash(w.proto, cand, ips) && (await bindable(w.proto, cand, ips))) {
            port = cand
            break
          }
        }
        if (port === 0) throw unavailable(`Bind for ${ips[0]}:${w.hostPort || 'any port'} failed: no free host port in range ${lo}-${hi}`)
        if (w.hostPort === '') this.lastPort = port
      } else {
        port = Number(w.hostPort)
        if (clash(w.proto, port, ips)) throw conflict(`driver failed programming external connectivity on endpoint ${req.containerName} (${gw.id}): Bind for ${ips[0] === '::' ? '[::]' : ips[0]}:${port} failed: port is already allocated`)
      }
      for (const hostIp of ips) {
        out.push({ proto: w.proto, containerPort: w.containerPort, hostIp, hostPort: port })
        taken.add(`${w.proto}/${port}/${hostIp}`)
      }
    }
    return out
  }

  private async openProxies(s: SandboxRecord): Promise<void> {
    if (s.ports.length === 0) return
    const gw = this.o.store.endpointsFor(s.containerId).find((e) => e.ipv4 && this.networkOf(e).driver === 'bridge')
    if (!gw) return
    const target4 = gw.ipv4.split('/')[0] ?? ''
    const target6 = gw.ipv6.split('/')[0] ?? ''
    const proxies: Proxy[] = []
    this.live.proxies.set(s.containerId, proxies)
    for (const p of s.ports) {
      const target = net.isIPv6(p.hostIp) && target6 ? target6 : target4
      try {
        proxies.push(await startProxy({ proto: p.proto, hostIp: p.hostIp, hostPort: p.hostPort, targetIp: target, targetPort: p.containerPort }, this.log))
      } catch (err) {
        const name = s.containerName ?? s.containerId.slice(0, 12)
        const host = net.isIPv6(p.hostIp) ? `[${p.hostIp}]` : p.hostIp
        throw new EngineError('internal', `driver failed programming external connectivity on endpoint ${name} (${gw.id}): failed to bind host port for ${host}:${p.hostPort}:${target}:${p.containerPort}/${p.proto}: ${bindError(err)}`, { cause: err })
      }
    }
  }

  private async closeProxies(containerId: string): Promise<void> {
    const ps = this.live.proxies.get(containerId) ?? []
    this.live.proxies.delete(containerId)
    await Promise.all(ps.map((p) => p.close().catch(() => {})))
  }

  // ---- firewall --------------------------------------------------------------

  private firewallState(): FirewallState {
    const bridges = this.o.store.allNetworks().filter((n) => n.driver === 'bridge').map((n) => {
      const b = this.bridgeOf(n)
      const subnets = n.ipam.config.map((c) => c.subnet)
      return { bridge: n.ifname, subnets4: subnets.filter((s) => !s.includes(':')), subnets6: subnets.filter((s) => s.includes(':')), icc: b.icc, masquerade: b.masquerade, internal: n.internal }
    })
    const ports: FirewallState['ports'] = []
    for (const s of this.o.store.allSandboxes()) {
      const gw = this.o.store.endpointsFor(s.containerId).find((e) => e.ipv4 && this.o.store.network(e.networkId)?.driver === 'bridge')
      if (!gw) continue
      const bridge = this.o.store.network(gw.networkId)?.ifname ?? ''
      for (const p of s.ports) {
        const v6 = net.isIPv6(p.hostIp)
        const containerIp = (v6 ? gw.ipv6 : gw.ipv4).split('/')[0] ?? ''
        if (!containerIp) continue
        ports.push({ proto: p.proto, hostIp: p.hostIp, hostPort: p.hostPort, containerIp, containerPort: p.containerPort, bridge })
      }
    }
    return { bridges, ports }
  }

  private async syncFirewall(): Promise<void> {
    if (!this.o.firewall) return
    await this.o.firewall.sync(this.firewallState())
  }

  // ---- embedded DNS ----------------------------------------------------------

  private async startDns(n: NetworkRecord): Promise<void> {
    if (n.driver !== 'bridge' || n.name === 'bridge' || this.live.dns.has(n.id)) return
    const gw = n.ipam.config.find((c) => c.gateway && !c.gateway.includes(':'))?.gateway
    if (!gw) return
    try {
      const server = await EmbeddedDns.listen({ address: gw, resolver: { resolve: (q) => this.resolve(n.id, q) }, logger: this.log })
      this.live.dns.set(n.id, server)
    } catch (err) {
      this.log.error('embedded DNS could not start: containers on this network resolve only through the host', { network: n.name, err })
    }
  }

  private async stopDns(networkId: string): Promise<void> {
    const s = this.live.dns.get(networkId)
    this.live.dns.delete(networkId)
    await s?.close().catch(() => {})
  }

  /** Names on the networks the asking container is on; anything else goes upstream. */
  resolve(networkId: string, q: DnsQuestion): DnsAnswer {
    const client = this.o.store.endpointsOf(networkId).find((e) => e.ipv4.split('/')[0] === q.client || e.ipv6.split('/')[0] === q.client)
    // Only the network's own containers may ask: no names across networks, no open forwarder.
    if (!client) return { kind: 'refused' }
    const info = this.o.store.sandbox(client.containerId)
    const upstreams = info?.dns.length ? info.dns : this.o.hostResolvers()
    const clientNets = this.o.store.endpointsFor(client.containerId).map((e) => e.networkId)
    const name = q.name.toLowerCase()
    // docker answers A, AAAA, PTR and MX itself (MX: no records); every other type goes upstream.
    if (q.type !== 'A' && q.type !== 'AAAA' && q.type !== 'PTR' && q.type !== 'MX') return { kind: 'forward', upstreams }
    if (q.type === 'PTR') {
      const ip = ptrToIp(name)
      if (ip) {
        for (const nid of clientNets) {
          const n = this.o.store.network(nid)
          const e = this.o.store.endpointsOf(nid).find((x) => x.ipv4.split('/')[0] === ip || x.ipv6.split('/')[0] === ip)
          if (n && e && e.dnsNames[0]) return { kind: 'answer', ptr: [`${e.dnsNames[0]}.${n.name}`] }
        }
      }
      return { kind: 'forward', upstreams }
    }
    const family = q.type === 'AAAA' ? 'ipv6' : 'ipv4'
    // Legacy links: names only this container knows.
    for (const l of info?.links ?? []) {
      if (!l.names.some((x) => x.toLowerCase() === name)) continue
      const e = this.o.store.endpointsFor(l.containerId).find((x) => clientNets.includes(x.networkId))
      if (e) return this.answer(e[family])
    }
    for (const nid of clientNets) {
      const n = this.o.store.network(nid)
      if (!n || n.name === 'bridge' || n.driver === 'null' || n.driver === 'host') continue
      const suffix = `.${n.name.toLowerCase()}`
      const bare = name.endsWith(suffix) ? name.slice(0, -suffix.length) : name
      const hits = this.o.store.endpointsOf(nid).filter((e) => e.dnsNames.some((d) => d.toLowerCase() === name || d.toLowerCase() === bare))
      if (hits.length) {
        if (q.type === 'MX') return { kind: 'nodata' }
        const addrs = hits.map((e) => e[family].split('/')[0] ?? '').filter(Boolean)
        return { kind: 'answer', addresses: addrs, ttl: 600 }
      }
    }
    return { kind: 'forward', upstreams }
  }

  private answer(cidr: string): DnsAnswer {
    const ip = cidr.split('/')[0] ?? ''
    return { kind: 'answer', addresses: ip ? [ip] : [], ttl: 600 }
  }

  /** Stop listeners; namespaces, rules and bridges stay for the containers that keep running. */
  async shutdown(): Promise<void> {
    for (const id of [...this.live.dns.keys()]) await this.stopDns(id)
    for (const id of [...this.live.proxies.keys()]) await this.closeProxies(id)
  }
}

function unavailable(message: string): EngineError {
  return new EngineError('unavailable', message)
}

function ptrToIp(name: string): string | undefined {
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.in-addr\.arpa$/.exec(name)
  if (v4) return `${v4[4]}.${v4[3]}.${v4[2]}.${v4[1]}`
  const v6 = /^((?:[0-9a-f]\.){32})ip6\.arpa$/.exec(name)
  if (v6?.[1]) {
    const hex = v6[1].split('.').filter(Boolean).reverse().join('')
    try {
      const a: Addr = { family: 6, value: BigInt(`0x${hex}`) }
      return formatIp(a)
    } catch {
      return undefined
    }
  }
  return undefined
}

let ipv6Cache: boolean | undefined
/** Whether the host speaks IPv6 at all (docker then also binds [::] for a port published on all addresses). */
function ipv6Available(): boolean {
  // Sync on purpose: read once per process, before the first port is bound.
  ipv6Cache ??= existsSync('/proc/net/if_inet6')
  return ipv6Cache
}

async function ephemeralRange(): Promise<[number, number]> {
  const text = await fsp.readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '32768\t60999')
  const [lo, hi] = text.trim().split(/\s+/).map(Number)
  return [lo ?? 32768, hi ?? 60999]
}

/** Whether every address of the binding can take the port now (a quick bind and close). */
async function bindable(proto: Proto, port: number, ips: string[]): Promise<boolean> {
  for (const ip of ips) {
    const ok = await new Promise<boolean>((resolve) => {
      if (proto === 'tcp') {
        const s = net.createServer()
        s.once('error', () => resolve(false))
        s.listen({ host: ip, port, ipv6Only: net.isIPv6(ip), exclusive: true }, () => s.close(() => resolve(true)))
      } else resolve(true)
    })
    if (!ok) return false
  }
  return true
}

function bindError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'EADDRINUSE') return 'address already in use'
  if (code === 'EADDRNOTAVAIL') return 'cannot assign requested address'
  if (code === 'EACCES') return 'permission denied'
  return messageOf(err)
}
