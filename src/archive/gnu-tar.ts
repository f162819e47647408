/**
 * The one place that spawns GNU tar. Node cannot create device nodes, set
 * ownership by number with xattrs, or make hard links from a stream as one
 * step; GNU tar does all of that natively, fed only headers we validated.
 * Nor can Node read xattrs (overlay's opaque marks, file capabilities), so
 * tar also reads the files of a layer being committed (tarList).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { PassThrough, type Readable, type Writable } from 'node:stream'
import { internal } from '../errors/index.js'

export interface TarProcess {
  child: ChildProcess
  /**
   * tar's output, read from the moment tar starts: a child that exits before
   * its stdout is read gets it resumed by Node (child_process flushStdio) and
   * the unread bytes are lost. Present when stdout is a pipe.
   */
  stdout?: Readable
  /** Resolves when tar exits with an accepted status (0; 1 too for tarList), or after kill(); rejects with its stderr otherwise. */
  done: Promise<void>
  /** Stop tar; done then resolves. */
  kill(): void
}

function start(args: string[], stdio: ['pipe' | 'ignore', 'pipe' | 'ignore', 'pipe'], ok: readonly number[] = [0]): TarProcess {
  const child = spawn('tar', args, { stdio })
  const err: Buffer[] = []
  let killed = false
  child.stderr?.on('data', (b: Buffer) => err.push(b))
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, sig) => {
      if ((code !== null && ok.includes(code)) || killed) resolve()
      else reject(internal(`tar ${args[0]}: ${sig ? `killed by ${sig}` : `exit ${code}`}: ${explain(Buffer.concat(err).toString('utf8').trim())}`))
    })
  })
  let stdout: Readable | undefined
  if (child.stdout) {
    const pass = new PassThrough()
    child.stdout.pipe(pass)
    stdout = pass
  }
  return {
    child,
    ...(stdout ? { stdout } : {}),
    done,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) {
        killed = true
        child.kill('SIGKILL')
      }
    },
  }
}

/**
 * tar reports a short write (the file system filled up mid-file) without
 * errno's words; docker's users look for "no space left on device".
 */
function explain(stderr: string): string {
  return /Wrote only \d+ of \d+ bytes/.test(stderr) && !/no space left on device/i.test(stderr) ? `${stderr}: no space left on device` : stderr
}

/**
 * Extract a tar read from stdin into dir, keeping numeric owners and modes,
 * and all xattrs (layers) or none (a build context, which carries none).
 */
export function tarExtract(dir: string, opts: { xattrs?: boolean } = {}): TarProcess {
  const attrs = opts.xattrs === false ? ['--no-xattrs', '--no-acls', '--no-selinux'] : ['--xattrs', '--xattrs-include=*']
  return start(['-x', '-f', '-', '-C', dir, '--numeric-owner', '-p', ...attrs], ['pipe', 'ignore', 'pipe'])
}

/** Write a PAX tar of dir's contents (names relative, `./` prefixed) to stdout. */
export function tarCreate(dir: string): TarProcess {
  return start(['-c', '-f', '-', '-C', dir, '--numeric-owner', '--xattrs', '--xattrs-include=*', '--format=pax', '--sort=name', '.'], ['ignore', 'pipe', 'pipe'])
}

/**
 * A PAX tar of members of dir, recursively, as they are on disk (docker cp's
 * and export's source). Times are whole seconds and access and change times are left out, as Go's
 * writer leaves them; `extra` picks xattrs and the like.
 */
export function tarCreateOf(dir: string, members: readonly string[], extra: readonly string[]): TarProcess {
  return start(['-c', '-f', '-', '-C', dir, '--numeric-owner', '--format=pax', '--pax-option=delete=atime,delete=ctime,delete=mtime', '--sort=name', ...extra, '--', ...members], ['ignore', 'pipe', 'pipe'])
}

/**
 * A PAX tar of exactly the listed paths of root (no recursion), names given
 * NUL-separated on stdin, `extra` options added (which xattrs to read).
 * Exit status 1 ("file changed as we read it", a container committed without
 * pausing) is accepted as docker accepts it; files that vanish are skipped.
 */
export function tarList(root: string, names: readonly string[], extra: readonly string[]): TarProcess {
  const tar = start(
    ['-c', '-f', '-', '-C', root, '--numeric-owner', '--format=pax', '--no-recursion', '--ignore-failed-read', ...extra, '--null', '--verbatim-files-from', '-T', '-'],
    ['pipe', 'pipe', 'pipe'], [0, 1],
  )
  tar.done.catch(() => {})
  const stdin = tar.child.stdin as Writable
  stdin.on('error', () => {})
  stdin.end(Buffer.concat(names.map((n) => Buffer.from(`./${n}\0`, 'latin1'))))
  return tar
}
