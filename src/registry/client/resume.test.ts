import { describe, expect, it } from 'vitest'
import { isNetworkError, parseContentRange, resumable, type ResumeOptions } from './resume.js'

const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251))

/** undici's error for a socket that closed mid-body. */
function dropped(): Error {
  const cause = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })
  return new TypeError('terminated', { cause })
}

/** The bytes [from, to) in chunks of 100, then a dropped connection unless the end was reached. */
async function* part(from: number, to: number, dropAfter = true): AsyncGenerator<Uint8Array> {
  for (let i = from; i < to; i += 100) yield data.subarray(i, Math.min(to, i + 100))
  if (dropAfter && to < data.length) throw dropped()
}

function answer(status: number, body: AsyncIterable<Uint8Array>, headers: Record<string, string> = {}): Response {
  // Pull-based: an error must not discard chunks queued before it, as it would from start().
  const it = body[Symbol.asyncIterator]()
  const stream = new ReadableStream<Uint8Array>({
    async pull(ctl) {
      try {
        const r = await it.next()
        if (r.done) ctl.close()
        else ctl.enqueue(r.value)
      } catch (err) {
        ctl.error(err)
      }
    },
  })
  return new Response(stream, { status, headers })
}

async function collect(src: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const c of src) parts.push(Buffer.from(c))
  return Buffer.concat(parts)
}

const base = (reopen: ResumeOptions['reopen']): ResumeOptions => ({ what: 'blob sha256:x', reopen, size: data.length, backoff: () => 0 })

describe('resumable blob streams', () => {
  it('continues with a 206 from where the connection dropped', async () => {
    const asked: number[] = []
    const out = await collect(resumable(part(0, 300), base(async (offset) => {
      asked.push(offset)
      return answer(206, part(offset, data.length), { 'content-range': `bytes ${offset}-${data.length - 1}/${data.length}` })
    })))
    expect(out.equals(data)).toBe(true)
    expect(asked).toEqual([300])
  })

  it('skips what it already passed on when the server ignores Range', async () => {
    let n = 0
    const out = await collect(resumable(part(0, 450), base(async () => {
      n++
      // The second whole answer drops too, at 700: the next resume starts there.
      return n === 1 ? answer(200, part(0, 700)) : answer(206, part(700, data.length), { 'content-range': `bytes 700-999/1000` })
    })))
    expect(out.equals(data)).toBe(true)
    expect(n).toBe(2)
  })

  it('gives up after five GETs in all, saying where it stopped', async () => {
    let n = 0
    const err = await collect(resumable(part(0, 200), base(async (offset) => {
      n++
      return answer(206, part(offset, offset + 100), { 'content-range': `bytes ${offset}-999/1000` })
    }))).catch((e: unknown) => e)
    expect(n).toBe(4)
    expect((err as Error).message).toBe('blob sha256:x: connection lost after 600 of 1000 bytes (other side closed); gave up after 5 attempts')
  })

  it('refuses a range that does not start where it stopped', async () => {
    const err = await collect(resumable(part(0, 300), base(async () => answer(206, part(0, 1000), { 'content-range': 'bytes 0-999/1000' })))).catch((e: unknown) => e)
    expect((err as Error).message).toMatch(/asked to resume at byte 300, the registry answered Content-Range "bytes 0-999\/1000"/)
  })

  it('does not retry answers or aborts', async () => {
    let n = 0
    const reopen = async () => {
      n++
      return answer(206, part(0, 0))
    }
    async function* bad(): AsyncGenerator<Uint8Array> {
      yield data.subarray(0, 10)
      throw new Error('digest mismatch')
    }
    await expect(collect(resumable(bad(), base(reopen)))).rejects.toThrow('digest mismatch')
    const ctl = new AbortController()
    async function* aborted(): AsyncGenerator<Uint8Array> {
      yield data.subarray(0, 10)
      ctl.abort()
      throw dropped()
    }
    await expect(collect(resumable(aborted(), { ...base(reopen), signal: ctl.signal }))).rejects.toThrow('terminated')
    expect(n).toBe(0)
  })

  it('treats a refused reconnect as another attempt', async () => {
    let n = 0
    const out = await collect(resumable(part(0, 500), base(async (offset) => {
      n++
      if (n === 1) throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) })
      return answer(206, part(offset, data.length), { 'content-range': `bytes ${offset}-999/*` })
    })))
    expect(out.equals(data)).toBe(true)
    expect(n).toBe(2)
  })

  it('classifies errors and parses Content-Range', () => {
    expect(isNetworkError(dropped())).toBe(true)
    expect(isNetworkError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true)
    expect(isNetworkError(new Error('digest mismatch'))).toBe(false)
    expect(parseContentRange('bytes 5-9/10')).toEqual({ start: 5, total: 10 })
    expect(parseContentRange('bytes 5-9/*')).toEqual({ start: 5, total: undefined })
    expect(parseContentRange('5-9')).toBeUndefined()
  })
})
