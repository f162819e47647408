/**
 * The two halves of `docker cp` that happen on this side: extracting a
 * container's archive at a local path (go-archive CopyTo), and making the
 * archive of a local path for a container destination (TarResource and
 * PrepareArchiveCopy). CopyResource, both at once on local paths, is what
 * the unit tests drive.
 */
import { Readable } from 'node:stream'
import { chunked, encodeEntries, rebaseEntries, type TarEntry } from './entries.js'
import { copyInfoDestinationPath, copyInfoSourcePath, prepareArchiveCopy, type CopyInfo } from './info.js'
import { goClean, preserveTrailingDotOrSeparator } from './paths.js'
import type { ByteCount } from './progress.js'
import { tarResource } from './tar-resource.js'
import { untar } from './untar.js'

/** CopyTo: extract entries whose source is src at the local dstPath, as `cp -a` would place them. */
export async function copyTo(entries: AsyncIterable<TarEntry>, src: CopyInfo, dstPath: string): Promise<void> {
  const dst = await copyInfoDestinationPath(dstPath)
  const plan = prepareArchiveCopy(src, dst)
  const rebased = plan.rebase ? rebaseEntries(entries, plan.rebase.from, plan.rebase.to) : entries
  await untar(rebased, plan.dstDir)
}

/** The directory to extract into and the tar to send there, for a local source and a destination. */
export function archiveForCopy(src: CopyInfo, dst: CopyInfo): { dstDir: string; entries: AsyncGenerator<TarEntry> } {
  // Checked before any file is read, as PrepareArchiveCopy is called before the tar is read.
  const plan = prepareArchiveCopy(src, dst)
  const entries = tarResource(src.path, src.rebaseName)
  return { dstDir: plan.dstDir, entries: plan.rebase ? rebaseEntries(entries, plan.rebase.from, plan.rebase.to) : entries }
}

/** The tar bytes of entries, in chunks fit for an upload, counted as they are read when a count is given. */
export function tarStream(entries: AsyncIterable<TarEntry>, count?: ByteCount): Readable {
  const bytes = chunked(encodeEntries(entries))
  return Readable.from(count ? count.counted(bytes) : bytes, { objectMode: false })
}

/** CopyResource: a local copy with docker cp's rules (both paths absolute). */
export async function copyResource(srcPath: string, dstPath: string, followLink: boolean): Promise<void> {
  const s = preserveTrailingDotOrSeparator(goClean(srcPath), srcPath)
  const d = preserveTrailingDotOrSeparator(goClean(dstPath), dstPath)
  const src = await copyInfoSourcePath(s, followLink)
  await copyTo(tarResource(src.path, src.rebaseName), src, d)
}
