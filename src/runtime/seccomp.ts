/**
 * docker's seccomp profiles: the profile format (an OCI seccomp section plus
 * `archMap` and per-rule `includes`/`excludes` conditions) and the logic that
 * turns one into the OCI `linux.seccomp` of a given container (moby
 * profiles/seccomp/seccomp_linux.go): rules kept or dropped by the container's
 * bounding capabilities, the host's architecture and kernel version.
 *
 * Hand-written because no npm package speaks docker's profile format. The
 * built-in profile is not carried here: berthd reads the one Debian ships
 * (golang-github-containers-common, /usr/share/containers/seccomp.json, the
 * same format and derived from docker's) and tightens the few rules where it
 * is looser than docker's (see alignWithDocker and
 * docs/design/security-defaults.md).
 */
import { readFileSync } from 'node:fs'
import os from 'node:os'
import { invalidArgument } from '../errors/index.js'

export const DEFAULT_SECCOMP_FILE = '/usr/share/containers/seccomp.json'

export interface SeccompArg {
  index: number
  value: number
  valueTwo?: number
  op: string
}

export interface SeccompFilter {
  caps?: string[]
  arches?: string[]
  /** "<kernel>.<major>", e.g. "4.8". */
  minKernel?: string
}

export interface SeccompRule {
  names?: string[]
  /** Legacy single-name form. */
  name?: string
  action: string
  errnoRet?: number
  args?: SeccompArg[] | null
  comment?: string
  includes?: SeccompFilter
  excludes?: SeccompFilter
}

/** A profile in docker's format, as `--security-opt seccomp=` and daemon.json take it. */
export interface SeccompProfile {
  defaultAction: string
  defaultErrnoRet?: number
  architectures?: string[]
  archMap?: Array<{ architecture: string; subArchitectures?: string[] | null }>
  flags?: string[]
  listenerPath?: string
  listenerMetadata?: string
  syscalls?: SeccompRule[]
}

export interface OciSyscall {
  names: string[]
  action: string
  errnoRet?: number
  args?: SeccompArg[]
}

/** The runtime-spec's linux.seccomp. */
export interface OciSeccomp {
  defaultAction: string
  defaultErrnoRet?: number
  architectures?: string[]
  flags?: string[]
  listenerPath?: string
  listenerMetadata?: string
  syscalls?: OciSyscall[]
}

/** What the conditions of a profile are checked against. */
export interface SeccompHost {
  /** The container's bounding capabilities (docker checks the bounding set). */
  capabilities: string[]
  /** libseccomp's native name: amd64, arm64, x86...; this host's if absent. */
  arch?: string
  /** `uname -r`; this host's if absent. */
  kernelRelease?: string
}

const decodeError = (why: string) => invalidArgument(`Decoding seccomp profile failed: ${why}`)

/** Parses and checks a profile as docker's json.Unmarshal into its Seccomp type would. */
export function parseSeccompProfile(body: string): SeccompProfile {
  let v: unknown
  try {
    v = JSON.parse(body)
  } catch (err) {
    throw decodeError((err as Error).message)
  }
  if (v === null) return { defaultAction: '' }
  if (typeof v !== 'object' || Array.isArray(v)) throw decodeError('json: cannot unmarshal into a seccomp profile: not an object')
  const p = v as Record<string, unknown>
  const str = (x: unknown, what: string): string => {
    if (x === undefined || x === null) return ''
    if (typeof x !== 'string') throw decodeError(`json: cannot unmarshal ${typeof x} into ${what} of type string`)
    return x
  }
  const strs = (x: unknown, what: string): string[] | undefined => {
    if (x === undefined || x === null) return undefined
    if (!Array.isArray(x)) throw decodeError(`json: cannot unmarshal ${typeof x} into ${what} of type []string`)
    return x.map((e) => str(e, what))
  }
  const num = (x: unknown, what: string): number | undefined => {
    if (x === undefined || x === null) return undefined
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) throw decodeError(`json: cannot unmarshal ${JSON.stringify(x)} into ${what} of type uint`)
    return x
  }
  const filter = (x: unknown, what: string): SeccompFilter | undefined => {
    if (x === undefined || x === null) return undefined
    if (typeof x !== 'object' || Array.isArray(x)) throw decodeError(`json: cannot unmarshal ${typeof x} into ${what}`)
    const f = x as Record<string, unknown>
    const out: SeccompFilter = {}
    const caps = strs(f.caps, `${what}.caps`)
    const arches = strs(f.arches, `${what}.arches`)
    if (caps?.length) out.caps = caps
    if (arches?.length) out.arches = arches
    const mk = str(f.minKernel, `${what}.minKernel`)
    if (mk !== '') {
      parseMinKernel(mk)
      out.minKernel = mk
    }
    return out
  }
  const out: SeccompProfile = { defaultAction: str(p.defaultAction, 'defaultAction') }
  const der = num(p.defaultErrnoRet, 'defaultErrnoRet')
  if (der !== undefined) out.defaultErrnoRet = der
  const arches = strs(p.architectures, 'architectures')
  if (arches) out.architectures = arches
  const flags = strs(p.flags, 'flags')
  if (flags) out.flags = flags
  if (p.listenerPath !== undefined) out.listenerPath = str(p.listenerPath, 'listenerPath')
  if (p.listenerMetadata !== undefined) out.listenerMetadata = str(p.listenerMetadata, 'listenerMetadata')
  if (p.archMap !== undefined && p.archMap !== null) {
    if (!Array.isArray(p.archMap)) throw decodeError('json: cannot unmarshal into archMap of type []seccomp.Architecture')
    out.archMap = p.archMap.map((a: Record<string, unknown>) => ({
      architecture: str(a?.architecture, 'archMap.architecture'),
      subArchitectures: strs(a?.subArchitectures, 'archMap.subArchitectures') ?? null,
    }))
  }
  if (p.syscalls !== undefined && p.syscalls !== null) {
    if (!Array.isArray(p.syscalls)) throw decodeError('json: cannot unmarshal into syscalls of type []*seccomp.Syscall')
    out.syscalls = p.syscalls.map((s: Record<string, unknown>) => {
      if (!s || typeof s !== 'object') throw decodeError('json: cannot unmarshal into a syscall rule: not an object')
      const rule: SeccompRule = { action: str(s.action, 'syscalls.action') }
      const names = strs(s.names, 'syscalls.names')
      if (names) rule.names = names
      if (s.name !== undefined) rule.name = str(s.name, 'syscalls.name')
      const er = num(s.errnoRet, 'syscalls.errnoRet')
      if (er !== undefined) rule.errnoRet = er
      if (Array.isArray(s.args)) {
        rule.args = s.args.map((a: Record<string, unknown>) => {
          const arg: SeccompArg = {
            index: num(a?.index, 'args.index') ?? 0,
            value: num(a?.value, 'args.value') ?? 0,
            op: str(a?.op, 'args.op'),
          }
          const two = num(a?.valueTwo, 'args.valueTwo')
          if (two) arg.valueTwo = two
          return arg
        })
      } else if (s.args !== undefined && s.args !== null) throw decodeError('json: cannot unmarshal into args of type []specs.LinuxSeccompArg')
      const inc = filter(s.includes, 'syscalls.includes')
      const exc = filter(s.excludes, 'syscalls.excludes')
      if (inc) rule.includes = inc
      if (exc) rule.excludes = exc
      return rule
    })
  }
  return out
}

/** docker's KernelVersion.UnmarshalJSON: "<kernel>.<major>", neither part above 255, not 0.0. */
function parseMinKernel(v: string): [number, number] {
  const bad = (why = '') => decodeError(`invalid kernel version: "${v}", expected "<kernel>.<major>"${why}`)
  const parts = v.split('.')
  if (parts.length !== 2) throw bad()
  const [k, m] = parts.map((x) => (/^\d+$/.test(x) ? Number(x) : NaN))
  if (k === undefined || m === undefined || !(k <= 255) || !(m <= 255)) throw bad(': invalid syntax')
  if (k === 0 && m === 0) throw bad(': version cannot be 0.0')
  return [k, m]
}

/** "6.1.0-13-amd64" → [6, 1], as moby's parseRelease (only kernel and major count). */
export function parseKernelRelease(release: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(release)
  if (!m) throw invalidArgument(`failed to parse kernel version "${release}"`)
  return [Number(m[1]), Number(m[2])]
}

/** Node's process.arch → libseccomp's native names, which `arches` conditions use. */
const nodeToNative: Record<string, string> = {
  x64: 'amd64', ia32: 'x86', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', mips: 'mips', mipsel: 'mipsel', loong64: 'loong64',
}

const nativeToSeccomp: Record<string, string> = {
  x86: 'SCMP_ARCH_X86', amd64: 'SCMP_ARCH_X86_64', arm: 'SCMP_ARCH_ARM', arm64: 'SCMP_ARCH_AARCH64', mips64: 'SCMP_ARCH_MIPS64',
  mips64n32: 'SCMP_ARCH_MIPS64N32', mipsel64: 'SCMP_ARCH_MIPSEL64', mips3l64n32: 'SCMP_ARCH_MIPSEL64N32', mipsle: 'SCMP_ARCH_MIPSEL',
  ppc: 'SCMP_ARCH_PPC', ppc64: 'SCMP_ARCH_PPC64', ppc64le: 'SCMP_ARCH_PPC64LE', riscv64: 'SCMP_ARCH_RISCV64', s390: 'SCMP_ARCH_S390',
  s390x: 'SCMP_ARCH_S390X',
}

export function nativeArch(): string {
  return nodeToNative[process.arch] ?? process.arch
}

/**
 * The OCI seccomp section for one container (moby setupSeccomp): the archMap
 * entry of this architecture expanded into `architectures`, each rule kept
 * unless an `excludes` condition matches or an `includes` condition fails.
 * Undefined for a profile that disables seccomp (no default action, no rules).
 */
export function resolveSeccomp(profile: SeccompProfile, host: SeccompHost): OciSeccomp | undefined {
  const rules = profile.syscalls ?? []
  if (profile.defaultAction === '' && rules.length === 0) return undefined
  if ((profile.architectures?.length ?? 0) > 0 && (profile.archMap?.length ?? 0) > 0) {
    throw invalidArgument("both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'")
  }
  const arch = host.arch ?? nativeArch()
  let kernel: [number, number] | undefined
  const kernelAtLeast = (min: string): boolean => {
    kernel ??= parseKernelRelease(host.kernelRelease ?? os.release())
    const [k, m] = parseMinKernel(min)
    return kernel[0] > k || (kernel[0] === k && kernel[1] >= m)
  }
  const bounding = new Set(host.capabilities)
  const out: OciSeccomp = { defaultAction: profile.defaultAction }
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet
  const architectures = [...(profile.architectures ?? [])]
  const scmp = nativeToSeccomp[arch]
  const entry = scmp ? profile.archMap?.find((a) => a.architecture === scmp) : undefined
  if (entry) architectures.push(entry.architecture, ...(entry.subArchitectures ?? []))
  if (architectures.length) out.architectures = architectures
  if (profile.flags?.length) out.flags = [...profile.flags]
  if (profile.listenerPath) out.listenerPath = profile.listenerPath
  if (profile.listenerMetadata) out.listenerMetadata = profile.listenerMetadata
  const syscalls: OciSyscall[] = []
  for (const r of rules) {
    let names = r.names ?? []
    if (r.name) {
      if (names.length) throw invalidArgument("both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'")
      names = [r.name]
    }
    const ex = r.excludes
    if (ex) {
      if (ex.arches?.length && ex.arches.includes(arch)) continue
      if (ex.caps?.some((c) => bounding.has(c))) continue
      if (ex.minKernel && kernelAtLeast(ex.minKernel)) continue
    }
    const inc = r.includes
    if (inc) {
      if (inc.arches?.length && !inc.arches.includes(arch)) continue
      if (inc.caps?.length && !inc.caps.every((c) => bounding.has(c))) continue
      if (inc.minKernel && !kernelAtLeast(inc.minKernel)) continue
    }
    const s: OciSyscall = { names: [...names], action: r.action }
    if (r.errnoRet !== undefined) s.errnoRet = r.errnoRet
    if (r.args?.length) s.args = r.args.map((a) => ({ ...a }))
    syscalls.push(s)
  }
  if (syscalls.length) out.syscalls = syscalls
  return out
}

const EPERM = 1
const ENOSYS = 38
/** CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET: clone may not make namespaces without CAP_SYS_ADMIN. */
const CLONE_NAMESPACE_FLAGS = 0x7e020000

/**
 * Syscalls that the containers-common profile allows to every container but
 * docker's allows only with a capability (any one listed). Without it they
 * fail with EPERM, as in docker, not with that profile's default ENOSYS.
 */
const dockerGated: Array<{ names: string[]; caps: string[] }> = [
  { names: ['mount', 'umount', 'umount2', 'unshare', 'setns', 'pivot_root', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'mount_setattr', 'move_mount', 'open_tree'], caps: ['CAP_SYS_ADMIN'] },
  { names: ['syslog'], caps: ['CAP_SYSLOG', 'CAP_SYS_ADMIN'] },
  { names: ['reboot'], caps: ['CAP_SYS_BOOT'] },
  { names: ['pidfd_getfd'], caps: ['CAP_SYS_PTRACE'] },
  { names: ['get_mempolicy', 'mbind', 'set_mempolicy'], caps: ['CAP_SYS_NICE'] },
]
/** Allowed by that profile, refused by docker's to every container: keyrings are not namespaced. */
const dockerDenied = ['keyctl']

/**
 * The containers-common profile (podman's) is looser than docker's where
 * podman relies on user namespaces: it lets any container mount, unshare,
 * setns, clone new namespaces and use keyctl, leaving the capability checks
 * to the kernel. docker's profile refuses those syscalls to containers
 * without the capability, which closes kernel attack surface even for root
 * in the container; this puts docker's conditions back on those rules. Every
 * other rule is the file's own.
 */
export function alignWithDocker(profile: SeccompProfile): SeccompProfile {
  const gated = new Map<string, string[]>()
  for (const g of dockerGated) for (const n of g.names) gated.set(n, g.caps)
  const taken = new Set<string>()
  const unconditional = (r: SeccompRule) =>
    r.action === 'SCMP_ACT_ALLOW' && !r.args?.length && !r.includes?.caps?.length && !r.includes?.arches?.length && !r.includes?.minKernel &&
    !r.excludes?.caps?.length && !r.excludes?.arches?.length && !r.excludes?.minKernel
  const syscalls: SeccompRule[] = (profile.syscalls ?? []).map((r) => {
    if (!unconditional(r)) return r
    const names = (r.names ?? (r.name ? [r.name] : [])).filter((n) => {
      if (gated.has(n) || dockerDenied.includes(n) || n === 'clone' || n === 'clone3') {
        taken.add(n)
        return false
      }
      return true
    })
    const { name: _legacy, ...rest } = r
    return { ...rest, names }
  })
  for (const g of dockerGated) {
    const names = g.names.filter((n) => taken.has(n))
    if (!names.length) continue
    for (const cap of g.caps) syscalls.push({ names, action: 'SCMP_ACT_ALLOW', includes: { caps: [cap] } })
    syscalls.push({ names, action: 'SCMP_ACT_ERRNO', errnoRet: EPERM, excludes: { caps: g.caps } })
  }
  const denied = dockerDenied.filter((n) => taken.has(n))
  if (denied.length) syscalls.push({ names: denied, action: 'SCMP_ACT_ERRNO', errnoRet: EPERM })
  if (taken.has('clone')) {
    syscalls.push(
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, op: 'SCMP_CMP_MASKED_EQ' }], excludes: { caps: ['CAP_SYS_ADMIN'], arches: ['s390', 's390x'] } },
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: CLONE_NAMESPACE_FLAGS, op: 'SCMP_CMP_MASKED_EQ' }], includes: { arches: ['s390', 's390x'] }, excludes: { caps: ['CAP_SYS_ADMIN'] } },
    )
  }
  if (taken.has('clone3')) {
    // ENOSYS, as docker: glibc then falls back to clone, whose flags the rule above can inspect.
    syscalls.push(
      { names: ['clone3'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS, excludes: { caps: ['CAP_SYS_ADMIN'] } },
    )
  }
  return { ...profile, syscalls: syscalls.filter((r) => r.names === undefined || r.names.length > 0 || r.name) }
}

/** The daemon's seccomp setting, resolved once at start (daemon.json `seccomp-profile`). */
export interface DaemonSeccomp {
  /** What `info` reports: builtin, unconfined, or the file's path. */
  name: string
  /** The profile containers get when they ask for none; undefined runs them unconfined. */
  profile?: SeccompProfile
  /** The built-in profile (`--security-opt seccomp=builtin`), when its file could be read. */
  builtin?: SeccompProfile
  /** Why there is no built-in profile, for the log and `info`. */
  warning?: string
}

/**
 * Reads the built-in profile and the daemon's choice: "" or "builtin" (the
 * default), "unconfined", or a file path (moby setupSeccompProfile: a path
 * that cannot be read stops the daemon with docker's message).
 */
export function loadDaemonSeccomp(setting: string | undefined, builtinFile = DEFAULT_SECCOMP_FILE): DaemonSeccomp {
  let builtin: SeccompProfile | undefined
  let warning: string | undefined
  try {
    builtin = alignWithDocker(parseSeccompProfile(readFileSync(builtinFile, 'utf8')))
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (err as Error).message
    warning = `default seccomp profile ${builtinFile}: ${why} (install golang-github-containers-common); containers run without seccomp`
  }
  const s = setting ?? ''
  if (s === '' || s === 'builtin') return { name: 'builtin', ...(builtin ? { profile: builtin, builtin } : {}), ...(warning ? { warning } : {}) }
  if (s === 'unconfined') return { name: 'unconfined', ...(builtin ? { builtin } : {}), ...(warning ? { warning } : {}) }
  let text: string
  try {
    text = readFileSync(s, 'utf8')
  } catch (err) {
    throw invalidArgument(`opening seccomp profile (${s}) failed: ${(err as Error).message}`)
  }
  return { name: s, profile: parseSeccompProfile(text), ...(builtin ? { builtin } : {}), ...(warning ? { warning } : {}) }
}
