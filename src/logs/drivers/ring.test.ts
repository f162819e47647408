import { describe, expect, it } from 'vitest'

import { MessageRing } from './ring.js'

type Msg = { line: Buffer }
const m = (n: number, tag = ''): Msg => ({ line: Buffer.alloc(n, tag || 'x') })

describe('MessageRing', () => {
  it('defaults to 1e6 bytes', () => {
    expect(new MessageRing<Msg>().maxBytes).toBe(1e6)
    expect(new MessageRing<Msg>(-1).maxBytes).toBe(1e6)
    expect(new MessageRing<Msg>(0).maxBytes).toBe(0)
  })

  it('drops the new message when full, keeping order of the rest', () => {
    const r = new MessageRing<Msg>(10)
    const a = m(6, 'a')
    const c = m(4, 'c')
    expect(r.enqueue(a)).toBe(true)
    expect(r.enqueue(m(5, 'b'))).toBe(false)
    expect(r.enqueue(c)).toBe(true)
    expect(r.enqueue(m(1))).toBe(false)
    expect(r.dropped).toBe(2)
    expect(r.sizeBytes).toBe(10)
    expect(r.length).toBe(2)
    expect(r.dequeue()).toBe(a)
    expect(r.sizeBytes).toBe(4)
    expect(r.dequeue()).toBe(c)
    expect(r.dequeue()).toBeUndefined()
    expect(r.sizeBytes).toBe(0)
  })

  it('takes an oversized message when empty', () => {
    const r = new MessageRing<Msg>(0)
    expect(r.enqueue(m(20))).toBe(true)
    // Whatever follows waits for room: 0 + 20 > 0 with a non-empty queue.
    expect(r.enqueue(m(0))).toBe(false)
    expect(r.length).toBe(1)
  })

  it('hands messages to a waiting reader and ends on close', async () => {
    const r = new MessageRing<Msg>(100)
    const p = r.next()
    const a = m(3)
    r.enqueue(a)
    await expect(p).resolves.toBe(a)
    r.enqueue(m(1, 'q'))
    const waiting = new MessageRing<Msg>(100).next()
    r.close()
    expect(r.isClosed).toBe(true)
    await expect(r.next()).resolves.toBeUndefined()
    expect(() => r.enqueue(m(1))).toThrow('closed')
    expect(r.drain().map((x) => x.line.toString())).toEqual(['q'])
    expect(r.length).toBe(0)
    expect(r.sizeBytes).toBe(0)
    void waiting
  })

  it('close wakes pending readers', async () => {
    const r = new MessageRing<Msg>(100)
    const p = r.next()
    r.close()
    await expect(p).resolves.toBeUndefined()
  })

  it('survives many cycles', () => {
    const r = new MessageRing<Msg>(1e6)
    for (let i = 0; i < 5000; i++) {
      r.enqueue(m(10))
      if (i % 2) r.dequeue()
    }
    expect(r.length).toBe(2500)
    expect(r.sizeBytes).toBe(25000)
  })
})
