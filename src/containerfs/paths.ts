/** Path rules of docker cp that need no disk: Go's Base, go-archive's trailing-dot rule, moby's checkWritablePath. */
import path from 'node:path'
import type { FsHold, FsMount } from '../containers/index.js'
import { invalidArgument } from '../errors/index.js'

/** Go's filepath.Base: trailing slashes dropped, `/` for the root. */
export function goBase(p: string): string {
  const t = p.replace(/\/+$/, '')
  return t === '' ? '/' : path.posix.basename(t)
}

/** The cleaned absolute path with a trailing `/` or `/.` of the request kept (go-archive PreserveTrailingDotOrSeparator). */
export function absPath(p: string): string {
  const clean = path.posix.normalize(`/${p}`).replace(/(.)\/+$/, '$1')
  if (p.endsWith('/.') || p === '.') return clean === '/' ? '/.' : `${clean}/.`
  if (p.endsWith('/') && clean !== '/') return `${clean}/`
  return clean
}

/** moby's checkWritablePath: the mount holding dest decides; else a read-only rootfs refuses. */
export function checkWritable(hold: Pick<FsHold, 'mounts'> & { rec: { spec: { host: { readonlyRootfs: boolean } } } }, dest: string): void {
  let best: FsMount | undefined
  for (const m of hold.mounts) {
    const t = m.destination.replace(/\/+$/, '') || '/'
    if (dest === t || dest.startsWith(t === '/' ? '/' : `${t}/`)) {
      if (!best || t.length > best.destination.length) best = m
    }
  }
  if (best) {
    if (best.readonly) throw invalidArgument('mounted volume is marked read-only')
    return
  }
  if (hold.rec.spec.host.readonlyRootfs) throw invalidArgument('container rootfs is marked read-only')
}

