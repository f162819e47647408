import type { Db, Migration } from '../db/index.js'

/** The tables the image service owns. */
export const migrations: Migration[] = [{
  owner: 'images',
  version: 1,
  up: `
    CREATE TABLE images (
      id TEXT PRIMARY KEY,
      config BLOB NOT NULL,
      parent TEXT NOT NULL DEFAULT '',
      last_tag_time TEXT,
      added_at INTEGER NOT NULL
    );
    -- name is normalized: docker.io/library/busybox:latest, or repo@sha256:… for digests.
    CREATE TABLE image_refs (
      name TEXT PRIMARY KEY,
      image_id TEXT NOT NULL REFERENCES images(id),
      is_digest INTEGER NOT NULL,
      added_at INTEGER NOT NULL
    );
    CREATE INDEX image_refs_image ON image_refs(image_id);
    -- refcount: how many images list this chainID (at any depth).
    CREATE TABLE layers (
      chain_id TEXT PRIMARY KEY,
      diff_id TEXT NOT NULL,
      parent TEXT,
      size INTEGER NOT NULL,
      refcount INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE image_layers (
      image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
      idx INTEGER NOT NULL,
      chain_id TEXT NOT NULL REFERENCES layers(chain_id),
      PRIMARY KEY (image_id, idx)
    );
    CREATE INDEX image_layers_chain ON image_layers(chain_id);
    -- Writable snapshots handed to containers; they pin their layers.
    CREATE TABLE image_rootfs (
      container_id TEXT PRIMARY KEY,
      image_id TEXT NOT NULL,
      chain_id TEXT
    );
  `,
}, {
  owner: 'images',
  version: 2,
  // A pulled layer's compressed blob (by its distribution digest), kept beside the
  // diffID tar so it can be served or pushed again; it goes when its diffID does.
  up: `
    CREATE TABLE layer_blobs (
      digest TEXT PRIMARY KEY,
      diff_id TEXT NOT NULL,
      media_type TEXT NOT NULL,
      size INTEGER NOT NULL
    );
    CREATE INDEX layer_blobs_diff ON layer_blobs(diff_id);
  `,
}, {
  owner: 'images',
  version: 3,
  // Pulls unpack straight from the compressed blob and keep no diffID tar, so save
  // must know the tar's length before streaming it: recorded here while unpacking
  // (NULL: not known yet, counted by the first save that needs it).
  up: 'ALTER TABLE layer_blobs ADD COLUMN tar_size INTEGER;',
}]

export interface ImageRow { id: string; config: Buffer; parent: string; last_tag_time: string | null; added_at: number }
export interface RefRow { name: string; image_id: string; is_digest: number }
export interface LayerRow { chain_id: string; diff_id: string; parent: string | null; size: number; refcount: number }
/** A layer's compressed blob (by its distribution digest); tar_size is the uncompressed tar's length when known. */
export interface LayerBlobRow { digest: string; diff_id: string; media_type: string; size: number; tar_size: number | null }

/** Typed statements over the image tables; the service wraps multi-step changes in transactions. */
export class ImageStore {
  constructor(readonly db: Db) {}

  image(id: string): ImageRow | undefined {
    return this.db.prepare('SELECT * FROM images WHERE id = ?').get(id) as ImageRow | undefined
  }

  images(): ImageRow[] {
    return this.db.prepare('SELECT * FROM images').all() as ImageRow[]
  }

  /** IDs starting with hex (no `sha256:`). */
  searchId(hex: string): string[] {
    return (this.db.prepare("SELECT id FROM images WHERE substr(id, 8, ?) = ? LIMIT 2").all(hex.length, hex) as Array<{ id: string }>).map((r) => r.id)
  }

  children(id: string): string[] {
    return (this.db.prepare('SELECT id FROM images WHERE parent = ?').all(id) as Array<{ id: string }>).map((r) => r.id)
  }

  refsOf(id: string): RefRow[] {
    return this.db.prepare('SELECT name, image_id, is_digest FROM image_refs WHERE image_id = ? ORDER BY added_at, name').all(id) as RefRow[]
  }

  allRefs(): RefRow[] {
    return this.db.prepare('SELECT name, image_id, is_digest FROM image_refs ORDER BY added_at, name').all() as RefRow[]
  }

  ref(name: string): RefRow | undefined {
    return this.db.prepare('SELECT name, image_id, is_digest FROM image_refs WHERE name = ?').get(name) as RefRow | undefined
  }

  /** Every ref whose repository is repo (`docker.io/library/busybox`). */
  refsByRepo(repo: string): RefRow[] {
    return (this.db.prepare("SELECT name, image_id, is_digest FROM image_refs WHERE substr(name, 1, ?) = ? ORDER BY name").all(repo.length + 1, repo + ':') as RefRow[])
      .concat(this.db.prepare("SELECT name, image_id, is_digest FROM image_refs WHERE substr(name, 1, ?) = ? ORDER BY name").all(repo.length + 1, repo + '@') as RefRow[])
  }

  setRef(name: string, imageId: string, isDigest: boolean): void {
    this.db.prepare('INSERT INTO image_refs (name, image_id, is_digest, added_at) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id, added_at = excluded.added_at')
      .run(name, imageId, isDigest ? 1 : 0, Date.now())
  }

  deleteRef(name: string): void {
    this.db.prepare('DELETE FROM image_refs WHERE name = ?').run(name)
  }

  setLastTagTime(id: string, time: string): void {
    this.db.prepare('UPDATE images SET last_tag_time = ? WHERE id = ?').run(time, id)
  }

  setParent(id: string, parent: string): void {
    this.db.prepare('UPDATE images SET parent = ? WHERE id = ?').run(parent, id)
  }

  layer(chainId: string): LayerRow | undefined {
    return this.db.prepare('SELECT * FROM layers WHERE chain_id = ?').get(chainId) as LayerRow | undefined
  }

  layers(): LayerRow[] {
    return this.db.prepare('SELECT * FROM layers').all() as LayerRow[]
  }

  addLayer(l: Omit<LayerRow, 'refcount'>): void {
    this.db.prepare('INSERT OR IGNORE INTO layers (chain_id, diff_id, parent, size, refcount) VALUES (?, ?, ?, ?, 0)').run(l.chain_id, l.diff_id, l.parent, l.size)
  }

  deleteLayer(chainId: string): void {
    this.db.prepare('DELETE FROM layers WHERE chain_id = ?').run(chainId)
  }

  layersWithDiff(diffId: string): number {
    return (this.db.prepare('SELECT count(*) AS n FROM layers WHERE diff_id = ?').get(diffId) as { n: number }).n
  }

  chainOf(id: string): string[] {
    return (this.db.prepare('SELECT chain_id FROM image_layers WHERE image_id = ? ORDER BY idx').all(id) as Array<{ chain_id: string }>).map((r) => r.chain_id)
  }

  /** Insert an image and take a reference on each of its layers; false if it already existed. */
  addImage(id: string, config: Buffer, chainIds: readonly string[], parent = ''): boolean {
    const res = this.db.prepare('INSERT OR IGNORE INTO images (id, config, parent, last_tag_time, added_at) VALUES (?, ?, ?, NULL, ?)').run(id, config, parent, Date.now())
    if (res.changes === 0) return false
    const link = this.db.prepare('INSERT INTO image_layers (image_id, idx, chain_id) VALUES (?, ?, ?)')
    const ref = this.db.prepare('UPDATE layers SET refcount = refcount + 1 WHERE chain_id = ?')
    chainIds.forEach((c, i) => {
      link.run(id, i, c)
      ref.run(c)
    })
    return true
  }

  /** Delete an image row (refs must be gone) and drop its layer references. */
  deleteImage(id: string): void {
    const chains = this.chainOf(id)
    this.db.prepare('DELETE FROM image_layers WHERE image_id = ?').run(id)
    this.db.prepare('DELETE FROM images WHERE id = ?').run(id)
    const unref = this.db.prepare('UPDATE layers SET refcount = refcount - 1 WHERE chain_id = ?')
    for (const c of chains) unref.run(c)
  }

  /** Record a blob once; a tar_size learned later fills in one not known before. */
  addLayerBlob(b: Omit<LayerBlobRow, 'tar_size'> & { tar_size?: number | null }): void {
    this.db.prepare(`INSERT INTO layer_blobs (digest, diff_id, media_type, size, tar_size) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT(digest) DO UPDATE SET tar_size = coalesce(layer_blobs.tar_size, excluded.tar_size)`)
      .run(b.digest, b.diff_id, b.media_type, b.size, b.tar_size ?? null)
  }

  /** Compressed blobs recorded for a diffID. */
  layerBlobsOf(diffId: string): string[] {
    return this.layerBlobRows(diffId).map((r) => r.digest)
  }

  layerBlobRows(diffId: string): LayerBlobRow[] {
    return this.db.prepare('SELECT digest, diff_id, media_type, size, tar_size FROM layer_blobs WHERE diff_id = ? ORDER BY digest').all(diffId) as LayerBlobRow[]
  }

  setLayerBlobTarSize(digest: string, tarSize: number): void {
    this.db.prepare('UPDATE layer_blobs SET tar_size = ? WHERE digest = ?').run(tarSize, digest)
  }

  /** Every digest a row points at: image configs, layer tars, compressed layer blobs. */
  referencedContent(): Set<string> {
    const rows = this.db.prepare('SELECT id AS d FROM images UNION SELECT diff_id FROM layers UNION SELECT digest FROM layer_blobs').all() as Array<{ d: string }>
    return new Set(rows.map((r) => r.d))
  }

  hasLayerBlob(digest: string): boolean {
    return this.db.prepare('SELECT 1 FROM layer_blobs WHERE digest = ?').get(digest) !== undefined
  }

  deleteLayerBlob(digest: string): void {
    this.db.prepare('DELETE FROM layer_blobs WHERE digest = ?').run(digest)
  }

  /** Every container that holds a rootfs snapshot. */
  rootfsOwners(): string[] {
    return (this.db.prepare('SELECT container_id FROM image_rootfs').all() as Array<{ container_id: string }>).map((r) => r.container_id)
  }

  rootfs(containerId: string): { container_id: string; image_id: string; chain_id: string | null } | undefined {
    return this.db.prepare('SELECT * FROM image_rootfs WHERE container_id = ?').get(containerId) as { container_id: string; image_id: string; chain_id: string | null } | undefined
  }

  addRootfs(containerId: string, imageId: string, chainId: string | null): void {
    this.db.prepare('INSERT OR REPLACE INTO image_rootfs (container_id, image_id, chain_id) VALUES (?, ?, ?)').run(containerId, imageId, chainId)
  }

  deleteRootfs(containerId: string): void {
    this.db.prepare('DELETE FROM image_rootfs WHERE container_id = ?').run(containerId)
  }

  /** chainIDs pinned by containers' snapshots: each top and all its parents. */
  pinnedChains(): Set<string> {
    const out = new Set<string>()
    const tops = this.db.prepare('SELECT chain_id FROM image_rootfs WHERE chain_id IS NOT NULL').all() as Array<{ chain_id: string }>
    for (const { chain_id } of tops) {
      for (let c: string | null | undefined = chain_id; c && !out.has(c); c = this.layer(c)?.parent) out.add(c)
    }
    return out
  }
}
