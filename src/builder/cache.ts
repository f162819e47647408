/**
 * The build cache: which image a step produced from which parent. docker's
 * classic builder finds it by comparing the probe config with every child of
 * the parent (moby image/cache); berth keys it instead by a digest of the
 * parent ID and the canonical probe config (the step's Cmd as history shows
 * it, env, labels, ports… and, for COPY/ADD, the sources' content hash in
 * that Cmd), so a lookup is one indexed read. An entry whose image is gone
 * no longer counts and is dropped when seen.
 */
import { createHash } from 'node:crypto'
import { migrate, type Db, type Migration } from '../db/index.js'
import type { RunConfig } from '../oci/index.js'

const migrations: Migration[] = [{
  owner: 'builder',
  version: 1,
  up: `
    CREATE TABLE build_cache (
      key TEXT PRIMARY KEY,
      parent TEXT NOT NULL,
      image_id TEXT NOT NULL,
      created_at INTEGER NOT NULL
    );
    CREATE INDEX build_cache_image ON build_cache(image_id);
  `,
}, {
  owner: 'builder',
  version: 2,
  // When a build last took the step from the cache: builder prune's `until` goes by it, as BuildKit's LastUsedAt.
  up: `
    ALTER TABLE build_cache ADD COLUMN used_at INTEGER NOT NULL DEFAULT 0;
    UPDATE build_cache SET used_at = created_at;
  `,
}]

/** JSON with object keys sorted, so equal configs give equal keys whatever order built them. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`
  }
  return JSON.stringify(v ?? null)
}

/** Fields that differ between equal steps without meaning anything (moby's compare ignores them too). */
function probeKeyConfig(c: RunConfig): RunConfig {
  const { Hostname: _h, Domainname: _d, Image: _i, ...rest } = c
  return rest
}

export function cacheKey(parent: string | null, probe: RunConfig): string {
  return createHash('sha256').update(`${parent ?? 'scratch'}\n${canonicalJson(probeKeyConfig(probe))}`).digest('hex')
}

export class BuildCache {
  constructor(private readonly db: Db, private readonly exists: (imageId: string) => boolean) {
    migrate(db, migrations)
  }

  /** The image an identical step made from this parent, if it still exists. */
  get(parent: string | null, probe: RunConfig): string | undefined {
    const key = cacheKey(parent, probe)
    const row = this.db.prepare('SELECT image_id FROM build_cache WHERE key = ?').get(key) as { image_id: string } | undefined
    if (!row) return undefined
    if (this.exists(row.image_id)) {
      this.db.prepare('UPDATE build_cache SET used_at = ? WHERE key = ?').run(Date.now(), key)
      return row.image_id
    }
    this.db.prepare('DELETE FROM build_cache WHERE key = ?').run(key)
    return undefined
  }

  put(parent: string | null, probe: RunConfig, imageId: string): void {
    const now = Date.now()
    this.db.prepare('INSERT OR REPLACE INTO build_cache (key, parent, image_id, created_at, used_at) VALUES (?, ?, ?, ?, ?)')
      .run(cacheKey(parent, probe), parent ?? '', imageId, now, now)
  }

  /** Images the cache points at (builder prune candidates); with `usedBeforeMs`, those no step has used since. */
  images(usedBeforeMs?: number): string[] {
    const rows = usedBeforeMs === undefined
      ? this.db.prepare('SELECT DISTINCT image_id FROM build_cache').all()
      : this.db.prepare('SELECT image_id FROM build_cache GROUP BY image_id HAVING MAX(used_at) < ?').all(usedBeforeMs)
    return (rows as Array<{ image_id: string }>).map((r) => r.image_id)
  }

  /** One row per image the cache points at: when it was first recorded and last used (ms), and under how many step keys. */
  entries(): Array<{ imageId: string; createdAt: number; usedAt: number; keys: number }> {
    return this.db.prepare('SELECT image_id AS imageId, MIN(created_at) AS createdAt, MAX(used_at) AS usedAt, COUNT(*) AS keys FROM build_cache GROUP BY image_id ORDER BY imageId')
      .all() as Array<{ imageId: string; createdAt: number; usedAt: number; keys: number }>
  }

  forget(imageIds: readonly string[]): void {
    const del = this.db.prepare('DELETE FROM build_cache WHERE image_id = ?')
    this.db.transaction(() => {
      for (const id of imageIds) del.run(id)
    })()
  }
}
