/**
 * docker cp and docker export on the daemon side (moby daemon/archive*.go,
 * daemon/export.go): stat a path in a container, tar a path out, unpack a
 * tar into a directory, tar the whole rootfs. Every path is resolved with the
 * container's root as `/` (see view.ts); writing goes through the builder's
 * chroot-mode unpacker, which resolves each entry the same way.
 */
import { promises as fsp, type BigIntStats } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { encodeHeader, END_OF_ARCHIVE, padding, tarCreateOf, TarReader, type TarProcess } from '../archive/index.js'
import { extractTar, type DirRef } from '../builder/index.js'
import type { ContainerRecord, ContainerService, FsHold } from '../containers/index.js'
import { EngineError, internal, invalidArgument, notFound } from '../errors/index.js'
import { goFileMode } from '../lib/index.js'
import { formatTimeNano } from '../logs/index.js'
import { resolveUser } from '../runtime/index.js'
import { absPath, checkWritable, goBase } from './paths.js'
import { FsView } from './view.js'

/** What HEAD/GET /containers/{id}/archive report in X-Docker-Container-Path-Stat. */
export interface PathStat {
  name: string
  size: number
  /** Go's os.FileMode. */
  mode: number
  mtime: string
  linkTarget: string
}

export interface ContainerFsDeps {
  containers: Pick<ContainerService, 'holdFs' | 'announce'>
}

const NOT_FOUND_CODES = new Set(['ENOENT', 'ENOTDIR'])

export class ContainerFs {
  constructor(private readonly d: ContainerFsDeps) {}

  /** HEAD /containers/{id}/archive. */
  async statPath(ref: string, p: string): Promise<PathStat> {
    return this.withView(ref, async (view) => {
      const found = await this.locate(view, ref, p)
      await found.dir.close()
      return found.stat
    })
  }

  /** GET /containers/{id}/archive: the stat and a tar of the path, rebased on its name as docker's TarResourceRebase. */
  async archivePath(ref: string, p: string): Promise<{ stat: PathStat; content: Readable }> {
    const hold = await this.d.containers.holdFs(ref)
    let view: FsView | undefined
    try {
      view = await FsView.open(hold.rootfs, hold.mounts)
      const { stat, dir, member } = await this.locate(view, ref, p)
      // `.` is a directory named with a trailing `/` or `/.`: renamed as docker's TarResourceRebase; a named member already is.
      const base = goBase(absPath(p))
      const rebase = base === '/' ? '' : base
      const tar = tarCreateOf(dir.procPath, [member], ['--xattrs', '--xattrs-include=security.capability'])
      const opened = view
      const content = rebased(tar, (name) => (member === '.' ? rebase + name.slice(1) : name), async () => {
        await dir.close()
        await opened.close()
        await hold.release()
      })
      this.d.containers.announce(hold.rec, 'archive-path')
      return { stat, content }
    } catch (err) {
      await view?.close()
      await hold.release()
      throw err
    }
  }

  /** PUT /containers/{id}/archive: unpack into the directory at path (symlinks followed inside the container). */
  async extractToDir(ref: string, p: string, content: AsyncIterable<Uint8Array>, opts: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean }): Promise<void> {
    await this.withView(ref, async (view, hold) => {
      const clean = path.posix.normalize(`/${p}`)
      const destDir = await view.dir.openDir(clean).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOTDIR' && (await this.exists(view, clean))) throw invalidArgument('extraction point is not a directory')
        if (err.code && NOT_FOUND_CODES.has(err.code)) throw notFound(`Could not find the file ${p} in container ${ref}`)
        throw err
      })
      const dest = destDir.containerPath
      await destDir.close()
      checkWritable(hold, dest)
      const owner = opts.copyUIDGID && hold.rec.spec.user ? await this.ownerOf(view, hold.rec) : undefined
      await extractTar(content, view.root, { mode: 'chroot', under: dest, noOverwriteDirNonDir: opts.noOverwriteDirNonDir, ...(owner ? { owner } : {}), what: 'archive' })
      this.d.containers.announce(hold.rec, 'extract-to-dir')
    })
  }

  /** GET /containers/{id}/export: the rootfs (no volumes) as a tar, names relative, as docker's. */
  async export(ref: string): Promise<Readable> {
    const hold = await this.d.containers.holdFs(ref)
    try {
      const tar = tarCreateOf(hold.rootfs, ['.'], ['--one-file-system', '--xattrs', '--xattrs-include=security.capability'])
      const content = rebased(tar, (name) => (name === './' ? null : name.replace(/^\.\//, '')), () => hold.release())
      this.d.containers.announce(hold.rec, 'export')
      return content
    } catch (err) {
      await hold.release()
      throw err
    }
  }

  private async withView<T>(ref: string, fn: (view: FsView, hold: FsHold) => Promise<T>): Promise<T> {
    const hold = await this.d.containers.holdFs(ref)
    try {
      const view = await FsView.open(hold.rootfs, hold.mounts)
      try {
        return await fn(view, hold)
      } finally {
        await view.close()
      }
    } finally {
      await hold.release()
    }
  }

  /**
   * moby's containerFSView.Stat: lstat of the path, its parents' symlinks
   * followed inside the container (a trailing `/` or `/.` follows the last
   * one too). Returns the directory to tar from (the path itself as `.`, or
   * its parent and its name); the caller closes it.
   */
  private async locate(view: FsView, ref: string, p: string): Promise<{ stat: PathStat; dir: DirRef; member: string }> {
    const abs = absPath(p)
    const clean = path.posix.normalize(abs)
    const whole = clean === '/' || abs.endsWith('/') || abs.endsWith('/.')
    let dir: DirRef | undefined
    try {
      let st: BigIntStats
      let member = '.'
      if (whole) {
        dir = await view.dir.openDir(clean)
        st = await dir.stat()
      } else {
        const parent = await view.dir.openParent(clean)
        dir = parent.dir
        member = parent.name
        st = await fsp.lstat(`${dir.path}/${member}`, { bigint: true })
      }
      const linkTarget = st.isSymbolicLink() ? await view.dir.resolve(clean) : ''
      return { dir, member, stat: { name: goBase(abs), size: Number(st.size), mode: goFileMode(Number(st.mode)), mtime: formatTimeNano(st.mtimeNs), linkTarget } }
    } catch (err) {
      await dir?.close()
      const code = (err as NodeJS.ErrnoException).code
      if (code && NOT_FOUND_CODES.has(code)) throw notFound(`Could not find the file ${p} in container ${ref}`)
      if (err instanceof EngineError) throw err
      throw internal(`stat ${p}: ${(err as Error).message.replace(/\/proc\/self\/fd\/\d+/g, '')}`, err)
    }
  }

  /** Whether something (not followed) is at the fully resolved p. */
  private async exists(view: FsView, p: string): Promise<boolean> {
    const { dir, name } = await view.dir.openParent(await view.dir.resolve(p)).catch(() => ({ dir: undefined, name: '' }))
    if (!dir) return false
    try {
      return (await fsp.lstat(`${dir.path}/${name}`).catch(() => undefined)) !== undefined
    } finally {
      await dir.close()
    }
  }

  /** docker cp -a: the container's user, looked up in its own /etc/passwd and /etc/group. */
  private async ownerOf(view: FsView, rec: ContainerRecord): Promise<{ uid: number; gid: number }> {
    try {
      const u = await resolveUser(view.root, rec.spec.user)
      return { uid: u.uid, gid: u.gid }
    } catch (err) {
      throw invalidArgument((err as Error).message, err)
    }
  }
}

/**
 * tar's output with each name (and hard link target) renamed; `null` drops
 * the entry. `done` runs once, when the stream ends, fails or is destroyed.
 */
function rebased(tar: TarProcess, rename: (name: string) => string | null, done: () => Promise<void>): Readable {
  let finished = false
  const finish = async () => {
    if (finished) return
    finished = true
    tar.kill()
    await done().catch(() => {})
  }
  async function* gen(): AsyncGenerator<Buffer> {
    try {
      const reader = new TarReader(tar.stdout as Readable)
      for (;;) {
        const h = await reader.next()
        if (!h) break
        const name = rename(h.name)
        // Skipped entries are directories (no data to pass over).
        if (name === null) continue
        const linkname = h.type === 'link' ? rename(h.linkname) ?? h.linkname : h.linkname
        yield encodeHeader({ ...h, name, linkname })
        if (h.type === 'file' && h.size > 0) {
          for await (const c of reader.body()) yield c
          yield padding(h.size)
        }
      }
      await tar.done
      yield END_OF_ARCHIVE
    } finally {
      await finish()
    }
  }
  const out = Readable.from(gen(), { objectMode: false })
  out.on('close', () => void finish())
  return out
}
