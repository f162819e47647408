import { describe, expect, test } from 'vitest'
import { createLogger } from '../../lib/index.js'
import { exponentialRetry, QueuedSender, UnsendableError, type Conn, type Transport } from './sender.js'

/** A receiver that is down until `up` is set; it records what each connection got. */
function fakeTransport() {
  const state = { up: false, got: [] as string[], connects: 0, failNext: 0 }
  const transport: Transport = {
    name: 'fake',
    async connect(): Promise<Conn> {
      state.connects++
      if (!state.up) throw new Error('connection refused')
      let broken = false
      return {
        get broken() {
          return broken
        },
        async write(frame) {
          const s = frame.toString()
          if (broken) throw new Error('connection closed')
          if (s === 'too big') throw new UnsendableError('message too long')
          if (state.failNext > 0) {
            state.failNext--
            broken = true
            throw new Error('broken pipe')
          }
          state.got.push(s)
        },
        close() {
          broken = true
        },
      }
    },
  }
  return { state, transport }
}

function capture() {
  const lines: Array<Record<string, unknown>> = []
  return { lines, logger: createLogger({ write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) }) }
}

describe('QueuedSender', () => {
  test('flush waits out an unreachable receiver and then delivers everything in order', async () => {
    const { state, transport } = fakeTransport()
    const { lines, logger } = capture()
    const s = new QueuedSender({ transport, retry: exponentialRetry(5, 20), logger, closeTimeoutMs: 1000 })
    for (const m of ['a', 'b', 'c']) s.push(Buffer.from(m))
    const flushed = s.flush()
    let done = false
    void flushed.then(() => (done = true))
    await new Promise((r) => setTimeout(r, 60))
    expect(done).toBe(false)
    expect(state.connects).toBeGreaterThan(1)
    state.up = true
    await flushed
    expect(state.got).toEqual(['a', 'b', 'c'])
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual(['cannot deliver log messages, retrying'])
    await s.close()
  })

  test('a broken connection is redialled and the frame that failed is written again', async () => {
    const { state, transport } = fakeTransport()
    state.up = true
    const s = new QueuedSender({ transport, retry: exponentialRetry(1, 5), logger: capture().logger, closeTimeoutMs: 1000 })
    s.push(Buffer.from('one'))
    await s.flush()
    state.failNext = 1
    s.push(Buffer.from('two'))
    s.push(Buffer.from('three'))
    await s.flush()
    expect(state.got).toEqual(['one', 'two', 'three'])
    expect(state.connects).toBe(2)
    await s.close()
  })

  test('a frame no retry can send is dropped with a warning, the others go', async () => {
    const { state, transport } = fakeTransport()
    state.up = true
    const { lines, logger } = capture()
    const s = new QueuedSender({ transport, retry: exponentialRetry(1, 5), logger, closeTimeoutMs: 1000 })
    for (const m of ['x', 'too big', 'y']) s.push(Buffer.from(m))
    await s.flush()
    expect(state.got).toEqual(['x', 'y'])
    expect(lines.some((l) => l.msg === 'log message dropped')).toBe(true)
    await s.close()
  })

  test('close gives up on a dead receiver after its timeout and says how many were dropped; a pending flush rejects', async () => {
    const { transport } = fakeTransport()
    const { lines, logger } = capture()
    const s = new QueuedSender({ transport, retry: exponentialRetry(10, 10_000), logger, closeTimeoutMs: 100 })
    for (const m of ['a', 'b']) s.push(Buffer.from(m))
    const flushed = s.flush()
    const rejected = flushed.then(
      () => false,
      () => true,
    )
    await s.close()
    expect(await rejected).toBe(true)
    const warn = lines.find((l) => String(l.msg).startsWith('log messages were dropped'))
    expect(warn).toMatchObject({ receiver: 'fake', dropped: 2 })
  })

  test('close delivers what is queued when the receiver is there', async () => {
    const { state, transport } = fakeTransport()
    state.up = true
    const { lines, logger } = capture()
    const s = new QueuedSender({ transport, retry: exponentialRetry(1, 5), logger, closeTimeoutMs: 1000 })
    s.push(Buffer.from('last'))
    await s.close()
    expect(state.got).toEqual(['last'])
    expect(lines.filter((l) => l.level === 'warn')).toEqual([])
  })
})

describe('exponentialRetry', () => {
  test('doubles up to the cap', () => {
    const r = exponentialRetry(250, 5000)
    expect([1, 2, 3, 4, 5, 6, 50].map((a) => r.delayMs(a))).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000])
  })
})
