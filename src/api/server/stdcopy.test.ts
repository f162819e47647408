import { PassThrough, Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { FrameBatcher } from './stdcopy.js'

/** stdcopy frames back out of bytes. */
function frames(buf: Buffer): Array<[number, string]> {
  const out: Array<[number, string]> = []
  for (let i = 0; i < buf.length; ) {
    const size = buf.readUInt32BE(i + 4)
    out.push([buf[i] as number, buf.toString('utf8', i + 8, i + 8 + size)])
    i += 8 + size
  }
  return out
}

describe('FrameBatcher', () => {
  it('gathers frames into few writes, in order, with their prefixes', async () => {
    const writes: Buffer[] = []
    const out = new Writable({ write: (c: Buffer, _e, cb) => (writes.push(c), cb()) })
    const b = new FrameBatcher(out, true)
    for (let i = 0; i < 10000; i++) b.push(i % 3 ? 'stdout' : 'stderr', Buffer.from(`${i}\n`), i === 5 ? Buffer.from('T ') : undefined)
    b.push('stdout', Buffer.alloc(0))
    b.push('stdout', Buffer.alloc(100_000, 'y'))
    b.flush()
    const all = frames(Buffer.concat(writes))
    expect(all).toHaveLength(10001)
    expect(all[5]).toEqual([1, 'T 5\n'])
    expect(all[6]).toEqual([2, '6\n'])
    expect(all[10000]?.[1]).toHaveLength(100_000)
    expect(writes.length).toBeLessThan(10)
  })

  it('writes raw bytes for a TTY, and flushes a few lines on its own at the next turn', async () => {
    const out = new PassThrough()
    const b = new FrameBatcher(out, false)
    b.push('stdout', Buffer.from('a\n'))
    b.push('stderr', Buffer.from('b\n'))
    await new Promise((r) => setImmediate(r))
    expect(out.read()?.toString()).toBe('a\nb\n')
  })

  it('a socket that fills during a timed flush and drains before anyone waits does not hold the writer', async () => {
    const out = new PassThrough({ highWaterMark: 16 })
    out.resume()
    const b = new FrameBatcher(out, true)
    for (let round = 0; round < 5; round++) {
      b.push('stdout', Buffer.alloc(1000, 'z'))
      // The timer's flush fills the 16-byte buffer; by the time drained() is called, it has drained.
      await new Promise((r) => setImmediate(r))
      await new Promise((r) => setImmediate(r))
      await Promise.race([b.drained(), new Promise((_r, reject) => setTimeout(() => reject(new Error('drained() never resolved')), 2000))])
    }
  })
})
