/**
 * berthd's log shipper (docs/design/logging.md): conmon writes each
 * container's output to its k8s-file and goes on doing so while berthd is
 * down; the shipper follows that file from the offset it saved and hands
 * every message to the container's driver, saving the offset once the
 * driver has the batch. One loop per container with output to ship, none
 * per line; the container itself never waits for it.
 */
import { watch } from 'node:fs'
import type { Db } from '../db/index.js'
import { migrate } from '../db/index.js'
import type { Logger } from '../lib/index.js'
import { K8sFileFollower } from './follow.js'
import type { LogSink } from './sink.js'

const migrations = [
  {
    owner: 'logs',
    version: 1,
    up: 'CREATE TABLE log_offsets (id TEXT PRIMARY KEY, offset INTEGER NOT NULL)',
  },
]

/** How long a loop sleeps when inotify says nothing (filesystems where it misses appends). */
const POLL_MS = 1000

export interface ShipTarget {
  id: string
  /** conmon's k8s-file of the container. */
  k8sFile: string
  sink: LogSink
}

interface Loop {
  finishing: boolean
  stopped: boolean
  wake: () => void
  /** Resolved with the loop. */
  done: Promise<void>
  /** Waiters for the loop to have shipped everything up to a size of the file. */
  syncs: Array<{ size: number; resolve: () => void }>
  follower: K8sFileFollower
  sink: LogSink
}

export class LogShipper {
  private readonly loops = new Map<string, Loop>()
  private readonly getOffset
  private readonly setOffset
  private readonly delOffset

  constructor(private readonly o: { db: Db; logger: Logger }) {
    migrate(o.db, migrations)
    this.getOffset = o.db.prepare<[string], { offset: number }>('SELECT offset FROM log_offsets WHERE id = ?')
    this.setOffset = o.db.prepare('INSERT INTO log_offsets (id, offset) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET offset = excluded.offset')
    this.delOffset = o.db.prepare('DELETE FROM log_offsets WHERE id = ?')
  }

  /** Ship t's output from where the last run stopped (a new container: from the start). */
  start(t: ShipTarget): void {
    const running = this.loops.get(t.id)
    if (running) {
      // Started again while the last run's output is still being shipped: go on with the same loop and driver.
      running.finishing = false
      void t.sink.close().catch(() => {})
      return
    }
    const saved = this.getOffset.get(t.id)?.offset ?? 0
    let wake = () => {}
    const loop: Loop = { finishing: false, stopped: false, wake: () => wake(), done: Promise.resolve(), syncs: [], follower: new K8sFileFollower(t.k8sFile, saved), sink: t.sink }
    loop.done = this.run(t, loop, (w) => (wake = w)).catch((err: unknown) => this.o.logger.warn('log shipping stopped', { id: t.id, err }))
    this.loops.set(t.id, loop)
  }

  /** The container stopped: ship what is left, then close its driver. */
  async finish(id: string): Promise<void> {
    const loop = this.loops.get(id)
    if (!loop) return
    loop.finishing = true
    loop.wake()
    await loop.done
  }

  /** Resolves once everything the container wrote so far has reached its driver (`logs` right after a run). */
  async sync(id: string, size: number): Promise<void> {
    const loop = this.loops.get(id)
    if (!loop || loop.follower.offset >= size) return
    await new Promise<void>((resolve) => {
      loop.syncs.push({ size, resolve })
      loop.wake()
    })
  }

  /** The container is gone: stop without shipping more, and forget its offset. */
  async forget(id: string): Promise<void> {
    const loop = this.loops.get(id)
    if (loop) {
      loop.stopped = true
      loop.wake()
      // A driver waiting on a dead receiver gives up once closed.
      void loop.sink.close().catch(() => {})
      await loop.done
    }
    this.delOffset.run(id)
  }

  /** berthd stops: every loop ends where it is (the offsets say where to go on). */
  async shutdown(): Promise<void> {
    for (const loop of this.loops.values()) {
      loop.stopped = true
      loop.wake()
      void loop.sink.close().catch(() => {})
    }
    await Promise.all([...this.loops.values()].map((l) => l.done))
  }

  private async run(t: ShipTarget, loop: Loop, setWake: (w: () => void) => void): Promise<void> {
    let watcher: ReturnType<typeof watch> | undefined
    const poke = () => loop.wake()
    try {
      try {
        watcher = watch(t.k8sFile, poke)
        watcher.on('error', () => {})
      } catch {
        watcher = undefined
      }
      while (!loop.stopped) {
        const batch = await loop.follower.read(undefined, loop.finishing)
        if (batch.restarted) this.o.logger.debug('log file restarted from the beginning', { id: t.id })
        if (batch.records.length > 0) {
          for (const r of batch.records) {
            // Most sinks take a message synchronously: no await (a microtask each) for them.
            const pending = t.sink.log(r.message)
            if (pending) await pending
          }
          await t.sink.flush()
          // Stopped meanwhile: the driver may have been closed with messages unsent; the next run ships them again.
          if (loop.stopped) break
          this.setOffset.run(t.id, loop.follower.safeOffset)
        }
        for (const s of loop.syncs.splice(0)) {
          if (loop.follower.offset >= s.size || batch.records.length === 0) s.resolve()
          else loop.syncs.push(s)
        }
        if (batch.records.length > 0) continue
        if (loop.finishing) break
        if (!watcher) {
          try {
            watcher = watch(t.k8sFile, poke)
            watcher.on('error', () => {})
          } catch {
            // not there yet
          }
        }
        await new Promise<void>((resolve) => {
          setWake(resolve)
          setTimeout(resolve, POLL_MS).unref()
        })
      }
    } finally {
      watcher?.close()
      for (const s of loop.syncs.splice(0)) s.resolve()
      this.loops.delete(t.id)
      await t.sink.close().catch((err: unknown) => this.o.logger.warn('closing a log driver', { id: t.id, err }))
    }
  }
}
