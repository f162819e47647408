/**
 * Paths inside an image root mounted on the host: every symlink met on the
 * way is resolved as the container would see it (absolute targets restart at
 * the root, `..` stops at the root), so a build step can never reach the
 * host's files through a link the image or the context planted.
 */
import { promises as fsp } from 'node:fs'
import path from 'node:path'
import { invalidArgument } from '../errors/index.js'

const MAX_LINKS = 255

/** The host path of `p` (absolute, in container terms) under root, with symlinks resolved inside root. Missing components are kept as named. */
export async function resolveInRoot(root: string, p: string): Promise<string> {
  const parts = path.posix.normalize(`/${p}`).split('/').filter((x) => x !== '')
  const done: string[] = []
  let links = 0
  while (parts.length > 0) {
    const part = parts.shift() as string
    if (part === '..') {
      done.pop()
      continue
    }
    const host = path.join(root, ...done, part)
    let st
    try {
      st = await fsp.lstat(host)
    } catch {
      done.push(part, ...parts.filter((x) => x !== '.'))
      return path.join(root, ...normalizeParts(done))
    }
    if (st.isSymbolicLink()) {
      if (++links > MAX_LINKS) throw invalidArgument(`too many levels of symbolic links resolving ${p}`)
      const target = await fsp.readlink(host)
      const next = target.split('/').filter((x) => x !== '' && x !== '.')
      if (target.startsWith('/')) done.length = 0
      parts.unshift(...next)
      continue
    }
    done.push(part)
  }
  return path.join(root, ...done)
}

function normalizeParts(parts: string[]): string[] {
  const out: string[] = []
  for (const x of parts) {
    if (x === '..') out.pop()
    else out.push(x)
  }
  return out
}

/** mkdir -p of `dir` inside root (0755, root-owned, as docker's WORKDIR). */
export async function mkdirInRoot(root: string, dir: string): Promise<void> {
  const parts = path.posix.normalize(`/${dir}`).split('/').filter((x) => x !== '')
  let cur = '/'
  for (const part of parts) {
    cur = path.posix.join(cur, part)
    const host = await resolveInRoot(root, cur)
    const st = await fsp.stat(host).catch(() => undefined)
    if (st?.isDirectory()) continue
    if (st) throw invalidArgument(`mkdir ${cur}: not a directory`)
    await fsp.mkdir(host, { mode: 0o755 })
  }
}
