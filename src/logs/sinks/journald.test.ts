import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DgramSocket } from 'node-unix-socket'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import type { Logger } from '../../lib/index.js'
import { nullLogger } from '../../lib/index.js'
import { LogInfo, type LogMessage } from '../drivers/index.js'
import { journaldSinkAt } from './journald.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'berth-journald-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const ID = 'c'.repeat(64)
const info = (config: Record<string, string>, labels: Record<string, string> = {}) =>
  new LogInfo({ config, containerID: ID, containerName: '/web', containerImageName: 'busybox:latest', containerLabels: labels })
const ctx = (opts: Record<string, string> = {}, labels: Record<string, string> = {}, logger: Logger = nullLogger) => ({ info: info(opts, labels), opts, logger })
const msg = (text: string | Buffer, source: 'stdout' | 'stderr' = 'stdout', partial?: LogMessage['partial']): LogMessage => ({
  line: Buffer.from(text),
  source,
  timestamp: { ms: Date.UTC(2024, 0, 2, 3, 4, 5, 678) },
  ...(partial && { partial }),
})

/** The native journal protocol as journald parses it: "KEY=value\n", or "KEY\n" + u64le length + bytes + "\n". */
function decodeJournal(b: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  let i = 0
  while (i < b.length) {
    const nl = b.indexOf(0x0a, i)
    if (nl < 0) throw new Error(`unterminated field at ${i}`)
    const eq = b.indexOf(0x3d, i)
    if (eq >= 0 && eq < nl) {
      out.set(b.subarray(i, eq).toString(), b.subarray(eq + 1, nl))
      i = nl + 1
      continue
    }
    const key = b.subarray(i, nl).toString()
    const len = Number(b.readBigUInt64LE(nl + 1))
    const start = nl + 9
    out.set(key, b.subarray(start, start + len))
    if (b[start + len] !== 0x0a) throw new Error(`binary field ${key} not followed by a newline`)
    i = start + len + 1
  }
  return out
}

function journal(): { path: string; got: Array<Map<string, Buffer>>; close(): void } {
  const p = path.join(dir, 'socket')
  const got: Array<Map<string, Buffer>> = []
  const s = new DgramSocket()
  s.on('data', (b: Buffer) => got.push(decodeJournal(b)))
  s.bind(p)
  return { path: p, got, close: () => s.close() }
}

const waitUntil = async (f: () => boolean) => {
  for (let i = 0; i < 300 && !f(); i++) await new Promise((r) => setTimeout(r, 10))
}
const str = (m: Map<string, Buffer>) => Object.fromEntries([...m].map(([k, v]) => [k, v.toString()]))

describe('journald sink', () => {
  test('one native-protocol datagram per message with the container fields, priority by stream and an ordinal', async () => {
    const j = journal()
    const sink = journaldSinkAt(j.path)(ctx({ tag: '{{.Name}}', labels: 'team' }, { team: 'core', other: 'x' }))
    sink.log(msg('hello'))
    sink.log(msg('oops', 'stderr'))
    await sink.flush()
    await waitUntil(() => j.got.length >= 2)
    await sink.close()
    j.close()
    expect(j.got).toHaveLength(2)
    const [a, b] = j.got.map(str)
    expect(a).toMatchObject({
      MESSAGE: 'hello',
      PRIORITY: '6',
      CONTAINER_ID: ID.slice(0, 12),
      CONTAINER_ID_FULL: ID,
      CONTAINER_NAME: 'web',
      CONTAINER_TAG: 'web',
      SYSLOG_IDENTIFIER: 'web',
      IMAGE_NAME: 'busybox:latest',
      SYSLOG_TIMESTAMP: '2024-01-02T03:04:05.678Z',
      CONTAINER_LOG_ORDINAL: '1',
      TEAM: 'core',
    })
    expect(a!['OTHER']).toBeUndefined()
    expect(a!['CONTAINER_LOG_EPOCH']).toMatch(/^[0-9a-f]{64}$/)
    expect(b).toMatchObject({ MESSAGE: 'oops', PRIORITY: '3', CONTAINER_LOG_ORDINAL: '2', CONTAINER_LOG_EPOCH: a!['CONTAINER_LOG_EPOCH'] })
  })

  test('a value with a newline or binary bytes goes in the length-prefixed form; partial pieces carry their fields', async () => {
    const j = journal()
    const sink = journaldSinkAt(j.path)(ctx())
    const bin = Buffer.from([0x00, 0x0a, 0xff, 0x3d, 0x0a])
    sink.log(msg('two\nlines'))
    sink.log(msg(bin))
    sink.log(msg('first piece', 'stdout', { id: 'p1', ordinal: 1, last: false }))
    sink.log(msg('last piece', 'stdout', { id: 'p1', ordinal: 2, last: true }))
    await sink.flush()
    await waitUntil(() => j.got.length >= 4)
    await sink.close()
    j.close()
    expect(j.got[0]!.get('MESSAGE')!.toString()).toBe('two\nlines')
    expect(Buffer.compare(j.got[1]!.get('MESSAGE')!, bin)).toBe(0)
    expect(str(j.got[2]!)).toMatchObject({ CONTAINER_PARTIAL_ID: 'p1', CONTAINER_PARTIAL_ORDINAL: '1', CONTAINER_PARTIAL_LAST: 'false', CONTAINER_PARTIAL_MESSAGE: 'true' })
    expect(str(j.got[3]!)).toMatchObject({ CONTAINER_PARTIAL_ID: 'p1', CONTAINER_PARTIAL_ORDINAL: '2', CONTAINER_PARTIAL_LAST: 'true' })
    expect(j.got[3]!.has('CONTAINER_PARTIAL_MESSAGE')).toBe(false)
    expect(j.got[3]!.get('CONTAINER_LOG_ORDINAL')!.toString()).toBe('4')
  })

  test('a datagram past the socket limit is dropped with a warning, the messages around it go', async () => {
    const j = journal()
    const warnings: string[] = []
    const logger: Logger = { ...nullLogger, warn: (m: string) => void warnings.push(m), child: () => logger }
    const sink = journaldSinkAt(j.path)(ctx({}, {}, logger))
    sink.log(msg('before'))
    sink.log(msg('x'.repeat(4 << 20)))
    sink.log(msg('after'))
    await sink.flush()
    await waitUntil(() => j.got.length >= 2)
    await sink.close()
    j.close()
    expect(j.got.map((m) => m.get('MESSAGE')!.toString())).toEqual(['before', 'after'])
    expect(warnings).toContain('log message dropped')
  })

  test('no journal listening: close gives up after its timeout instead of hanging', async () => {
    const sink = journaldSinkAt(path.join(dir, 'nobody'), 200)(ctx())
    sink.log(msg('lost'))
    const flushed = sink.flush().then(
      () => 'flushed',
      () => 'rejected',
    )
    await sink.close()
    expect(await flushed).toBe('rejected')
  })
})
