/**
 * Learns of container exits from conmon's exit directory: conmon writes
 * `<exitDir>/<id>` (the exit code as text; renamed into place, so complete
 * when it appears) after the container's output was drained. fs.watch gives
 * low latency; a slow poll covers lost inotify events and watch failures.
 * Files stay until the container is deleted, so an exit that happened while
 * berthd was down is found on the next scan.
 */
import { watch, promises as fsp, type FSWatcher } from 'node:fs'
import path from 'node:path'
import type { Logger } from '../lib/index.js'

export interface ExitInfo {
  exitCode: number
  exitedAt: Date
  /** Learned by the runtime from the cgroup or conmon's `oom` file, not from the exit file. */
  oomKilled?: boolean
}

export type ExitListener = (id: string, info: ExitInfo) => void

export class ExitWatcher {
  private watcher: FSWatcher | undefined
  private timer: NodeJS.Timeout | undefined
  private readonly reported = new Set<string>()
  private readonly listeners = new Set<ExitListener>()
  private readonly waiters = new Map<string, Array<(info: ExitInfo) => void>>()
  private scanning: Promise<void> | undefined

  constructor(
    readonly dir: string,
    private readonly log: Logger,
    private readonly pollMs = 2000,
  ) {}

  async start(): Promise<void> {
    if (this.watcher || this.timer) return
    await fsp.mkdir(this.dir, { recursive: true })
    try {
      this.watcher = watch(this.dir, { persistent: false }, (_event, name) => {
        if (name) void this.check(String(name))
        else void this.scan()
      })
      this.watcher.on('error', (err) => {
        this.log.warn('exit dir watch failed; polling only', { err })
        this.watcher?.close()
        this.watcher = undefined
      })
    } catch (err) {
      this.log.warn('cannot watch exit dir; polling only', { dir: this.dir, err })
    }
    this.timer = setInterval(() => void this.scan(), this.pollMs)
    this.timer.unref()
  }

  stop(): void {
    this.watcher?.close()
    this.watcher = undefined
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  on(cb: ExitListener): () => void {
    this.listeners.add(cb)
    return () => this.listeners.delete(cb)
  }

  /** Resolves with the exit once the file exists (at once if it already does). */
  wait(id: string): Promise<ExitInfo> {
    return new Promise((resolve) => {
      const list = this.waiters.get(id) ?? []
      list.push(resolve)
      this.waiters.set(id, list)
      void this.read(id).then((info) => {
        if (info) this.resolveWaiters(id, info)
      })
    })
  }

  /** Mark as handled by someone else (restore reports it), so no event fires for it. */
  markReported(id: string): void {
    this.reported.add(id)
  }

  /** Forget an id after its container is deleted, so a new container may reuse it. */
  forget(id: string): void {
    this.reported.delete(id)
  }

  file(id: string): string {
    return path.join(this.dir, id)
  }

  async read(id: string): Promise<ExitInfo | undefined> {
    try {
      const [text, st] = await Promise.all([fsp.readFile(this.file(id), 'utf8'), fsp.stat(this.file(id))])
      const code = Number.parseInt(text.trim(), 10)
      // conmon writes -1 when it could not learn the status (e.g. it timed out): docker shows 255 then.
      return { exitCode: Number.isNaN(code) || code < 0 ? 255 : code, exitedAt: st.mtime }
    } catch {
      return undefined
    }
  }

  private async check(name: string): Promise<void> {
    // conmon writes `<id>.XXXXXX` and renames it; container ids have no dots.
    if (name.includes('.') || this.reported.has(name)) return
    const info = await this.read(name)
    if (!info || this.reported.has(name)) return
    this.reported.add(name)
    this.resolveWaiters(name, info)
    for (const cb of this.listeners) {
      try {
        cb(name, info)
      } catch (err) {
        this.log.error('exit listener failed', { id: name, err })
      }
    }
  }

  private resolveWaiters(id: string, info: ExitInfo) {
    const list = this.waiters.get(id)
    if (!list) return
    this.waiters.delete(id)
    for (const w of list) w(info)
  }

  scan(): Promise<void> {
    this.scanning ??= (async () => {
      try {
        const names = await fsp.readdir(this.dir)
        await Promise.all(names.map((n) => this.check(n)))
      } catch (err) {
        this.log.warn('exit dir scan failed', { dir: this.dir, err })
      } finally {
        this.scanning = undefined
      }
    })()
    return this.scanning
  }
}
