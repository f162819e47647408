/**
 * docker's container JSON to berth's domain and back. Every default docker
 * fills in on inspect is filled in here, so clients see the shapes they expect.
 */
import type { ContainerRecord, ContainerSpec, DeviceRequest as DomainDeviceRequest, HealthConfig, NamespaceMode, NetworkMode, RestartPolicy } from '../../../containers/index.js'
import { invalidArgument } from '../../../errors/index.js'
import type { EndpointConfig, EndpointRecord, SandboxRecord } from '../../../network/index.js'
import { endpointConfigOf } from '../networks/index.js'
import { hostConfigMounts, mountPoints, mountsFromCreate } from './mounts.js'
import { humanDuration } from '../../../lib/index.js'
import type {
  ContainerConfig,
  ContainerCreateRequest,
  ContainerInspect,
  ContainerSummary,
  DeviceMapping,
  DeviceRequest,
  EndpointSettings,
  HostConfig,
  NetworkSettings,
  Port,
  PortMap,
  ThrottleDevice,
  WeightDevice,
} from '../../types/index.js'

const list = (v: string[] | null | undefined): string[] => (Array.isArray(v) ? v.map(String) : [])
const strMap = (v: Record<string, string> | null | undefined): Record<string, string> => {
  const out: Record<string, string> = {}
  if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out[k] = String(x)
  return out
}

function nsMode(field: string, v: string | undefined, allowed: string[]): NamespaceMode {
  const s = v ?? ''
  if (s === '' || s === 'private') return { kind: 'private' }
  if (s === 'host' && allowed.includes('host')) return { kind: 'host' }
  if (s === 'shareable' && allowed.includes('shareable')) return { kind: 'shareable' }
  if (s === 'none' && allowed.includes('none')) return { kind: 'private' }
  if (s.startsWith('container:') && allowed.includes('container')) {
    const ref = s.slice('container:'.length)
    if (ref === '') throw invalidArgument(`invalid ${field}: ${s}`)
    return { kind: 'container', ref }
  }
  throw invalidArgument(`invalid ${field}: ${s}`)
}

function networkMode(v: string | undefined): { mode: NetworkMode; name: string } {
  const s = v ?? ''
  if (s === '' || s === 'default') return { mode: { kind: 'network' }, name: 'default' }
  if (s === 'none') return { mode: { kind: 'none' }, name: 'none' }
  if (s === 'host') return { mode: { kind: 'host' }, name: 'host' }
  if (s.startsWith('container:')) {
    if (s.length === 10) throw invalidArgument(`invalid network mode: ${s}`)
    return { mode: { kind: 'container', ref: s.slice(10) }, name: s }
  }
  return { mode: { kind: 'network' }, name: s }
}

function endpointConfig(e: EndpointSettings | null | undefined, legacyMac = ''): EndpointConfig {
  if (e != null && (typeof e !== 'object' || Array.isArray(e))) throw invalidArgument('invalid EndpointsConfig: expected an object per network')
  const c = endpointConfigOf(e)
  return { ...c, mac: c.mac || legacyMac }
}

/** The networks a create request joins: NetworkMode's first, then the other EndpointsConfig entries. */
function networksOf(body: ContainerCreateRequest, net: { mode: NetworkMode; name: string }): Record<string, EndpointConfig> {
  if (net.mode.kind !== 'network') return {}
  const eps = body.NetworkingConfig?.EndpointsConfig ?? {}
  const legacyMac = (body as { MacAddress?: string }).MacAddress ?? ''
  const primary = net.name
  const first = eps[primary] ?? (primary === 'default' ? eps['bridge'] : undefined)
  const out: Record<string, EndpointConfig> = { [primary]: endpointConfig(first, legacyMac) }
  for (const [name, e] of Object.entries(eps)) {
    if (name === primary || (primary === 'default' && name === 'bridge')) continue
    out[name] = endpointConfig(e)
  }
  return out
}

export function restartPolicy(p: HostConfig['RestartPolicy']): RestartPolicy {
  const name = (p?.Name ?? '') as RestartPolicy['name'] | string
  const max = p?.MaximumRetryCount ?? 0
  if (!['', 'no', 'always', 'unless-stopped', 'on-failure'].includes(name)) throw invalidArgument(`invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`)
  if (max < 0) throw invalidArgument('invalid restart policy: maximum retry count cannot be negative')
  if (max > 0 && name !== 'on-failure') throw invalidArgument(`invalid restart policy: maximum retry count can only be used with 'on-failure'`)
  return { name: name as RestartPolicy['name'], maximumRetryCount: max }
}

/** HostConfig's resource fields the domain keeps, by docker's names (containers/resources.ts reads them). */
const RESOURCE_KEYS = [
  'Memory', 'MemorySwap', 'MemoryReservation', 'MemorySwappiness', 'KernelMemory', 'NanoCpus', 'CpuShares', 'CpuPeriod', 'CpuQuota',
  'CpuRealtimePeriod', 'CpuRealtimeRuntime', 'CpusetCpus', 'CpusetMems', 'PidsLimit', 'BlkioWeight', 'BlkioWeightDevice',
  'BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps', 'Devices', 'DeviceCgroupRules',
  'Ulimits', 'OomKillDisable', 'CpuCount', 'CpuPercent', 'IOMaximumIOps', 'IOMaximumBandwidth',
] as const

/** Config.Healthcheck → the domain's; wire nulls and missing fields are zero (inherit). */
function healthFromCreate(h: NonNullable<ContainerCreateRequest['Healthcheck']>): HealthConfig {
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0)
  if (h.Test != null && (!Array.isArray(h.Test) || h.Test.some((x) => typeof x !== 'string'))) throw invalidArgument('invalid Healthcheck.Test: expected an array of strings')
  return { test: h.Test ?? [], interval: n(h.Interval), timeout: n(h.Timeout), startPeriod: n(h.StartPeriod), startInterval: n(h.StartInterval), retries: n(h.Retries) }
}

/** POST /containers/create body → the domain spec; rejects what docker rejects. */
export function specFromCreate(body: ContainerCreateRequest | undefined): ContainerSpec {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalidArgument('config cannot be empty in order to create a container')
  const hc: HostConfig = body.HostConfig ?? {}
  if (typeof body.Image !== 'string' || body.Image === '') throw invalidArgument('config cannot be empty in order to create a container')
  for (const [k, v] of [['Cmd', body.Cmd], ['Entrypoint', body.Entrypoint], ['Env', body.Env]] as const) {
    if (v != null && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))) throw invalidArgument(`invalid ${k}: expected an array of strings`)
  }
  const net = networkMode(hc.NetworkMode)
  const networks = networksOf(body, net)
  for (const e of list(body.Env)) if (e.startsWith('=')) throw invalidArgument(`invalid environment variable: ${e}`)
  const pid = nsMode('PID mode', hc.PidMode, ['host', 'container'])
  const ipc = nsMode('IPC mode', hc.IpcMode, ['host', 'container', 'shareable', 'none'])
  const uts = nsMode('UTS mode', hc.UTSMode, ['host'])
  if (body.Hostname && (uts.kind === 'host' || net.mode.kind === 'host')) {
    if (uts.kind === 'host') throw invalidArgument('conflicting options: hostname and the UTS mode')
  }
  if (hc.Mounts != null && !Array.isArray(hc.Mounts)) throw invalidArgument('invalid HostConfig.Mounts: expected an array')
  const mounts = mountsFromCreate(list(hc.Binds), hc.Mounts)
  const shm = hc.ShmSize ?? 0
  if (shm < 0) throw invalidArgument('SHM size can not be less than 0')
  const resources: Record<string, unknown> = {}
  for (const k of RESOURCE_KEYS) {
    const v = hc[k]
    if (v !== undefined && v !== null && v !== 0 && v !== '' && !(Array.isArray(v) && v.length === 0)) resources[k] = v
  }
  const portBindings: ContainerSpec['host']['portBindings'] = {}
  for (const [port, bs] of Object.entries(hc.PortBindings ?? {})) {
    portBindings[port] = (bs ?? []).map((b) => ({ hostIp: b.HostIp ?? '', hostPort: b.HostPort ?? '' }))
  }
  return {
    image: body.Image,
    hostname: body.Hostname ?? '',
    domainname: body.Domainname ?? '',
    user: body.User ?? '',
    env: list(body.Env),
    cmd: body.Cmd == null ? null : list(body.Cmd),
    entrypoint: body.Entrypoint == null ? null : list(body.Entrypoint),
    workingDir: body.WorkingDir ?? '',
    labels: strMap(body.Labels),
    tty: body.Tty === true,
    openStdin: body.OpenStdin === true,
    stdinOnce: body.StdinOnce === true,
    attachStdin: body.AttachStdin === true,
    attachStdout: body.AttachStdout !== false,
    attachStderr: body.AttachStderr !== false,
    stopSignal: body.StopSignal ?? '',
    stopTimeout: typeof body.StopTimeout === 'number' ? body.StopTimeout : null,
    exposedPorts: Object.keys(body.ExposedPorts ?? {}),
    volumes: Object.keys(body.Volumes ?? {}),
    onBuild: body.OnBuild ?? null,
    ...(Array.isArray(body.Shell) && body.Shell.length ? { shell: list(body.Shell) } : {}),
    networks,
    ...(body.Healthcheck ? { healthcheck: healthFromCreate(body.Healthcheck) } : {}),
    host: {
      autoRemove: hc.AutoRemove === true,
      restartPolicy: restartPolicy(hc.RestartPolicy),
      network: net.mode,
      networkModeName: net.name,
      pid,
      ipc,
      uts,
      privileged: hc.Privileged === true,
      capAdd: list(hc.CapAdd),
      capDrop: list(hc.CapDrop),
      readonlyRootfs: hc.ReadonlyRootfs === true,
      init: hc.Init === true,
      runtime: hc.Runtime ?? '',
      portBindings,
      publishAllPorts: hc.PublishAllPorts === true,
      binds: list(hc.Binds),
      mounts,
      volumesFrom: list(hc.VolumesFrom),
      logConfig: { type: hc.LogConfig?.Type ?? '', config: strMap(hc.LogConfig?.Config) },
      shmSize: shm,
      consoleSize: [hc.ConsoleSize?.[0] ?? 0, hc.ConsoleSize?.[1] ?? 0],
      groupAdd: list(hc.GroupAdd),
      dns: list(hc.Dns),
      dnsSearch: list(hc.DnsSearch),
      dnsOptions: list(hc.DnsOptions),
      extraHosts: list(hc.ExtraHosts),
      links: list(hc.Links),
      oomScoreAdj: hc.OomScoreAdj ?? 0,
      securityOpt: list(hc.SecurityOpt),
      ...(Array.isArray(hc.MaskedPaths) ? { maskedPaths: hc.MaskedPaths.map(String) } : {}),
      ...(Array.isArray(hc.ReadonlyPaths) ? { readonlyPaths: hc.ReadonlyPaths.map(String) } : {}),
      tmpfs: strMap(hc.Tmpfs),
      sysctls: strMap(hc.Sysctls),
      resources,
      ...(typeof hc.CgroupParent === 'string' && hc.CgroupParent !== '' ? { cgroupParent: hc.CgroupParent } : {}),
      ...(typeof hc.UsernsMode === 'string' && hc.UsernsMode !== '' ? { usernsMode: hc.UsernsMode } : {}),
      ...(hc.Annotations && Object.keys(hc.Annotations).length ? { annotations: strMap(hc.Annotations) } : {}),
      ...(hc.VolumeDriver ? { volumeDriver: hc.VolumeDriver } : {}),
      ...(hc.ContainerIDFile ? { containerIdFile: hc.ContainerIDFile } : {}),
      ...(hc.Isolation ? { isolation: hc.Isolation } : {}),
      ...(hc.StorageOpt && Object.keys(hc.StorageOpt).length ? { storageOpt: strMap(hc.StorageOpt) } : {}),
      ...(hc.DeviceRequests?.length ? { deviceRequests: hc.DeviceRequests.map(deviceRequestFromApi) } : {}),
    },
  }
}

function deviceRequestFromApi(r: DeviceRequest): DomainDeviceRequest {
  return { driver: r.Driver ?? '', count: r.Count ?? 0, deviceIds: r.DeviceIDs ?? null, capabilities: r.Capabilities ?? null, options: r.Options ?? null }
}

/** `web:w` as docker shows it in HostConfig.Links: `/web:/app/w`. */
function linkString(self: string, l: string): string {
  const [target = '', alias = target] = l.split(':')
  return `/${target.replace(/^\//, '')}:/${self}/${alias}`
}

function modeString(m: NamespaceMode): string {
  switch (m.kind) {
    case 'private':
      return ''
    case 'host':
      return 'host'
    case 'shareable':
      return 'shareable'
    case 'container':
      return `container:${m.ref}`
  }
}

/** Published ports as docker shows them: exposed ports null, bound ones with every host address. */
function portMap(rec: ContainerRecord, v: NetworkView): PortMap {
  if (!v.sandbox) return {}
  const out: PortMap = {}
  for (const p of rec.effective.exposedPorts) out[p] = null
  for (const b of v.sandbox.ports) {
    const key = `${b.containerPort}/${b.proto}`
    ;(out[key] ??= []).push({ HostIp: b.hostIp, HostPort: String(b.hostPort) })
  }
  return out
}

export function hostConfigOf(rec: ContainerRecord): HostConfig {
  const h = rec.spec.host
  const r = h.resources
  const num = (k: string) => (typeof r[k] === 'number' ? (r[k] as number) : 0)
  const arr = <T>(k: string): T[] => (Array.isArray(r[k]) ? (r[k] as T[]) : [])
  return {
    Binds: h.binds.length ? h.binds : null,
    ...(hostConfigMounts(h.mounts) ? { Mounts: hostConfigMounts(h.mounts) } : {}),
    ContainerIDFile: h.containerIdFile ?? '',
    LogConfig: { Type: h.logConfig.type, Config: h.logConfig.config },
    NetworkMode: h.network.kind === 'container' ? `container:${h.network.ref}` : h.networkModeName === 'default' ? 'bridge' : h.networkModeName,
    PortBindings: Object.fromEntries(Object.entries(h.portBindings).map(([k, v]) => [k, v.map((b) => ({ HostIp: b.hostIp, HostPort: b.hostPort }))])),
    RestartPolicy: { Name: h.restartPolicy.name || 'no', MaximumRetryCount: h.restartPolicy.maximumRetryCount },
    AutoRemove: h.autoRemove,
    VolumeDriver: h.volumeDriver ?? '',
    VolumesFrom: h.volumesFrom.length ? h.volumesFrom : null,
    ConsoleSize: h.consoleSize,
    CapAdd: h.capAdd.length ? h.capAdd : null,
    CapDrop: h.capDrop.length ? h.capDrop : null,
    CgroupnsMode: 'host',
    Dns: h.dns,
    DnsOptions: h.dnsOptions,
    DnsSearch: h.dnsSearch,
    ExtraHosts: h.extraHosts.length ? h.extraHosts : null,
    GroupAdd: h.groupAdd.length ? h.groupAdd : null,
    IpcMode: modeString(h.ipc) || 'private',
    Cgroup: '',
    Links: h.links.length ? h.links.map((l) => linkString(rec.name, l)) : null,
    OomScoreAdj: h.oomScoreAdj,
    PidMode: modeString(h.pid),
    Privileged: h.privileged,
    PublishAllPorts: h.publishAllPorts,
    ReadonlyRootfs: h.readonlyRootfs,
    SecurityOpt: h.securityOpt.length ? h.securityOpt : null,
    UTSMode: modeString(h.uts),
    UsernsMode: h.usernsMode ?? '',
    ShmSize: h.shmSize || 67108864,
    Runtime: h.runtime,
    Isolation: h.isolation ?? '',
    CpuShares: num('CpuShares'),
    Memory: num('Memory'),
    NanoCpus: num('NanoCpus'),
    CgroupParent: h.cgroupParent ?? '',
    BlkioWeight: num('BlkioWeight'),
    BlkioWeightDevice: arr<WeightDevice>('BlkioWeightDevice'),
    BlkioDeviceReadBps: arr<ThrottleDevice>('BlkioDeviceReadBps'),
    BlkioDeviceWriteBps: arr<ThrottleDevice>('BlkioDeviceWriteBps'),
    BlkioDeviceReadIOps: arr<ThrottleDevice>('BlkioDeviceReadIOps'),
    BlkioDeviceWriteIOps: arr<ThrottleDevice>('BlkioDeviceWriteIOps'),
    CpuPeriod: num('CpuPeriod'),
    CpuQuota: num('CpuQuota'),
    CpuRealtimePeriod: num('CpuRealtimePeriod'),
    CpuRealtimeRuntime: num('CpuRealtimeRuntime'),
    CpusetCpus: typeof r.CpusetCpus === 'string' ? r.CpusetCpus : '',
    CpusetMems: typeof r.CpusetMems === 'string' ? r.CpusetMems : '',
    Devices: arr<DeviceMapping>('Devices'),
    DeviceCgroupRules: Array.isArray(r.DeviceCgroupRules) && r.DeviceCgroupRules.length ? (r.DeviceCgroupRules as string[]) : null,
    DeviceRequests: h.deviceRequests?.length ? h.deviceRequests.map((d) => ({ Driver: d.driver, Count: d.count, DeviceIDs: d.deviceIds, Capabilities: d.capabilities, Options: d.options })) : null,
    ...(num('KernelMemory') ? { KernelMemory: num('KernelMemory') } : {}),
    MemoryReservation: num('MemoryReservation'),
    MemorySwap: num('MemorySwap'),
    MemorySwappiness: typeof r.MemorySwappiness === 'number' ? r.MemorySwappiness : null,
    OomKillDisable: r.OomKillDisable === true,
    PidsLimit: typeof r.PidsLimit === 'number' && r.PidsLimit > 0 ? r.PidsLimit : null,
    Ulimits: arr<NonNullable<HostConfig['Ulimits']>[number]>('Ulimits'),
    CpuCount: num('CpuCount'),
    CpuPercent: num('CpuPercent'),
    IOMaximumIOps: num('IOMaximumIOps'),
    IOMaximumBandwidth: num('IOMaximumBandwidth'),
    Init: h.init ? true : null,
    Tmpfs: Object.keys(h.tmpfs).length ? h.tmpfs : undefined,
    Sysctls: Object.keys(h.sysctls).length ? h.sysctls : undefined,
    ...(h.annotations ? { Annotations: h.annotations } : {}),
    // Containers made before berth kept these show docker's defaults (none when privileged).
    MaskedPaths: h.maskedPaths ?? (h.privileged ? null : ['/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap']),
    ReadonlyPaths: h.readonlyPaths ?? (h.privileged ? null : ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']),
  }
}

export function configOf(rec: ContainerRecord): ContainerConfig {
  const s = rec.spec
  const cfg: ContainerConfig = {
    Hostname: s.hostname,
    Domainname: s.domainname,
    User: rec.effective.user,
    AttachStdin: s.attachStdin,
    AttachStdout: s.attachStdout,
    AttachStderr: s.attachStderr,
    Tty: s.tty,
    OpenStdin: s.openStdin,
    StdinOnce: s.stdinOnce,
    // moby merge: no Env from the user or the image stays nil (PATH is only in the process environment).
    Env: rec.effective.env.length ? rec.effective.env : null,
    Cmd: rec.effective.cmd,
    Image: s.image,
    Volumes: rec.effective.volumes.length ? Object.fromEntries(rec.effective.volumes.map((v) => [v, {}])) : null,
    WorkingDir: rec.effective.workingDir === '/' && !s.workingDir ? '' : rec.effective.workingDir,
    Entrypoint: rec.effective.entrypoint,
    OnBuild: s.onBuild,
    ...(rec.effective.shell ? { Shell: rec.effective.shell } : {}),
    Labels: rec.effective.labels,
  }
  if (rec.effective.exposedPorts.length) cfg.ExposedPorts = Object.fromEntries(rec.effective.exposedPorts.map((p) => [p, {}]))
  if (rec.effective.stopSignal !== 'SIGTERM' || s.stopSignal) cfg.StopSignal = rec.effective.stopSignal
  if (s.stopTimeout !== null) cfg.StopTimeout = s.stopTimeout
  const h = rec.effective.healthcheck
  if (h) {
    // docker's JSON omits zero fields (omitempty).
    cfg.Healthcheck = { Test: h.test }
    if (h.interval) cfg.Healthcheck.Interval = h.interval
    if (h.timeout) cfg.Healthcheck.Timeout = h.timeout
    if (h.startPeriod) cfg.Healthcheck.StartPeriod = h.startPeriod
    if (h.startInterval) cfg.Healthcheck.StartInterval = h.startInterval
    if (h.retries) cfg.Healthcheck.Retries = h.retries
  }
  return cfg
}

/** What the network service knows of a container, for inspect and ps. */
export interface NetworkView {
  sandbox: SandboxRecord | undefined
  endpoints: Array<EndpointRecord & { networkName: string }>
  /** IDs of the networks the container is configured on, by name. */
  networkIds: Record<string, string>
}

export const NO_NETWORK: NetworkView = { sandbox: undefined, endpoints: [], networkIds: {} }

const addrOf = (cidr: string) => cidr.split('/')[0] ?? ''
const bitsOf = (cidr: string) => (cidr.includes('/') ? Number(cidr.split('/')[1]) : 0)

function endpoints(rec: ContainerRecord, v: NetworkView): Record<string, EndpointSettings> {
  const net = rec.spec.host.network
  if (net.kind === 'container') return {}
  const configured: Array<[string, EndpointConfig | undefined]> = net.kind === 'network' ? Object.entries(rec.spec.networks) : [[net.kind, undefined]]
  const out: Record<string, EndpointSettings> = {}
  for (const [name, c] of configured) {
    const e = v.endpoints.find((x) => x.networkName === name)
    const ipam = c && (c.ipv4 || c.ipv6 || c.linkLocalIPs?.length) ? { IPv4Address: c.ipv4, IPv6Address: c.ipv6, ...(c.linkLocalIPs?.length ? { LinkLocalIPs: c.linkLocalIPs } : {}) } : null
    out[name] = {
      IPAMConfig: ipam,
      Links: c?.links.length ? c.links : null,
      Aliases: c?.aliases.length ? c.aliases : null,
      MacAddress: e?.mac ?? c?.mac ?? '',
      DriverOpts: c && Object.keys(c.driverOpts).length ? c.driverOpts : null,
      GwPriority: c?.gwPriority ?? 0,
      NetworkID: e?.networkId ?? v.networkIds[name] ?? '',
      EndpointID: e?.id ?? '',
      Gateway: e?.gateway ?? '',
      IPAddress: e ? addrOf(e.ipv4) : '',
      IPPrefixLen: e ? bitsOf(e.ipv4) : 0,
      IPv6Gateway: e?.gateway6 ?? '',
      GlobalIPv6Address: e ? addrOf(e.ipv6) : '',
      GlobalIPv6PrefixLen: e ? bitsOf(e.ipv6) : 0,
      DNSNames: e?.dnsNames.length ? e.dnsNames : null,
    }
  }
  return out
}

export function networkSettingsOf(rec: ContainerRecord, v: NetworkView): NetworkSettings {
  const running = rec.state.status === 'running' || rec.state.status === 'paused'
  // The deprecated top-level fields mirror the default bridge's endpoint, as docker's do.
  const b = v.endpoints.find((e) => e.networkName === 'bridge')
  return {
    Bridge: '',
    SandboxID: running && v.sandbox ? rec.id : '',
    SandboxKey: running ? (v.sandbox?.netnsPath ?? (rec.spec.host.network.kind !== 'host' && rec.state.pid > 0 ? `/proc/${rec.state.pid}/ns/net` : '')) : '',
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    Ports: portMap(rec, v),
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: b?.id ?? '',
    Gateway: b?.gateway ?? '',
    GlobalIPv6Address: b ? addrOf(b.ipv6) : '',
    GlobalIPv6PrefixLen: b ? bitsOf(b.ipv6) : 0,
    IPAddress: b ? addrOf(b.ipv4) : '',
    IPPrefixLen: b ? bitsOf(b.ipv4) : 0,
    IPv6Gateway: b?.gateway6 ?? '',
    MacAddress: b?.mac ?? '',
    Networks: endpoints(rec, v),
  }
}

/** ps's Ports: one row per bound address, and exposed ports nobody published. */
function summaryPorts(rec: ContainerRecord, v: NetworkView): Port[] {
  // docker forgets a container's ports with its network: a stopped container shows none.
  if (!v.sandbox) return []
  const out: Port[] = []
  const bound = new Set<string>()
  for (const b of v.sandbox?.ports ?? []) {
    out.push({ IP: b.hostIp, PrivatePort: b.containerPort, PublicPort: b.hostPort, Type: b.proto })
    bound.add(`${b.containerPort}/${b.proto}`)
  }
  for (const p of rec.effective.exposedPorts) {
    if (bound.has(p)) continue
    const [port, proto = 'tcp'] = p.split('/')
    out.push({ PrivatePort: Number(port), Type: proto })
  }
  return out
}

export interface InspectExtras {
  execIds: string[]
  network: NetworkView
  volumePath: (name: string) => string
  graphDriver: Record<string, string>
  sizeRw?: number
  sizeRootFs?: number
  imageName?: string
}

export function inspectOf(rec: ContainerRecord, x: InspectExtras): ContainerInspect {
  const st = rec.state
  const out: ContainerInspect = {
    Id: rec.id,
    Created: rec.created,
    Path: rec.path,
    Args: rec.args,
    State: {
      Status: st.status,
      // docker counts a restarting container as running (State.SetRestarting).
      Running: st.status === 'running' || st.status === 'paused' || st.status === 'restarting',
      Paused: st.status === 'paused',
      Restarting: st.status === 'restarting',
      OOMKilled: st.oomKilled,
      Dead: st.status === 'dead',
      Pid: st.pid,
      ExitCode: st.exitCode,
      Error: st.error,
      StartedAt: st.startedAt,
      FinishedAt: st.finishedAt,
      ...(st.health
        ? { Health: { Status: st.health.status, FailingStreak: st.health.failingStreak, Log: st.health.log.map((r) => ({ Start: r.start, End: r.end, ExitCode: r.exitCode, Output: r.output })) } }
        : {}),
    },
    Image: rec.imageId,
    ResolvConfPath: rec.paths.resolvConf,
    HostnamePath: rec.paths.hostname,
    HostsPath: rec.paths.hosts,
    LogPath: rec.paths.driverLog ?? rec.paths.log,
    Name: `/${rec.name}`,
    RestartCount: st.restartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: x.execIds.length ? x.execIds : null,
    HostConfig: hostConfigOf(rec),
    GraphDriver: {
      Name: 'overlay2',
      Data: x.graphDriver,
    },
    Mounts: mountPoints(rec.spec.host.mounts, x.volumePath),
    Config: configOf(rec),
    NetworkSettings: networkSettingsOf(rec, x.network),
  }
  if (x.sizeRw !== undefined) out.SizeRw = x.sizeRw
  if (x.sizeRootFs !== undefined) out.SizeRootFs = x.sizeRootFs
  return out
}

/** docker's STATUS column text. */
export function statusText(rec: ContainerRecord, now = Date.now()): string {
  const st = rec.state
  const since = (t: string) => humanDuration(now - Date.parse(t))
  switch (st.status) {
    case 'running':
      // docker's Health.String(): "health: starting", else the status.
      if (st.health) return `Up ${since(st.startedAt)} (${st.health.status === 'starting' ? 'health: starting' : st.health.status})`
      return `Up ${since(st.startedAt)}`
    case 'paused':
      return `Up ${since(st.startedAt)} (Paused)`
    case 'restarting':
      return `Restarting (${st.exitCode}) ${since(st.finishedAt)} ago`
    case 'removing':
      return 'Removal In Progress'
    case 'dead':
      return 'Dead'
    case 'created':
      return 'Created'
    case 'exited':
      return st.finishedAt === '0001-01-01T00:00:00Z' ? 'Created' : `Exited (${st.exitCode}) ${since(st.finishedAt)} ago`
  }
}

/** docker's Command field: path and args, an arg with a space in single quotes. */
export function commandOf(rec: ContainerRecord): string {
  if (rec.args.length === 0) return rec.path
  return `${rec.path} ${rec.args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}`
}

export function summaryOf(rec: ContainerRecord, x: { imageName: string; network: NetworkView; volumePath: (name: string) => string; sizeRw?: number; sizeRootFs?: number }): ContainerSummary {
  const out: ContainerSummary = {
    Id: rec.id,
    Names: [`/${rec.name}`],
    Image: x.imageName,
    ImageID: rec.imageId,
    Command: commandOf(rec),
    Created: Math.floor(Date.parse(rec.created) / 1000),
    Ports: summaryPorts(rec, x.network),
    Labels: rec.effective.labels,
    State: rec.state.status,
    Status: statusText(rec),
    HostConfig: { NetworkMode: hostConfigOf(rec).NetworkMode ?? 'bridge' },
    NetworkSettings: { Networks: endpoints(rec, x.network) },
    Mounts: mountPoints(rec.spec.host.mounts, x.volumePath),
  }
  if (x.sizeRw !== undefined) out.SizeRw = x.sizeRw
  if (x.sizeRootFs !== undefined) out.SizeRootFs = x.sizeRootFs
  return out
}
