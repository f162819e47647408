import { describe, expect, it } from 'vitest'
import { nextBackoff, policyRestarts } from './restart.js'

describe('restart back-off', () => {
  it('starts at 100ms, doubles, stops at a minute and starts over after a 10s run', () => {
    const seq: number[] = []
    let d = 0
    for (let i = 0; i < 12; i++) seq.push((d = nextBackoff(d, 50)))
    expect(seq).toEqual([100, 200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 51_200, 60_000, 60_000])
    expect(nextBackoff(60_000, 10_000)).toBe(100)
    expect(nextBackoff(800, 9_999)).toBe(1600)
  })
})

describe('restart policies', () => {
  const exit = (exitCode: number, restartCount = 0, manuallyStopped = false) => ({ exitCode, restartCount, manuallyStopped })
  it('follows moby: always, unless-stopped unless stopped by hand, on-failure within its count', () => {
    expect(policyRestarts({ name: 'no', maximumRetryCount: 0 }, exit(1))).toBe(false)
    expect(policyRestarts({ name: '', maximumRetryCount: 0 }, exit(1))).toBe(false)
    expect(policyRestarts({ name: 'always', maximumRetryCount: 0 }, exit(0, 5, true))).toBe(true)
    expect(policyRestarts({ name: 'unless-stopped', maximumRetryCount: 0 }, exit(0))).toBe(true)
    expect(policyRestarts({ name: 'unless-stopped', maximumRetryCount: 0 }, exit(0, 0, true))).toBe(false)
    expect(policyRestarts({ name: 'on-failure', maximumRetryCount: 0 }, exit(0))).toBe(false)
    expect(policyRestarts({ name: 'on-failure', maximumRetryCount: 0 }, exit(1, 100))).toBe(true)
    expect(policyRestarts({ name: 'on-failure', maximumRetryCount: 3 }, exit(1, 2))).toBe(true)
    expect(policyRestarts({ name: 'on-failure', maximumRetryCount: 3 }, exit(1, 3))).toBe(false)
  })
})
