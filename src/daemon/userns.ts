/**
 * The daemon's remapped root (`--userns-remap`), as dockerd's
 * setupRemappedRoot and moby/sys/user's identity mappings: which host user
 * containers' root becomes, and the /etc/subuid and /etc/subgid ranges mapped
 * into every container. Hand-written: the files are a few lines of
 * `name:start:count`, and no npm package reads them.
 */
import { promises as fsp } from 'node:fs'
import { invalidArgument, unavailable } from '../errors/index.js'
import { run, type Logger } from '../lib/index.js'

/** One line of an OCI linux.uidMappings / gidMappings. */
export interface IdMap {
  containerID: number
  hostID: number
  size: number
}

export interface RemapIdentity {
  user: string
  group: string
  uidMaps: IdMap[]
  gidMaps: IdMap[]
  /** The host ids root in a container has. */
  rootUid: number
  rootGid: number
}

/** docker's `default` makes `dockremap`; berth's own user is `berthremap`. */
export const DEFAULT_REMAP_USER = 'berthremap'
const RANGE_SIZE = 65536
const FIRST_SUBID = 100000

interface DbEntry {
  name: string
  id: number
}

export interface IdFiles {
  passwd: string
  group: string
  subuid: string
  subgid: string
}

const HOST_FILES: IdFiles = { passwd: '/etc/passwd', group: '/etc/group', subuid: '/etc/subuid', subgid: '/etc/subgid' }

function parseDb(text: string): DbEntry[] {
  return text.split('\n').flatMap((l) => {
    const f = l.split(':')
    return f.length >= 3 && f[0] && /^\d+$/.test(f[2] ?? '') ? [{ name: f[0], id: Number(f[2]) }] : []
  })
}

/** Ranges of /etc/subuid (or subgid) for a user, by name or numeric id, in file order. */
export function subRanges(text: string, name: string, id: number): Array<{ start: number; count: number }> {
  const out: Array<{ start: number; count: number }> = []
  for (const line of text.split('\n')) {
    const f = line.trim().split(':')
    if (f.length !== 3 || line.trim().startsWith('#')) continue
    if (f[0] !== name && f[0] !== String(id)) continue
    const start = Number(f[1])
    const count = Number(f[2])
    if (Number.isInteger(start) && Number.isInteger(count) && count > 0) out.push({ start, count })
  }
  return out
}

/**
 * moby/sys/user createIDMap: the ranges in file order, the first at
 * container id 0, each next one where the last ended.
 */
export function idMapsOf(ranges: Array<{ start: number; count: number }>): IdMap[] {
  let next = 0
  return ranges.map((r) => {
    const m = { containerID: next, hostID: r.start, size: r.count }
    next += r.count
    return m
  })
}

/** The host id a container id is seen as; undefined when the container cannot have it. */
export function toHost(id: number, maps: readonly IdMap[]): number | undefined {
  for (const m of maps) if (id >= m.containerID && id < m.containerID + m.size) return m.hostID + (id - m.containerID)
  return undefined
}

/** The container id a host id shows as inside; undefined for ids outside the ranges (`nobody`). */
export function toContainer(id: number, maps: readonly IdMap[]): number | undefined {
  for (const m of maps) if (id >= m.hostID && id < m.hostID + m.size) return m.containerID + (id - m.hostID)
  return undefined
}

/** The first `size` ids at or above FIRST_SUBID that no line of the file covers (usergroup findNextRangeStart). */
export function nextFreeRange(text: string, size = RANGE_SIZE): number {
  const taken = text.split('\n').flatMap((l) => {
    const f = l.trim().split(':')
    return f.length === 3 ? [{ start: Number(f[1]), end: Number(f[1]) + Number(f[2]) }] : []
  }).filter((r) => Number.isFinite(r.start) && Number.isFinite(r.end)).sort((a, b) => a.start - b.start)
  let start = FIRST_SUBID
  for (const r of taken) {
    if (r.end <= start) continue
    if (r.start >= start + size) break
    start = r.end
  }
  return start
}

/**
 * `default`, `user`, `user:group`, `uid` or `uid:gid` to names, with
 * dockerd's messages (daemon_unix.go parseRemappedRoot). `default` creates
 * berth's user on first use.
 */
async function resolveNames(spec: string, files: IdFiles, create: () => Promise<void>): Promise<{ user: DbEntry; group: DbEntry }> {
  const parts = spec.split(':')
  if (parts.length > 2 || parts[0] === '') throw invalidArgument(`Invalid user/group specification in --userns-remap: ${JSON.stringify(spec)}`)
  const read = async () => ({
    passwd: parseDb(await fsp.readFile(files.passwd, 'utf8').catch(() => '')),
    group: parseDb(await fsp.readFile(files.group, 'utf8').catch(() => '')),
  })
  let db = await read()
  const [u = '', g] = parts
  let user: DbEntry | undefined
  let group: DbEntry | undefined
  if (/^\d+$/.test(u)) {
    user = db.passwd.find((e) => e.id === Number(u))
    if (!user) throw invalidArgument(`Uid ${u} has no entry in /etc/passwd`)
    if (g === undefined) {
      group = db.group.find((e) => e.id === Number(u))
      if (!group) throw invalidArgument(`Gid ${u} has no entry in /etc/group`)
    }
  } else {
    const name = u === 'default' ? DEFAULT_REMAP_USER : u
    user = db.passwd.find((e) => e.name === name)
    if (!user && u === 'default') {
      await create()
      db = await read()
      user = db.passwd.find((e) => e.name === name)
    }
    if (!user) throw invalidArgument(`Error during uid lookup for ${JSON.stringify(name)}: user: unknown user ${name}`)
    if (g === undefined) {
      group = db.group.find((e) => e.name === name)
      if (!group) throw invalidArgument(`Error during gid lookup for ${JSON.stringify(name)}: group: unknown group ${name}`)
    }
  }
  if (g !== undefined) {
    group = /^\d+$/.test(g) ? db.group.find((e) => e.id === Number(g)) : db.group.find((e) => e.name === g)
    if (!group) throw invalidArgument(/^\d+$/.test(g) ? `Gid ${g} has no entry in /etc/group` : `Error during groupname lookup for ${JSON.stringify(g)}: group: unknown group ${g}`)
  }
  return { user, group: group! }
}

/** Give berth's user a range in /etc/subuid and /etc/subgid unless it has one (docker's usermod -v/-w). */
async function addRanges(name: string, id: number, files: IdFiles): Promise<void> {
  for (const file of [files.subuid, files.subgid]) {
    const text = await fsp.readFile(file, 'utf8').catch(() => '')
    if (subRanges(text, name, id).length > 0) continue
    const start = nextFreeRange(text)
    await fsp.appendFile(file, `${text === '' || text.endsWith('\n') ? '' : '\n'}${name}:${start}:${RANGE_SIZE}\n`)
  }
}

/**
 * Resolves `--userns-remap` to the mappings every container gets; undefined
 * when it is off (or names root, which docker also treats as off).
 * Creating the user goes through useradd as dockerd's does: berthd runs as
 * root and writes /etc/subuid and /etc/subgid itself, as usermod would.
 */
export async function setupRemappedRoot(spec: string, log: Logger, files: IdFiles = HOST_FILES): Promise<RemapIdentity | undefined> {
  if (spec === '') return undefined
  const names = await resolveNames(spec, files, async () => {
    log.info('creating the user for --userns-remap default', { user: DEFAULT_REMAP_USER })
    const res = await run('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', DEFAULT_REMAP_USER], { check: false }).catch((err: unknown) => ({ code: -1, stdout: '', stderr: String(err) }))
    if (res.code !== 0) throw unavailable(`Error during ${JSON.stringify(DEFAULT_REMAP_USER)} user creation: ${res.stderr.trim() || `useradd exited ${res.code}`}`)
  })
  if (names.user.name === 'root') {
    log.warn('User namespaces: root cannot be remapped with itself; user namespaces are OFF')
    return undefined
  }
  if (names.user.name === DEFAULT_REMAP_USER) await addRanges(names.user.name, names.user.id, files)
  const uidRanges = subRanges(await fsp.readFile(files.subuid, 'utf8').catch(() => ''), names.user.name, names.user.id)
  const gidRanges = subRanges(await fsp.readFile(files.subgid, 'utf8').catch(() => ''), names.group.name, names.group.id)
  if (uidRanges.length === 0) throw invalidArgument(`Can't create ID mappings: no subuid ranges found for user ${JSON.stringify(names.user.name)}`)
  if (gidRanges.length === 0) throw invalidArgument(`Can't create ID mappings: no subgid ranges found for group ${JSON.stringify(names.group.name)}`)
  const uidMaps = idMapsOf(uidRanges)
  const gidMaps = idMapsOf(gidRanges)
  log.info(`User namespaces: ID ranges will be mapped to subuid/subgid ranges of: ${names.user.name}`)
  return { user: names.user.name, group: names.group.name, uidMaps, gidMaps, rootUid: toHost(0, uidMaps)!, rootGid: toHost(0, gidMaps)! }
}

/** dockerd's checks of a container's settings against user namespaces (daemon_unix.go verifyPlatformContainerSettings). */
export function checkUsernsConflicts(o: { remapped: boolean; usernsMode: string; privileged: boolean; networkHost: boolean; pidHost: boolean }): void {
  if (o.usernsMode !== '' && o.usernsMode !== 'host') throw invalidArgument(`invalid UsernsMode ${JSON.stringify(o.usernsMode)}: the only mode is host`)
  if (!o.remapped || o.usernsMode === 'host') return
  if (o.privileged) throw invalidArgument('privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode')
  if (o.networkHost) throw invalidArgument("cannot share the host's network namespace when user namespaces are enabled")
  if (o.pidHost) throw invalidArgument('cannot share the host PID namespace when user namespaces are enabled')
}

/** The options of the mount holding each path, from /proc/self/mountinfo (longest mount point wins). */
function mountOptionsOf(source: string, mountinfo: string): string[] {
  let best = ''
  let opts: string[] = []
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ')
    const point = (f[4] ?? '').replace(/\\(\d{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)))
    if (!point) continue
    const inside = point === '/' || source === point || source.startsWith(point + '/')
    if (inside && point.length >= best.length) {
      best = point
      opts = (f[5] ?? '').split(',')
    }
  }
  return opts
}

const LOCKED = ['ro', 'nosuid', 'nodev', 'noexec', 'noatime', 'relatime', 'nodiratime']

/**
 * moby's mountopts.UnprivilegedMountFlags: a bind mount made inside a user
 * namespace must keep the flags its source mount has (the kernel locks them),
 * or the runtime's remount fails with EPERM.
 */
export function withLockedFlags<M extends { type: string; source: string; options: string[] }>(mounts: readonly M[], mountinfo: string): M[] {
  return mounts.map((m) => {
    if (m.type !== 'bind') return m
    const locked = mountOptionsOf(m.source, mountinfo).filter((o) => LOCKED.includes(o) && !m.options.includes(o))
    if (locked.includes('ro') && m.options.includes('rw')) return m
    return locked.length ? { ...m, options: [...m.options, ...locked] } : m
  })
}
