import type { Db } from '../db/index.js'
import { migrate } from '../db/index.js'
import { alreadyExists, invalidArgument, notFound } from '../errors/index.js'
import type { ContainerRecord } from './types.js'

const migrations = [
  {
    owner: 'containers',
    version: 1,
    up: `CREATE TABLE containers (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      image_id TEXT NOT NULL,
      created TEXT NOT NULL,
      record TEXT NOT NULL
    )`,
  },
]

/**
 * The one owner of container records. Everything is kept in memory too: every
 * request resolves names and prefixes, and a list must not hit the disk.
 */
export class ContainerStore {
  private readonly byId = new Map<string, ContainerRecord>()
  private readonly byName = new Map<string, string>()
  private readonly nameOf = new Map<string, string>()
  private readonly upsert
  private readonly del

  constructor(db: Db) {
    migrate(db, migrations)
    this.upsert = db.prepare('INSERT INTO containers (id, name, image_id, created, record) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, record = excluded.record')
    this.del = db.prepare('DELETE FROM containers WHERE id = ?')
    for (const row of db.prepare('SELECT record FROM containers').all() as { record: string }[]) {
      const rec = upgrade(JSON.parse(row.record) as ContainerRecord)
      this.byId.set(rec.id, rec)
      this.byName.set(rec.name, rec.id)
      this.nameOf.set(rec.id, rec.name)
    }
  }

  all(): ContainerRecord[] {
    return [...this.byId.values()]
  }

  get(id: string): ContainerRecord | undefined {
    return this.byId.get(id)
  }

  /** docker's lookup: full ID, then exact name, then a unique ID prefix. */
  resolve(ref: string): ContainerRecord {
    if (ref === '') throw invalidArgument('container name or ID cannot be empty')
    const name = ref.startsWith('/') ? ref.slice(1) : ref
    const exact = this.byId.get(ref) ?? this.byId.get(this.byName.get(name) ?? '')
    if (exact) return exact
    if (/^[0-9a-f]+$/.test(ref)) {
      const hits = [...this.byId.keys()].filter((id) => id.startsWith(ref))
      if (hits.length > 1) throw invalidArgument(`multiple IDs found with provided prefix: ${ref}`)
      const hit = hits[0] && this.byId.get(hits[0])
      if (hit) return hit
    }
    throw notFound(`No such container: ${ref}`)
  }

  nameTaken(name: string): string | undefined {
    return this.byName.get(name)
  }

  /** Insert a new record; the name must be free (docker's conflict message). */
  add(rec: ContainerRecord): void {
    const holder = this.byName.get(rec.name)
    if (holder) {
      throw alreadyExists(`Conflict. The container name "/${rec.name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`)
    }
    this.save(rec)
  }

  save(rec: ContainerRecord): void {
    this.upsert.run(rec.id, rec.name, rec.imageId, rec.created, JSON.stringify(rec))
    // Records are mutated in place, so the old name is kept by ID, not read off the record.
    const old = this.nameOf.get(rec.id)
    if (old !== undefined && old !== rec.name && this.byName.get(old) === rec.id) this.byName.delete(old)
    this.byId.set(rec.id, rec)
    this.byName.set(rec.name, rec.id)
    this.nameOf.set(rec.id, rec.name)
  }

  remove(id: string): void {
    const rec = this.byId.get(id)
    this.del.run(id)
    if (!rec) return
    this.byId.delete(id)
    this.nameOf.delete(id)
    if (this.byName.get(rec.name) === id) this.byName.delete(rec.name)
  }
}

/** Records written before networks existed: their `bridge` mode is the default bridge network. */
function upgrade(rec: ContainerRecord): ContainerRecord {
  const mode = rec.spec.host.network as { kind: string }
  if (mode.kind === 'bridge') {
    rec.spec.host.network = { kind: 'network' }
    rec.spec.networks ??= { bridge: { aliases: [], links: [], ipv4: '', ipv6: '', mac: '', driverOpts: {}, gwPriority: 0 } }
  }
  rec.spec.networks ??= {}
  rec.spec.host.links ??= []
  rec.spec.host.mounts ??= []
  rec.spec.host.volumesFrom ??= []
  return rec
}
