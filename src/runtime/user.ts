/**
 * Resolves docker's `-u` forms against the image's /etc/passwd and /etc/group
 * the way runc's libcontainer/user (GetExecUser) does. The rootfs is hostile
 * input: its symlinks are followed inside the rootfs, never out of it.
 */
import { promises as fsp } from 'node:fs'
import path from 'node:path'
import { invalidArgument } from '../errors/index.js'

export interface ResolvedUser {
  uid: number
  gid: number
  /** Supplementary groups: the user's groups from /etc/group (implicit form only) plus --group-add. */
  additionalGids: number[]
  home: string
  username?: string
}

export interface ResolveUserOptions {
  /** docker's --group-add: group names or numeric ids. */
  groupAdd?: string[]
}

interface PasswdEntry {
  name: string
  uid: number
  gid: number
  home: string
}

interface GroupEntry {
  name: string
  gid: number
  members: string[]
}

const maxId = 2 ** 31 - 1
const numeric = /^\d+$/

/**
 * `spec` is one of: '' (root), 'name', 'uid', 'name:group', 'uid:gid',
 * 'name:gid', 'uid:group'. A numeric uid without a passwd entry is allowed
 * (gid 0, home /); a name without one is not.
 */
export async function resolveUser(rootfs: string, spec: string, opts: ResolveUserOptions = {}): Promise<ResolvedUser> {
  const [userArg = '', groupArg = ''] = splitOnce(spec.trim(), ':')
  const passwd = parsePasswd(await readInRoot(rootfs, '/etc/passwd'))
  const groups = parseGroup(await readInRoot(rootfs, '/etc/group'))

  const user: ResolvedUser = { uid: 0, gid: 0, additionalGids: [], home: '/' }
  let matched: PasswdEntry | undefined
  if (userArg === '') {
    matched = passwd?.find((p) => p.uid === 0)
  } else if (numeric.test(userArg)) {
    const uid = Number(userArg)
    if (uid > maxId) throw invalidArgument(`uid ${userArg} out of range`)
    matched = passwd?.find((p) => p.uid === uid)
    user.uid = uid
  } else {
    matched = passwd?.find((p) => p.name === userArg)
    if (!matched) throw invalidArgument(`unable to find user ${userArg}: no matching entries in passwd file`)
  }
  if (matched) {
    user.uid = matched.uid
    user.gid = matched.gid
    user.home = matched.home || '/'
    user.username = matched.name
  }

  if (groupArg !== '') {
    const g = groups?.find((e) => e.name === groupArg || String(e.gid) === groupArg)
    if (g) user.gid = g.gid
    else if (numeric.test(groupArg)) {
      const gid = Number(groupArg)
      if (gid > maxId) throw invalidArgument(`gid ${groupArg} out of range`)
      user.gid = gid
    } else throw invalidArgument(`unable to find group ${groupArg}: no matching entries in group file`)
  } else if (user.username !== undefined && groups) {
    // Supplementary groups only make sense in the implicit form (runc GetExecUser).
    for (const g of groups) if (g.members.includes(user.username)) pushUnique(user.additionalGids, g.gid)
  }

  for (const add of opts.groupAdd ?? []) {
    const g = groups?.find((e) => e.name === add)
    if (g) pushUnique(user.additionalGids, g.gid)
    else if (numeric.test(add) && Number(add) <= maxId) pushUnique(user.additionalGids, Number(add))
    else throw invalidArgument(`Unable to find group ${add}: no matching entries in group file`)
  }
  return user
}

function pushUnique(list: number[], n: number) {
  if (!list.includes(n)) list.push(n)
}

function splitOnce(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep)
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)]
}

export function parsePasswd(text: string | undefined): PasswdEntry[] | undefined {
  if (text === undefined) return undefined
  const out: PasswdEntry[] = []
  for (const line of text.split('\n')) {
    const l = line.trim()
    if (!l || l.startsWith('#')) continue
    const f = l.split(':')
    if (f.length < 4 || !numeric.test(f[2]!) || !numeric.test(f[3]!)) continue
    out.push({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '' })
  }
  return out
}

export function parseGroup(text: string | undefined): GroupEntry[] | undefined {
  if (text === undefined) return undefined
  const out: GroupEntry[] = []
  for (const line of text.split('\n')) {
    const l = line.trim()
    if (!l || l.startsWith('#')) continue
    const f = l.split(':')
    if (f.length < 3 || !numeric.test(f[2]!)) continue
    out.push({ name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean) })
  }
  return out
}

/** The file's text, or undefined if it does not exist in the rootfs. */
async function readInRoot(root: string, file: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(await resolveInRoot(root, file), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined
    throw err
  }
}

/**
 * Resolve `p` inside `root` as if root were `/`: absolute symlinks restart at
 * root and `..` stops there (like filepath-securejoin).
 */
export async function resolveInRoot(root: string, p: string): Promise<string> {
  const pending = p.split('/').filter(Boolean)
  const done: string[] = []
  let links = 0
  while (pending.length > 0) {
    const part = pending.shift()!
    if (part === '.') continue
    if (part === '..') {
      done.pop()
      continue
    }
    const host = path.join(root, ...done, part)
    let target: string
    try {
      target = await fsp.readlink(host)
    } catch {
      done.push(part)
      continue
    }
    if (++links > 40) throw invalidArgument(`too many levels of symbolic links: ${p}`)
    if (target.startsWith('/')) done.length = 0
    pending.unshift(...target.split('/').filter(Boolean))
  }
  return path.join(root, ...done)
}

/**
 * Where `cmd` would be found inside `root` with the process's PATH, as the
 * runtime's exec lookup does; undefined when it is not there. Used to give a
 * TTY exec of a missing program docker's message whatever the runtime says.
 */
export async function lookPathInRoot(root: string, cmd: string, env: readonly string[]): Promise<string | undefined> {
  const candidates = cmd.includes('/')
    ? [cmd]
    : (env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
        .split(':')
        .filter(Boolean)
        .map((dir) => path.posix.join(dir, cmd))
  for (const c of candidates) {
    const host = await resolveInRoot(root, c)
    const st = await fsp.stat(host).catch(() => undefined)
    if (st?.isFile()) return c
  }
  return undefined
}
