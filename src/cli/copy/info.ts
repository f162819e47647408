/**
 * What the source and destination of a copy are, and from that where the
 * archive is extracted and under which name (go-archive's CopyInfo,
 * CopyInfoSourcePath, CopyInfoDestinationPath, PrepareArchiveCopy).
 */
import { promises as fsp } from 'node:fs'
import { errCannotCopyDir, errDirNotExists, errNotDirectory, CopyError, isNotExist, pathError } from './errors.js'
import { assertsDirectory, getRebaseName, goBase, goClean, goDir, goJoin, goQuote, goSplit, hasTrailingPathSeparator, splitPathDirEntry } from './paths.js'

export interface CopyInfo {
  path: string
  exists: boolean
  isDir: boolean
  /** The name the archive's top entry takes instead of the path's base ('' for none). */
  rebaseName: string
}

/** Where to extract, and the entry-name prefix to replace on the way, if any. */
export interface CopyPlan {
  dstDir: string
  rebase?: { from: string; to: string }
}

const MAX_LINKS = 255
const MAX_DEST_LINKS = 10

/**
 * filepath.EvalSymlinks on an absolute path, element by element as Go's
 * walkSymlinks does: ".." is lexical on what is resolved so far, a
 * non-directory followed by more path is a bare "not a directory".
 */
export async function evalSymlinks(p: string): Promise<string> {
  let rest = p
  let dest = '/'
  let links = 0
  let start = 0
  while (start < rest.length) {
    while (start < rest.length && rest[start] === '/') start++
    let end = start
    while (end < rest.length && rest[end] !== '/') end++
    if (end === start) break
    const part = rest.slice(start, end)
    if (part === '.') {
      start = end
      continue
    }
    if (part === '..') {
      dest = dest === '/' ? '/' : dest.slice(0, dest.lastIndexOf('/')) || '/'
      start = end
      continue
    }
    dest = dest.endsWith('/') ? dest + part : `${dest}/${part}`
    let st
    try {
      st = await fsp.lstat(dest)
    } catch (e) {
      throw pathError('lstat', dest, e)
    }
    if (!st.isSymbolicLink()) {
      if (!st.isDirectory() && end < rest.length) throw Object.assign(errNotDirectory(), { code: 'ENOTDIR' })
      start = end
      continue
    }
    if (++links > MAX_LINKS) throw new CopyError('EvalSymlinks: too many links')
    let link: string
    try {
      link = await fsp.readlink(dest)
    } catch (e) {
      throw pathError('readlink', dest, e)
    }
    rest = link + rest.slice(end)
    if (link.startsWith('/')) {
      dest = '/'
    } else {
      dest = dest.slice(0, dest.lastIndexOf('/')) || '/'
    }
    start = 0
  }
  return goClean(dest)
}

/**
 * ResolveHostSourcePath: with followLink the whole path is resolved and the
 * archive keeps the name the user gave; without, only the parent is, so a
 * symlink is copied as a symlink (unless a trailing "/" asks for its target).
 */
export async function resolveHostSourcePath(p: string, followLink: boolean): Promise<[string, string]> {
  if (followLink) {
    return getRebaseName(p, await evalSymlinks(p))
  }
  const [dir, base] = goSplit(p)
  const resolvedDir = await evalSymlinks(dir)
  // Concatenated, not joined, as go-archive does (the result may hold "//").
  const resolved = `${resolvedDir}/${base}`
  const rebaseName = hasTrailingPathSeparator(p) && goBase(p) !== goBase(resolved) ? goBase(p) : ''
  return [resolved, rebaseName]
}

/** CopyInfoSourcePath: the local source must exist. */
export async function copyInfoSourcePath(p: string, followLink: boolean): Promise<CopyInfo> {
  const [resolved, rebaseName] = await resolveHostSourcePath(p, followLink)
  let st
  try {
    st = await fsp.lstat(resolved)
  } catch (e) {
    throw pathError('lstat', resolved, e)
  }
  return { path: resolved, exists: true, isDir: st.isDirectory(), rebaseName }
}

/**
 * CopyInfoDestinationPath: a local destination, its symlinks followed (a
 * broken one names the file to create); when it does not exist its parent
 * must be a directory.
 */
export async function copyInfoDestinationPath(p: string): Promise<CopyInfo> {
  const original = p
  let cur = p
  let st = await fsp.lstat(cur).catch((e: unknown) => e as Error)
  for (let n = 0; !(st instanceof Error) && st.isSymbolicLink(); n++) {
    if (n > MAX_DEST_LINKS) throw new CopyError(`too many symlinks in ${original}`)
    let target: string
    try {
      target = await fsp.readlink(cur)
    } catch (e) {
      throw pathError('readlink', cur, e)
    }
    if (!target.startsWith('/')) target = goJoin(splitPathDirEntry(cur)[0], target)
    cur = target
    st = await fsp.lstat(cur).catch((e: unknown) => e as Error)
  }
  if (st instanceof Error) {
    if (!isNotExist(st)) throw pathError('lstat', cur, st)
    const [parent] = splitPathDirEntry(cur)
    let pst
    try {
      pst = await fsp.stat(parent)
    } catch (e) {
      throw pathError('stat', parent, e)
    }
    if (!pst.isDirectory()) throw errNotDirectory()
    return { path: cur, exists: false, isDir: false, rebaseName: '' }
  }
  return { path: cur, exists: true, isDir: st.isDirectory(), rebaseName: '' }
}

/**
 * PrepareArchiveCopy: an existing directory takes the archive as it is;
 * anything else gets the archive extracted into its parent with the top
 * entry renamed to the destination's base. A directory cannot replace a
 * file, and a file cannot become a directory that a trailing "/" asked for.
 */
export function prepareArchiveCopy(src: CopyInfo, dst: CopyInfo): CopyPlan {
  const [dstDir, dstBase] = splitPathDirEntry(dst.path)
  const srcBase = src.rebaseName || splitPathDirEntry(src.path)[1]
  if (dst.exists && dst.isDir) return { dstDir: dst.path }
  if (dst.exists && src.isDir) throw errCannotCopyDir()
  if (!dst.exists && !src.isDir && assertsDirectory(dst.path)) throw errDirNotExists()
  return { dstDir, rebase: { from: srcBase, to: dstBase } }
}

/**
 * command.ValidateOutputPath for a local destination: its parent must exist,
 * and what is there already must be a directory or a regular file.
 */
export async function validateOutputPath(p: string): Promise<void> {
  const dir = goDir(goClean(p))
  if (dir !== '' && dir !== '.') {
    const missing = await fsp.stat(dir).then(() => false, (e: unknown) => isNotExist(e))
    if (missing) throw new CopyError(`invalid output path: directory ${goQuote(dir)} does not exist`)
  }
  let st
  try {
    st = await fsp.stat(p)
  } catch (e) {
    if (isNotExist(e)) return
    throw pathError('stat', p, e)
  }
  if (st.isDirectory() || st.isFile()) return
  if (st.isBlockDevice() || st.isCharacterDevice()) throw new CopyError(`invalid output path: ${goQuote(p)} must be a directory or a regular file: got a device`)
}
