import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { gunzipSync } from 'node:zlib'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { openDb, type Db } from '../db/index.js'
import { nullLogger } from '../lib/index.js'
import { K8sFileFollower } from './follow.js'
import { JSONFileWriter, readJSONFileLogs } from './jsonfile-log.js'
import { LogShipper } from './shipper.js'

let dir: string
let db: Db
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'berth-ship-'))
  db = openDb(path.join(dir, 'meta.db'))
})
afterEach(() => {
  db.close()
  rmSync(dir, { recursive: true, force: true })
})

const rec = (s: number, stream: string, tag: string, text: string) => `2026-11-28T10:00:${String(s).padStart(2, '0')}.000000001Z ${stream} ${tag} ${text}\n`

describe('K8sFileFollower', () => {
  test('conmon\'s pieces of a line are joined, per stream; an unfinished record waits for its newline', async () => {
    const file = path.join(dir, 'c.log')
    writeFileSync(file, rec(1, 'stdout', 'F', 'one') + rec(2, 'stderr', 'P', 'lo') + rec(3, 'stdout', 'F', 'two') + rec(4, 'stderr', 'F', 'ng') + '2026-11-28T10:00:05Z stdout F unfini')
    const f = new K8sFileFollower(file)
    const b = await f.read()
    expect(b.records.map((r) => [r.message.source, Buffer.from(r.message.line).toString(), r.message.partial])).toEqual([['stdout', 'one', undefined], ['stdout', 'two', undefined], ['stderr', 'long', undefined]])
    expect(f.offset).toBe(readFileSync(file).lastIndexOf(0x0a) + 1)
    appendFileSync(file, 'shed\n')
    expect((await f.read()).records.map((r) => Buffer.from(r.message.line).toString())).toEqual(['unfinished'])
  })

  test('a line past 16 KiB goes in 16 KiB pieces sharing one partial id, as moby\'s copier sends it', async () => {
    const file = path.join(dir, 'c.log')
    const chunk = 'x'.repeat(8000)
    writeFileSync(file, rec(1, 'stdout', 'P', chunk) + rec(1, 'stdout', 'P', chunk) + rec(1, 'stdout', 'P', chunk) + rec(2, 'stdout', 'F', 'end'))
    const f = new K8sFileFollower(file)
    const got = (await f.read()).records.map((r) => r.message)
    expect(got.map((m) => m.line.length)).toEqual([16384, 24000 - 16384 + 3])
    expect(got[0]?.partial).toMatchObject({ ordinal: 1, last: false })
    expect(got[1]?.partial).toMatchObject({ id: got[0]?.partial?.id, ordinal: 2, last: true })
  })

  test('what a restart must read again starts before a line still being put together; final sends it as it stands', async () => {
    const file = path.join(dir, 'c.log')
    writeFileSync(file, rec(1, 'stdout', 'F', 'done') + rec(2, 'stdout', 'P', 'prompt> '))
    const f = new K8sFileFollower(file)
    expect((await f.read()).records).toHaveLength(1)
    expect(f.safeOffset).toBe(rec(1, 'stdout', 'F', 'done').length)
    const last = (await f.read(undefined, true)).records
    expect(last.map((r) => [Buffer.from(r.message.line).toString(), r.message.partial?.last])).toEqual([['prompt> ', false]])
  })

  test('a file cut short (conmon --log-size-max) is read again from the start', async () => {
    const file = path.join(dir, 'c.log')
    writeFileSync(file, rec(1, 'stdout', 'F', 'a') + rec(2, 'stdout', 'F', 'b'))
    const f = new K8sFileFollower(file)
    await f.read()
    writeFileSync(file, rec(3, 'stdout', 'F', 'c'))
    const b = await f.read()
    expect(b.restarted).toBe(true)
    expect(b.records.map((r) => Buffer.from(r.message.line).toString())).toEqual(['c'])
  })
})

describe('LogShipper with the json-file writer', () => {
  test('ships to docker\'s json-file lines, resumes at the saved offset after a restart, and drains on finish', async () => {
    const k8s = path.join(dir, 'c.log')
    const json = path.join(dir, 'c-json.log')
    const opts = { maxSize: -1, maxFile: 1, compress: false }
    writeFileSync(k8s, rec(1, 'stdout', 'F', 'hello') + rec(2, 'stderr', 'F', 'oops'))
    const s1 = new LogShipper({ db, logger: nullLogger })
    s1.start({ id: 'c', k8sFile: k8s, sink: new JSONFileWriter(json, opts) })
    await s1.sync('c', readFileSync(k8s).length)
    expect(readFileSync(json, 'utf8')).toBe(
      '{"log":"hello\\n","stream":"stdout","time":"2026-11-28T10:00:01.000000001Z"}\n' +
      '{"log":"oops\\n","stream":"stderr","time":"2026-11-28T10:00:02.000000001Z"}\n',
    )
    await s1.shutdown()
    // Written while berthd was down: shipped once, after the restart.
    appendFileSync(k8s, rec(3, 'stdout', 'F', 'while down'))
    const s2 = new LogShipper({ db, logger: nullLogger })
    s2.start({ id: 'c', k8sFile: k8s, sink: new JSONFileWriter(json, opts) })
    appendFileSync(k8s, rec(4, 'stdout', 'F', 'last words'))
    await s2.finish('c')
    const lines = readFileSync(json, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { log: string }).log)
    expect(lines).toEqual(['hello\n', 'oops\n', 'while down\n', 'last words\n'])
    await s2.forget('c')
    expect(db.prepare('SELECT COUNT(*) AS n FROM log_offsets').get()).toEqual({ n: 0 })
  })

  test('rotation by max-size keeps max-file files, compressed; logs reads them all in order', async () => {
    const k8s = path.join(dir, 'c.log')
    const json = path.join(dir, 'c-json.log')
    const opts = { maxSize: 200, maxFile: 3, compress: true }
    writeFileSync(k8s, Array.from({ length: 12 }, (_, i) => rec(i, 'stdout', 'F', `line ${i}`)).join(''))
    const s = new LogShipper({ db, logger: nullLogger })
    s.start({ id: 'c', k8sFile: k8s, sink: new JSONFileWriter(json, opts) })
    await s.finish('c')
    expect(existsSync(`${json}.1.gz`)).toBe(true)
    expect(existsSync(`${json}.2.gz`)).toBe(true)
    expect(existsSync(`${json}.3.gz`)).toBe(false)
    expect(gunzipSync(readFileSync(`${json}.1.gz`)).toString()).toContain('"stream":"stdout"')
    const seen: string[] = []
    for await (const e of readJSONFileLogs(json, opts, {})) seen.push(e.line.toString().trim())
    // Two rotations' worth of the oldest lines are gone, the rest in order.
    expect(seen.length).toBeGreaterThan(3)
    expect(seen.at(-1)).toBe('line 11')
    expect(seen).toEqual([...seen].sort((a, b) => Number(a.split(' ')[1]) - Number(b.split(' ')[1])))
    const tail = []
    for await (const e of readJSONFileLogs(json, opts, { tail: 2 })) tail.push(e.line.toString().trim())
    expect(tail).toEqual(['line 10', 'line 11'])
  })

  test('logs reads a file of 200 000 lines (more than a call takes as arguments)', async () => {
    const json = path.join(dir, 'big-json.log')
    const line = '{"log":"x\\n","stream":"stdout","time":"2026-11-28T10:00:00Z"}\n'
    writeFileSync(json, line.repeat(200_000))
    let n = 0
    for await (const _ of readJSONFileLogs(json, { maxSize: -1, maxFile: 1, compress: false }, {})) n++
    expect(n).toBe(200_000)
  })
})
