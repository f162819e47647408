/**
 * Work shared by concurrent pulls, as docker's transfer manager shares it
 * (moby distribution/xfer): one download per blob and one unpack per layer,
 * however many pulls want them at once. Pulls also pin what they use, so a
 * pull that fails and cleans up does not delete a blob or layer that another
 * pull still needs; the last one out cleans up.
 */
export class Transfers {
  private readonly inflight = new Map<string, Promise<unknown>>()
  private readonly pins = new Map<string, number>()

  /** Run `fn` for `key` unless it is already running; every caller gets the same outcome. `joined` says whether this call waited on another's work. */
  share<T>(key: string, fn: () => Promise<T>): { promise: Promise<T>; joined: boolean } {
    const running = this.inflight.get(key) as Promise<T> | undefined
    if (running) return { promise: running, joined: true }
    const promise = fn().finally(() => this.inflight.delete(key))
    this.inflight.set(key, promise)
    return { promise, joined: false }
  }

  pin(keys: Iterable<string>): void {
    for (const k of keys) this.pins.set(k, (this.pins.get(k) ?? 0) + 1)
  }

  unpin(keys: Iterable<string>): void {
    for (const k of keys) {
      const n = (this.pins.get(k) ?? 0) - 1
      if (n > 0) this.pins.set(k, n)
      else this.pins.delete(k)
    }
  }

  pinned(key: string): boolean {
    return this.pins.has(key)
  }
}
