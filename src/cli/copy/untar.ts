/**
 * Extracts a copy's entries into a local directory as go-archive's Untar
 * with NoLchown and NoOverwriteDirNonDir does for `docker cp`: names are
 * cleaned and must stay below the directory, symlinks and hard links must
 * point inside it, an existing directory is never replaced by a non-directory
 * nor the reverse (the directory itself is left as it is), files end up
 * owned by whoever runs the command, modes and mtimes as in the archive.
 * Each entry is checked here; GNU tar (archive/ spawns it) then writes
 * them, devices, xattrs and hard links included, which Node cannot.
 */
import { promises as fsp } from 'node:fs'
import { Readable, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { tarExtract } from '../../archive/index.js'
import { CopyError } from './errors.js'
import { chunked, encodeEntries, type TarEntry } from './entries.js'
import { goClean, goDir, goJoin, goQuote, goRel } from './paths.js'

/** Names are "binary" strings (one char per byte); paths for fs calls and messages are UTF-8. */
const toFs = (s: string): Buffer => Buffer.from(s, 'latin1')
const shown = (s: string): string => goQuote(Buffer.from(s, 'latin1').toString('utf8'))

/** The entries as GNU tar must see them, checked against dest on disk; dest is binary (latin1). */
export async function* checkedEntries(entries: AsyncIterable<TarEntry>, dest: string, owner: { uid: number; gid: number }): AsyncGenerator<TarEntry> {
  for await (const e of entries) {
    const h = e.header
    const name = goClean(h.name)
    const p = goJoin(dest, name)
    const rel = goRel(dest, p)
    if (rel === '..' || rel.startsWith('../')) throw new CopyError(`${shown(name)} is outside of ${shown(dest)}`)
    const isDir = h.type === 'dir'
    const st = await fsp.lstat(toFs(p)).catch(() => undefined)
    if (st) {
      if (st.isDirectory() && !isDir) throw new CopyError(`cannot overwrite directory ${shown(p)} with non-directory ${shown(dest)}`)
      if (!st.isDirectory() && isDir) throw new CopyError(`cannot overwrite non-directory ${shown(p)} with directory ${shown(dest)}`)
    }
    // The destination directory keeps its own mode and times.
    if (rel === '.') continue
    let linkname = h.linkname
    if (h.type === 'symlink') {
      const target = goJoin(goDir(p), h.linkname)
      if (!target.startsWith(dest)) throw new CopyError(`invalid symlink ${shown(p)} -> ${shown(h.linkname)}`)
    } else if (h.type === 'link') {
      const target = goJoin(dest, h.linkname)
      if (!target.startsWith(dest)) throw new CopyError(`invalid hardlink ${shown(target)} -> ${shown(h.linkname)}`)
      // tar resolves hard-link targets from -C, as Go joins them to dest.
      linkname = goRel(dest, target)
    }
    // Go never chowns here; tar as root always does, so it is given the owner already there (or the caller).
    const own = st?.isDirectory() ? { uid: st.uid, gid: st.gid } : owner
    yield { ...e, header: { ...h, name: rel, linkname, uid: own.uid, gid: own.gid, uname: '', gname: '' } }
  }
}

/** tar's own complaint, without the wrapper's "tar -x: exit 2:" and its closing line. */
function tarMessage(e: unknown): string {
  const msg = (e as Error).message.replace(/^tar -x: [^:]*: /, '')
  const lines = msg.split('\n').filter((l) => l !== '' && !l.includes('Exiting with failure status'))
  return lines.join('\n') || msg
}

/** Untar entries into the existing directory dest. */
export async function untar(entries: AsyncIterable<TarEntry>, dest: string): Promise<void> {
  const dir = goClean(dest)
  const owner = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 }
  const tar = tarExtract(dir)
  let tarFailed: unknown
  tar.done.catch((e: unknown) => {
    tarFailed = e
  })
  const stdin = tar.child.stdin as Writable
  const binDir = Buffer.from(dir, 'utf8').toString('latin1')
  // An entry refused ends the archive there: what came before is extracted, as Go's Untar has done by then.
  let refused: CopyError | undefined
  async function* accepted(): AsyncGenerator<TarEntry> {
    try {
      yield* checkedEntries(entries, binDir, owner)
    } catch (e) {
      if (!(e instanceof CopyError)) throw e
      refused = e
    }
  }
  try {
    await pipeline(Readable.from(chunked(encodeEntries(accepted()))), stdin)
    await tar.done.catch(() => {})
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ERR_STREAM_DESTROYED') {
      // tar gave up first: its reason is the one to tell.
      await tar.done.catch(() => {})
      if (tarFailed) throw new CopyError(tarMessage(tarFailed), { cause: tarFailed })
    }
    tar.kill()
    await tar.done.catch(() => {})
    throw e
  }
  if (refused) throw refused
  if (tarFailed) throw new CopyError(tarMessage(tarFailed), { cause: tarFailed })
}
