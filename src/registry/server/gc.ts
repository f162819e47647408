/**
 * Garbage collection, mark and sweep as distribution's `garbage-collect`:
 * every manifest revision of every repository is live, and so is whatever it
 * references (config, layers, the manifests an index lists); every other blob
 * is deleted. Run it while no push is in flight (server stopped or idle): a
 * blob uploaded for a manifest not yet pushed is unreferenced and would go.
 */
import type { Digest } from '../../oci/index.js'
import { parseManifest } from './manifest.js'
import type { RegistryStorage } from './storage.js'

export interface GcOptions {
  /** Report what would be deleted without deleting it. */
  dryRun?: boolean
  /** Called once per blob marked or deleted, for a docker-registry-like log. */
  onEvent?: (e: { kind: 'mark'; repository: string; digest: Digest } | { kind: 'delete'; digest: Digest; size: number }) => void
}

export interface GcResult {
  marked: number
  deleted: Array<{ digest: Digest; size: number }>
  freedBytes: number
}

export async function collectGarbage(storage: RegistryStorage, opts: GcOptions = {}): Promise<GcResult> {
  const live = new Set<Digest>()
  const mark = (repository: string, digest: Digest) => {
    if (live.has(digest)) return
    live.add(digest)
    opts.onEvent?.({ kind: 'mark', repository, digest })
  }
  const repos = await storage.listRepositories()
  for (const repo of repos) {
    for (const digest of await storage.listRevisions(repo)) {
      const rec = await storage.manifestRecord(repo, digest)
      if (!rec) continue
      mark(repo, digest)
      let bytes: Buffer
      try {
        bytes = await storage.blobs.readAll(digest)
      } catch {
        continue
      }
      try {
        const parsed = parseManifest(bytes, rec.mediaType)
        for (const d of [...parsed.blobs, ...parsed.manifests]) mark(repo, d.digest)
      } catch {
        // Accepted on push, so parseable; if not, keep what we can and never guess.
      }
    }
  }
  const deleted: GcResult['deleted'] = []
  await storage.blobs.walk(async (info) => {
    if (live.has(info.digest)) return
    deleted.push({ digest: info.digest, size: info.size })
    opts.onEvent?.({ kind: 'delete', digest: info.digest, size: info.size })
    if (!opts.dryRun) await storage.blobs.delete(info.digest)
  })
  if (!opts.dryRun) {
    // A stale link would make the blob readable here again once anyone pushes the same bytes elsewhere.
    const gone = new Set(deleted.map((d) => d.digest))
    for (const repo of repos) {
      for (const d of await storage.listLayerLinks(repo)) if (gone.has(d)) await storage.removeLayerLink(repo, d)
    }
  }
  return { marked: live.size, deleted, freedBytes: deleted.reduce((n, d) => n + d.size, 0) }
}
