/**
 * A bounded set of tasks in flight, for file work the builder does in bulk
 * (unpacking, copying, hashing thousands of small files): each fs call is a
 * round trip to libuv's thread pool, so a few at once go several times
 * faster than one by one. The first failure is kept and thrown by the next
 * add() or by drain().
 */
export class TaskPool {
  private readonly running = new Set<Promise<void>>()
  private failure: { err: unknown } | undefined

  constructor(private readonly limit = 16) {}

  /** Start fn once a slot is free. */
  async add(fn: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.limit) await Promise.race(this.running)
    this.check()
    const p: Promise<void> = fn()
      .catch((err: unknown) => {
        this.failure ??= { err }
      })
      .finally(() => this.running.delete(p))
    this.running.add(p)
  }

  /** Wait for every task started; throws the first failure. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.race(this.running)
    this.check()
  }

  /** Wait for every task started, ignoring failures (before cleaning up after an error). */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.race(this.running)
  }

  private check(): void {
    if (this.failure) throw this.failure.err
  }
}
