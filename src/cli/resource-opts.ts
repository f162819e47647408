/**
 * The resource, security, health and namespace flags of `run`/`create` (and
 * `update`), parsed as the docker CLI's flag types and validators do
 * (cli/command/container/opts.go, opts/*.go, go-units): the same values
 * accepted, the same messages for the rest, the same HostConfig fields sent.
 * Hand-written because these are docker's exact rules, which no library has.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { DeviceMapping, HealthConfig, ThrottleDevice, Ulimit, WeightDevice } from '../api/types/index.js'
import { ramInBytes as goRamInBytes } from '../lib/index.js'
import { parseGoDuration, UsageError } from './opts.js'

/** A flag value its type or validator refuses: pflag wraps this as `invalid argument "v" for "--flag" flag: …`. */
export class FlagValueError extends Error {}

const fail = (msg: string): never => {
  throw new FlagValueError(msg)
}

/** opts.MemBytes: go-units RAMInBytes. */
export function parseBytes(v: string): number {
  try {
    return goRamInBytes(v)
  } catch (e) {
    return fail((e as Error).message)
  }
}

/** opts.MemSwapBytes: as MemBytes, plus "-1" for unlimited. */
export function parseSwapBytes(v: string): number {
  return v === '-1' ? -1 : parseBytes(v)
}

/** Go's strconv.ParseInt/ParseUint with base 0, as pflag's integer flags read their value. */
function parseGoInt(v: string, bits: number, unsigned: boolean): bigint {
  const fn = unsigned ? 'strconv.ParseUint' : 'strconv.ParseInt'
  const m = /^([+-]?)(0[xX][\da-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][\d_]*)$/.exec(v)
  if (!m || (unsigned && m[1] !== '')) return fail(`${fn}: parsing ${JSON.stringify(v)}: invalid syntax`)
  const body = (m[2] ?? '').replace(/_/g, '')
  const n = /^0[0-7]+$/.test(body) ? BigInt(`0o${body.slice(1)}`) : BigInt(body.length > 1 && /^0[oO]/.test(body) ? `0o${body.slice(2)}` : body)
  const signed = m[1] === '-' ? -n : n
  const max = unsigned ? (1n << BigInt(bits)) - 1n : (1n << BigInt(bits - 1)) - 1n
  const min = unsigned ? 0n : -(1n << BigInt(bits - 1))
  if (signed > max || signed < min) return fail(`${fn}: parsing ${JSON.stringify(v)}: value out of range`)
  return signed
}

export function parseInt64(v: string): number {
  return Number(parseGoInt(v, 64, false))
}

export function parseUint16(v: string): number {
  return Number(parseGoInt(v, 16, true))
}

/** opts.ParseCPUs: a rational number of CPUs → nano CPUs, exactly (big.Rat). */
export function parseCpus(v: string): number {
  const notRational = () => fail(`failed to parse ${v} as a rational number`)
  let num: bigint
  let den: bigint
  const frac = /^([+-]?\d+)\/(\d+)$/.exec(v)
  if (frac) {
    num = BigInt(frac[1] ?? '0')
    den = BigInt(frac[2] ?? '1')
    if (den === 0n) return notRational()
  } else {
    const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(v)
    if (!m || ((m[2] ?? '') === '' && (m[3] ?? '') === '')) return notRational()
    const digits = `${m[2] ?? ''}${m[3] ?? ''}` || '0'
    const exp = Number(m[4] ?? '0') - (m[3] ?? '').length
    num = BigInt(digits) * (m[1] === '-' ? -1n : 1n)
    den = 1n
    if (exp >= 0) num *= 10n ** BigInt(exp)
    else den = 10n ** BigInt(-exp)
  }
  const nano = num * 1_000_000_000n
  if (nano % den !== 0n) return fail('value is too precise')
  return Number(nano / den)
}

/** time.ParseDuration, in nanoseconds, with Go's messages. */
export function parseDurationNs(v: string): number {
  const ms = parseGoDuration(v)
  if (ms === undefined) {
    if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(v) && v !== '0') return fail(`time: missing unit in duration ${JSON.stringify(v)}`)
    return fail(`time: invalid duration ${JSON.stringify(v)}`)
  }
  return Math.round(ms * 1e6)
}

const ulimitNames = new Set(['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack'])

/** go-units ParseUlimit: `name=soft[:hard]`. */
export function parseUlimit(v: string): Ulimit {
  const i = v.indexOf('=')
  if (i < 0) return fail(`invalid ulimit argument: ${v}`)
  const name = v.slice(0, i)
  if (!ulimitNames.has(name)) return fail(`invalid ulimit type: ${name}`)
  const vals = v.slice(i + 1).split(':')
  if (vals.length > 2) return fail(`too many limit value arguments - ${v.slice(i + 1)}, can only have up to two, \`soft[:hard]\``)
  const soft = parseInt64(vals[0] ?? '')
  const hard = vals.length === 2 ? parseInt64(vals[1] ?? '') : soft
  if (hard !== -1) {
    if (soft === -1) return fail(`ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: ${hard}`)
    if (soft > hard) return fail(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`)
  }
  return { Name: name, Soft: soft, Hard: hard }
}

function devicePathAndValue(v: string): [string, string] {
  const i = v.indexOf(':')
  if (i <= 0) return fail(`bad format: ${v}`)
  const k = v.slice(0, i)
  if (!k.startsWith('/dev/')) return fail(`bad format for device path: ${v}`)
  return [k, v.slice(i + 1)]
}

/** opts.ValidateWeightDevice: `/dev/sda:200`, 10 to 1000 or 0. */
export function parseWeightDevice(v: string): WeightDevice {
  const [p, w] = devicePathAndValue(v)
  if (!/^\d+$/.test(w) || Number(w) > 65535) return fail(`invalid weight for device: ${v}`)
  const weight = Number(w)
  if (weight > 0 && (weight < 10 || weight > 1000)) return fail(`invalid weight for device: ${v}`)
  return { Path: p, Weight: weight }
}

/** opts.ValidateThrottleBpsDevice: `/dev/sda:1mb`. */
export function parseThrottleBps(v: string): ThrottleDevice {
  const [p, r] = devicePathAndValue(v)
  let rate: number
  try {
    rate = goRamInBytes(r)
  } catch {
    return fail(`invalid rate for device: ${v}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb`)
  }
  return { Path: p, Rate: rate }
}

/** opts.ValidateThrottleIOpsDevice: `/dev/sda:1000`. */
export function parseThrottleIops(v: string): ThrottleDevice {
  const [p, r] = devicePathAndValue(v)
  if (!/^\d+$/.test(r) || BigInt(r) > 18446744073709551615n) {
    return fail(`invalid rate for device: ${v}. The correct format is <device-path>:<number>. Number must be a positive integer`)
  }
  return { Path: p, Rate: Number(r) }
}

/** validateDeviceCgroupRule: `type major:minor mode`. */
export function validateDeviceCgroupRule(v: string): string {
  if (!/^[acb] ([0-9]+|\*):([0-9]+|\*) [rwm]{1,3}$/.test(v)) fail(`invalid device cgroup format '${v}'`)
  return v
}

/** opts.ValidateSysctl: only namespaced sysctls docker lets through. */
export function validateSysctl(v: string): string {
  const allowed = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'])
  const i = v.indexOf('=')
  const k = i < 0 ? '' : v.slice(0, i)
  if (k !== '' && (allowed.has(k) || k.startsWith('net.') || k.startsWith('fs.mqueue.'))) return v
  return fail(`sysctl '${v}' is not allowed`)
}

function validDeviceMode(mode: string): boolean {
  if (mode === '') return false
  const seen = new Set<string>()
  for (const c of mode) {
    if (!'rwm'.includes(c) || seen.has(c)) return false
    seen.add(c)
  }
  return true
}

/** validateLinuxPath + parseLinuxDevice: `--device /dev/x[:/dev/y][:rwm]`. Usage errors, not flag errors, as in docker. */
export function parseDevice(v: string): DeviceMapping {
  if ((v.match(/:/g) ?? []).length > 2) throw new UsageError(`bad format for path: ${v}`)
  const split = v.split(':')
  if ((split[0] ?? '') === '') throw new UsageError(`bad format for path: ${v}`)
  let containerPath: string
  let validated: string
  if (split.length === 1) {
    containerPath = split[0] ?? ''
    validated = path.posix.normalize(containerPath)
  } else if (split.length === 2) {
    if (validDeviceMode(split[1] ?? '')) {
      containerPath = split[0] ?? ''
      validated = `${path.posix.normalize(containerPath)}:${split[1] ?? ''}`
    } else {
      containerPath = split[1] ?? ''
      validated = `${split[0] ?? ''}:${path.posix.normalize(containerPath)}`
    }
  } else {
    containerPath = split[1] ?? ''
    if (!validDeviceMode(split[2] ?? '')) throw new UsageError(`bad mode specified: ${split[2] ?? ''}`)
    validated = v
  }
  if (!containerPath.startsWith('/')) throw new UsageError(`${containerPath} is not an absolute path`)
  const arr = validated.split(':')
  const src = arr[0] ?? ''
  let dst = ''
  let perms = 'rwm'
  if (arr.length === 3) perms = arr[2] ?? 'rwm'
  if (arr.length >= 2) {
    if (validDeviceMode(arr[1] ?? '')) perms = arr[1] ?? 'rwm'
    else dst = arr[1] ?? ''
  }
  return { PathOnHost: src, PathInContainer: dst || src, CgroupPermissions: perms }
}

/**
 * parseSecurityOpts: `key=value` (or the old `key:value`); a seccomp profile
 * that is a file is read here and sent as compact JSON, as docker's CLI does.
 */
export function parseSecurityOpts(values: string[], readFile: (p: string) => string = (p) => readFileSync(p, 'utf8')): { securityOpt: string[]; masked: boolean } {
  const out: string[] = []
  let unconfinedPaths = false
  for (const opt of values) {
    let i = opt.indexOf('=')
    let k = i < 0 ? opt : opt.slice(0, i)
    let v = i < 0 ? '' : opt.slice(i + 1)
    let ok = i >= 0
    if (!ok && k !== 'no-new-privileges') {
      i = opt.indexOf(':')
      ok = i >= 0
      k = ok ? opt.slice(0, i) : opt
      v = ok ? opt.slice(i + 1) : ''
    }
    if ((!ok || v === '') && k !== 'no-new-privileges') throw new UsageError(`Invalid --security-opt: ${JSON.stringify(opt)}`)
    if (opt === 'systempaths=unconfined') {
      unconfinedPaths = true
      continue
    }
    if (k === 'seccomp' && v !== 'builtin' && v !== 'unconfined') {
      let text: string
      try {
        text = readFile(v)
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code
        throw new UsageError(`opening seccomp profile (${v}) failed: open ${v}: ${code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`)
      }
      let compact: string
      try {
        compact = JSON.stringify(JSON.parse(text))
      } catch (e) {
        throw new UsageError(`compacting json for seccomp profile (${v}) failed: ${(e as Error).message}`)
      }
      out.push(`seccomp=${compact}`)
      continue
    }
    out.push(opt)
  }
  return { securityOpt: out, masked: unconfinedPaths }
}

export interface HealthFlags {
  cmd?: string
  interval?: number
  timeout?: number
  startPeriod?: number
  startInterval?: number
  retries?: number
  none: boolean
}

/** Config.Healthcheck as docker's CLI builds it; undefined when no health flag was given. */
export function healthConfig(f: HealthFlags): HealthConfig | undefined {
  const have = !!f.cmd || !!f.interval || !!f.timeout || !!f.startPeriod || !!f.retries || !!f.startInterval
  if (f.none) {
    if (have) throw new UsageError('--no-healthcheck conflicts with --health-* options')
    return { Test: ['NONE'] }
  }
  if (!have) return undefined
  if ((f.interval ?? 0) < 0) throw new UsageError('--health-interval cannot be negative')
  if ((f.timeout ?? 0) < 0) throw new UsageError('--health-timeout cannot be negative')
  if ((f.retries ?? 0) < 0) throw new UsageError('--health-retries cannot be negative')
  if ((f.startPeriod ?? 0) < 0) throw new UsageError('--health-start-period cannot be negative')
  if ((f.startInterval ?? 0) < 0) throw new UsageError('--health-start-interval cannot be negative')
  // Go's omitempty: zero fields are left out of the JSON.
  const h: HealthConfig = {}
  if (f.cmd) h.Test = ['CMD-SHELL', f.cmd]
  if (f.interval) h.Interval = f.interval
  if (f.timeout) h.Timeout = f.timeout
  if (f.startPeriod) h.StartPeriod = f.startPeriod
  if (f.startInterval) h.StartInterval = f.startInterval
  if (f.retries) h.Retries = f.retries
  return h
}

/** The docker client's normalizeCapabilities: upper case, CAP_ prefixed (ALL kept), no duplicates, sorted; null when none. */
export function normalizeCapabilities(caps: string[]): string[] | null {
  const set = new Set(caps.map((c) => {
    const up = c.toUpperCase()
    return up === 'ALL' || up.startsWith('CAP_') ? up : `CAP_${up}`
  }))
  return set.size ? [...set].sort() : null
}

/** The flag-time check for a flag's value by its long name; undefined when this module has none. */
export function resourceValueCheck(long: string): ((v: string) => string | undefined) | undefined {
  const parser: Record<string, (v: string) => unknown> = {
    '--memory': parseBytes,
    '--memory-reservation': parseBytes,
    '--kernel-memory': parseBytes,
    '--shm-size': parseBytes,
    '--memory-swap': parseSwapBytes,
    '--cpus': parseCpus,
    '--blkio-weight': parseUint16,
    '--cpu-shares': parseInt64,
    '--cpu-period': parseInt64,
    '--cpu-quota': parseInt64,
    '--cpu-rt-period': parseInt64,
    '--cpu-rt-runtime': parseInt64,
    '--memory-swappiness': parseInt64,
    '--pids-limit': parseInt64,
    '--oom-score-adj': parseInt64,
    '--health-retries': parseInt64,
    '--health-interval': parseDurationNs,
    '--health-timeout': parseDurationNs,
    '--health-start-period': parseDurationNs,
    '--health-start-interval': parseDurationNs,
    '--ulimit': parseUlimit,
    '--blkio-weight-device': parseWeightDevice,
    '--device-read-bps': parseThrottleBps,
    '--device-write-bps': parseThrottleBps,
    '--device-read-iops': parseThrottleIops,
    '--device-write-iops': parseThrottleIops,
    '--device-cgroup-rule': validateDeviceCgroupRule,
    '--sysctl': validateSysctl,
  }
  const p = parser[long]
  if (!p) return undefined
  return (v) => {
    try {
      p(v)
      return undefined
    } catch (e) {
      return (e as Error).message
    }
  }
}

type Opts = Record<string, unknown>
const s = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)
const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])
const num = (v: unknown, parse: (x: string) => number, def = 0): number => (typeof v === 'string' ? parse(v) : def)

/** The HostConfig fields and Healthcheck that run/create's resource, security and health flags make. */
/** The limits `run`/`create` and `update` share, as both of docker's requests carry them. */
export function sharedResourceFields(o: Opts): {
  Memory: number; MemoryReservation: number; MemorySwap: number; NanoCpus: number; CpuPeriod: number; CpuQuota: number
  CpuRealtimePeriod: number; CpuRealtimeRuntime: number; CpuShares: number; CpusetCpus: string; CpusetMems: string; BlkioWeight: number
} {
  return {
    Memory: num(o.memory, parseBytes),
    MemoryReservation: num(o.memoryReservation, parseBytes),
    MemorySwap: num(o.memorySwap, parseSwapBytes),
    NanoCpus: num(o.cpus, parseCpus),
    CpuPeriod: num(o.cpuPeriod, parseInt64),
    CpuQuota: num(o.cpuQuota, parseInt64),
    CpuRealtimePeriod: num(o.cpuRtPeriod, parseInt64),
    CpuRealtimeRuntime: num(o.cpuRtRuntime, parseInt64),
    CpuShares: num(o.cpuShares, parseInt64),
    CpusetCpus: s(o.cpusetCpus) ?? '',
    CpusetMems: s(o.cpusetMems) ?? '',
    BlkioWeight: num(o.blkioWeight, parseUint16),
  }
}

export function resourceFields(o: Opts): {
  host: {
    Memory: number; MemoryReservation: number; MemorySwap: number; MemorySwappiness: number
    OomKillDisable: boolean; OomScoreAdj: number; NanoCpus: number; CpuPeriod: number; CpuQuota: number
    CpuRealtimePeriod: number; CpuRealtimeRuntime: number; CpuShares: number; CpusetCpus: string; CpusetMems: string
    PidsLimit: number; BlkioWeight: number; BlkioWeightDevice: WeightDevice[]; BlkioDeviceReadBps: ThrottleDevice[]
    BlkioDeviceWriteBps: ThrottleDevice[]; BlkioDeviceReadIOps: ThrottleDevice[]; BlkioDeviceWriteIOps: ThrottleDevice[]
    Ulimits: Ulimit[]; ShmSize: number; Devices: DeviceMapping[]; DeviceCgroupRules: string[] | null
    SecurityOpt: string[] | null; MaskedPaths: string[] | null; ReadonlyPaths: string[] | null
    Sysctls?: Record<string, string>; GroupAdd: string[] | null; UsernsMode: string; CgroupnsMode: string; CgroupParent: string
  }
  healthcheck?: HealthConfig
} {
  const swappiness = num(o.memorySwappiness, parseInt64, -1)
  if (swappiness !== -1 && (swappiness < 0 || swappiness > 100)) throw new UsageError(`invalid value: ${swappiness}. Valid memory swappiness range is 0-100`)
  const userns = s(o.userns) ?? ''
  if (userns !== '' && userns !== 'host') throw new UsageError('--userns: invalid USER mode')
  const cgroupns = s(o.cgroupns) ?? ''
  if (cgroupns !== '' && cgroupns !== 'host' && cgroupns !== 'private') throw new UsageError('--cgroupns: invalid CGROUP mode')
  // UlimitOpt keeps the last value per name, sorted by name.
  const ulimits = new Map<string, Ulimit>()
  for (const u of list(o.ulimit).map(parseUlimit)) ulimits.set(u.Name, u)
  const sec = parseSecurityOpts(list(o.securityOpt))
  const sysctls: Record<string, string> = {}
  for (const kv of list(o.sysctl)) {
    validateSysctl(kv)
    const i = kv.indexOf('=')
    sysctls[kv.slice(0, i)] = kv.slice(i + 1)
  }
  const rules = list(o.deviceCgroupRule).map(validateDeviceCgroupRule)
  const groupAdd = list(o.groupAdd)
  // Parsed for its errors only: docker's client drops KernelMemory from API 1.42 on.
  num(o.kernelMemory, parseBytes)
  const host = {
    ...sharedResourceFields(o),
    MemorySwappiness: swappiness,
    OomKillDisable: o.oomKillDisable === true,
    OomScoreAdj: num(o.oomScoreAdj, parseInt64),
    PidsLimit: num(o.pidsLimit, parseInt64),
    BlkioWeightDevice: list(o.blkioWeightDevice).map(parseWeightDevice),
    BlkioDeviceReadBps: list(o.deviceReadBps).map(parseThrottleBps),
    BlkioDeviceWriteBps: list(o.deviceWriteBps).map(parseThrottleBps),
    BlkioDeviceReadIOps: list(o.deviceReadIops).map(parseThrottleIops),
    BlkioDeviceWriteIOps: list(o.deviceWriteIops).map(parseThrottleIops),
    Ulimits: [...ulimits.values()].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0)),
    ShmSize: num(o.shmSize, parseBytes),
    Devices: list(o.device).map(parseDevice),
    DeviceCgroupRules: rules.length ? rules : null,
    // docker filters systempaths=unconfined out of a non-nil list: given options leave [] at worst.
    SecurityOpt: list(o.securityOpt).length ? sec.securityOpt : null,
    MaskedPaths: sec.masked ? [] : null,
    ReadonlyPaths: sec.masked ? [] : null,
    ...(Object.keys(sysctls).length ? { Sysctls: sysctls } : {}),
    GroupAdd: groupAdd.length ? groupAdd : null,
    UsernsMode: userns,
    CgroupnsMode: cgroupns,
    CgroupParent: s(o.cgroupParent) ?? '',
  }
  const healthcheck = healthConfig({
    cmd: s(o.healthCmd),
    interval: num(o.healthInterval, parseDurationNs),
    timeout: num(o.healthTimeout, parseDurationNs),
    startPeriod: num(o.healthStartPeriod, parseDurationNs),
    startInterval: num(o.healthStartInterval, parseDurationNs),
    retries: num(o.healthRetries, parseInt64),
    none: o.healthcheck === false || o.noHealthcheck === true,
  })
  return { host, ...(healthcheck ? { healthcheck } : {}) }
}
