import { randomBytes } from 'node:crypto'
import { promises as fsp } from 'node:fs'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { applyLayer } from '../../archive/index.js'
import { conflict, invalidArgument, notFound } from '../../errors/index.js'
import { exists, syncDir, writeFileAtomic, type Logger } from '../../lib/index.js'
import { chainId as makeChainId, digestHex } from '../../oci/index.js'
import type { CommitLayerOptions, DriverData, LayerInfo, Mount, Snapshotter } from '../snapshotter.js'

export interface OverlayOptions {
  /** The data root; everything lives under `<root>/overlay2`. */
  root: string
  logger: Logger
}

const LINK_DIR = 'l'
const EMPTY = 'empty'
const KEY_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/

/**
 * docker's overlay2 layout: `<id>/diff` holds a layer's files once, shared by
 * every image with that layer (id = chainID hex); `<id>/link` names a short
 * symlink `l/<short>` → `../<id>/diff`; `<id>/lower` lists the parents' short
 * links, nearest first. A writable snapshot `<key>` adds `work` and `merged`.
 * Mount options use the short relative links, run from `cwd` = the overlay root.
 */
export class OverlaySnapshotter implements Snapshotter {
  readonly driverName = 'overlay2'
  readonly home: string
  private readonly locks = new Map<string, Promise<unknown>>()
  private readonly log: Logger

  private constructor(opts: OverlayOptions) {
    this.home = path.join(opts.root, 'overlay2')
    this.log = opts.logger.child({ module: 'snapshots/overlay' })
  }

  /** Open the layout and clear what an interrupted unpack left behind. */
  static async open(opts: OverlayOptions): Promise<OverlaySnapshotter> {
    const s = new OverlaySnapshotter(opts)
    await fsp.mkdir(path.join(s.home, LINK_DIR), { recursive: true })
    for (const name of await fsp.readdir(s.home)) {
      if (name.startsWith('.tmp-')) await fsp.rm(path.join(s.home, name), { recursive: true, force: true })
    }
    // A layer whose short link is gone was being removed (link first, then the directory): finish that.
    for (const name of await fsp.readdir(s.home)) {
      if (!/^[a-f0-9]{64}$/.test(name) || !(await exists(path.join(s.home, name, 'layer.json')))) continue
      const link = await s.readLink(name).catch(() => '')
      if (!link || !(await exists(path.join(s.home, LINK_DIR, link)))) {
        s.log.info('removing a layer whose removal was interrupted', { id: name })
        await fsp.rm(path.join(s.home, name), { recursive: true, force: true })
      }
    }
    // Links whose layer never got into place (a crash in commitLayer) or is gone.
    for (const link of await fsp.readdir(path.join(s.home, LINK_DIR))) {
      if (!(await fsp.stat(path.join(s.home, LINK_DIR, link)).then(() => true, () => false))) await fsp.rm(path.join(s.home, LINK_DIR, link), { force: true })
    }
    await s.ensureEmpty()
    return s
  }

  /**
   * Remove every layer and snapshot not in `keep` (what a crash left between
   * this store and the caller's records: a layer unpacked but never
   * recorded, a layer or snapshot half removed). Only while nothing else
   * uses the snapshotter, i.e. at open. Returns the directory names removed.
   */
  async prune(keep: { layers: ReadonlySet<string>; snapshots: ReadonlySet<string> }): Promise<string[]> {
    const layers = new Set([...keep.layers].map((c) => this.layerId(c)))
    const removed: string[] = []
    for (const name of await fsp.readdir(this.home)) {
      if (name === LINK_DIR || name === EMPTY || name.startsWith('.tmp-') || layers.has(name) || keep.snapshots.has(name)) continue
      if (/^[a-f0-9]{64}$/.test(name) && (await exists(path.join(this.home, name, 'layer.json')))) await this.removeLayer(`sha256:${name}`)
      else await fsp.rm(path.join(this.home, name), { recursive: true, force: true })
      removed.push(name)
    }
    return removed
  }

  layerDir(chainId: string): string {
    return path.join(this.home, this.layerId(chainId), 'diff')
  }

  async hasLayer(chainId: string): Promise<boolean> {
    return exists(path.join(this.home, this.layerId(chainId), 'link'))
  }

  async layerInfo(chainId: string): Promise<LayerInfo> {
    return this.readInfo(chainId)
  }

  async commitLayer(parent: string | null, tar: Readable, opts: CommitLayerOptions = {}): Promise<LayerInfo> {
    if (parent !== null && !(await this.hasLayer(parent))) throw notFound(`parent layer ${parent} does not exist`)
    if (opts.expectedDiffId) {
      const chain = makeChainId(parent, opts.expectedDiffId)
      return this.withLock(chain, async () => {
        if (await this.hasLayer(chain)) {
          tar.destroy()
          return this.readInfo(chain)
        }
        return this.unpack(parent, tar, opts)
      })
    }
    return this.unpack(parent, tar, opts)
  }

  private async unpack(parent: string | null, tar: Readable, opts: CommitLayerOptions): Promise<LayerInfo> {
    const tmp = path.join(this.home, `.tmp-${randomBytes(8).toString('hex')}`)
    await fsp.mkdir(path.join(tmp, 'diff'), { recursive: true })
    try {
      const res = await applyLayer(path.join(tmp, 'diff'), tar, { signal: opts.signal })
      if (opts.expectedDiffId && res.diffId !== opts.expectedDiffId) {
        throw invalidArgument(`layer digest mismatch: expected ${opts.expectedDiffId}, got ${res.diffId}`)
      }
      const chain = makeChainId(parent, res.diffId)
      const info: LayerInfo = { chainId: chain, diffId: res.diffId, parent, size: res.size, tarSize: res.tarSize }
      const install = async () => {
        if (await this.hasLayer(chain)) return this.readInfo(chain)
        const link = newLinkName()
        await fsp.writeFile(path.join(tmp, 'link'), link)
        const lower = parent === null ? '' : await this.lowerOf(parent, true)
        if (lower) await fsp.writeFile(path.join(tmp, 'lower'), lower)
        await fsp.writeFile(path.join(tmp, 'layer.json'), JSON.stringify(info))
        const dest = path.join(this.home, this.layerId(chain))
        await fsp.rm(dest, { recursive: true, force: true })
        // The short link first: a layer in place always has it (a crash between leaves a dangling link, cleared at open).
        await fsp.symlink(`../${this.layerId(chain)}/diff`, path.join(this.home, LINK_DIR, link))
        await syncDir(path.join(this.home, LINK_DIR))
        await fsp.rename(tmp, dest)
        await syncDir(this.home)
        return info
      }
      // Known up front: already locked by commitLayer. Learned now: lock here.
      return opts.expectedDiffId ? await install() : await this.withLock(chain, install)
    } finally {
      await fsp.rm(tmp, { recursive: true, force: true })
    }
  }

  async removeLayer(chainId: string): Promise<void> {
    const id = this.layerId(chainId)
    await this.withLock(chainId, async () => {
      const link = await this.readLink(id).catch(() => null)
      if (link) await fsp.rm(path.join(this.home, LINK_DIR, link), { force: true })
      await fsp.rm(path.join(this.home, id), { recursive: true, force: true })
    })
  }

  async layerDriverData(chainId: string | null): Promise<DriverData> {
    if (chainId === null) return {}
    const id = this.layerId(chainId)
    const info = await this.readInfo(chainId)
    const data: DriverData = {}
    if (info.parent) data.LowerDir = await this.absoluteLowers(await this.lowerOf(info.parent, true))
    data.MergedDir = path.join(this.home, id, 'merged')
    data.UpperDir = path.join(this.home, id, 'diff')
    data.WorkDir = path.join(this.home, id, 'work')
    return data
  }

  async prepare(key: string, parent: string | null): Promise<Mount[]> {
    this.checkKey(key)
    const dir = path.join(this.home, key)
    if (await exists(dir)) throw conflict(`snapshot ${key} already exists`)
    const lower = parent === null ? await this.lowerOf(EMPTY, false) : await this.lowerOf(parent, true)
    const tmp = path.join(this.home, `.tmp-${randomBytes(8).toString('hex')}`)
    try {
      for (const d of ['diff', 'work', 'merged']) await fsp.mkdir(path.join(tmp, d), { recursive: true, mode: 0o755 })
      await fsp.writeFile(path.join(tmp, 'lower'), lower)
      await fsp.writeFile(path.join(tmp, 'link'), newLinkName())
      await fsp.rename(tmp, dir)
    } finally {
      await fsp.rm(tmp, { recursive: true, force: true })
    }
    return this.mounts(key)
  }

  async mounts(key: string): Promise<Mount[]> {
    this.checkKey(key)
    const lower = await fsp.readFile(path.join(this.home, key, 'lower'), 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? notFound(`snapshot ${key} does not exist`) : err
    })
    return [{
      type: 'overlay',
      source: 'overlay',
      options: [`lowerdir=${lower}`, `upperdir=${key}/diff`, `workdir=${key}/work`],
      cwd: this.home,
    }]
  }

  mountpoint(key: string): string {
    this.checkKey(key)
    return path.join(this.home, key, 'merged')
  }

  upperDir(key: string): string {
    this.checkKey(key)
    return path.join(this.home, key, 'diff')
  }

  async snapshotDriverData(key: string): Promise<DriverData> {
    this.checkKey(key)
    const lower = await fsp.readFile(path.join(this.home, key, 'lower'), 'utf8')
    return {
      LowerDir: await this.absoluteLowers(lower),
      MergedDir: path.join(this.home, key, 'merged'),
      UpperDir: path.join(this.home, key, 'diff'),
      WorkDir: path.join(this.home, key, 'work'),
    }
  }

  async usage(key: string): Promise<{ size: number; inodes: number }> {
    this.checkKey(key)
    const seen = new Set<string>()
    let size = 0
    let inodes = 0
    const walk = async (dir: string): Promise<void> => {
      let entries: import('node:fs').Dirent[]
      try {
        entries = await fsp.readdir(dir, { withFileTypes: true })
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
        throw err
      }
      for (const e of entries) {
        const p = path.join(dir, e.name)
        const st = await fsp.lstat(p)
        const ino = `${st.dev}:${st.ino}`
        if (seen.has(ino)) continue
        seen.add(ino)
        inodes++
        if (st.isFile() || st.isSymbolicLink()) size += st.size
        if (e.isDirectory()) await walk(p)
      }
    }
    await walk(path.join(this.home, key, 'diff'))
    return { size, inodes }
  }

  async remove(key: string): Promise<void> {
    this.checkKey(key)
    await fsp.rm(path.join(this.home, key), { recursive: true, force: true })
  }

  async exists(key: string): Promise<boolean> {
    this.checkKey(key)
    return exists(path.join(this.home, key, 'lower'))
  }

  private layerId(chainId: string): string {
    const hex = digestHex(chainId)
    if (!/^[a-f0-9]{64}$/.test(hex)) throw invalidArgument(`invalid layer id ${chainId}`)
    return hex
  }

  private checkKey(key: string): void {
    // Keys name directories beside layer dirs: no separators, no dot names, no clash with chainIDs' hex.
    if (!KEY_RE.test(key) || key === EMPTY || key === LINK_DIR || key.startsWith('.tmp-')) throw invalidArgument(`invalid snapshot key ${JSON.stringify(key)}`)
  }

  private async readLink(id: string): Promise<string> {
    return (await fsp.readFile(path.join(this.home, id, 'link'), 'utf8')).trim()
  }

  /** `l/SELF:l/PARENT:…` for mounting over the layer `id`. */
  private async lowerOf(id: string, isChain: boolean): Promise<string> {
    const dir = isChain ? this.layerId(id) : id
    const link = await this.readLink(dir).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? notFound(`layer ${id} does not exist`) : err
    })
    const below = await fsp.readFile(path.join(this.home, dir, 'lower'), 'utf8').catch(() => '')
    return below ? `${LINK_DIR}/${link}:${below}` : `${LINK_DIR}/${link}`
  }

  private async absoluteLowers(lower: string): Promise<string> {
    const out: string[] = []
    for (const l of lower.split(':')) {
      const target = await fsp.readlink(path.join(this.home, l))
      out.push(path.resolve(this.home, LINK_DIR, target))
    }
    return out.join(':')
  }

  private async readInfo(chainId: string): Promise<LayerInfo> {
    const raw = await fsp.readFile(path.join(this.home, this.layerId(chainId), 'layer.json'), 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? notFound(`layer ${chainId} does not exist`) : err
    })
    return JSON.parse(raw) as LayerInfo
  }

  /** The lower for images without layers: an empty directory in the same layout. */
  private async ensureEmpty(): Promise<void> {
    const dir = path.join(this.home, EMPTY)
    if (await exists(path.join(dir, 'link'))) return
    await fsp.mkdir(path.join(dir, 'diff'), { recursive: true, mode: 0o755 })
    const link = newLinkName()
    await fsp.rm(path.join(this.home, LINK_DIR, link), { force: true })
    await fsp.symlink(`../${EMPTY}/diff`, path.join(this.home, LINK_DIR, link))
    await writeFileAtomic(path.join(dir, 'link'), link)
  }

  /** Serialise work per chainID so one layer is unpacked once however many pulls race. */
  private async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve()
    const run = prev.catch(() => {}).then(fn)
    const tail = run.catch(() => {})
    this.locks.set(key, tail)
    try {
      return await run
    } finally {
      if (this.locks.get(key) === tail) this.locks.delete(key)
      this.log.debug('layer lock released', { key })
    }
  }
}

/** 26 chars of base32, like docker's short layer links. */
function newLinkName(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  const bytes = randomBytes(26)
  let s = ''
  for (const b of bytes) s += alphabet[b & 31]
  return s
}
