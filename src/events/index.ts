/**
 * The typed event bus behind GET /events. Every domain publishes here; the API
 * filters and streams. A bounded ring keeps recent events for `--since`.
 */
export type EventType = 'container' | 'image' | 'volume' | 'network' | 'daemon' | 'plugin' | 'node' | 'service' | 'secret' | 'config'

export interface EngineEvent {
  type: EventType
  action: string
  actor: { id: string; attributes: Record<string, string> }
  scope: 'local' | 'swarm'
  /** Nanoseconds since the epoch. */
  timeNano: bigint
}

export type EventListener = (e: EngineEvent) => void

export interface EventBusOptions {
  /** How many past events to keep for `since` queries. */
  keep?: number
}

export class EventBus {
  private readonly listeners = new Set<EventListener>()
  private readonly ring: EngineEvent[] = []
  private readonly keep: number
  private lastNano = 0n

  constructor(opts: EventBusOptions = {}) {
    this.keep = opts.keep ?? 1024
  }

  publish(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): EngineEvent {
    let now = BigInt(Date.now()) * 1_000_000n + process.hrtime.bigint() % 1_000_000n
    // Strictly increasing times keep `since`/`until` windows and ordering exact.
    if (now <= this.lastNano) now = this.lastNano + 1n
    this.lastNano = now
    const e: EngineEvent = { type, action, actor: { id, attributes }, scope: 'local', timeNano: now }
    this.ring.push(e)
    if (this.ring.length > this.keep) this.ring.shift()
    for (const l of this.listeners) {
      try {
        l(e)
      } catch {
        // A broken subscriber must not stop the others.
      }
    }
    return e
  }

  /** Past events with timeNano ≥ sinceNano, oldest first. */
  history(sinceNano: bigint): EngineEvent[] {
    return this.ring.filter((e) => e.timeNano >= sinceNano)
  }

  subscribe(l: EventListener): () => void {
    this.listeners.add(l)
    return () => this.listeners.delete(l)
  }
}
