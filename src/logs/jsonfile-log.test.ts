import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { encodeJSONFileLine, parseJSONFileLine, parseRFC3339Nano, unixNano } from './drivers/index.js'
import { jsonFileFormat, readJSONFileLogs, tailOffset } from './jsonfile-log.js'
import type { LogEntry } from './k8s-file.js'

const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-jsonfile-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const at = (i: number) => ({ ms: Date.UTC(2026, 0, 2, 3, 4, 5) + i, nanos: i % 7 })
const line = (text: string, i = 0, source: 'stdout' | 'stderr' = 'stdout') => encodeJSONFileLine({ line: Buffer.from(text), source, timestamp: at(i) })
const show = (e: LogEntry) => `${e.stream} ${e.timeNano} ${e.line.toString()}`

/** What JSON.parse makes of a line: the plain path must agree with it. */
function slow(text: string): LogEntry {
  const e = parseJSONFileLine(text)
  return { stream: e.source === 'stderr' ? 'stderr' : 'stdout', timeNano: unixNano(e.timestamp), line: e.line, ...(Object.keys(e.attrs).length ? { attrs: e.attrs } : {}) }
}

async function all(file: string, opts: Parameters<typeof readJSONFileLogs>[2] = {}, maxFile = 1): Promise<string[]> {
  const out: string[] = []
  for await (const e of readJSONFileLogs(file, { maxSize: -1, maxFile, compress: false }, opts)) out.push(show(e))
  return out
}

describe('jsonFileFormat().decode', () => {
  it('reads plain lines from their bytes as JSON.parse reads them, and hands the rest to JSON.parse', () => {
    const lines = [
      line('plain'),
      line('plain', 0, 'stderr'),
      line('again', 1),
      line('quote " and \\ backslash', 2),
      line('<html> & é 😀', 3),
      line('tab\there', 4),
      encodeJSONFileLine({ line: Buffer.from('piece'), source: 'stdout', timestamp: at(5), partial: { id: 'x', ordinal: 1, last: false } }),
      encodeJSONFileLine({ line: Buffer.from('with attrs'), source: 'stdout', timestamp: at(6) }, '{"tag":"t"}'),
      Buffer.from('{"stream":"stdout","log":"other order\\n","time":"2026-01-02T03:04:05Z"}\n'),
      Buffer.from('{"log":"bad time\\n","stream":"stdout","time":"yesterday"}\n'),
      Buffer.from('not json at all\n'),
      line('last'),
    ]
    const buf = Buffer.concat(lines)
    const { entries, used } = jsonFileFormat().decode(buf)
    expect(used).toBe(buf.length)
    const expected = lines
      .map((l) => l.toString().trimEnd())
      .flatMap((t) => {
        try {
          return [slow(t)]
        } catch {
          return []
        }
      })
    expect(entries.map(show)).toEqual(expected.map(show))
    expect(entries.map((e) => e.attrs)).toEqual(expected.map((e) => e.attrs))
    expect(entries).toHaveLength(10)
  })

  it('leaves an unfinished last line for the next read', () => {
    const whole = line('one')
    const { entries, used } = jsonFileFormat().decode(Buffer.concat([whole, line('two').subarray(0, 10)]))
    expect(entries.map((e) => e.line.toString())).toEqual(['one\n'])
    expect(used).toBe(whole.length)
  })

  it('parses each line its own time when the times differ', () => {
    const { entries } = jsonFileFormat().decode(Buffer.concat([line('a', 1), line('b', 2), line('c', 1)]))
    expect(entries.map((e) => e.timeNano)).toEqual([1, 2, 1].map((i) => unixNano(at(i))))
    expect(unixNano(parseRFC3339Nano('2026-01-02T03:04:05.002000002Z')!)).toBe(entries[1]?.timeNano)
  })
})

describe('readJSONFileLogs', () => {
  // Over a megabyte: the file is read in more than one chunk.
  const big = path.join(dir, 'big-json.log')
  const N = 30000
  writeFileSync(big, Buffer.concat(Array.from({ length: N }, (_, i) => line(`line ${i} ${'x'.repeat(30)}`, i))))

  it('reads every line of a file larger than a chunk, in order', async () => {
    const got = await all(big)
    expect(got).toHaveLength(N)
    expect(got[0]).toContain(' line 0 ')
    expect(got[N - 1]).toContain(` line ${N - 1} `)
    expect(got.every((l, i) => l.includes(` line ${i} `))).toBe(true)
  })

  it('tail counts back from the end; 0 gives nothing', async () => {
    expect((await all(big, { tail: 3 })).map((l) => l.split(' ')[3])).toEqual([String(N - 3), String(N - 2), String(N - 1)])
    expect(await all(big, { tail: 0 })).toEqual([])
    expect(await all(big, { tail: N + 10 })).toHaveLength(N)
  })

  it('tail reaches into rotated files, oldest first', async () => {
    const f = path.join(dir, 'rot-json.log')
    writeFileSync(`${f}.2`, Buffer.concat([line('r2-a'), line('r2-b')]))
    writeFileSync(`${f}.1`, Buffer.concat([line('r1-a')]))
    writeFileSync(f, Buffer.concat([line('live-a'), line('live-b')]))
    const text = async (tail?: number) => (await all(f, tail === undefined ? {} : { tail }, 3)).map((l) => l.split(' ').slice(2).join(' ').trim())
    expect(await text()).toEqual(['r2-a', 'r2-b', 'r1-a', 'live-a', 'live-b'])
    expect(await text(4)).toEqual(['r2-b', 'r1-a', 'live-a', 'live-b'])
    expect(await text(2)).toEqual(['live-a', 'live-b'])
  })

  it('as moby: tail picks the last lines first, since filters those', async () => {
    const f = path.join(dir, 'since-json.log')
    writeFileSync(f, Buffer.concat([line('old', 0), line('new', 100), line('older', 1)]))
    const since = unixNano(at(50))
    expect((await all(f, { sinceNano: since, tail: 2 })).map((l) => l.split(' ')[2]?.trim())).toEqual(['new'])
    expect((await all(f, { sinceNano: since })).map((l) => l.split(' ')[2]?.trim())).toEqual(['new'])
  })

  it('tailOffset: where the last n whole lines begin, a partial last line not counted', async () => {
    const f = path.join(dir, 'offsets')
    writeFileSync(f, 'a\nbb\nccc\npartial')
    expect(await tailOffset(f, 0)).toBe(9)
    expect(await tailOffset(f, 1)).toBe(5)
    expect(await tailOffset(f, 3)).toBe(0)
    expect(await tailOffset(f, 9)).toBe(0)
    expect(await tailOffset(path.join(dir, 'none'), 1)).toBeUndefined()
  })
})
