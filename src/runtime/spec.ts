/**
 * Builds the OCI config.json for a container the way docker's default spec
 * does (moby oci/defaults.go + daemon/oci_linux.go), from a runtime-level
 * description. Pure apart from reading the host's limits and, for privileged
 * containers, its device nodes.
 */
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { invalidArgument } from '../errors/index.js'
import { resolveSeccomp, type SeccompProfile } from './seccomp.js'
import { validateSysctls } from './security.js'
import type {
  NamespaceType,
  OciCapabilities,
  OciDevice,
  OciDeviceRule,
  OciIdMapping,
  OciMount,
  OciNamespace,
  OciResources,
  OciRlimit,
  OciSpec,
  OciUser,
} from './oci-spec.js'

/** Linux capabilities by number, as the kernel defines them (capability.h). */
export const allCapabilities = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT',
  'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const

/** docker's default set (moby oci/caps/defaults.go). */
export const defaultCapabilities = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL',
  'CAP_AUDIT_WRITE',
]

export const defaultPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/** docker's `--init` binary lands here inside the container. */
export const initMountPoint = '/sbin/docker-init'

/** Static init binaries, best first: the dynamic /usr/bin/tini cannot run in a busybox image. */
const initCandidates = ['/usr/bin/docker-init', '/usr/bin/tini-static', '/usr/bin/catatonit', '/usr/libexec/podman/catatonit', '/usr/bin/tini']

export function findInit(): string | undefined {
  return initCandidates.find((p) => existsSync(p))
}

export const maskedPaths = [
  '/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
  '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
  '/sys/devices/virtual/powercap',
]

/** docker's masked paths on this host: the list above plus each CPU's thermal_throttle (moby oci defaultLinuxMaskedPaths). */
export function defaultMaskedPaths(): string[] {
  const out = [...maskedPaths]
  let cpus: string[] = []
  try {
    cpus = readdirSync('/sys/devices/system/cpu').filter((n) => /^cpu\d+$/.test(n))
  } catch {
    // No sysfs: nothing more to mask.
  }
  for (const cpu of cpus.sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)))) {
    const p = `/sys/devices/system/cpu/${cpu}/thermal_throttle`
    if (existsSync(p)) out.push(p)
  }
  return out
}
export const readonlyPaths = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']

/** 'private': a new namespace; 'host': share the host's; {path}: join that one (another container's). */
export type NamespaceMode = 'private' | 'host' | { path: string }

export interface Ulimit {
  /** docker's name: nofile, nproc, core, memlock, ... */
  name: string
  soft: number
  hard: number
}

export interface SpecOptions {
  id: string
  /** The mounted root filesystem on the host. */
  rootfs: string
  readonlyRootfs?: boolean
  args: string[]
  env?: string[]
  cwd?: string
  /** Resolved with resolveUser(); root if absent. */
  user?: OciUser
  hostname?: string
  tty?: boolean
  consoleSize?: { height: number; width: number }
  namespaces?: Partial<Record<'pid' | 'ipc' | 'uts' | 'mount' | 'network' | 'cgroup', NamespaceMode>>
  /** Extra mounts (volumes, binds, /etc/hosts, /etc/resolv.conf, tmpfs); same destination replaces a default. */
  extraMounts?: OciMount[]
  capAdd?: string[]
  capDrop?: string[]
  privileged?: boolean
  /** Bind an init binary at /sbin/docker-init and run the args under it (`docker run --init`). */
  init?: boolean
  /** Host path of that init binary; findInit() if absent. */
  initPath?: string
  /** /dev/shm size in bytes (docker: 64 MiB). */
  shmSize?: number
  /** Bind this host directory at /dev/shm instead of a private tmpfs (shared IPC). */
  shmPath?: string
  ulimits?: Ulimit[]
  oomScoreAdj?: number
  noNewPrivileges?: boolean
  /** The seccomp profile (docker's format); its conditions are resolved against the final capabilities. None: unconfined. */
  seccomp?: SeccompProfile
  apparmorProfile?: string
  /** Replace docker's masked / read-only paths (HostConfig.MaskedPaths, ReadonlyPaths; empty for systempaths=unconfined). */
  maskedPaths?: string[]
  readonlyPaths?: string[]
  /** A writable /sys/fs/cgroup (writable-cgroups; privileged containers get it anyway). */
  writableCgroups?: boolean
  /** Sysctls set before the user's (docker's defaults for a container with its own network namespace). */
  defaultSysctls?: Record<string, string>
  resources?: Omit<OciResources, 'devices'>
  /** Extra device-cgroup rules after docker's defaults. */
  deviceRules?: OciDeviceRule[]
  devices?: OciDevice[]
  sysctl?: Record<string, string>
  /** Default `/berth/<id>` (cgroupfs driver). */
  cgroupsPath?: string
  /** Run in a new user namespace with these mappings (the daemon's --userns-remap). */
  idMappings?: { uidMappings: OciIdMapping[]; gidMappings: OciIdMapping[]; /** Join this user namespace (that of a container whose namespaces are shared) instead of a new one. */ userNsPath?: string }
  annotations?: Record<string, string>
  /** Hard limits of the host, by docker's ulimit name; read from /proc/self/limits if absent. */
  hostLimits?: Record<string, number>
}

const defaultShmSize = 64 * 1024 * 1024

export function buildSpec(o: SpecOptions): OciSpec {
  if (o.args.length === 0) throw invalidArgument('no command specified')
  const ns: Partial<Record<'pid' | 'ipc' | 'uts' | 'mount' | 'network' | 'cgroup', NamespaceMode>> = {
    pid: 'private', ipc: 'private', uts: 'private', mount: 'private', network: 'private', ...o.namespaces,
  }
  const namespaces: OciNamespace[] = []
  const nsTypes: Array<[keyof typeof ns, NamespaceType]> = [
    ['pid', 'pid'], ['network', 'network'], ['ipc', 'ipc'], ['uts', 'uts'], ['mount', 'mount'], ['cgroup', 'cgroup'],
  ]
  for (const [key, type] of nsTypes) {
    const mode = ns[key]
    if (mode === undefined || mode === 'host') continue
    namespaces.push(mode === 'private' ? { type } : { type, path: mode.path })
  }
  if (ns.mount === 'host') throw invalidArgument('a container needs its own mount namespace')
  if (o.idMappings) namespaces.push(o.idMappings.userNsPath ? { type: 'user', path: o.idMappings.userNsPath } : { type: 'user' })

  const caps = o.privileged ? availableCapabilities() : tweakCapabilities(o.capAdd ?? [], o.capDrop ?? [])
  const capabilities: OciCapabilities = { bounding: caps, effective: caps, permitted: caps }
  const sysctl = { ...o.defaultSysctls, ...o.sysctl }
  validateSysctls(o.sysctl ?? {}, { ipcHost: ns.ipc === 'host', netHost: ns.network === 'host', utsHost: ns.uts === 'host' })
  const seccomp = o.seccomp ? resolveSeccomp(o.seccomp, { capabilities: caps }) : undefined

  let args = o.args
  const mounts = o.idMappings ? usernsMounts(defaultMounts(o, ns.ipc ?? 'private'), ns.network ?? 'private') : defaultMounts(o, ns.ipc ?? 'private')
  const extra = [...(o.extraMounts ?? [])]
  if (o.init) {
    const initPath = o.initPath ?? findInit()
    if (!initPath) throw invalidArgument('--init: no init binary found (tini-static or catatonit)')
    extra.push({ destination: initMountPoint, type: 'bind', source: initPath, options: ['bind', 'ro'] })
    args = [initMountPoint, '--', ...args]
  }
  const overridden = new Set(extra.map((m) => path.posix.normalize(m.destination)))
  const allMounts = [
    ...mounts.filter((m) => !overridden.has(m.destination)),
    ...sortMounts(extra),
  ]

  const env = [...(o.env ?? [])]
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(`PATH=${defaultPath}`)

  const rules: OciDeviceRule[] = o.privileged ? [{ allow: true, access: 'rwm' }] : [...defaultDeviceRules, ...(o.deviceRules ?? [])]
  const spec: OciSpec = {
    ociVersion: '1.0.2',
    process: {
      terminal: o.tty ?? false,
      ...(o.tty && o.consoleSize ? { consoleSize: o.consoleSize } : {}),
      user: o.user ?? { uid: 0, gid: 0 },
      args,
      env,
      cwd: o.cwd || '/',
      capabilities,
      rlimits: buildRlimits(o.ulimits ?? [], o.hostLimits ?? hostHardLimits()),
      noNewPrivileges: o.noNewPrivileges ?? false,
      ...(o.oomScoreAdj !== undefined ? { oomScoreAdj: o.oomScoreAdj } : {}),
      ...(o.apparmorProfile ? { apparmorProfile: o.apparmorProfile } : {}),
    },
    root: { path: o.rootfs, readonly: o.readonlyRootfs ?? false },
    mounts: allMounts,
    linux: {
      namespaces,
      cgroupsPath: o.cgroupsPath ?? `/berth/${o.id}`,
      ...(o.idMappings ? { uidMappings: o.idMappings.uidMappings.map((m) => ({ ...m })), gidMappings: o.idMappings.gidMappings.map((m) => ({ ...m })) } : {}),
      resources: { ...o.resources, devices: rules },
      // As moby: --privileged clears the defaults, then paths given in HostConfig apply.
      ...(o.privileged && !o.maskedPaths ? {} : { maskedPaths: [...(o.maskedPaths ?? defaultMaskedPaths())] }),
      ...(o.privileged && !o.readonlyPaths ? {} : { readonlyPaths: [...(o.readonlyPaths ?? readonlyPaths)] }),
      ...(seccomp ? { seccomp } : {}),
    },
  }
  if (ns.uts === 'private' && o.hostname) spec.hostname = o.hostname
  const devices = [...(o.privileged ? hostDevices() : []), ...(o.devices ?? [])]
  if (devices.length > 0) spec.linux.devices = devices
  if (Object.keys(sysctl).length > 0) spec.linux.sysctl = sysctl
  if (o.annotations) spec.annotations = { ...o.annotations }
  return spec
}

function defaultMounts(o: SpecOptions, ipc: NamespaceMode): OciMount[] {
  const shm: OciMount = o.shmPath
    ? { destination: '/dev/shm', type: 'bind', source: o.shmPath, options: ['rbind', 'nosuid', 'noexec', 'nodev'] }
    : ipc === 'host'
      ? { destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'nosuid', 'noexec', 'nodev'] }
      : {
          destination: '/dev/shm',
          type: 'tmpfs',
          source: 'shm',
          options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${Math.floor((o.shmSize || defaultShmSize) / 1024)}k`],
        }
  const sysRo = o.privileged ? 'rw' : 'ro'
  const cgroupRo = (o.writableCgroups ?? o.privileged) ? 'rw' : 'ro'
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', sysRo] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: [cgroupRo, 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    shm,
  ]
}

/** Parents before children, so a volume at /data/x is not hidden by one at /data. */
function sortMounts(mounts: OciMount[]): OciMount[] {
  const depth = (m: OciMount) => path.posix.normalize(m.destination).split('/').filter(Boolean).length
  return mounts.map((m, i) => ({ m, i })).sort((a, b) => depth(a.m) - depth(b.m) || a.i - b.i).map((x) => x.m)
}

/** docker's default device cgroup: deny all, then the standard nodes, mknod of anything, ptys and tun. */
export const defaultDeviceRules: OciDeviceRule[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  { allow: true, type: 'c', major: 136, access: 'rwm' },
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
]

/**
 * What "all capabilities" can mean here: the kernel's, minus those missing
 * from berthd's own bounding set (some hosts drop CAP_SYS_RESOURCE), because
 * the runtime cannot grant what it does not hold; docker's --privileged fails
 * on such hosts for that reason.
 */
export function availableCapabilities(capBnd: bigint | undefined = ownBoundingSet()): string[] {
  const known = allCapabilities.slice(0, lastCap() + 1)
  if (capBnd === undefined) return [...known]
  return known.filter((_c, i) => ((capBnd >> BigInt(i)) & 1n) === 1n)
}

function ownBoundingSet(): bigint | undefined {
  try {
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))
    return m?.[1] ? BigInt(`0x${m[1]}`) : undefined
  } catch {
    return undefined
  }
}

function lastCap(): number {
  try {
    const n = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim())
    if (Number.isInteger(n) && n >= 0) return Math.min(n, allCapabilities.length - 1)
  } catch {
    // Not Linux, or /proc hidden: assume the kernel knows every capability we do.
  }
  return allCapabilities.length - 1
}

function normalizeCap(name: string, available: readonly string[]): string {
  const up = name.toUpperCase()
  if (up === 'ALL') return 'ALL'
  const cap = up.startsWith('CAP_') ? up : `CAP_${up}`
  if (!(allCapabilities as readonly string[]).includes(cap)) throw invalidArgument(`unknown capability: ${JSON.stringify(cap)}`)
  if (!available.includes(cap)) throw invalidArgument(`capability not supported by your kernel or not available in the current environment: ${JSON.stringify(cap)}`)
  return cap
}

/** docker's create-time check of CapAdd and CapDrop (moby daemon/container.go validateCapabilities). */
export function validateCapabilities(add: readonly string[], drop: readonly string[]): void {
  const available = availableCapabilities()
  for (const [list, what] of [[add, 'CapAdd'], [drop, 'CapDrop']] as const) {
    try {
      for (const c of list) normalizeCap(c, available)
    } catch (err) {
      throw invalidArgument(`invalid ${what}: ${(err as Error).message}`, err)
    }
  }
}

/** docker's semantics (moby oci/caps TweakCapabilities): ALL in drop empties the set before adding. */
export function tweakCapabilities(add: string[], drop: string[]): string[] {
  const known = availableCapabilities()
  const adds = add.map((c) => normalizeCap(c, known))
  const drops = drop.map((c) => normalizeCap(c, known))
  if (adds.includes('ALL')) return known.filter((c) => !drops.includes(c))
  const set = drops.includes('ALL') ? adds : [...defaultCapabilities.filter((c) => !drops.includes(c)), ...adds]
  return [...new Set(set)]
}

const rlimitNames: Record<string, string> = {
  core: 'RLIMIT_CORE', cpu: 'RLIMIT_CPU', data: 'RLIMIT_DATA', fsize: 'RLIMIT_FSIZE', locks: 'RLIMIT_LOCKS',
  memlock: 'RLIMIT_MEMLOCK', msgqueue: 'RLIMIT_MSGQUEUE', nice: 'RLIMIT_NICE', nofile: 'RLIMIT_NOFILE',
  nproc: 'RLIMIT_NPROC', rss: 'RLIMIT_RSS', rtprio: 'RLIMIT_RTPRIO', rttime: 'RLIMIT_RTTIME',
  sigpending: 'RLIMIT_SIGPENDING', stack: 'RLIMIT_STACK', as: 'RLIMIT_AS',
}

/**
 * docker's effective default is nofile 1024:1048576. The kernel refuses a hard
 * limit above what the host allows (and some hosts cap it low), so every nofile
 * value is clamped to the host's hard limit rather than failing the start.
 */
export function buildRlimits(ulimits: Ulimit[], hostHard: Record<string, number>): OciRlimit[] {
  const byName = new Map<string, Ulimit>([['nofile', { name: 'nofile', soft: 1024, hard: 1048576 }]])
  for (const u of ulimits) {
    if (!rlimitNames[u.name]) throw invalidArgument(`invalid ulimit type: ${u.name}`)
    if (u.soft > u.hard) throw invalidArgument(`ulimit soft limit must be less than or equal to hard limit: ${u.soft} > ${u.hard}`)
    byName.set(u.name, u)
  }
  const out: OciRlimit[] = []
  for (const u of byName.values()) {
    let { soft, hard } = u
    const cap = u.name === 'nofile' ? hostHard.nofile : undefined
    if (cap !== undefined && cap >= 0) {
      hard = Math.min(hard, cap)
      soft = Math.min(soft, hard)
    }
    out.push({ type: rlimitNames[u.name]!, hard, soft })
  }
  return out
}

const limitRows: Record<string, string> = {
  'Max open files': 'nofile', 'Max processes': 'nproc', 'Max locked memory': 'memlock', 'Max core file size': 'core',
  'Max stack size': 'stack',
}

/** Hard limits of this process by docker's ulimit name; -1 for unlimited. */
export function parseLimits(text: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const line of text.split('\n')) {
    for (const [row, name] of Object.entries(limitRows)) {
      if (!line.startsWith(row)) continue
      const cols = line.slice(row.length).trim().split(/\s+/)
      const hard = cols[1]
      if (hard !== undefined) out[name] = hard === 'unlimited' ? -1 : Number(hard)
    }
  }
  return out
}

let cachedLimits: Record<string, number> | undefined
export function hostHardLimits(): Record<string, number> {
  if (!cachedLimits) {
    try {
      cachedLimits = parseLimits(readFileSync('/proc/self/limits', 'utf8'))
    } catch {
      cachedLimits = {}
    }
  }
  return cachedLimits
}

/** The host's device nodes, for privileged containers (moby daemon/oci_linux.go WithDevices). */
function hostDevices(): OciDevice[] {
  const out: OciDevice[] = []
  const skip = new Set(['/dev/pts', '/dev/shm', '/dev/mqueue', '/dev/console', '/dev/ptmx'])
  const walk = (dir: string) => {
    let names: string[]
    try {
      names = readdirSync(dir)
    } catch {
      return
    }
    for (const name of names) {
      const p = `${dir}/${name}`
      if (skip.has(p)) continue
      let st
      try {
        st = lstatSync(p)
      } catch {
        continue
      }
      if (st.isDirectory()) walk(p)
      else if (st.isCharacterDevice() || st.isBlockDevice()) {
        out.push({
          path: p,
          type: st.isCharacterDevice() ? 'c' : 'b',
          major: Math.floor(st.rdev / 256) & 0xfff,
          minor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00),
          fileMode: st.mode & 0o777,
          uid: st.uid,
          gid: st.gid,
        })
      }
    }
  }
  walk('/dev')
  return out
}

/**
 * A user namespace cannot mount sysfs for a network namespace it does not
 * own (berth makes containers' network namespaces before the runtime makes
 * the user namespace), so /sys becomes a read-only bind of the host's, as
 * runc's own fallback does. The cgroup mount stays writable, as moby does
 * under user namespaces: a read-only remount is refused there.
 */
function usernsMounts(mounts: OciMount[], network: NamespaceMode): OciMount[] {
  return mounts.map((m) => {
    if (m.type === 'sysfs' && network !== 'private') return { destination: m.destination, type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
    if (m.type === 'cgroup') return { ...m, options: (m.options ?? []).map((x) => (x === 'ro' ? 'rw' : x)) }
    return m
  })
}
