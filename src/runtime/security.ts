/**
 * `--security-opt` as dockerd reads it (moby daemon/daemon_unix.go
 * parseSecurityOpt, daemon/seccomp_linux.go WithSeccomp, WithApparmor): the
 * options a container asked for, checked at create with docker's errors, and
 * turned at start into what the OCI spec gets.
 */
import { existsSync, readFileSync } from 'node:fs'
import { invalidArgument } from '../errors/index.js'
import { parseSeccompProfile, type DaemonSeccomp, type SeccompProfile } from './seccomp.js'

export interface SecurityOptions {
  /** Undefined: the daemon's default (daemon.json `no-new-privileges`). */
  noNewPrivileges?: boolean
  /** `unconfined`, `builtin`, or a profile's JSON (the docker CLI sends a file's content). */
  seccomp?: string
  apparmor?: string
  /** SELinux label options; SELinux is off on the hosts berth supports, so they are only kept. */
  labels: string[]
  writableCgroups?: boolean
  /** `systempaths=unconfined`: no masked or read-only paths (the docker CLI sends empty MaskedPaths/ReadonlyPaths instead). */
  systemPathsUnconfined: boolean
}

/** Go's strconv.ParseBool. */
function parseBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false
  return undefined
}

/** docker's parser, errors included (`invalid --security-opt 2: "foo=bar"`). */
export function parseSecurityOpts(opts: readonly string[]): SecurityOptions {
  const out: SecurityOptions = { labels: [], systemPathsUnconfined: false }
  for (const opt of opts) {
    if (opt === 'no-new-privileges') {
      out.noNewPrivileges = true
      continue
    }
    if (opt === 'writable-cgroups') {
      out.writableCgroups = true
      continue
    }
    if (opt === 'disable') {
      out.labels.push('disable')
      continue
    }
    // `key:value` is docker's deprecated spelling, still accepted.
    const sep = opt.includes('=') ? '=' : opt.includes(':') ? ':' : ''
    if (!sep) throw invalidArgument(`invalid --security-opt 1: ${JSON.stringify(opt)}`)
    const i = opt.indexOf(sep)
    const k = opt.slice(0, i)
    const v = opt.slice(i + 1)
    const bad = () => invalidArgument(`invalid --security-opt 2: ${JSON.stringify(opt)}`)
    switch (k) {
      case 'label':
        out.labels.push(v)
        break
      case 'apparmor':
        out.apparmor = v
        break
      case 'seccomp':
        out.seccomp = v
        break
      case 'no-new-privileges': {
        const b = parseBool(v)
        if (b === undefined) throw bad()
        out.noNewPrivileges = b
        break
      }
      case 'writable-cgroups': {
        const b = parseBool(v)
        if (b === undefined) throw bad()
        out.writableCgroups = b
        break
      }
      case 'systempaths':
        if (v !== 'unconfined') throw bad()
        out.systemPathsUnconfined = true
        break
      default:
        throw bad()
    }
  }
  return out
}

/**
 * The profile a container runs under, as WithSeccomp decides: none for
 * `unconfined`; for --privileged only one it named; otherwise the one it
 * named, else the daemon's. A profile of JSON text is decoded here (at
 * start, as docker, so a bad one fails the start with docker's message).
 */
export function containerSeccomp(o: { seccomp?: string; privileged: boolean }, daemon: DaemonSeccomp): SeccompProfile | undefined {
  const s = o.seccomp ?? ''
  if (s === 'unconfined') return undefined
  if (s === 'builtin') return daemon.builtin
  if (s !== '') return parseSeccompProfile(s)
  if (o.privileged) return undefined
  return daemon.profile
}

let apparmorHost: boolean | undefined
/** containerd's apparmor.HostSupports: the module is loaded and enabled. */
export function apparmorEnabled(): boolean {
  if (apparmorHost === undefined) {
    try {
      apparmorHost = existsSync('/sys/kernel/security/apparmor') && readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y'
    } catch {
      apparmorHost = false
    }
  }
  return apparmorHost
}

/**
 * process.apparmorProfile: docker sets one only where the host has AppArmor
 * (and ignores any name otherwise, as here). berth loads no `docker-default`
 * profile of its own, so a container that names none gets none.
 */
export function apparmorProfile(o: { apparmor?: string; privileged: boolean }): string | undefined {
  if (!apparmorEnabled()) return undefined
  if (o.apparmor) return o.apparmor
  return o.privileged ? 'unconfined' : undefined
}

/** The namespaced sysctls and the namespace each needs (runc libcontainer/configs/validate sysctl). */
const ipcSysctls = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'])

/**
 * Checks sysctls before any runtime sees them, with runc's messages, so runc
 * and crun refuse the same ones: IPC sysctls need the container's own IPC
 * namespace, `net.*` its own network namespace, anything else is not
 * namespaced (kernel.domainname excepted).
 */
export function validateSysctls(sysctls: Record<string, string>, ns: { ipcHost: boolean; netHost: boolean; utsHost: boolean }): void {
  for (const raw of Object.keys(sysctls)) {
    // sysctl(8) also writes keys with '/' separators; runc swaps them to dots first.
    const first = raw.search(/[./]/)
    const s = first >= 0 && raw[first] === '/' ? raw.replace(/[./]/g, (c) => (c === '.' ? '/' : '.')) : raw
    if (ipcSysctls.has(s) || s.startsWith('fs.mqueue.')) {
      if (ns.ipcHost) throw invalidArgument(`sysctl ${JSON.stringify(s)} is not allowed in the hosts ipc namespace`)
      continue
    }
    if (s.startsWith('net.')) {
      if (ns.netHost) throw invalidArgument(`sysctl ${JSON.stringify(s)} not allowed in host network namespace`)
      continue
    }
    if (!ns.utsHost) {
      if (s === 'kernel.domainname') continue
      if (s === 'kernel.hostname') throw invalidArgument(`sysctl ${JSON.stringify(s)} is not allowed as it conflicts with the OCI "hostname" field`)
    }
    throw invalidArgument(`sysctl ${JSON.stringify(s)} is not in a separate kernel namespace`)
  }
}

/**
 * What dockerd adds to a container with a network namespace of its own
 * (oci_linux.go WithNamespaces): ping without CAP_NET_RAW and ports below
 * 1024 without CAP_NET_BIND_SERVICE. The user's --sysctl wins.
 */
export function defaultNetSysctls(o: { userns?: boolean } = {}): Record<string, string> {
  const out: Record<string, string> = {}
  if (!o.userns && existsSync('/proc/sys/net/ipv4/ping_group_range')) out['net.ipv4.ping_group_range'] = '0 2147483647'
  if (existsSync('/proc/sys/net/ipv4/ip_unprivileged_port_start')) out['net.ipv4.ip_unprivileged_port_start'] = '0'
  return out
}

/**
 * `info`'s SecurityOptions, in dockerd's order (fillSecurityOptions): seccomp
 * with the daemon's profile, userns under --userns-remap, no-new-privileges
 * when the daemon sets it. Without the built-in profile's file there is no
 * seccomp entry, as on a dockerd whose kernel lacks seccomp, and a warning.
 */
export function securityInfo(o: { seccomp: DaemonSeccomp; noNewPrivileges: boolean; userns: boolean }): { options: string[]; warnings: string[] } {
  const options: string[] = []
  const warnings: string[] = []
  if (apparmorEnabled()) options.push('name=apparmor')
  if (o.seccomp.name === 'builtin' && !o.seccomp.profile) {
    warnings.push(`WARNING: ${o.seccomp.warning ?? 'no default seccomp profile'}`)
  } else {
    if (o.seccomp.name !== 'builtin') warnings.push('WARNING: daemon is not using the default seccomp profile')
    options.push(`name=seccomp,profile=${o.seccomp.name}`)
  }
  if (o.userns) options.push('name=userns')
  if (o.noNewPrivileges) options.push('name=no-new-privileges')
  return { options, warnings }
}
