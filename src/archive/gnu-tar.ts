/**
 * The one place that spawns GNU tar. Node cannot create device nodes, set
 * ownership by number with xattrs, or make hard links from a stream as one
 * step; GNU tar does all of that natively, fed only headers we validated.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { internal } from '../errors/index.js'

export interface TarProcess {
  child: ChildProcess
  /** Resolves when tar exits 0; rejects with its stderr otherwise. */
  done: Promise<void>
}

function start(args: string[], stdio: ['pipe' | 'ignore', 'pipe' | 'ignore', 'pipe']): TarProcess {
  const child = spawn('tar', args, { stdio })
  const err: Buffer[] = []
  child.stderr?.on('data', (b: Buffer) => err.push(b))
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, sig) => {
      if (code === 0) resolve()
      else reject(internal(`tar ${args[0]}: ${sig ? `killed by ${sig}` : `exit ${code}`}: ${Buffer.concat(err).toString('utf8').trim()}`))
    })
  })
  return { child, done }
}

/** Extract a tar read from stdin into dir, keeping numeric owners, modes and all xattrs. */
export function tarExtract(dir: string): TarProcess {
  return start(['-x', '-f', '-', '-C', dir, '--numeric-owner', '-p', '--xattrs', '--xattrs-include=*'], ['pipe', 'ignore', 'pipe'])
}

/** Write a PAX tar of dir's contents (names relative, `./` prefixed) to stdout. */
export function tarCreate(dir: string): TarProcess {
  return start(['-c', '-f', '-', '-C', dir, '--numeric-owner', '--xattrs', '--xattrs-include=*', '--format=pax', '--sort=name', '.'], ['ignore', 'pipe', 'pipe'])
}
