import { describe, expect, it, vi } from 'vitest'
import type { Logger } from '../lib/index.js'
import { applyProbeResult, goDuration, healthcheckError, HealthMonitor, LimitedOutput, mergeHealthcheck, nextProbeDelay, probeArgv, rfc3339Nano } from './health.js'
import type { ContainerRecord, HealthConfig, HealthResult, HealthState } from './types.js'

const S = 1_000_000_000
const cfg = (o: Partial<HealthConfig> = {}): HealthConfig => ({ test: ['CMD-SHELL', 'true'], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0, ...o })
const at = (ms: number, exitCode: number): HealthResult => ({ start: new Date(ms).toISOString(), end: new Date(ms + 10).toISOString(), exitCode, output: '' })
const started = new Date(0).toISOString()
const starting: HealthState = { status: 'starting', failingStreak: 0, log: [] }

describe('health state machine', () => {
  it('becomes unhealthy after `retries` failures in a row (3 by default) and healthy on one success', () => {
    let h = starting
    h = applyProbeResult(h, at(1000, 1), { config: cfg(), startedAt: started })
    h = applyProbeResult(h, at(2000, 1), { config: cfg(), startedAt: started })
    expect(h).toMatchObject({ status: 'starting', failingStreak: 2 })
    h = applyProbeResult(h, at(3000, 2), { config: cfg(), startedAt: started })
    expect(h).toMatchObject({ status: 'unhealthy', failingStreak: 3 })
    h = applyProbeResult(h, at(4000, 0), { config: cfg(), startedAt: started })
    expect(h).toMatchObject({ status: 'healthy', failingStreak: 0 })
    h = applyProbeResult(h, at(5000, 1), { config: cfg({ retries: 2 }), startedAt: started })
    expect(h).toMatchObject({ status: 'healthy', failingStreak: 1 })
    h = applyProbeResult(h, at(6000, -1), { config: cfg({ retries: 2 }), startedAt: started })
    expect(h).toMatchObject({ status: 'unhealthy', failingStreak: 2 })
  })

  it('does not count failures while starting inside the start period, but does once healthy', () => {
    const config = cfg({ startPeriod: 10 * S, retries: 1 })
    let h = applyProbeResult(starting, at(5000, 1), { config, startedAt: started })
    expect(h).toMatchObject({ status: 'starting', failingStreak: 0 })
    expect(h.log).toHaveLength(1)
    h = applyProbeResult(h, at(6000, 0), { config, startedAt: started })
    h = applyProbeResult(h, at(7000, 1), { config, startedAt: started })
    expect(h).toMatchObject({ status: 'unhealthy', failingStreak: 1 })
    expect(applyProbeResult(starting, at(11_000, 1), { config, startedAt: started })).toMatchObject({ status: 'unhealthy' })
  })

  it('keeps the last five results, oldest first', () => {
    let h = starting
    for (let i = 0; i < 7; i++) h = applyProbeResult(h, at(i * 1000, 0), { config: cfg(), startedAt: started })
    expect(h.log.map((r) => Date.parse(r.start))).toEqual([2000, 3000, 4000, 5000, 6000])
  })

  it('probes at the start interval only while starting inside the start period', () => {
    const c = cfg({ interval: 2 * S, startPeriod: 10 * S })
    expect(nextProbeDelay(c, 'starting', 1000)).toBe(5000)
    expect(nextProbeDelay({ ...c, startInterval: S / 2 }, 'starting', 1000)).toBe(500)
    expect(nextProbeDelay(c, 'healthy', 1000)).toBe(2000)
    expect(nextProbeDelay(c, 'starting', 10_000)).toBe(2000)
    expect(nextProbeDelay(cfg(), 'starting', 0)).toBe(30_000)
  })
})

describe('health configuration', () => {
  it('merges as moby: the image check when none given, zero fields inherit', () => {
    const image = cfg({ test: ['CMD', 'probe'], interval: 5 * S, retries: 4 })
    expect(mergeHealthcheck(undefined, image)).toEqual(image)
    expect(mergeHealthcheck(cfg({ test: [], retries: 9 }), image)).toEqual({ ...image, retries: 9 })
    expect(mergeHealthcheck(cfg({ test: ['NONE'] }), image)?.test).toEqual(['NONE'])
    expect(mergeHealthcheck(cfg({ interval: S }), undefined)?.interval).toBe(S)
    expect(mergeHealthcheck(null, undefined)).toBeUndefined()
  })

  it('turns the test into argv: CMD as is, CMD-SHELL through /bin/sh -c, NONE and unknown types into none', () => {
    expect(probeArgv(cfg({ test: ['CMD', 'a', 'b c'] }))).toEqual(['a', 'b c'])
    expect(probeArgv(cfg({ test: ['CMD-SHELL', 'a && b'] }))).toEqual(['/bin/sh', '-c', 'a && b'])
    // Config.Shell (the image's SHELL) replaces /bin/sh -c, as moby's getShell.
    expect(probeArgv(cfg({ test: ['CMD-SHELL', 'a && b'] }), ['/bin/bash', '-ec'])).toEqual(['/bin/bash', '-ec', 'a && b'])
    expect(probeArgv(cfg({ test: ['CMD', 'a'] }), ['/bin/bash', '-ec'])).toEqual(['a'])
    expect(probeArgv(cfg({ test: ['NONE'] }))).toBeUndefined()
    expect(probeArgv(cfg({ test: ['HTTP', 'x'] }))).toBeUndefined()
    expect(probeArgv(undefined)).toBeUndefined()
  })

  it('refuses durations under 1ms and negative retries with docker\'s messages', () => {
    expect(healthcheckError(cfg({ interval: 999_999 }))).toBe('Interval in Healthcheck cannot be less than 1ms')
    expect(healthcheckError(cfg({ timeout: 1 }))).toBe('Timeout in Healthcheck cannot be less than 1ms')
    expect(healthcheckError(cfg({ retries: -1 }))).toBe('Retries in Healthcheck cannot be negative')
    expect(healthcheckError(cfg({ startPeriod: 5 }))).toBe('StartPeriod in Healthcheck cannot be less than 1ms')
    expect(healthcheckError(cfg({ startInterval: 5 }))).toBe('StartInterval in Healthcheck cannot be less than 1ms')
    expect(healthcheckError(cfg({ interval: 1_000_000 }))).toBeUndefined()
  })

  it('writes durations as Go does and caps output at 4096 bytes', () => {
    expect([goDuration(30 * S), goDuration(S / 2), goDuration(1.5 * S), goDuration(90 * S), goDuration(3600 * S)]).toEqual(['30s', '500ms', '1.5s', '1m30s', '1h0m0s'])
    const o = new LimitedOutput()
    o.write(Buffer.alloc(4000, 'a'))
    o.write(Buffer.alloc(200, 'b'))
    expect(o.toString()).toBe(`${'a'.repeat(4000)}${'b'.repeat(96)}...`)
    const small = new LimitedOutput()
    small.write(Buffer.from('ok\n'))
    expect(small.toString()).toBe('ok\n')
  })
})

describe('health monitor', () => {
  it('probes on its interval, saves each result, announces changes, and stops with the container', async () => {
    vi.useFakeTimers()
    try {
      const rec = {
        id: 'c1',
        effective: { healthcheck: cfg({ test: ['CMD', 'probe'], interval: S, retries: 1 }) },
        state: { status: 'running', startedAt: new Date().toISOString() },
      } as unknown as ContainerRecord
      const codes = [1, 0]
      const events: string[] = []
      let probes = 0
      const m = new HealthMonitor({
        get: () => rec,
        probe: (_r, argv) => {
          probes++
          expect(argv).toEqual(['probe'])
          return Promise.resolve({ exitCode: codes.shift() ?? 0, output: 'out', timedOut: false })
        },
        save: () => {},
        event: (_r, action) => events.push(action),
        logger: { warn: () => {} } as unknown as Logger,
      })
      m.init(rec)
      expect(rec.state.health?.status).toBe('starting')
      await vi.advanceTimersByTimeAsync(1000)
      expect(rec.state.health).toMatchObject({ status: 'unhealthy', failingStreak: 1 })
      await vi.advanceTimersByTimeAsync(1000)
      expect(rec.state.health).toMatchObject({ status: 'healthy', failingStreak: 0 })
      expect(rec.state.health?.log.map((r) => r.output)).toEqual(['out', 'out'])
      expect(events).toEqual(['health_status: unhealthy', 'health_status: healthy'])
      m.stop(rec)
      expect(rec.state.health?.status).toBe('unhealthy')
      await vi.advanceTimersByTimeAsync(5000)
      expect(probes).toBe(2)
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('probe times', () => {
  it('are RFC 3339 with nanoseconds, trailing zeros dropped, as Go writes them', () => {
    expect(rfc3339Nano(Date.UTC(2024, 0, 2, 3, 4, 5, 120), 450_000)).toBe('2024-01-02T03:04:05.12045Z')
    expect(rfc3339Nano(Date.UTC(2024, 0, 2, 3, 4, 5, 0), 0)).toBe('2024-01-02T03:04:05Z')
    expect(Date.parse(rfc3339Nano(Date.UTC(2024, 0, 2, 3, 4, 5, 7), 1))).toBe(Date.UTC(2024, 0, 2, 3, 4, 5, 7))
  })
})
