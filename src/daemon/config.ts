import { promises as fsp, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { invalidArgument } from '../errors/index.js'
import type { LogLevel } from '../lib/index.js'
import { validateLogConfig } from '../logs/index.js'
import { validateMirror } from '../registry/index.js'

/**
 * berthd's configuration: flags over /etc/berth/daemon.json over defaults,
 * validated once here. docker's key names wherever docker has the setting.
 */
export interface RuntimeEntry {
  path: string
  runtimeArgs?: string[]
}

export interface DaemonConfig {
  dataRoot: string
  execRoot: string
  hosts: string[]
  defaultRuntime: string
  runtimes: Record<string, RuntimeEntry>
  logLevel: LogLevel
  debug: boolean
  pidfile: string
  logDriver: string
  logOpts: Record<string, string>
  labels: string[]
  storageDriver: string
  configFile: string
  /** Registries spoken to over plain HTTP, besides loopback (names, host:port, or IPv4 CIDRs). */
  insecureRegistries: string[]
  /** registry-mirrors: URLs tried before Docker Hub for docker.io pulls. */
  registryMirrors: string[]
  /** registry-service: berth's own registry server, run by berthd as a child process. */
  registryService: RegistryServiceConfig | null
  network: NetworkConfig
  /** cgroup-parent: where containers' cgroups go when HostConfig.CgroupParent is empty (cgroupfs: `<parent>/<id>`). */
  cgroupParent: string
  /** exec-opts as given (`native.cgroupdriver=cgroupfs`); validated here, read through cgroupDriver. */
  execOpts: string[]
  /** The cgroup driver exec-opts chose; only cgroupfs works without systemd. */
  cgroupDriver: 'cgroupfs'
  /** userns-remap as given: '' (off), `default`, `user[:group]` or `uid[:gid]`; resolved at start (daemon/userns.ts). */
  usernsRemap: string
  /** seccomp-profile: '' or `builtin` (docker's default), `unconfined`, or a profile file's path. */
  seccompProfile?: string
  /** no-new-privileges: containers get it unless they say `no-new-privileges=false`. */
  noNewPrivileges?: boolean
  /** group (-G): group owning the unix sockets; `berth` by default, '' for root's. */
  group: string
  /** Whether `group` was given; a named group that is missing is an error then, a warning otherwise (as dockerd). */
  groupExplicit: boolean
  /** TLS for tcp hosts; undefined when neither --tls nor --tlsverify was given, which refuses tcp hosts. */
  tls?: TlsConfig
}

/** tls, tlsverify, tlscacert, tlscert, tlskey: docker's daemon keys. */
export interface TlsConfig {
  /** false: plain HTTP on tcp, asked for explicitly with --tls=false. */
  enabled: boolean
  /** Require a client certificate signed by caFile (dockerd's RequireAndVerifyClientCert). */
  verify: boolean
  caFile: string
  certFile: string
  keyFile: string
}

/** The default bridge and the firewall: docker's daemon.json keys. */
export interface NetworkConfig {
  /** `bridge`: the Linux bridge of the default network (berth creates it if missing); "none" disables it. */
  bridge: string
  bip: string
  fixedCidr: string
  mtu: number
  icc: boolean
  ipMasq: boolean
  iptables: boolean
  ipForward: boolean
  defaultAddressPools: Array<{ base: string; size: number }>
}

/** The `registry-service` object of daemon.json (`true` takes every default). */
export interface RegistryServiceConfig {
  addr: string
  root: string
  htpasswd?: string
  tlsCert?: string
  tlsKey?: string
  /** `basic` (default with htpasswd) or `token`: the registry issues its own bearer tokens. */
  auth?: string
  anonymousPull?: boolean
}

export const DEFAULT_CONFIG_FILE = '/etc/berth/daemon.json'

export function defaults(): DaemonConfig {
  return {
    dataRoot: '/var/lib/berth',
    execRoot: '/run/berth',
    hosts: ['unix:///run/berth/berth.sock'],
    defaultRuntime: 'runc',
    runtimes: {},
    logLevel: 'info',
    debug: false,
    pidfile: '/run/berth/berthd.pid',
    logDriver: 'json-file',
    logOpts: {},
    labels: [],
    storageDriver: 'overlay2',
    configFile: DEFAULT_CONFIG_FILE,
    insecureRegistries: [],
    registryMirrors: [],
    registryService: null,
    network: { bridge: 'berth0', bip: '', fixedCidr: '', mtu: 1500, icc: true, ipMasq: true, iptables: true, ipForward: true, defaultAddressPools: [] },
    cgroupParent: '',
    execOpts: [],
    cgroupDriver: 'cgroupfs',
    usernsRemap: '',
    group: DEFAULT_SOCKET_GROUP,
    groupExplicit: false,
  }
}

/** The group the install makes (scripts/setup), as docker's packages make `docker`. */
export const DEFAULT_SOCKET_GROUP = 'berth'

/** daemon.json keys berth knows, mapped to config fields. */
const FILE_KEYS: Record<string, keyof DaemonConfig | null> = {
  'data-root': 'dataRoot',
  'exec-root': 'execRoot',
  hosts: 'hosts',
  'default-runtime': 'defaultRuntime',
  runtimes: 'runtimes',
  'log-level': 'logLevel',
  debug: 'debug',
  pidfile: 'pidfile',
  'log-driver': 'logDriver',
  'log-opts': 'logOpts',
  labels: 'labels',
  'storage-driver': 'storageDriver',
  // Accepted for docker compatibility; berth always restores live containers.
  'live-restore': null,
  'insecure-registries': 'insecureRegistries',
  'registry-mirrors': 'registryMirrors',
  'registry-service': 'registryService',
  'default-address-pools': null,
  bip: null,
  bridge: null,
  'fixed-cidr': null,
  mtu: null,
  icc: null,
  'ip-masq': null,
  iptables: null,
  'ip-forward': null,
  'userland-proxy': null,
  'max-concurrent-downloads': null,
  'max-concurrent-uploads': null,
  'cgroup-parent': 'cgroupParent',
  'exec-opts': 'execOpts',
  'userns-remap': 'usernsRemap',
  'seccomp-profile': 'seccompProfile',
  'no-new-privileges': 'noNewPrivileges',
  group: 'group',
  // Read by tlsConfig from the file and the flags together.
  tls: null,
  tlsverify: null,
  tlscacert: null,
  tlscert: null,
  tlskey: null,
}

const TLS_KEYS = ['tls', 'tlsverify', 'tlscacert', 'tlscert', 'tlskey'] as const
type TlsKey = (typeof TLS_KEYS)[number]

export type FlagValues = Partial<Record<Exclude<keyof DaemonConfig, 'network' | 'tls'>, unknown>> & {
  configFile?: string
  /** Network flags by their daemon.json key (bridge, bip, icc, ...). */
  network?: Record<string, unknown>
  /** TLS flags by their daemon.json key (tls, tlsverify, tlscacert, ...). */
  tls?: Partial<Record<TlsKey, unknown>>
  /** Where the default ca.pem, cert.pem and key.pem are: $DOCKER_CERT_PATH, else ~/.docker (as dockerd). */
  certPath?: string
}

const LEVELS = ['debug', 'info', 'warn', 'error']

/** Merge file and flags; docker refuses a key given both ways, and unknown keys. */
export async function loadConfig(flags: FlagValues): Promise<DaemonConfig> {
  const cfg = defaults()
  const file = typeof flags.configFile === 'string' ? flags.configFile : DEFAULT_CONFIG_FILE
  cfg.configFile = file
  let text: string | undefined
  try {
    text = await fsp.readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || flags.configFile) {
      throw invalidArgument(`unable to configure the berth daemon with file ${file}: ${(err as Error).message}`)
    }
  }
  const fromFile: Partial<Record<keyof DaemonConfig, unknown>> = {}
  let json: Record<string, unknown> | undefined
  if (text !== undefined && text.trim() !== '') {
    try {
      json = JSON.parse(text) as Record<string, unknown>
    } catch (err) {
      throw invalidArgument(`unable to configure the berth daemon with file ${file}: ${(err as Error).message}`)
    }
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw invalidArgument(`unable to configure the berth daemon with file ${file}: not a JSON object`)
    const unknown = Object.keys(json).filter((k) => !(k in FILE_KEYS))
    if (unknown.length) throw invalidArgument(`the following directives don't match any configuration option: ${unknown.join(', ')}`)
    const both: string[] = []
    for (const [k, v] of Object.entries(json)) {
      const field = FILE_KEYS[k]
      if (!field) continue
      if (flags[field] !== undefined) both.push(k)
      fromFile[field] = v
    }
    if (both.length) throw invalidArgument(`the following directives are specified both as a flag and in the configuration file: ${both.join(', ')}`)
  }
  const merged: Partial<Record<keyof DaemonConfig, unknown>> = { ...fromFile, ...Object.fromEntries(Object.entries(flags).filter(([k, v]) => v !== undefined && !['network', 'tls', 'certPath'].includes(k))) }
  const str = (k: keyof DaemonConfig) => {
    const v = merged[k]
    if (v === undefined) return
    if (typeof v !== 'string' || v === '') throw invalidArgument(`invalid value for ${k}: ${JSON.stringify(v)}`)
    ;(cfg as unknown as Record<string, unknown>)[k] = v
  }
  str('dataRoot')
  str('execRoot')
  str('defaultRuntime')
  str('pidfile')
  str('logDriver')
  str('storageDriver')
  if (merged.logLevel !== undefined) {
    if (typeof merged.logLevel !== 'string' || !LEVELS.includes(merged.logLevel)) throw invalidArgument(`invalid log level: ${String(merged.logLevel)}`)
    cfg.logLevel = merged.logLevel as LogLevel
  }
  if (merged.debug !== undefined) {
    cfg.debug = merged.debug === true
    if (cfg.debug) cfg.logLevel = 'debug'
  }
  if (merged.hosts !== undefined) {
    const hs = merged.hosts
    if (!Array.isArray(hs) || hs.some((h) => typeof h !== 'string')) throw invalidArgument('hosts must be a list of addresses')
    cfg.hosts = hs.length ? (hs as string[]) : cfg.hosts
  }
  const tlsFlags = flags.tls ?? {}
  const tlsTwice = Object.keys(tlsFlags).filter((k) => tlsFlags[k as TlsKey] !== undefined && json && k in json)
  if (tlsTwice.length) throw invalidArgument(`the following directives are specified both as a flag and in the configuration file: ${tlsTwice.join(', ')}`)
  const tls = tlsConfig({ ...pick(json ?? {}, TLS_KEYS), ...Object.fromEntries(Object.entries(tlsFlags).filter(([, v]) => v !== undefined)) }, flags.certPath ?? path.join(os.homedir(), '.docker'))
  if (tls) cfg.tls = tls
  cfg.hosts = cfg.hosts.map(parseDaemonHost)
  for (const h of cfg.hosts) {
    if (h.startsWith('tcp://') && !cfg.tls) {
      throw invalidArgument(`refusing to listen on ${h} without TLS: binding to IP address without --tlsverify is insecure and gives root access on this machine to everyone who has access to your network. `
        + `Give --tlsverify with --tlscacert, --tlscert and --tlskey, or override this by explicitly specifying '--tls=false' or '--tlsverify=false'`)
    }
  }
  if (merged.group !== undefined) {
    if (typeof merged.group !== 'string') throw invalidArgument('group must be a string: a group name or gid')
    cfg.group = merged.group
    cfg.groupExplicit = true
  }
  if (merged.runtimes !== undefined) {
    const rs = merged.runtimes
    if (!rs || typeof rs !== 'object' || Array.isArray(rs)) throw invalidArgument('runtimes must be an object')
    for (const [name, r] of Object.entries(rs)) {
      const entry = r as RuntimeEntry
      if (!entry || typeof entry.path !== 'string' || entry.path === '') throw invalidArgument(`runtime ${name} needs a path`)
      cfg.runtimes[name] = { path: entry.path, ...(Array.isArray(entry.runtimeArgs) ? { runtimeArgs: entry.runtimeArgs.map(String) } : {}) }
    }
  }
  if (merged.logOpts !== undefined) {
    const lo = merged.logOpts
    if (!lo || typeof lo !== 'object') throw invalidArgument('log-opts must be an object of strings')
    cfg.logOpts = Object.fromEntries(Object.entries(lo).map(([k, v]) => [k, String(v)]))
  }
  // moby checks the default driver's options at start (ValidateLogOpts): a bad one stops the daemon, not each run.
  if (Object.keys(cfg.logOpts).length > 0) {
    try {
      validateLogConfig(cfg.logDriver, cfg.logOpts)
    } catch (err) {
      throw invalidArgument(`failed to set log opts: ${(err as Error).message}`, err)
    }
  }

  if (merged.labels !== undefined) {
    if (!Array.isArray(merged.labels)) throw invalidArgument('labels must be a list')
    cfg.labels = merged.labels.map(String)
  }
  if (merged.insecureRegistries !== undefined) {
    if (!Array.isArray(merged.insecureRegistries)) throw invalidArgument('insecure-registries must be a list')
    cfg.insecureRegistries = merged.insecureRegistries.map(String)
  }
  if (merged.registryMirrors !== undefined) {
    if (!Array.isArray(merged.registryMirrors)) throw invalidArgument('registry-mirrors must be a list of URLs')
    cfg.registryMirrors = merged.registryMirrors.map((m) => validateMirror(String(m)))
  }
  if (merged.registryService !== undefined) cfg.registryService = registryService(merged.registryService)
  const netFlags = flags.network ?? {}
  const twice = Object.keys(netFlags).filter((k) => json && k in json)
  if (twice.length) throw invalidArgument(`the following directives are specified both as a flag and in the configuration file: ${twice.join(', ')}`)
  cfg.network = networkConfig({ ...(json ?? {}), ...netFlags })
  if (merged.cgroupParent !== undefined) {
    if (typeof merged.cgroupParent !== 'string') throw invalidArgument('cgroup-parent must be a string')
    cfg.cgroupParent = merged.cgroupParent
  }
  if (merged.execOpts !== undefined) {
    if (!Array.isArray(merged.execOpts) || merged.execOpts.some((o) => typeof o !== 'string')) throw invalidArgument('exec-opts must be a list of strings like ["native.cgroupdriver=cgroupfs"]')
    cfg.execOpts = merged.execOpts as string[]
  }
  cfg.cgroupDriver = cgroupDriverOf(cfg.execOpts, systemdRunning())
  if (merged.usernsRemap !== undefined) {
    if (typeof merged.usernsRemap !== 'string') throw invalidArgument('userns-remap must be a string: default, user[:group] or uid[:gid]')
    if (merged.usernsRemap.split(':').length > 2) throw invalidArgument(`Invalid user/group specification in --userns-remap: ${JSON.stringify(merged.usernsRemap)}`)
    cfg.usernsRemap = merged.usernsRemap
  }
  if (merged.seccompProfile !== undefined) {
    if (typeof merged.seccompProfile !== 'string') throw invalidArgument('seccomp-profile must be a string: builtin, unconfined or a file path')
    cfg.seccompProfile = merged.seccompProfile
  }
  if (merged.noNewPrivileges !== undefined) {
    if (typeof merged.noNewPrivileges !== 'boolean') throw invalidArgument('no-new-privileges must be true or false')
    cfg.noNewPrivileges = merged.noNewPrivileges
  }
  if (cfg.storageDriver !== 'overlay2') throw invalidArgument(`storage driver ${cfg.storageDriver} is not supported: berth uses overlay2`)
  return cfg
}

function pick(o: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]))
}

/**
 * dockerd's TLS settings (cmd/dockerd setDefaultOptions, loadDaemonCliConfig):
 * giving tlsverify at all turns TLS on; TLS verifies clients unless tlsverify
 * is false; the files default to ca.pem, cert.pem and key.pem in certPath.
 * Undefined when neither tls nor tlsverify was given.
 */
export function tlsConfig(v: Partial<Record<TlsKey, unknown>>, certPath: string): TlsConfig | undefined {
  for (const k of ['tls', 'tlsverify'] as const) {
    if (v[k] !== undefined && typeof v[k] !== 'boolean') throw invalidArgument(`${k} must be true or false`)
  }
  for (const k of ['tlscacert', 'tlscert', 'tlskey'] as const) {
    if (v[k] !== undefined && (typeof v[k] !== 'string' || v[k] === '')) throw invalidArgument(`${k} must be a file path`)
  }
  const tlsGiven = v.tls as boolean | undefined
  const verifyGiven = v.tlsverify as boolean | undefined
  if (tlsGiven === undefined && verifyGiven === undefined) return undefined
  const enabled = verifyGiven !== undefined ? true : tlsGiven === true
  return {
    enabled,
    verify: enabled && verifyGiven !== false,
    caFile: (v.tlscacert as string | undefined) ?? path.join(certPath, 'ca.pem'),
    certFile: (v.tlscert as string | undefined) ?? path.join(certPath, 'cert.pem'),
    keyFile: (v.tlskey as string | undefined) ?? path.join(certPath, 'key.pem'),
  }
}

/**
 * A -H address in its full form, as dockerd's opts.ParseHost: `unix://` alone
 * is the default socket, `tcp://` takes localhost and 2375 for what is left
 * out, and a bare host:port is tcp.
 */
export function parseDaemonHost(address: string): string {
  const a = address.trim()
  const sep = a.indexOf('://')
  const proto = sep < 0 ? 'tcp' : a.slice(0, sep)
  const rest = sep < 0 ? a : a.slice(sep + 3)
  if (proto === 'unix') {
    if (rest.includes('://')) throw invalidArgument(`invalid bind address (${address}): invalid unix address: ${rest}`)
    return `unix://${rest === '' ? defaults().hosts[0]!.slice('unix://'.length) : rest}`
  }
  if (proto !== 'tcp') throw invalidArgument(`invalid bind address (${address}): unsupported proto '${proto}'`)
  let u: URL
  try {
    u = new URL(`tcp://${rest.startsWith(':') ? `localhost${rest}` : rest}`)
  } catch {
    throw invalidArgument(`invalid bind address (${address})`)
  }
  if ((u.pathname !== '' && u.pathname !== '/') || u.search !== '') throw invalidArgument(`invalid bind address (${address}): should not contain a path element`)
  if (u.port === '0') throw invalidArgument(`invalid bind address (${address}): invalid port: 0`)
  return `tcp://${u.hostname || 'localhost'}:${u.port || '2375'}`
}

/** sd_booted(3), as dockerd asks it: /run/systemd/system is a directory. */
function systemdRunning(): boolean {
  try {
    return statSync('/run/systemd/system').isDirectory()
  } catch {
    return false
  }
}

/**
 * exec-opts as dockerd reads them (daemon/config GetExecOpt, daemon_unix.go
 * verifyCgroupDriver): `key=value` pairs; native.cgroupdriver is the only key.
 * berth drives runc and crun through cgroupfs only, so `systemd` is refused:
 * without systemd as here, with docker's reason; with it, as not supported yet.
 */
export function cgroupDriverOf(execOpts: readonly string[], systemd: boolean): 'cgroupfs' {
  let driver = ''
  for (const opt of execOpts) {
    const eq = opt.indexOf('=')
    const key = opt.slice(0, eq).trim().toLowerCase()
    const value = opt.slice(eq + 1).trim()
    if (eq < 0 || key === '' || value === '') throw invalidArgument(`invalid exec-opt (${opt}): must be formatted 'opt=value'`)
    if (key !== 'native.cgroupdriver') throw invalidArgument(`invalid exec-opt (${opt}): berthd knows only native.cgroupdriver`)
    driver = value
  }
  switch (driver) {
    case '':
    case 'cgroupfs':
      return 'cgroupfs'
    case 'systemd':
      if (!systemd) throw invalidArgument('native.cgroupdriver=systemd: systemd is not running on this host (no /run/systemd/system); use native.cgroupdriver=cgroupfs')
      throw invalidArgument('native.cgroupdriver=systemd is not supported by berthd yet; use native.cgroupdriver=cgroupfs')
    case 'none':
      throw invalidArgument(`native.cgroupdriver option ${driver} is internally used and cannot be specified manually`)
    default:
      throw invalidArgument(`native.cgroupdriver option ${driver} not supported`)
  }
}

const SERVICE_KEYS: Record<string, Exclude<keyof RegistryServiceConfig, 'anonymousPull'>> = { addr: 'addr', root: 'root', htpasswd: 'htpasswd', 'tls-cert': 'tlsCert', 'tls-key': 'tlsKey', auth: 'auth' }

function registryService(v: unknown): RegistryServiceConfig | null {
  if (v === false || v === null) return null
  const svc: RegistryServiceConfig = { addr: '127.0.0.1:5000', root: '/var/lib/berth-registry' }
  if (v === true) return svc
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidArgument('registry-service must be true, false or an object like {"addr": "127.0.0.1:5000", "root": "/var/lib/berth-registry"}')
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (k === 'anonymous-pull') {
      if (typeof val !== 'boolean') throw invalidArgument('registry-service: anonymous-pull must be true or false')
      svc.anonymousPull = val
      continue
    }
    const field = SERVICE_KEYS[k]
    if (!field) throw invalidArgument(`registry-service: unknown key "${k}" (known: ${[...Object.keys(SERVICE_KEYS), 'anonymous-pull'].join(', ')})`)
    if (typeof val !== 'string' || val === '') throw invalidArgument(`registry-service: ${k} must be a non-empty string`)
    svc[field] = val
  }
  if ((svc.tlsCert === undefined) !== (svc.tlsKey === undefined)) throw invalidArgument('registry-service: tls-cert and tls-key go together')
  if (svc.auth !== undefined && svc.auth !== 'basic' && svc.auth !== 'token') throw invalidArgument('registry-service: auth must be "basic" or "token"')
  if (svc.auth !== undefined && svc.htpasswd === undefined) throw invalidArgument('registry-service: auth needs htpasswd')
  return svc
}

function networkConfig(json: Record<string, unknown>): NetworkConfig {
  const n = defaults().network
  const str = (k: string): string | undefined => {
    const v = json[k]
    if (v === undefined) return undefined
    if (typeof v !== 'string') throw invalidArgument(`${k} must be a string`)
    return v
  }
  const bool = (k: string, d: boolean): boolean => {
    const v = json[k]
    if (v === undefined) return d
    if (typeof v !== 'boolean') throw invalidArgument(`${k} must be true or false`)
    return v
  }
  const bridge = str('bridge')
  if (bridge !== undefined) {
    if (bridge !== 'none' && !/^[A-Za-z0-9_.-]{1,15}$/.test(bridge)) throw invalidArgument(`invalid bridge name: ${bridge}`)
    n.bridge = bridge
  }
  n.bip = str('bip') ?? ''
  n.fixedCidr = str('fixed-cidr') ?? ''
  if (json.mtu !== undefined) {
    if (typeof json.mtu !== 'number' || !Number.isInteger(json.mtu) || json.mtu < 68 || json.mtu > 65535) throw invalidArgument(`invalid MTU: ${JSON.stringify(json.mtu)}`)
    n.mtu = json.mtu
  }
  n.icc = bool('icc', true)
  n.ipMasq = bool('ip-masq', true)
  n.iptables = bool('iptables', true)
  n.ipForward = bool('ip-forward', true)
  const pools = json['default-address-pools']
  if (pools !== undefined) {
    if (!Array.isArray(pools)) throw invalidArgument('default-address-pools must be a list like [{"base": "10.10.0.0/16", "size": 24}]')
    n.defaultAddressPools = pools.map((p: unknown) => {
      const o = p as { base?: unknown; size?: unknown }
      if (!o || typeof o.base !== 'string' || typeof o.size !== 'number') throw invalidArgument('default-address-pools entries need "base" (a CIDR) and "size" (prefix length)')
      return { base: o.base, size: o.size }
    })
  }
  return n
}
