/**
 * Health checks as docker runs them (moby daemon/health.go): the merged
 * HEALTHCHECK / Config.Healthcheck, a probe loop per running container whose
 * probes are execs in it, and the starting → healthy/unhealthy state machine
 * with its failing streak and the last five results. The pure parts (merge,
 * validation, the result rule, the interval rule) are exported for unit tests.
 */
import type { Logger } from '../lib/index.js'
import type { ContainerRecord, HealthConfig, HealthResult, HealthState } from './types.js'

const SECOND = 1_000_000_000

/** docker's defaults, in nanoseconds (interval also before the first probe). */
export const HEALTH_DEFAULTS = { interval: 30 * SECOND, timeout: 30 * SECOND, startPeriod: 0, startInterval: 5 * SECOND, retries: 3 } as const

/** Probe output kept per result; longer output is cut and ends in "...". */
export const MAX_OUTPUT = 4096
/** Results kept in State.Health.Log. */
export const MAX_LOG = 5

/** moby's merge: the image's check when none was given, else each zero field inherits the image's. */
export function mergeHealthcheck(user: HealthConfig | null | undefined, image: HealthConfig | null | undefined): HealthConfig | undefined {
  if (!image) return user ?? undefined
  if (!user) return { ...image }
  return {
    test: user.test.length ? user.test : image.test,
    interval: user.interval || image.interval,
    timeout: user.timeout || image.timeout,
    startPeriod: user.startPeriod || image.startPeriod,
    startInterval: user.startInterval || image.startInterval,
    retries: user.retries || image.retries,
  }
}

/** docker's create-time checks; the message of the first failure, or undefined. */
export function healthcheckError(h: HealthConfig | null | undefined): string | undefined {
  if (!h) return undefined
  const min = 1_000_000 // containertypes.MinimumDuration, 1ms
  const short = (v: number) => v !== 0 && v < min
  if (short(h.interval)) return 'Interval in Healthcheck cannot be less than 1ms'
  if (short(h.timeout)) return 'Timeout in Healthcheck cannot be less than 1ms'
  if (h.retries < 0) return 'Retries in Healthcheck cannot be negative'
  if (short(h.startPeriod)) return 'StartPeriod in Healthcheck cannot be less than 1ms'
  if (short(h.startInterval)) return 'StartInterval in Healthcheck cannot be less than 1ms'
  return undefined
}

/**
 * The probe's argv, or undefined when the container has no check (none, NONE,
 * an unknown type). CMD-SHELL runs in the container's Config.Shell, else
 * `/bin/sh -c` (moby getShell).
 */
export function probeArgv(h: HealthConfig | undefined, shell: readonly string[] = []): string[] | undefined {
  const [kind, ...rest] = h?.test ?? []
  if (kind === 'CMD' && rest.length) return rest
  if (kind === 'CMD-SHELL' && rest.length) return [...(shell.length ? shell : ['/bin/sh', '-c']), ...rest]
  return undefined
}

const orDefault = (v: number, d: number) => (v === 0 ? d : v)

/**
 * The state after one probe (handleProbeResult): success makes it healthy and
 * clears the streak; a failure counts, except while still starting inside the
 * start period, and `retries` failures in a row make it unhealthy.
 */
export function applyProbeResult(h: HealthState, r: HealthResult, o: { config: HealthConfig; startedAt: string }): HealthState {
  const log = [...h.log, r].slice(-MAX_LOG)
  if (r.exitCode === 0) return { status: 'healthy', failingStreak: 0, log }
  const retries = o.config.retries > 0 ? o.config.retries : HEALTH_DEFAULTS.retries
  const startPeriodMs = orDefault(o.config.startPeriod, HEALTH_DEFAULTS.startPeriod) / 1e6
  if (h.status === 'starting' && Date.parse(r.start) - Date.parse(o.startedAt) < startPeriodMs) return { ...h, log }
  const failingStreak = h.failingStreak + 1
  return { status: failingStreak >= retries ? 'unhealthy' : h.status, failingStreak, log }
}

/** Milliseconds to the next probe: the start interval while starting inside the start period, else the interval. */
export function nextProbeDelay(cfg: HealthConfig, status: HealthState['status'], sinceStartMs: number): number {
  const interval = orDefault(cfg.interval, HEALTH_DEFAULTS.interval) / 1e6
  const startPeriod = orDefault(cfg.startPeriod, HEALTH_DEFAULTS.startPeriod) / 1e6
  if (sinceStartMs >= startPeriod || status !== 'starting') return interval
  return orDefault(cfg.startInterval, HEALTH_DEFAULTS.startInterval) / 1e6
}

/** Go's time.Duration.String() for the timeout message ("30s", "1.5s", "500ms", "1m30s"). */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s'
  if (ns < 1000) return `${ns}ns`
  if (ns < 1_000_000) return `${trim(ns / 1000)}µs`
  if (ns < SECOND) return `${trim(ns / 1_000_000)}ms`
  const h = Math.floor(ns / (3600 * SECOND))
  const m = Math.floor((ns % (3600 * SECOND)) / (60 * SECOND))
  const s = (ns % (60 * SECOND)) / SECOND
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${trim(s)}s`
}

const trim = (v: number) => String(Number(v.toFixed(9)))

/** Now as Go's RFC3339Nano in UTC (trailing zeros dropped), as docker writes probe times; sub-millisecond digits from the monotonic clock. */
export function rfc3339Nano(ms = Date.now(), subMs = Number(process.hrtime.bigint() % 1_000_000n)): string {
  const iso = new Date(ms).toISOString()
  const frac = `${iso.slice(20, 23)}${String(subMs).padStart(6, '0')}`.replace(/0+$/, '')
  return `${iso.slice(0, 19)}${frac ? `.${frac}` : ''}Z`
}

/** Output of a probe, capped as docker's limitedBuffer. */
export class LimitedOutput {
  private readonly parts: Buffer[] = []
  private size = 0
  private truncated = false

  write(chunk: Buffer): void {
    const keep = Math.min(MAX_OUTPUT - this.size, chunk.length)
    if (keep > 0) {
      this.parts.push(chunk.subarray(0, keep))
      this.size += keep
    }
    if (keep < chunk.length) this.truncated = true
  }

  toString(): string {
    return Buffer.concat(this.parts).toString('utf8') + (this.truncated ? '...' : '')
  }
}

export interface ProbeOutcome {
  exitCode: number
  output: string
}

/** What the monitor needs of the container service. */
export interface HealthHost {
  get(id: string): ContainerRecord | undefined
  /** Run the probe as an exec; settles once the process is gone (aborting kills it). */
  probe(rec: ContainerRecord, argv: string[], o: { timeoutMs: number; signal: AbortSignal }): Promise<ProbeOutcome & { timedOut: boolean }>
  /** Persist the record after its health changed. */
  save(rec: ContainerRecord): void
  /** Publish a container event (health_status: …). */
  event(rec: ContainerRecord, action: string): void
  logger: Logger
}

interface Monitor {
  abort: AbortController
  timer?: NodeJS.Timeout
}

/**
 * One probe loop per running, unpaused container with a check. A probe is
 * in flight or a timer is pending, never both; stopping aborts either.
 */
export class HealthMonitor {
  private readonly monitors = new Map<string, Monitor>()

  constructor(private readonly host: HealthHost) {}

  /** A (re)started or adopted container: status back to starting, streak cleared, probes begin. */
  init(rec: ContainerRecord): void {
    if (!probeArgv(rec.effective.healthcheck)) return
    this.close(rec.id)
    rec.state = { ...rec.state, health: { status: 'starting', failingStreak: 0, log: rec.state.health?.log ?? [] } }
    this.host.save(rec)
    this.open(rec)
  }

  /** After unpause: probes go on where they were. */
  resume(rec: ContainerRecord): void {
    if (!probeArgv(rec.effective.healthcheck) || !rec.state.health) return
    this.open(rec)
  }

  /**
   * Exit, stop or pause: probes end, and as docker's the status becomes
   * unhealthy if they were running (it stays so until a probe passes again).
   */
  stop(rec: ContainerRecord): void {
    if (!this.close(rec.id) || !rec.state.health) return
    rec.state = { ...rec.state, health: { ...rec.state.health, status: 'unhealthy' } }
    this.host.save(rec)
  }

  /** Daemon shutdown: stop every loop without touching the records. */
  shutdown(): void {
    for (const id of [...this.monitors.keys()]) this.close(id)
  }

  private close(id: string): boolean {
    const m = this.monitors.get(id)
    if (!m) return false
    this.monitors.delete(id)
    if (m.timer) clearTimeout(m.timer)
    m.abort.abort()
    return true
  }

  private open(rec: ContainerRecord): void {
    if (this.monitors.has(rec.id)) return
    const m: Monitor = { abort: new AbortController() }
    this.monitors.set(rec.id, m)
    this.schedule(rec.id, m)
  }

  private schedule(id: string, m: Monitor): void {
    const rec = this.host.get(id)
    const cfg = rec?.effective.healthcheck
    if (!rec || !cfg || m.abort.signal.aborted) return
    const delay = nextProbeDelay(cfg, rec.state.health?.status ?? 'starting', Date.now() - Date.parse(rec.state.startedAt))
    m.timer = setTimeout(() => {
      m.timer = undefined
      void this.runOnce(id, m).finally(() => this.schedule(id, m))
    }, delay)
    m.timer.unref()
  }

  private async runOnce(id: string, m: Monitor): Promise<void> {
    const rec = this.host.get(id)
    const cfg = rec?.effective.healthcheck
    const argv = probeArgv(cfg, rec?.effective.shell)
    if (!rec || !cfg || !argv) return
    const start = rfc3339Nano()
    const timeoutNs = orDefault(cfg.timeout, HEALTH_DEFAULTS.timeout)
    let result: HealthResult
    try {
      const r = await this.host.probe(rec, argv, { timeoutMs: timeoutNs / 1e6, signal: m.abort.signal })
      const output = r.timedOut ? `Health check exceeded timeout (${goDuration(timeoutNs)})${r.output ? `: ${r.output}` : ''}` : r.output
      result = { start, end: rfc3339Nano(), exitCode: r.timedOut ? -1 : r.exitCode, output }
    } catch (err) {
      this.host.logger.warn('health check failed to run', { id, err })
      result = { start, end: rfc3339Nano(), exitCode: -1, output: err instanceof Error ? err.message : String(err) }
    }
    // A probe cut short by a stop is not a result (handleProbeResult drops it too).
    if (m.abort.signal.aborted) return
    const cur = this.host.get(id)
    if (!cur || !cur.state.health) return
    const before = cur.state.health.status
    const health = applyProbeResult(cur.state.health, result, { config: cfg, startedAt: cur.state.startedAt })
    cur.state = { ...cur.state, health }
    this.host.save(cur)
    if (health.status !== before) this.host.event(cur, `health_status: ${health.status}`)
  }
}
