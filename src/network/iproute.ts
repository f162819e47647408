/**
 * The kernel side of networking through iproute2 and util-linux: Node has no
 * netlink binding, and `ip -batch -` turns a whole endpoint's setup into one
 * process. Nothing else in berth spawns `ip`, `unshare` or `nsenter`, so a
 * netlink binding can replace this module without touching its callers.
 */
import { promises as fsp } from 'node:fs'
import path from 'node:path'
import { internal } from '../errors/index.js'
import { run } from '../lib/index.js'
import { isMountpoint, mount, unmount } from '../sys/index.js'

/** Run iproute2 commands (one per line, without the leading `ip`), optionally inside a namespace. */
export async function ipBatch(cmds: readonly string[], o: { netns?: string; force?: boolean } = {}): Promise<void> {
  if (cmds.length === 0) return
  const ipArgs = [...(o.force ? ['-force'] : []), '-batch', '-']
  const [cmd, args] = o.netns ? ['nsenter', [`--net=${o.netns}`, '--', 'ip', ...ipArgs]] : ['ip', ipArgs]
  const res = await run(cmd, args, { input: cmds.join('\n') + '\n', check: false })
  if (res.code !== 0) throw internal(`ip: ${res.stderr.trim().split('\n').slice(-3).join('; ') || `exit ${res.code}`}`)
}

/** `ip -json ...` output, parsed. */
export async function ipJson<T>(args: readonly string[], o: { netns?: string } = {}): Promise<T[]> {
  const [cmd, full] = o.netns ? ['nsenter', [`--net=${o.netns}`, '--', 'ip', '-json', ...args]] : ['ip', ['-json', ...args]]
  const res = await run(cmd, full, { check: false })
  if (res.code !== 0) throw internal(`ip ${args.join(' ')}: ${res.stderr.trim()}`)
  const text = res.stdout.trim()
  return text === '' ? [] : (JSON.parse(text) as T[])
}

export interface LinkInfo {
  ifname: string
  flags?: string[]
  mtu?: number
  address?: string
  linkinfo?: { info_kind?: string }
  master?: string
}

export async function links(o: { netns?: string } = {}): Promise<LinkInfo[]> {
  return ipJson<LinkInfo>(['-details', 'link', 'show'], o)
}

export async function linkExists(name: string): Promise<boolean> {
  const res = await run('ip', ['link', 'show', 'dev', name], { check: false })
  return res.code === 0
}

/** Destinations routed on the host (v4 and v6), so new subnets can avoid them. */
export async function routedPrefixes(): Promise<string[]> {
  const out: string[] = []
  for (const fam of ['-4', '-6']) {
    const routes = await ipJson<{ dst: string; dev?: string }>([fam, 'route', 'show', 'table', 'all']).catch(() => [])
    for (const r of routes) if (r.dst && r.dst !== 'default' && /[./:]/.test(r.dst)) out.push(r.dst)
  }
  return out
}

const kinds = new Map<string, Promise<boolean>>()

/** Whether the kernel can make links of a kind (dummy, vlan, macvlan, ...): tried once with a throwaway link. */
export function kernelHas(kind: 'dummy' | 'vlan' | 'macvlan'): Promise<boolean> {
  let p = kinds.get(kind)
  if (!p) {
    p = (async () => {
      const name = `bk${process.pid % 1_000_000}${kind.slice(0, 2)}`
      const args = kind === 'dummy' ? ['link', 'add', name, 'type', 'dummy'] : ['link', 'add', 'link', 'lo', 'name', name, 'type', kind, ...(kind === 'vlan' ? ['id', '2'] : [])]
      const res = await run('ip', args, { check: false })
      if (res.code === 0) await run('ip', ['link', 'del', name], { check: false })
      // Made, or refused for another reason than the kind (lo is no fit parent): the kernel knows the kind.
      return res.code === 0 || !/Unknown device type/i.test(res.stderr)
    })()
    kinds.set(kind, p)
  }
  return p
}

export async function writeSysctl(key: string, value: string): Promise<void> {
  await fsp.writeFile(path.join('/proc/sys', key.replaceAll('.', '/')), value)
}

/**
 * Network namespaces live as bind mounts of nsfs files in one directory, as
 * `ip netns` keeps them: the directory is its own shared mount, so removing a
 * namespace file unmounts it in every mount namespace a container cloned too.
 */
export class NetnsDir {
  constructor(readonly dir: string) {}

  async init(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o711 })
    if (!(await isMountpoint(this.dir))) {
      await mount({ type: 'bind', source: this.dir, options: ['bind'] }, this.dir)
      await run('mount', ['--make-shared', this.dir])
    }
  }

  pathOf(name: string): string {
    return path.join(this.dir, name)
  }

  /**
   * Make a namespace and run `setup` inside it in the same process: the
   * namespace exists only once it is fully set up or not at all.
   */
  async create(name: string, setup: readonly string[]): Promise<string> {
    const file = this.pathOf(name)
    if (await fsp.access(file).then(() => true, () => false)) await this.remove(name)
    await (await fsp.open(file, 'w')).close()
    const res = await run('unshare', [`--net=${file}`, '--', 'ip', '-batch', '-'], { input: setup.join('\n') + '\n', check: false })
    if (res.code !== 0) {
      await this.remove(name).catch(() => {})
      throw internal(`network namespace setup: ${res.stderr.trim().split('\n').slice(-3).join('; ') || `exit ${res.code}`}`)
    }
    return file
  }

  /**
   * The same for a namespace someone else made (the runtime, inside a
   * container's user namespace): the file becomes a bind mount of `source`
   * (`/proc/<pid>/ns/net`), so the namespace outlives that process's view of
   * it exactly as one made by create does, and `setup` runs inside it.
   */
  async adopt(name: string, source: string, setup: readonly string[]): Promise<string> {
    const file = this.pathOf(name)
    if (await fsp.access(file).then(() => true, () => false)) await this.remove(name)
    await (await fsp.open(file, 'w')).close()
    try {
      await mount({ type: 'bind', source, options: ['bind'] }, file)
      const res = await run('nsenter', [`--net=${file}`, '--', 'ip', '-batch', '-'], { input: setup.join('\n') + '\n', check: false })
      if (res.code !== 0) throw internal(`network namespace setup: ${res.stderr.trim().split('\n').slice(-3).join('; ') || `exit ${res.code}`}`)
    } catch (err) {
      await this.remove(name).catch(() => {})
      throw err
    }
    return file
  }

  async remove(name: string): Promise<void> {
    const file = this.pathOf(name)
    await unmount(file, { lazy: true }).catch(() => {})
    await fsp.rm(file, { force: true })
  }

  async list(): Promise<string[]> {
    return fsp.readdir(this.dir).catch(() => [])
  }
}
