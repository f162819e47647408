import { describe, expect, it } from 'vitest'
import { Transfers } from './transfers.js'

describe('Transfers', () => {
  it('runs one job per key while it is in flight, then forgets it', async () => {
    const t = new Transfers()
    let runs = 0
    const job = () => new Promise<number>((resolve) => setTimeout(() => resolve(++runs), 5))
    const a = t.share('k', job)
    const b = t.share('k', job)
    expect([a.joined, b.joined]).toEqual([false, true])
    expect(await Promise.all([a.promise, b.promise])).toEqual([1, 1])
    expect(await t.share('k', job).promise).toBe(2)
  })

  it('shares failures and counts pins per holder', async () => {
    const t = new Transfers()
    const a = t.share('x', () => Promise.reject(new Error('boom')))
    const b = t.share('x', () => Promise.resolve('never'))
    await expect(a.promise).rejects.toThrow('boom')
    await expect(b.promise).rejects.toThrow('boom')
    t.pin(['d'])
    t.pin(['d'])
    t.unpin(['d'])
    expect(t.pinned('d')).toBe(true)
    t.unpin(['d'])
    expect(t.pinned('d')).toBe(false)
  })
})
