import { describe, expect, test } from 'vitest'
import { exclusive } from './limit.js'

describe('exclusive', () => {
  test('refuses a second run while the first is going, and runs again once it is done', async () => {
    const guard = exclusive(() => new Error('a prune operation is already running'))
    let release = () => {}
    const first = guard(() => new Promise<string>((r) => (release = () => r('first'))))
    await expect(guard(async () => 'second')).rejects.toThrow('a prune operation is already running')
    release()
    expect(await first).toBe('first')
    expect(await guard(async () => 'third')).toBe('third')
  })

  test('a failed run frees the guard', async () => {
    const guard = exclusive(() => new Error('busy'))
    await expect(guard(async () => { throw new Error('boom') })).rejects.toThrow('boom')
    expect(await guard(async () => 1)).toBe(1)
  })
})
