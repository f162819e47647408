/**
 * Directories inside a root that something may be changing while we work
 * (docker cp into a running container). resolveInRoot resolves in userspace
 * but hands back a path the kernel walks again: a directory swapped for a
 * symlink in between leads out of the root. Here every component is opened
 * as a directory with O_NOFOLLOW below its parent's descriptor (reached as
 * /proc/self/fd/N/name: Node has no openat), symlinks are expanded in
 * userspace with the root as `/`, and the caller gets the directory as
 * `/proc/self/fd/N`. Whatever is then done through that path happens in the
 * directory that was checked; only its last component is looked up again,
 * and the calls made on it do not follow a symlink there.
 */
import { constants, promises as fsp, type BigIntStats } from 'node:fs'
import path from 'node:path'

const MAX_LINKS = 255
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW

/** An open directory inside the root. */
export interface DirRef {
  /** `/proc/self/fd/N`: paths below it are looked up from this very directory. */
  readonly path: string
  /** The same for a child process: `/proc/<berthd>/fd/N`. */
  readonly procPath: string
  /** Its path with the root as `/`, every symlink resolved. */
  readonly containerPath: string
  stat(): Promise<BigIntStats>
  close(): Promise<void>
}

function ref(fh: fsp.FileHandle, names: readonly string[]): DirRef {
  return {
    path: `/proc/self/fd/${fh.fd}`,
    procPath: `/proc/${process.pid}/fd/${fh.fd}`,
    containerPath: `/${names.join('/')}`,
    stat: () => fh.stat({ bigint: true }),
    close: () => fh.close(),
  }
}

function errno(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code })
}

export interface OpenDirOptions {
  /** Make missing directories with this mode (root-owned, umask ignored). */
  mkdir?: number
}

export class RootDir {
  private constructor(private readonly root: fsp.FileHandle) {}

  /** Open root (a trusted host path) as the `/` of later walks. */
  static async open(root: string): Promise<RootDir> {
    return new RootDir(await fsp.open(root, DIR_FLAGS & ~constants.O_NOFOLLOW))
  }

  async close(): Promise<void> {
    await this.root.close()
  }

  /** The directory at p (a path with the root as `/`), symlinks on the way and at the end followed inside the root. */
  async openDir(p: string, opts: OpenDirOptions = {}): Promise<DirRef> {
    return this.walk(p.split('/'), opts)
  }

  /** The directory holding p's last component (resolved as openDir), and that component's name (`''` for the root). */
  async openParent(p: string, opts: OpenDirOptions = {}): Promise<{ dir: DirRef; name: string }> {
    const clean = path.posix.normalize(`/${p}`).replace(/\/+$/, '')
    if (clean === '' || clean === '/') return { dir: await this.openDir('/'), name: '' }
    return { dir: await this.openDir(path.posix.dirname(clean), opts), name: path.posix.basename(clean) }
  }

  /**
   * Where p leads with every symlink followed (also the last), as a path
   * with the root as `/`; components that do not exist are kept as named
   * (moby's FollowSymlinkInScope).
   */
  async resolve(p: string): Promise<string> {
    const queue = p.split('/')
    let links = 0
    for (;;) {
      const clean = path.posix.normalize(`/${queue.join('/')}`)
      const { dir, name } = await this.openParent(clean).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return { dir: undefined, name: '' }
        throw err
      })
      // A missing or non-directory parent: what openParent could not walk stays as written.
      if (!dir) return clean
      try {
        if (name === '') return dir.containerPath
        const st = await fsp.lstat(`${dir.path}/${name}`).catch(() => undefined)
        if (!st?.isSymbolicLink()) return path.posix.join(dir.containerPath, name)
        if (++links > MAX_LINKS) throw errno('ELOOP', `too many levels of symbolic links resolving ${p}`)
        const target = await fsp.readlink(`${dir.path}/${name}`)
        queue.length = 0
        queue.push(...(target.startsWith('/') ? [target] : [dir.containerPath, target]))
      } finally {
        await dir.close()
      }
    }
  }

  private async walk(parts: string[], opts: OpenDirOptions): Promise<DirRef> {
    const queue = parts.filter((x) => x !== '' && x !== '.')
    const stack: Array<{ fh: fsp.FileHandle; name: string }> = []
    const fdOf = () => (stack.at(-1)?.fh ?? this.root).fd
    const closeAll = async () => {
      for (const e of stack.splice(0)) await e.fh.close().catch(() => {})
    }
    let links = 0
    let made = 0
    try {
      while (queue.length > 0) {
        const part = queue.shift() as string
        if (part === '' || part === '.') continue
        if (part === '..') {
          await stack.pop()?.fh.close()
          continue
        }
        const host = `/proc/self/fd/${fdOf()}/${part}`
        let fh: fsp.FileHandle | undefined
        try {
          fh = await fsp.open(host, DIR_FLAGS)
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code
          if (code === 'ENOENT' && opts.mkdir !== undefined && ++made <= 4096) {
            const created = await fsp.mkdir(host).then(() => true, (e: NodeJS.ErrnoException) => {
              if (e.code !== 'EEXIST') throw e
              return false
            })
            // Open it (or whatever raced in) again; the mode is set through the descriptor.
            queue.unshift(part)
            const dir = created ? await fsp.open(host, DIR_FLAGS).catch(() => undefined) : undefined
            if (dir) {
              await dir.chmod(opts.mkdir)
              await dir.close()
            }
            continue
          }
          if (code !== 'ELOOP' && code !== 'ENOTDIR') throw err
          const st = await fsp.lstat(host)
          if (!st.isSymbolicLink()) throw errno('ENOTDIR', `not a directory: /${[...stack.map((e) => e.name), part].join('/')}`)
          if (++links > MAX_LINKS) throw errno('ELOOP', 'too many levels of symbolic links')
          const target = await fsp.readlink(host)
          if (target.startsWith('/')) await closeAll()
          queue.unshift(...target.split('/'))
          continue
        }
        stack.push({ fh, name: part })
      }
      const last = stack.pop()
      const names = [...stack.map((e) => e.name), ...(last ? [last.name] : [])]
      await closeAll()
      return ref(last?.fh ?? (await fsp.open(`/proc/self/fd/${this.root.fd}`, DIR_FLAGS & ~constants.O_NOFOLLOW)), names)
    } catch (err) {
      await closeAll()
      throw err
    }
  }
}
