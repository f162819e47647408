/**
 * Storage for remapped containers (`--userns-remap`), without a second data
 * root: images keep their layers as pulled, and a remapped container's
 * overlay gets, as lower dirs, copies of those layers whose owners are shifted
 * into the mapping (made once per layer and mapping, kept under
 * `<data-root>/userns/<uid>.<gid>/`). Its upper dir then holds host ids of the
 * mapping, which commit shifts back for the length of the commit, and which
 * cp and export map in their tar streams, so images and archives always carry
 * the container's view (uid 0, not 100000). Also here: what a container
 * joining a network namespace its user namespace does not own cannot do
 * there (sysfs, net sysctls), done from outside.
 *
 * Why copies: idmapped mounts would do this without copying, but util-linux
 * 2.38 has no X-mount.idmap, runc 1.1.5 cannot idmap a rootfs and berth has
 * no mount_setattr(2) of its own (docs/design/userns.md).
 */
import { randomBytes } from 'node:crypto'
import { promises as fsp } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { encodeHeader, END_OF_ARCHIVE, padding, TarReader } from '../archive/index.js'
import type { ContainerFs } from '../containerfs/index.js'
import type { ImagesPort, SpecBuilder, VolumePort } from '../containers/index.js'
import type { ImageService } from '../images/index.js'
import { invalidArgument, unavailable } from '../errors/index.js'
import { run, type Logger } from '../lib/index.js'
import type { OciSpec } from '../runtime/index.js'
import { isMountpoint, unmount } from '../sys/index.js'
import { toContainer, toHost, type RemapIdentity } from './userns.js'

interface Changed {
  path: string
  uid: number
  gid: number
  mode: number
  symlink: boolean
}

/**
 * Re-own every entry under dir (dir itself included) by `map`; hard links are
 * re-owned once. chown clears set-id bits, so they are put back. Returns what
 * was changed, with the old owners, for undo().
 */
export async function shiftTree(dir: string, map: (id: number, kind: 'uid' | 'gid') => number | undefined): Promise<Changed[]> {
  const seen = new Set<string>()
  const changed: Changed[] = []
  const visit = async (p: string): Promise<void> => {
    const st = await fsp.lstat(p)
    const ino = `${st.dev}:${st.ino}`
    if (!seen.has(ino)) {
      seen.add(ino)
      const uid = map(st.uid, 'uid') ?? st.uid
      const gid = map(st.gid, 'gid') ?? st.gid
      if (uid !== st.uid || gid !== st.gid) {
        await fsp.lchown(p, uid, gid)
        const symlink = st.isSymbolicLink()
        if (!symlink && (st.mode & 0o6000) !== 0) await fsp.chmod(p, st.mode & 0o7777)
        changed.push({ path: p, uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, symlink })
      }
    }
    if (st.isDirectory()) {
      for (const name of await fsp.readdir(p)) await visit(path.join(p, name))
    }
  }
  await visit(dir)
  return changed
}

/** Puts back what shiftTree changed. */
export async function undo(changed: readonly Changed[]): Promise<void> {
  for (const c of changed) {
    await fsp.lchown(c.path, c.uid, c.gid).catch(() => {})
    if (!c.symlink && (c.mode & 0o6000) !== 0) await fsp.chmod(c.path, c.mode).catch(() => {})
  }
}

const intoMapping = (id: RemapIdentity) => (n: number, kind: 'uid' | 'gid') => toHost(n, kind === 'uid' ? id.uidMaps : id.gidMaps)
const outOfMapping = (id: RemapIdentity) => (n: number, kind: 'uid' | 'gid') => toContainer(n, kind === 'uid' ? id.uidMaps : id.gidMaps)

/** Shifted copies of overlay2's layer dirs for one mapping, made on first use. */
export class ShiftedLayers {
  readonly dir: string
  private readonly making = new Map<string, Promise<string>>()

  constructor(
    private readonly o: { dataRoot: string; identity: RemapIdentity; logger: Logger },
  ) {
    this.dir = path.join(o.dataRoot, 'userns', `${o.identity.rootUid}.${o.identity.rootGid}`)
  }

  private get overlayHome(): string {
    return path.join(this.o.dataRoot, 'overlay2')
  }

  /** Drops copies whose layer is gone (an image was removed while berthd was away or running). */
  async collect(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o711 })
    for (const name of await fsp.readdir(this.dir)) {
      const alive = name.startsWith('.tmp-') ? false : await fsp.stat(path.join(this.overlayHome, 'l', name)).then(() => true, () => false)
      if (!alive) await fsp.rm(path.join(this.dir, name), { recursive: true, force: true })
    }
  }

  /** The shifted copy of the layer behind overlay2's short link `l/<name>`. */
  copyOf(link: string): Promise<string> {
    const dest = path.join(this.dir, link)
    let p = this.making.get(link)
    if (!p) {
      p = this.make(link, dest).finally(() => this.making.delete(link))
      this.making.set(link, p)
    }
    return p
  }

  private async make(link: string, dest: string): Promise<string> {
    if (await fsp.stat(dest).then(() => true, () => false)) return dest
    const src = path.join(this.overlayHome, 'l', link)
    const tmp = path.join(this.dir, `.tmp-${randomBytes(6).toString('hex')}`)
    try {
      // cp -a keeps hard links, xattrs (overlay's opaque markers) and whiteout devices.
      await run('cp', ['-a', '--', `${src}/.`, tmp])
      await shiftTree(tmp, intoMapping(this.o.identity))
      await fsp.rename(tmp, dest)
    } catch (err) {
      await fsp.rm(tmp, { recursive: true, force: true })
      throw err
    }
    this.o.logger.debug('shifted a layer for user namespaces', { link, dest })
    return dest
  }

  /**
   * The same overlay mount over shifted lower dirs. overlay2's options name
   * lowers relative to its home (`l/<short>`); the copies are named the same
   * under this mapping's directory.
   */
  async shiftMounts(mounts: Awaited<ReturnType<ImagesPort['rootfsFor']>>): Promise<typeof mounts> {
    const out: typeof mounts = []
    for (const m of mounts) {
      if (m.type !== 'overlay') {
        out.push(m)
        continue
      }
      const options: string[] = []
      for (const opt of m.options) {
        if (!opt.startsWith('lowerdir=')) {
          options.push(opt)
          continue
        }
        const lowers = opt.slice('lowerdir='.length).split(':')
        const shifted: string[] = []
        for (const l of lowers) {
          const link = l.startsWith('l/') ? l.slice(2) : undefined
          if (!link) throw new Error(`unexpected overlay lower dir ${l}`)
          await this.copyOf(link)
          shifted.push(path.relative(m.cwd ?? this.overlayHome, path.join(this.dir, link)))
        }
        options.push(`lowerdir=${shifted.join(':')}`)
      }
      out.push({ ...m, options })
    }
    return out
  }
}

/**
 * What a remapped daemon changes around containers: their rootfs over
 * shifted layers with the upper's root owned by the remapped root, their
 * directory (the /etc files) reachable by it, and new volumes owned by it.
 * `remapped(id)` says whether a container runs in the user namespace
 * (`--userns=host` ones do not).
 */
export function remapImagesPort(inner: ImagesPort, o: { dataRoot: string; identity: RemapIdentity; layers: ShiftedLayers; remapped: (containerId: string) => boolean }): ImagesPort {
  return {
    ...inner,
    rootfsFor: async (containerId, imageId) => {
      const mounts = await inner.rootfsFor(containerId, imageId)
      if (!o.remapped(containerId)) return mounts
      const upper = path.join(o.dataRoot, 'overlay2', containerId, 'diff')
      const st = await fsp.stat(upper).catch(() => undefined)
      if (st && st.uid === 0 && st.gid === 0) await fsp.chown(upper, o.identity.rootUid, o.identity.rootGid)
      // docker's container directory is 0710 with the remapped root's group: the runtime reaches /etc/hosts as that root.
      await fsp.chown(path.join(o.dataRoot, 'containers', containerId), 0, o.identity.rootGid).catch(() => {})
      return o.layers.shiftMounts(mounts)
    },
  }
}

/** Volumes made by a remapped daemon belong to its root, as docker's local driver makes them. */
export function remapVolumePort(inner: VolumePort, identity: RemapIdentity, volumesDir: string): VolumePort {
  return {
    ...inner,
    acquire: async (name) => {
      const dir = await inner.acquire(name)
      if (path.dirname(path.dirname(dir)) === volumesDir) {
        const st = await fsp.stat(dir).catch(() => undefined)
        const empty = (await fsp.readdir(dir).catch(() => ['?'])).length === 0
        if (st && st.uid === 0 && st.gid === 0 && empty) await fsp.chown(dir, identity.rootUid, identity.rootGid)
      }
      return dir
    },
  }
}

/**
 * The image service with commit seeing a remapped container's upper dir in
 * the container's ids: re-owned for the commit and put back after it (the
 * container is paused, or stopped, meanwhile unless `commit -p=false`).
 */
export function unshiftingCommits(images: ImageService, o: { dataRoot: string; identity: RemapIdentity; remapped: (key: string) => boolean }): ImageService {
  const commit: ImageService['commit'] = async (opts) => {
    if (!o.remapped(opts.snapshotKey)) return images.commit(opts)
    const upper = path.join(o.dataRoot, 'overlay2', opts.snapshotKey, 'diff')
    const changed = await shiftTree(upper, outOfMapping(o.identity))
    try {
      return await images.commit(opts)
    } finally {
      await undo(changed)
    }
  }
  return new Proxy(images, {
    get(target, prop, receiver) {
      if (prop === 'commit') return commit
      const v: unknown = Reflect.get(target, prop, receiver)
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
    },
  })
}

/** Parents of the data root must let the remapped root through (dockerd refuses to start otherwise). */
export async function checkTraversable(dataRoot: string, identity: RemapIdentity): Promise<void> {
  let dir = path.dirname(path.resolve(dataRoot))
  const blocked: string[] = []
  for (;;) {
    const st = await fsp.stat(dir).catch(() => undefined)
    if (st) {
      const ok = (st.mode & 0o001) !== 0 || (st.uid === identity.rootUid && (st.mode & 0o100) !== 0) || (st.gid === identity.rootGid && (st.mode & 0o010) !== 0)
      if (!ok) blocked.push(dir)
    }
    if (dir === '/') break
    dir = path.dirname(dir)
  }
  if (blocked.length) {
    throw unavailable(`a subdirectory in your graphroot path (${dataRoot}) restricts access to the remapped root uid/gid; please fix by allowing 'o+x' permissions on existing directories: ${blocked.join(', ')}`)
  }
}

/** A tar with each entry's owners passed through `map` (ids it leaves undefined stay); names dropped, ids rule. */
export function mapTarOwners(src: AsyncIterable<Uint8Array>, map: (id: number, kind: 'uid' | 'gid') => number | undefined): Readable {
  async function* gen(): AsyncGenerator<Buffer> {
    const reader = new TarReader(src)
    for (let h = await reader.next(); h; h = await reader.next()) {
      yield encodeHeader({ ...h, uid: map(h.uid, 'uid') ?? h.uid, gid: map(h.gid, 'gid') ?? h.gid, uname: '', gname: '' })
      if (h.type === 'file' && h.size > 0) {
        for await (const c of reader.body()) yield Buffer.from(c)
        yield padding(h.size)
      }
    }
    yield END_OF_ARCHIVE
  }
  return Readable.from(gen(), { objectMode: false })
}

/**
 * cp and export of a remapped container, as dockerd's archive code with its
 * IDMap: tars out carry the container's ids, tars in are stored under the
 * mapping, so `docker cp` both ways and `export` match a container without
 * user namespaces.
 */
export function remapContainerFs(fs: ContainerFs, o: { identity: RemapIdentity; remapped: (ref: string) => boolean }): ContainerFs {
  const out = outOfMapping(o.identity)
  const into = intoMapping(o.identity)
  const archivePath: ContainerFs['archivePath'] = async (ref, p) => {
    const res = await fs.archivePath(ref, p)
    return o.remapped(ref) ? { stat: res.stat, content: mapTarOwners(res.content, out) } : res
  }
  const exportFs: ContainerFs['export'] = async (ref) => {
    const tar = await fs.export(ref)
    return o.remapped(ref) ? mapTarOwners(tar, out) : tar
  }
  const extractToDir: ContainerFs['extractToDir'] = (ref, p, content, opts) => fs.extractToDir(ref, p, o.remapped(ref) ? mapTarOwners(content, into) : content, opts)
  return new Proxy(fs, {
    get(target, prop, receiver) {
      if (prop === 'archivePath') return archivePath
      if (prop === 'export') return exportFs
      if (prop === 'extractToDir') return extractToDir
      const v: unknown = Reflect.get(target, prop, receiver)
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
    },
  })
}

/**
 * What a remapped container cannot do in a network namespace given by path
 * (`--network container:x`, which may belong to the host's user namespace
 * when x runs with `--userns=host`), done by berthd from outside at each
 * start. A remapped container's own network namespace is made by the runtime
 * with its user namespace, which mounts sysfs and writes sysctls itself, so
 * nothing is done for it (its spec names no namespace path):
 * - /sys: sysfs mounted inside that network namespace and bound in
 *   read-only, so /sys/class/net lists the container's interfaces, not the
 *   host's; dropped with the container's rootfs.
 * - net.* sysctls (docker's defaults and --sysctl): written into the
 *   namespace and taken out of the spec, where the runtime would be refused.
 */
export class RemappedSysfs {
  constructor(private readonly dir: string) {}

  wrap(inner: SpecBuilder): SpecBuilder {
    return {
      container: async (i) => {
        const spec = (await inner.container(i)) as OciSpec
        const sys = spec.mounts.find((m) => m.destination === '/sys' && m.type === 'bind' && m.source === '/sys')
        const net = i.namespaces.net
        if (!spec.linux.uidMappings || typeof net !== 'object') return spec
        if (sys) sys.source = await this.mount(i.id, net.path)
        const sysctl = spec.linux.sysctl ?? {}
        const netKeys = Object.keys(sysctl).filter((k) => k.startsWith('net.'))
        if (netKeys.length) {
          await writeSysctls(net.path, Object.fromEntries(netKeys.map((k) => [k, sysctl[k] ?? ''])))
          for (const k of netKeys) delete sysctl[k]
        }
        return spec
      },
      execProcess: (i) => inner.execProcess(i),
    }
  }

  private async mount(id: string, netns: string): Promise<string> {
    const target = path.join(this.dir, id)
    await this.release(id)
    await fsp.mkdir(target, { recursive: true, mode: 0o755 })
    // nsenter enters only the network namespace: the mount lands in berthd's own mount namespace.
    await run('nsenter', [`--net=${netns}`, '--', 'mount', '-t', 'sysfs', '-o', 'ro,nosuid,nodev,noexec', 'sysfs', target])
    return target
  }

  /** Idempotent; called whenever the container's rootfs is unmounted. */
  async release(id: string): Promise<void> {
    const target = path.join(this.dir, id)
    while (await isMountpoint(target).catch(() => false)) await unmount(target, { lazy: true })
    await fsp.rmdir(target).catch(() => {})
  }

  /** At start: mounts of containers that are not running any more. */
  async collect(running: (id: string) => boolean): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o711 })
    for (const id of await fsp.readdir(this.dir)) if (!running(id)) await this.release(id)
  }
}

/** sysctl(8)'s job for one network namespace: each key's /proc/sys file, written from inside it. */
async function writeSysctls(netns: string, values: Record<string, string>): Promise<void> {
  const script = Object.keys(values).map((k, n) => `printf '%s' "$${n + 1}" > /proc/sys/${k.replace(/\./g, '/')}`).join(' && ')
  for (const k of Object.keys(values)) if (!/^net\.[A-Za-z0-9_.-]+$/.test(k)) throw invalidArgument(`invalid sysctl ${k}`)
  const res = await run('nsenter', [`--net=${netns}`, '--', 'sh', '-c', script, 'sysctl', ...Object.values(values)], { check: false })
  if (res.code !== 0) throw invalidArgument(`setting sysctls in the container's network namespace: ${res.stderr.trim()}`)
}
