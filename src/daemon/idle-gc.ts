/**
 * One full V8 collection when berthd falls idle after work. V8 keeps the pages
 * a burst of requests left as garbage until it next needs memory, so a daemon
 * that served a build or a hundred `run`s then sat idle held tens of MiB it no
 * longer used. Go's runtime, dockerd's, returns such memory in the background;
 * this is berthd's equivalent, at most once per quiet period.
 */
import v8 from 'node:v8'
import vm from 'node:vm'

export class IdleCollector {
  private timer: NodeJS.Timeout | undefined
  private gc: (() => void) | undefined

  constructor(private readonly quietMs = 2_000) {}

  /** Activity: the collection waits for `quietMs` without any. */
  touch(): void {
    if (this.timer) this.timer.refresh()
    else {
      this.timer = setTimeout(() => this.collect(), this.quietMs)
      this.timer.unref()
    }
  }

  private collect(): void {
    this.timer = undefined
    // --expose-gc at run time: berthd's command line stays plain node.
    if (!this.gc) {
      v8.setFlagsFromString('--expose-gc')
      this.gc = vm.runInNewContext('gc') as () => void
    }
    this.gc()
  }
}
