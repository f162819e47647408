/**
 * Garbage collection, mark and sweep as distribution's `garbage-collect`:
 * every manifest revision of every repository is live, and so is whatever it
 * references (config, layers, the manifests an index lists); every other blob
 * is deleted.
 *
 * Offline (the default for the API) every unreferenced blob goes. Beside a
 * running server (`keepUsedSince`, what `berth registry gc` passes) a push in
 * flight has blobs no manifest references yet, so a blob put to use since
 * then (its file, a layer link or a revision written or touched; storage.ts
 * touches them on use) is kept, and a doomed blob is first renamed aside and
 * judged again, so a manifest push that touched it meanwhile brings it back.
 */
import type { Digest } from '../../oci/index.js'
import { parseManifest } from './manifest.js'
import type { RegistryStorage } from './storage.js'

export type GcEvent =
  | { kind: 'mark'; repository: string; digest: Digest }
  | { kind: 'delete'; digest: Digest; size: number }
  | { kind: 'keep'; digest: Digest; size: number }

export interface GcOptions {
  /** Report what would be deleted without deleting it. */
  dryRun?: boolean
  /** Called once per blob marked, deleted or kept as in use, for a docker-registry-like log. */
  onEvent?: (e: GcEvent) => void
  /**
   * Keep unreferenced blobs put to use at or after this time (ms since the
   * epoch): set when a server may be writing. Unset: offline, keep nothing.
   */
  keepUsedSince?: number
}

export interface GcResult {
  marked: number
  deleted: Array<{ digest: Digest; size: number }>
  /** Unreferenced blobs kept because they were put to use since `keepUsedSince`. */
  kept: Array<{ digest: Digest; size: number }>
  freedBytes: number
}

/** How far before the oldest open upload session blobs count as part of a push in flight. */
export const DEFAULT_PUSH_MARGIN_MS = 3600_000

/**
 * The `keepUsedSince` for a gc beside a server: the start of the run, or,
 * while upload sessions are open, `marginMs` before the oldest one started,
 * so the layers its push finished earlier are kept too. Abandoned sessions
 * hold it back until the server purges them (a day).
 */
export async function pushesInFlightSince(storage: RegistryStorage, opts: { now?: number; marginMs?: number } = {}): Promise<number> {
  const now = opts.now ?? Date.now()
  const starts = await storage.uploadStarts()
  return starts.length ? Math.min(now, Math.min(...starts) - (opts.marginMs ?? DEFAULT_PUSH_MARGIN_MS)) : now
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
  const keep = opts.keepUsedSince
  const deleted: GcResult['deleted'] = []
  const kept: GcResult['kept'] = []
  const keepIt = (digest: Digest, size: number) => {
    kept.push({ digest, size })
    opts.onEvent?.({ kind: 'keep', digest, size })
  }
  // Repositories made since the mark phase may link blobs too.
  let current = keep === undefined ? repos : await storage.listRepositories()
  await storage.blobs.walk(async (info) => {
    if (live.has(info.digest)) return
    if (keep !== undefined) {
      const used = await storage.blobLastUsed(info.digest, current)
      if (used === null) return
      if (used >= keep) return keepIt(info.digest, info.size)
      if (!opts.dryRun) {
        if (!(await storage.setAsideBlob(info.digest))) return
        current = await storage.listRepositories()
        if ((await storage.linksLastUsed(info.digest, current)) >= keep) {
          await storage.restoreBlob(info.digest)
          return keepIt(info.digest, info.size)
        }
        await storage.dropSetAsideBlob(info.digest)
      }
    } else if (!opts.dryRun) {
      await storage.blobs.delete(info.digest)
    }
    deleted.push({ digest: info.digest, size: info.size })
    opts.onEvent?.({ kind: 'delete', digest: info.digest, size: info.size })
  })
  if (!opts.dryRun) {
    // A stale link would make the blob readable here again once anyone pushes the same bytes elsewhere.
    const gone = new Set(deleted.map((d) => d.digest))
    for (const repo of current) {
      for (const d of await storage.listLayerLinks(repo)) {
        if (!gone.has(d)) continue
        // A link touched since is a push of these bytes in flight: its upload brings the blob back.
        const t = keep === undefined ? null : await storage.layerLinkModified(repo, d)
        if (t === null || t < (keep ?? Infinity)) await storage.removeLayerLink(repo, d)
      }
    }
  }
  return { marked: live.size, deleted, kept, freedBytes: deleted.reduce((n, d) => n + d.size, 0) }
}
