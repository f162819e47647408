import { describe, expect, test } from 'vitest'
import { createLogger } from '../lib/index.js'
import type { LogMessage } from './drivers/index.js'
import { NonBlockingSink } from './nonblocking.js'
import type { LogSink } from './sink.js'

const msg = (s: string): LogMessage => ({ line: Buffer.from(s), source: 'stdout', timestamp: { ms: 0 } })

/** A driver whose receiver is stalled until release(). */
function stalled(): { sink: LogSink; got: string[]; release: () => void } {
  const got: string[] = []
  let release = () => {}
  const gate = new Promise<void>((r) => (release = r))
  return {
    got,
    release,
    sink: {
      log: async (m) => {
        await gate
        got.push(Buffer.from(m.line).toString())
      },
      flush: async () => {},
      close: async () => {},
    },
  }
}

describe('NonBlockingSink', () => {
  test('a stalled receiver never holds the caller up; past max-buffer-size new messages are dropped and reported', async () => {
    const warnings: unknown[] = []
    const logger = createLogger({ write: (rec: unknown) => { warnings.push(rec) } })
    const r = stalled()
    const s = new NonBlockingSink(r.sink, 10, logger)
    for (const w of ['aaaa', 'bbbb', 'cccc', 'dddd', 'eeee']) s.log(msg(w))
    // flush does not wait for the receiver.
    await s.flush()
    r.release()
    await s.close()
    // The first went to the pump at once; the ring then held 10 bytes' worth.
    expect(r.got).toEqual(['aaaa', 'bbbb', 'cccc'])
    expect(JSON.stringify(warnings)).toContain('log messages were dropped')
  })

  test('close sends what is queued when the receiver keeps up', async () => {
    const got: string[] = []
    const s = new NonBlockingSink({ log: (m) => { got.push(Buffer.from(m.line).toString()) }, flush: async () => {}, close: async () => {} }, -1, createLogger({ write: () => {} }))
    for (let i = 0; i < 100; i++) s.log(msg(`m${i}`))
    await s.close()
    expect(got).toHaveLength(100)
    expect(got.at(-1)).toBe('m99')
  })
})
