import { lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs'
import path from 'node:path'
import { invalidArgument } from '../errors/index.js'
import type { OciDevice, OciDeviceRule } from '../runtime/index.js'
import { withLockedFlags } from './userns.js'
import type { ExecSpecInput, HostSpec, NsSpec, SpecBuilder, SpecInput } from '../containers/index.js'
import {
  apparmorProfile,
  buildSpec,
  containerSeccomp,
  defaultMaskedPaths,
  defaultNetSysctls,
  parseSecurityOpts,
  readonlyPaths,
  resolveUser,
  validateCapabilities,
  type DaemonSeccomp,
  type NamespaceMode,
  type OciResources,
  type SpecOptions,
  type Ulimit,
} from '../runtime/index.js'

/** The daemon's security defaults (daemon.json `seccomp-profile`, `no-new-privileges`). */
export interface SpecSecurity {
  seccomp: DaemonSeccomp
  noNewPrivileges: boolean
}

/**
 * Turns the container service's runtime-neutral description into OCI specs:
 * users resolved against the container's own /etc/passwd, docker's implicit
 * environment (PATH, HOSTNAME, HOME, TERM), resources in OCI units.
 */
export class OciSpecBuilder implements SpecBuilder {
  /**
   * `cgroupsPath`: the container's cgroup (daemon/cgroups.ts cgroupsPathFor);
   * `idMappings`: the user namespace a container runs in, none for host.
   */
  constructor(private readonly layout: { cgroupsPath?: (i: SpecInput) => string; idMappings?: (i: SpecInput) => SpecOptions['idMappings'] } = {},
    private readonly security: SpecSecurity = { seccomp: { name: 'unconfined' }, noNewPrivileges: false },
  ) {}

  /** docker's create-time checks (validateCapabilities, parseSecurityOpt) and the masked paths it records (create_unix.go). */
  checkCreate(h: HostSpec): void {
    validateCapabilities(h.capAdd, h.capDrop)
    const sec = parseSecurityOpts(h.securityOpt)
    if (sec.systemPathsUnconfined) {
      h.maskedPaths = []
      h.readonlyPaths = []
    }
    if (!h.privileged) {
      h.maskedPaths ??= defaultMaskedPaths()
      h.readonlyPaths ??= [...readonlyPaths]
    }
  }

  async container(i: SpecInput): Promise<unknown> {
    // moby handleDevice: a request no device driver serves fails the start; berth has no GPU drivers.
    const req = i.deviceRequests?.[0]
    if (req) throw invalidArgument(`could not select device driver ${JSON.stringify(req.driver)} with capabilities: ${goSlice(req.capabilities ?? [])}`)
    return buildSpec(await this.options(i))
  }

  async execProcess(i: ExecSpecInput): Promise<unknown> {
    const base = await this.options({ ...i.containerSpec, user: i.user, tty: i.tty, args: i.args, cwd: i.cwd, privileged: i.privileged, init: false }, i.env)
    return buildSpec(base).process
  }

  /** `execEnv`: an exec's own -e, applied over the container's environment (moby daemon/exec.go). */
  private async options(i: SpecInput, execEnv: readonly string[] = []): Promise<SpecOptions> {
    const user = await resolveUser(i.rootfs, i.user, { groupAdd: i.groupAdd })
    // moby CreateDaemonEnvironment: PATH, HOSTNAME and TERM are the daemon's defaults, never part of Config.Env.
    const defaults = [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${i.hostname}`]
    if (i.tty) defaults.push('TERM=xterm')
    const env = replaceOrAppendEnv(replaceOrAppendEnv(defaults, i.env), execEnv)
    // runc's init sets HOME from the user's passwd entry when the environment has none; other runtimes may not.
    if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home || '/'}`)
    const ns = (s: NsSpec): NamespaceMode => s
    const idMappings = this.layout.idMappings?.(i)
    const sec = parseSecurityOpts(i.securityOpt ?? [])
    const seccomp = containerSeccomp({ ...(sec.seccomp !== undefined ? { seccomp: sec.seccomp } : {}), privileged: i.privileged }, this.security.seccomp)
    const apparmor = apparmorProfile({ ...(sec.apparmor !== undefined ? { apparmor: sec.apparmor } : {}), privileged: i.privileged })
    const masked = sec.systemPathsUnconfined ? [] : i.maskedPaths
    const ro = sec.systemPathsUnconfined ? [] : i.readonlyPaths
    return {
      noNewPrivileges: sec.noNewPrivileges ?? this.security.noNewPrivileges,
      ...(seccomp ? { seccomp } : {}),
      ...(apparmor ? { apparmorProfile: apparmor } : {}),
      ...(masked ? { maskedPaths: masked } : {}),
      ...(ro ? { readonlyPaths: ro } : {}),
      ...(sec.writableCgroups !== undefined ? { writableCgroups: sec.writableCgroups } : {}),
      ...(i.ownNetns ? { defaultSysctls: defaultNetSysctls({ userns: idMappings !== undefined }) } : {}),
      ...(this.layout.cgroupsPath ? { cgroupsPath: this.layout.cgroupsPath(i) } : {}),
      ...(idMappings ? { idMappings } : {}),
      id: i.id,
      rootfs: i.rootfs,
      readonlyRootfs: i.readonlyRootfs,
      args: i.args,
      env,
      cwd: i.cwd,
      // As moby getUser: the primary group leads the supplementary list (`id` shows it among groups=).
      user: { uid: user.uid, gid: user.gid, additionalGids: [user.gid, ...user.additionalGids] },
      hostname: i.hostname,
      tty: i.tty,
      namespaces: { pid: ns(i.namespaces.pid), ipc: ns(i.namespaces.ipc), uts: ns(i.namespaces.uts), network: ns(i.namespaces.net) },
      extraMounts: idMappings ? withLockedFlags(i.mounts, readFileSync('/proc/self/mountinfo', 'utf8')) : i.mounts,
      capAdd: i.capAdd,
      capDrop: i.capDrop,
      privileged: i.privileged,
      init: i.init,
      shmSize: i.shmSize,
      oomScoreAdj: i.oomScoreAdj,
      // moby setLinuxDomainname: the sysctl has setdomainname(2)'s effect, so no runtime support is needed.
      sysctl: i.domainname ? { ...i.sysctls, 'kernel.domainname': i.domainname } : i.sysctls,
      ...(i.annotations ? { annotations: i.annotations } : {}),
      resources: ociResources(i.resources),
      ...deviceSpecs(i.resources),
      ulimits: ulimits(i.resources.Ulimits),
    }
  }
}

/** Go's %v of a nested string slice: `[[gpu]]`. */
function goSlice(v: unknown): string {
  return Array.isArray(v) ? `[${v.map(goSlice).join(' ')}]` : String(v)
}

/** oci.DefaultPathEnv for Linux. */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/**
 * moby container.ReplaceOrAppendEnvValues: each override replaces the default
 * of its name or is appended; a bare NAME (what `-e NAME` sends when the
 * client has no such variable) removes the default and is itself dropped, as
 * runtimes refuse entries without `=`.
 */
export function replaceOrAppendEnv(defaults: readonly string[], overrides: readonly string[]): string[] {
  const out = [...defaults]
  const at = new Map<string, number>()
  defaults.forEach((e, i) => at.set(e.includes('=') ? e.slice(0, e.indexOf('=')) : e, i))
  for (const v of overrides) {
    const eq = v.indexOf('=')
    const i = at.get(eq < 0 ? v : v.slice(0, eq))
    if (eq < 0) {
      if (i !== undefined) out[i] = ''
    } else if (i !== undefined) out[i] = v
    else out.push(v)
  }
  return out.filter((e) => e !== '')
}

function ulimits(v: unknown): Ulimit[] {
  if (!Array.isArray(v)) return []
  return v.flatMap((u: { Name?: unknown; Soft?: unknown; Hard?: unknown }) =>
    typeof u?.Name === 'string' ? [{ name: u.Name, soft: Number(u.Soft ?? 0), hard: Number(u.Hard ?? 0) }] : [],
  )
}

/** Linux's dev_t split (major 12 bits, minor 20 bits, glibc's layout). */
function devNumbers(rdev: number): { major: number; minor: number } {
  const r = BigInt(rdev)
  return { major: Number(((r >> 8n) & 0xfffn) | ((r >> 32n) & ~0xfffn)), minor: Number((r & 0xffn) | ((r >> 12n) & ~0xffn)) }
}

/** The device node behind a blkio device path, as moby's getBlkioThrottleDevices stats it. */
function blkioDevice(p: string): { major: number; minor: number } {
  try {
    return devNumbers(statSync(p).rdev)
  } catch (err) {
    throw invalidArgument(`stat ${p}: ${errnoText(err)}`, err)
  }
}

function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return 'no such file or directory'
  if (code === 'ENOTDIR') return 'not a directory'
  if (code === 'EACCES') return 'permission denied'
  return (err as Error).message
}

const arr = (v: unknown): Array<Record<string, unknown>> => (Array.isArray(v) ? v.filter((x): x is Record<string, unknown> => !!x && typeof x === 'object') : [])

/** docker's HostConfig resource fields → OCI linux.resources (moby daemon_unix.go getMemoryResources, getCPUResources, getPidsLimit, blkio). */
export function ociResources(r: Record<string, unknown>): Omit<OciResources, 'devices'> {
  const n = (k: string) => (typeof r[k] === 'number' ? (r[k] as number) : undefined)
  const out: Omit<OciResources, 'devices'> = {}
  const memory: NonNullable<OciResources['memory']> = {}
  if ((n('Memory') ?? 0) > 0) memory.limit = n('Memory')
  if ((n('MemoryReservation') ?? 0) > 0) memory.reservation = n('MemoryReservation')
  if ((n('MemorySwap') ?? 0) > 0) memory.swap = n('MemorySwap')
  const swappiness = n('MemorySwappiness')
  if (swappiness !== undefined && swappiness >= 0) memory.swappiness = swappiness
  if (typeof r.OomKillDisable === 'boolean') memory.disableOOMKiller = r.OomKillDisable
  if (Object.keys(memory).length) out.memory = memory
  const cpu: NonNullable<OciResources['cpu']> = {}
  const shares = n('CpuShares')
  if (shares) {
    if (shares < 0) throw invalidArgument(`invalid CPU shares (${shares}): value must be a positive integer`)
    cpu.shares = shares
  }
  if (typeof r.CpusetCpus === 'string' && r.CpusetCpus !== '') cpu.cpus = r.CpusetCpus
  if (typeof r.CpusetMems === 'string' && r.CpusetMems !== '') cpu.mems = r.CpusetMems
  const nano = n('NanoCpus') ?? 0
  if (nano > 0) {
    cpu.period = 100_000
    cpu.quota = Math.trunc((nano * 100_000) / 1e9)
  }
  if (n('CpuPeriod')) cpu.period = n('CpuPeriod')
  if (n('CpuQuota')) cpu.quota = n('CpuQuota')
  if (n('CpuRealtimePeriod')) cpu.realtimePeriod = n('CpuRealtimePeriod')
  if (n('CpuRealtimeRuntime')) cpu.realtimeRuntime = n('CpuRealtimeRuntime')
  if (Object.keys(cpu).length) out.cpu = cpu
  const pids = n('PidsLimit')
  // 0 and negatives mean unlimited in docker's API; runc wants -1 for that.
  if (pids !== undefined) out.pids = { limit: pids > 0 ? pids : -1 }
  const blockIO: NonNullable<OciResources['blockIO']> = {}
  if (n('BlkioWeight')) blockIO.weight = n('BlkioWeight')
  const weightDevs = arr(r.BlkioWeightDevice).map((d) => ({ ...blkioDevice(String(d.Path)), weight: Number(d.Weight) }))
  if (weightDevs.length) blockIO.weightDevice = weightDevs
  const throttle = (k: string) => arr(r[k]).map((d) => ({ ...blkioDevice(String(d.Path)), rate: Number(d.Rate) }))
  const throttles = [
    ['BlkioDeviceReadBps', 'throttleReadBpsDevice'], ['BlkioDeviceWriteBps', 'throttleWriteBpsDevice'],
    ['BlkioDeviceReadIOps', 'throttleReadIOPSDevice'], ['BlkioDeviceWriteIOps', 'throttleWriteIOPSDevice'],
  ] as const
  for (const [from, to] of throttles) {
    const list = throttle(from)
    if (list.length) blockIO[to] = list
  }
  if (Object.keys(blockIO).length) out.blockIO = blockIO
  return out
}

/** What `docker update` hands the runtime (moby update_linux.go toContainerdResources): the merged limits, nothing else. */
export function updateResources(r: Record<string, unknown>): OciResources {
  const n = (k: string) => (typeof r[k] === 'number' ? (r[k] as number) : 0)
  const out: OciResources = {}
  if (n('BlkioWeight')) out.blockIO = { weight: n('BlkioWeight') }
  const cpu: NonNullable<OciResources['cpu']> = {}
  if (typeof r.CpusetCpus === 'string' && r.CpusetCpus) cpu.cpus = r.CpusetCpus
  if (typeof r.CpusetMems === 'string' && r.CpusetMems) cpu.mems = r.CpusetMems
  if (n('CpuShares')) cpu.shares = n('CpuShares')
  let period = 0
  let quota = 0
  if (n('NanoCpus')) {
    period = 100_000
    quota = Math.trunc((n('NanoCpus') * period) / 1e9)
  }
  if (quota === 0 && n('CpuQuota')) quota = n('CpuQuota')
  if (period === 0 && n('CpuPeriod')) period = n('CpuPeriod')
  if (period) cpu.period = period
  if (quota) cpu.quota = quota
  if (Object.keys(cpu).length) out.cpu = cpu
  const memory: NonNullable<OciResources['memory']> = {}
  if (n('Memory')) memory.limit = n('Memory')
  if (n('MemoryReservation')) memory.reservation = n('MemoryReservation')
  if (n('MemorySwap') > 0) memory.swap = n('MemorySwap')
  if (Object.keys(memory).length) out.memory = memory
  if (typeof r.PidsLimit === 'number') out.pids = { limit: r.PidsLimit > 0 ? r.PidsLimit : -1 }
  return out
}

/**
 * --device and --device-cgroup-rule → OCI devices and allow rules (moby
 * oci/devices_linux.go DevicesFromPath: a symlink is followed, a directory
 * contributes every device node under it).
 */
export function deviceSpecs(r: Record<string, unknown>): { devices: OciDevice[]; deviceRules: OciDeviceRule[] } {
  const devices: OciDevice[] = []
  const deviceRules: OciDeviceRule[] = []
  const add = (hostPath: string, ctrPath: string, perms: string): boolean => {
    let st
    try {
      st = statSync(hostPath)
    } catch {
      return false
    }
    if (!st.isCharacterDevice() && !st.isBlockDevice()) return false
    const { major, minor } = devNumbers(st.rdev)
    const type = st.isCharacterDevice() ? 'c' : 'b'
    devices.push({ path: ctrPath, type, major, minor, fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid })
    deviceRules.push({ allow: true, type, major, minor, access: perms })
    return true
  }
  for (const d of arr(r.Devices)) {
    const onHost = String(d.PathOnHost ?? '')
    const inCtr = String(d.PathInContainer || onHost)
    const perms = String(d.CgroupPermissions || 'rwm')
    let resolved = onHost
    try {
      if (lstatSync(onHost).isSymbolicLink()) resolved = realpathSync(onHost)
    } catch {
      // Reported below as the device's own error.
    }
    if (add(resolved, inCtr, perms)) continue
    let found = false
    let isDir = false
    try {
      isDir = statSync(resolved).isDirectory()
    } catch {
      // Missing: reported below.
    }
    if (isDir) {
      const walk = (dir: string): void => {
        for (const e of readdirSync(dir, { withFileTypes: true })) {
          const p = path.join(dir, e.name)
          if (e.isDirectory()) walk(p)
          else if (add(p, path.posix.join(inCtr, path.relative(resolved, p)), perms)) found = true
        }
      }
      walk(resolved)
    }
    if (found) continue
    let why = 'not a device node'
    try {
      statSync(resolved)
    } catch (err) {
      why = errnoText(err)
    }
    throw invalidArgument(`error gathering device information while adding custom device ${JSON.stringify(onHost)}: ${why}`)
  }
  for (const rule of Array.isArray(r.DeviceCgroupRules) ? (r.DeviceCgroupRules as unknown[]) : []) {
    const m = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/.exec(String(rule))
    if (!m) throw invalidArgument(`invalid device cgroup rule format: '${String(rule)}'`)
    deviceRules.push({
      allow: true,
      type: m[1] as 'a' | 'b' | 'c',
      ...(m[2] !== '*' ? { major: Number(m[2]) } : {}),
      ...(m[3] !== '*' ? { minor: Number(m[3]) } : {}),
      access: m[4] ?? 'rwm',
    })
  }
  return { devices, deviceRules }
}
