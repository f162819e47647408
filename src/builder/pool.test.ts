import { describe, expect, it } from 'vitest'
import { TaskPool } from './pool.js'

const tick = () => new Promise<void>((r) => setImmediate(r))

describe('TaskPool', () => {
  it('runs at most `limit` tasks at once and waits for all of them', async () => {
    const pool = new TaskPool(3)
    let running = 0
    let peak = 0
    let done = 0
    for (let i = 0; i < 10; i++) {
      await pool.add(async () => {
        peak = Math.max(peak, ++running)
        await tick()
        running--
        done++
      })
    }
    await pool.drain()
    expect(done).toBe(10)
    expect(peak).toBe(3)
  })

  it('throws the first failure from add() or drain(), and settle() waits regardless', async () => {
    const pool = new TaskPool(2)
    await pool.add(async () => {
      await tick()
      throw new Error('first')
    })
    await pool.add(async () => {
      await tick()
      await tick()
      throw new Error('second')
    })
    await expect(pool.add(async () => {})).rejects.toThrow('first')
    await pool.settle()
    await expect(pool.drain()).rejects.toThrow('first')
  })
})
