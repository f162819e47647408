import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { formatTimeNano, parseRecords, parseTimeNano, readLogs, type LogEntry } from './k8s-file.js'

describe('k8s-file records', () => {
  it('joins partial records and keeps streams apart', () => {
    const text = '2026-11-27T10:00:00.000000001Z stdout P hel\n2026-11-27T10:00:00.000000002Z stdout F lo\n2026-11-27T10:00:01Z stderr F oops\n'
    const { entries, rest } = parseRecords(text, {})
    expect(rest).toBe('')
    expect(entries.map((e) => [e.stream, e.line.toString()])).toEqual([['stdout', 'hello\n'], ['stderr', 'oops\n']])
    expect(entries[0]?.timeNano).toBe(parseTimeNano('2026-11-27T10:00:00.000000001Z'))
  })

  it('shows a last line without its newline', () => {
    const { entries } = parseRecords('2026-11-27T10:00:00Z stdout P no newline\n', {})
    expect(entries.map((e) => e.line.toString())).toEqual(['no newline'])
  })

  it('keeps an unfinished record for the next read', () => {
    const { entries, rest } = parseRecords('2026-11-27T10:00:00Z stdout F a\n2026-11-27T10:00:01Z std', {})
    expect(entries).toHaveLength(1)
    expect(rest).toBe('2026-11-27T10:00:01Z std')
  })

  it('reads conmon times with offsets and prints docker times in UTC', () => {
    const ns = parseTimeNano('2026-11-27T12:00:00.5+02:00')
    expect(formatTimeNano(ns ?? 0n)).toBe('2026-11-27T10:00:00.5Z')
    expect(parseTimeNano('not a time')).toBeUndefined()
  })
})

describe('readLogs', () => {
  it('follows a file whose last write ended inside a character', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-logs-'))
    try {
      const file = path.join(dir, 'ctr.log')
      const rec = Buffer.from('2026-11-27T10:00:00Z stdout F caf\u00e9 \u2603\n')
      const cut = rec.indexOf(0xe2) + 1
      writeFileSync(file, rec.subarray(0, cut))
      let finish = () => {}
      const done = new Promise<void>((r) => (finish = r))
      const seen: LogEntry[] = []
      const reading = (async () => {
        for await (const e of readLogs(file, { follow: true, done })) seen.push(e)
      })()
      await new Promise((r) => setTimeout(r, 50))
      appendFileSync(file, rec.subarray(cut))
      finish()
      await reading
      expect(seen.map((e) => e.line.toString())).toEqual(['caf\u00e9 \u2603\n'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
