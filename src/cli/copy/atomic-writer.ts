/**
 * `docker export -o FILE` writes through moby/sys/atomicwriter: the
 * destination is checked first (its directory must exist, it must be a
 * regular file if it exists), the data goes to a temporary file beside it,
 * and only a write that produced data and no write error is renamed into
 * place, mode 0600.
 */
import { randomBytes } from 'node:crypto'
import { promises as fsp, type Stats } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { CopyError, isNotExist, pathError } from './errors.js'
import { goAbs, goBase, goDir } from './paths.js'

/** validateDestination's refusal of what is at fileName, if anything. */
export function destinationProblem(st: Stats): string | undefined {
  if (st.isFile()) return undefined
  if (st.isDirectory()) return 'cannot write to a directory'
  if (st.isSymbolicLink()) return 'cannot write to a symbolic link directly'
  if (st.isFIFO()) return 'cannot write to a named pipe (FIFO)'
  if (st.isSocket()) return 'cannot write to a socket'
  if (st.isCharacterDevice()) return 'cannot write to a character device file'
  if (st.isBlockDevice()) return 'cannot write to a block device file'
  return 'unsupported file type'
}

export class AtomicFileWriter {
  private written = false
  private writeFailed = false

  private constructor(private readonly fh: FileHandle, private readonly tmp: string, private readonly dest: string, private readonly mode: number) {}

  /** New: validates fileName and opens the temporary file beside it. */
  static async open(fileName: string, mode: number): Promise<AtomicFileWriter> {
    if (fileName === '') throw new CopyError('file name is empty')
    const dir = goDir(fileName)
    if (dir !== '.' && dir !== '..') {
      let st
      try {
        st = await fsp.stat(dir)
      } catch (e) {
        throw new CopyError(`invalid output path: ${pathError('stat', dir, e).message}`)
      }
      if (!st.isDirectory()) throw new CopyError(`invalid output path: stat ${dir}: not a directory`)
    }
    let st: Stats | undefined
    try {
      st = await fsp.lstat(fileName)
    } catch (e) {
      if (!isNotExist(e)) throw new CopyError(`failed to stat output path: ${pathError('lstat', fileName, e).message}`)
    }
    if (st) {
      const problem = destinationProblem(st)
      if (problem) throw new CopyError(problem)
    }
    const abs = goAbs(fileName)
    // os.CreateTemp's pattern: the prefix, then random digits.
    const tmp = `${goDir(abs)}/.tmp-${goBase(fileName)}${randomBytes(5).readUInt32BE(0)}`
    let fh
    try {
      fh = await fsp.open(tmp, 'wx', 0o600)
    } catch (e) {
      throw pathError('open', tmp, e)
    }
    return new AtomicFileWriter(fh, tmp, abs, mode)
  }

  async write(b: Uint8Array): Promise<void> {
    this.written = true
    try {
      await this.fh.write(b)
    } catch (e) {
      this.writeFailed = true
      throw pathError('write', this.tmp, e)
    }
  }

  /** Syncs and renames into place when something was written without error; the temporary file is gone after. */
  async close(): Promise<void> {
    try {
      await this.fh.sync()
      await this.fh.close()
      await fsp.chmod(this.tmp, this.mode)
      if (this.written && !this.writeFailed) await fsp.rename(this.tmp, this.dest)
    } finally {
      await this.fh.close().catch(() => {})
      await fsp.rm(this.tmp, { force: true })
    }
  }
}
