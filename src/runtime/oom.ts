/**
 * Whether a container that just exited was OOM-killed. conmon (2.1.x) watches
 * the memory cgroup (v1 eventfd on memory.oom_control, v2 memory.events) and
 * creates `oom` in its working directory, the bundle. Its notice can lag the
 * exit on a busy host, so the cgroup's own counter is read too while the
 * cgroup still exists (the runtime deletes it with the container): v1
 * memory.oom_control `oom_kill N`, v2 memory.events `oom_kill N`.
 * While a container runs, OomWatcher reports the file as it appears, so an OOM
 * kill the container lives through is known at once, as dockerd knows it.
 */
import { promises as fsp, watch, type FSWatcher } from 'node:fs'
import path from 'node:path'

const CGROUP_ROOT = '/sys/fs/cgroup'

export async function oomKilled(bundleDir: string): Promise<boolean> {
  if (await exists(path.join(bundleDir, 'oom'))) return true
  const cgroupsPath = await cgroupsPathOf(bundleDir)
  // Only cgroupfs paths name a directory; systemd's slice:prefix:name form is left to conmon's file.
  if (!cgroupsPath?.startsWith('/')) return false
  const files = [
    path.join(CGROUP_ROOT, 'memory', cgroupsPath, 'memory.oom_control'),
    path.join(CGROUP_ROOT, cgroupsPath, 'memory.events'),
    path.join(CGROUP_ROOT, 'unified', cgroupsPath, 'memory.events'),
  ]
  for (const f of files) {
    const text = await fsp.readFile(f, 'utf8').catch(() => '')
    const m = /^oom_kill (\d+)$/m.exec(text)
    if (m && Number(m[1]) > 0) return true
  }
  return false
}

async function cgroupsPathOf(bundleDir: string): Promise<string | undefined> {
  try {
    const spec = JSON.parse(await fsp.readFile(path.join(bundleDir, 'config.json'), 'utf8')) as { linux?: { cgroupsPath?: string } }
    return spec.linux?.cgroupsPath
  } catch {
    return undefined
  }
}

const exists = (p: string) => fsp.access(p).then(() => true, () => false)

export type OomListener = (id: string) => void

/** Watches running containers' bundles for conmon's `oom` file. */
export class OomWatcher {
  private readonly watchers = new Map<string, FSWatcher | NodeJS.Timeout>()
  private readonly listeners = new Set<OomListener>()

  on(cb: OomListener): () => void {
    this.listeners.add(cb)
    return () => this.listeners.delete(cb)
  }

  /** From create on (or adoption after a berthd restart): a file already there is reported at once. */
  watch(id: string, bundleDir: string): void {
    if (this.watchers.has(id)) return
    let fired = false
    const fire = () => {
      if (fired) return
      fired = true
      for (const cb of this.listeners) {
        try {
          cb(id)
        } catch {
          // One listener's failure must not hide the OOM from the others.
        }
      }
    }
    const file = path.join(bundleDir, 'oom')
    const check = () => void exists(file).then((yes) => yes && fire())
    // Where inotify cannot watch (its limits reached), a poll keeps the notice early, if a second late.
    const poll = () => {
      const t = setInterval(() => (fired ? this.unwatch(id) : check()), 1000)
      t.unref()
      this.watchers.set(id, t)
    }
    try {
      const w = watch(bundleDir, { persistent: false }, (_event, name) => {
        if (String(name) === 'oom') check()
      })
      w.on('error', () => {
        this.unwatch(id)
        if (!fired) poll()
      })
      this.watchers.set(id, w)
    } catch {
      poll()
    }
    check()
  }

  unwatch(id: string): void {
    const w = this.watchers.get(id)
    if (w && 'close' in w) w.close()
    else if (w) clearInterval(w)
    this.watchers.delete(id)
  }

  close(): void {
    for (const id of [...this.watchers.keys()]) this.unwatch(id)
  }
}
