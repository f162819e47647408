import { randomBytes } from 'node:crypto'
import { promises as fsp } from 'node:fs'
import path from 'node:path'
import type { Db } from '../db/index.js'
import { migrate } from '../db/index.js'
import { conflict, invalidArgument, notFound } from '../errors/index.js'
import type { EventBus } from '../events/index.js'
import { exclusive, run, type Logger } from '../lib/index.js'
import { isMountpoint, mount, unmount } from '../sys/index.js'
import type { VolumeCreateRequest, VolumeRecord } from './types.js'

const migrations = [
  {
    owner: 'volumes',
    version: 1,
    up: 'CREATE TABLE volumes (name TEXT PRIMARY KEY, record TEXT NOT NULL)',
  },
]

const VALID_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/
const LOCAL_OPTS = new Set(['type', 'device', 'o', 'size'])

export interface VolumeServiceOptions {
  db: Db
  dataRoot: string
  events: EventBus
  logger: Logger
  /** IDs of the containers (running or not) whose mounts name the volume. */
  usedBy: (name: string) => string[]
  /** The subset of those that are running now. */
  runningUsers: (name: string) => string[]
}

/**
 * Volumes and the local driver: the one owner of volume records and of the
 * directories under <data-root>/volumes. Nothing here deletes data but an
 * explicit removal or prune of an unused volume.
 */
export class VolumeService {
  private readonly byName = new Map<string, VolumeRecord>()
  private readonly put
  private readonly del
  private readonly root: string
  private readonly log: Logger

  constructor(private readonly o: VolumeServiceOptions) {
    migrate(o.db, migrations)
    this.put = o.db.prepare('INSERT INTO volumes (name, record) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET record = excluded.record')
    this.del = o.db.prepare('DELETE FROM volumes WHERE name = ?')
    for (const row of o.db.prepare('SELECT record FROM volumes').all() as { record: string }[]) {
      const v = JSON.parse(row.record) as VolumeRecord
      this.byName.set(v.name, v)
    }
    this.root = path.join(o.dataRoot, 'volumes')
    this.log = o.logger.child({ module: 'volumes' })
  }

  list(): VolumeRecord[] {
    return [...this.byName.values()]
  }

  get(name: string): VolumeRecord {
    const v = this.byName.get(name)
    if (!v) throw notFound(`get ${name}: no such volume`)
    return v
  }

  has(name: string): boolean {
    return this.byName.has(name)
  }

  mountpoint(name: string): string {
    return path.join(this.root, name, '_data')
  }

  async create(req: VolumeCreateRequest, anonymous = false): Promise<VolumeRecord> {
    const driver = req.driver || 'local'
    if (driver !== 'local') throw notFound(`error looking up volume plugin ${driver}: plugin "${driver}" not found`)
    const name = req.name || randomBytes(32).toString('hex')
    if (name.length < 2) throw invalidArgument('volume name is too short, names should be at least two alphanumeric characters')
    if (!VALID_NAME.test(name)) {
      throw invalidArgument(`"${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`)
    }
    const existing = this.byName.get(name)
    if (existing) return existing
    for (const k of Object.keys(req.options)) {
      if (!LOCAL_OPTS.has(k)) throw invalidArgument(`invalid option: "${k}"`)
    }
    if (req.options.device && !req.options.type) throw invalidArgument('missing required option: "type"')
    const v: VolumeRecord = { name, driver: 'local', created: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), labels: { ...req.labels }, options: { ...req.options }, scope: 'local', anonymous }
    await fsp.mkdir(this.mountpoint(name), { recursive: true, mode: 0o755 })
    await fsp.chmod(path.join(this.root, name), 0o701).catch(() => {})
    try {
      this.put.run(name, JSON.stringify(v))
    } catch (err) {
      // A record that could not be written (a full disk) leaves no directory behind to shadow a later volume.
      await fsp.rm(path.join(this.root, name), { recursive: true, force: true }).catch(() => {})
      throw err
    }
    this.byName.set(name, v)
    this.o.events.publish('volume', 'create', name, { driver: 'local' })
    return v
  }

  async remove(name: string, force = false): Promise<void> {
    const v = this.byName.get(name)
    if (!v) {
      if (force) return
      throw notFound(`get ${name}: no such volume`)
    }
    const users = this.o.usedBy(name)
    if (users.length) throw conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`)
    await this.unmountDriver(v)
    // The record goes first: a crash after it leaves a directory that the next prune of orphans removes, never a record without data.
    this.del.run(name)
    this.byName.delete(name)
    await fsp.rm(path.join(this.root, name), { recursive: true, force: true })
    this.o.events.publish('volume', 'destroy', name, { driver: 'local' })
  }

  private readonly pruning = exclusive(() => conflict('a prune operation is already running'))

  prune(keep: (v: VolumeRecord) => boolean, all: boolean): Promise<{ deleted: string[]; reclaimed: number }> {
    return this.pruning(() => this.pruneNow(keep, all))
  }

  private async pruneNow(keep: (v: VolumeRecord) => boolean, all: boolean): Promise<{ deleted: string[]; reclaimed: number }> {
    const deleted: string[] = []
    let reclaimed = 0
    for (const v of this.list()) {
      if ((!all && !v.anonymous) || !keep(v) || this.o.usedBy(v.name).length) continue
      const size = await this.dataSize(v.name).catch(() => 0)
      await this.remove(v.name).catch((err: unknown) => this.log.warn('prune: remove failed', { name: v.name, err }))
      if (!this.byName.has(v.name)) {
        deleted.push(v.name)
        reclaimed += size
      }
    }
    return { deleted, reclaimed }
  }

  /**
   * The volume's data as `system df` counts it (moby internal/directory):
   * the sizes of everything but directories, each inode once, which is not
   * what `du` counts (blocks, directories included). Throws when the data
   * directory cannot be read; an entry that vanishes meanwhile is skipped.
   */
  async dataSize(name: string): Promise<number> {
    const seen = new Set<string>()
    let size = 0
    const root = this.mountpoint(name)
    const pending = [root]
    for (let dir = pending.pop(); dir !== undefined; dir = pending.pop()) {
      let entries: import('node:fs').Dirent[]
      try {
        entries = await fsp.readdir(dir, { withFileTypes: true })
      } catch (err) {
        if (dir !== root && (err as NodeJS.ErrnoException).code === 'ENOENT') continue
        throw err
      }
      for (const e of entries) {
        const p = path.join(dir, e.name)
        const st = await fsp.lstat(p, { bigint: true }).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return undefined
          throw err
        })
        if (!st) continue
        if (st.isDirectory()) {
          pending.push(p)
          continue
        }
        if (st.size === 0n) continue
        const inode = `${st.dev}:${st.ino}`
        if (seen.has(inode)) continue
        seen.add(inode)
        size += Number(st.size)
      }
    }
    return size
  }

  /** The host directory a container mounts; a volume with driver options is mounted on first use. */
  async acquire(name: string): Promise<string> {
    const v = this.get(name)
    const dir = this.mountpoint(name)
    await fsp.mkdir(dir, { recursive: true })
    if (v.options.type && !(await isMountpoint(dir))) {
      const o = v.options.o ?? ''
      const bind = o.split(',').includes('bind')
      // The container service publishes docker's volume mount/unmount events, one per container start and exit.
      await mount({ type: bind ? 'bind' : v.options.type, source: v.options.device || v.options.type, options: o ? o.split(',') : [] }, dir)
    }
    return dir
  }

  /** After a container stops: a driver-mounted volume no running container uses is unmounted. */
  async release(name: string): Promise<void> {
    const v = this.byName.get(name)
    if (!v || !v.options.type) return
    if (this.o.runningUsers(name).length) return
    await this.unmountDriver(v)
  }

  /** At start, once containers are restored: what a crash left mounted with no running user is unmounted (as docker's local driver). */
  async unmountUnused(): Promise<void> {
    for (const v of this.list()) {
      if (!v.options.type || this.o.runningUsers(v.name).length) continue
      await this.unmountDriver(v).catch((err: unknown) => this.log.warn('unmounting an unused volume', { name: v.name, err }))
    }
    await this.removeOrphans()
  }

  /**
   * A directory without a record is what a crash left in `remove` (the record
   * goes first) or in `create` (the directory comes first, so it is empty):
   * both were meant to go. Left alone, a later volume of the same name would
   * show the removed volume's files. A mount on it (a volume with driver
   * options) is taken off first, so a bind's host files are never deleted.
   */
  private async removeOrphans(): Promise<void> {
    for (const e of await fsp.readdir(this.root, { withFileTypes: true }).catch(() => [])) {
      if (!e.isDirectory() || !VALID_NAME.test(e.name) || this.byName.has(e.name)) continue
      const data = this.mountpoint(e.name)
      try {
        if (await isMountpoint(data)) await unmount(data)
        if (await isMountpoint(data)) continue
        await fsp.rm(path.join(this.root, e.name), { recursive: true, force: true })
        this.log.info('removed the directory of a volume a crash left without a record', { name: e.name })
      } catch (err) {
        this.log.warn('removing an orphan volume directory', { name: e.name, err })
      }
    }
  }

  private async unmountDriver(v: VolumeRecord): Promise<void> {
    if (!v.options.type) return
    const dir = this.mountpoint(v.name)
    if (await isMountpoint(dir)) {
      await unmount(dir)
    }
  }

  /**
   * docker's copy-up: the first time an empty volume is mounted where the
   * image has files, they are copied in (ownership, modes and times kept).
   */
  async copyUp(from: string, name: string): Promise<void> {
    const dest = this.mountpoint(name)
    if ((await fsp.readdir(dest).catch(() => [])).length > 0) return
    const st = await fsp.lstat(from).catch(() => undefined)
    if (!st?.isDirectory()) return
    await run('cp', ['-a', '--', `${from}/.`, dest])
    // The volume's root takes the mount point's owner and mode, as docker's.
    await fsp.chown(dest, st.uid, st.gid).catch(() => {})
    await fsp.chmod(dest, st.mode & 0o7777).catch(() => {})
  }
}
