import { describe, expect, it } from 'vitest'
import { dropMallocPreload } from './malloc.js'

describe('dropMallocPreload', () => {
  it("takes bin/berthd's jemalloc out of what children inherit, and nothing of the user's", () => {
    const lib = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2'
    const env: NodeJS.ProcessEnv = { BERTH_JEMALLOC: lib, LD_PRELOAD: `${lib}:/opt/mine.so`, MALLOC_CONF: 'background_thread:true', BERTH_MALLOC_CONF: '1', PATH: '/bin' }
    dropMallocPreload(env)
    expect(env).toEqual({ LD_PRELOAD: '/opt/mine.so', PATH: '/bin' })
    const own: NodeJS.ProcessEnv = { BERTH_JEMALLOC: lib, LD_PRELOAD: lib, MALLOC_CONF: 'narenas:1' }
    dropMallocPreload(own)
    expect(own).toEqual({ MALLOC_CONF: 'narenas:1' })
    const none: NodeJS.ProcessEnv = { LD_PRELOAD: '/opt/mine.so' }
    dropMallocPreload(none)
    expect(none).toEqual({ LD_PRELOAD: '/opt/mine.so' })
  })
})
