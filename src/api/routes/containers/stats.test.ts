import { describe, expect, it } from 'vitest'
import type { StatsResponse } from '../../types/index.js'
import { statsJSON } from './stats.js'

describe('statsJSON', () => {
  it("writes the kernel's huge limits as the integers Go clients decode", () => {
    const s = { read: 'x', pids_stats: { limit: 2 ** 64 }, memory_stats: { stats: { hierarchical_memory_limit: 9223372036854771712, cache: 5 } } } as unknown as StatsResponse
    expect(statsJSON(s)).toBe('{"read":"x","pids_stats":{"limit":18446744073709551615},"memory_stats":{"stats":{"hierarchical_memory_limit":9223372036854771712,"cache":5}}}')
  })
})
