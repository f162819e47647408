/**
 * Property-based test of the builder's unpacker (build contexts and ADD's
 * local archives) on hostile archives: random names with `..`, `/` and NUL,
 * links in and out, every entry type. In `context` mode into an empty
 * directory, in `chroot` mode into one already holding symlinks out of it
 * (as an image's rootfs may). Only EngineErrors come out, and a watched
 * directory outside, where every escaping path points, stays as it was.
 */
import { mkdtempSync, promises as fsp, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeHeader, END_OF_ARCHIVE, newHeader, padding, type EntryType } from '../archive/index.js'
import { EngineError } from '../errors/index.js'
import { extractTar } from './untar.js'

/** BERTH_FUZZ_SCALE=20 runs twenty times the cases: a longer hunt than CI's. */
const SCALE = Number(process.env.BERTH_FUZZ_SCALE ?? 1)

const work = mkdtempSync(path.join(tmpdir(), 'berth-untar-fuzz-'))
const outside = path.join(work, 'outside')
const sentinel = path.join(outside, 'sentinel')

beforeAll(async () => {
  await fsp.mkdir(outside)
  writeFileSync(sentinel, 'untouched')
})
afterAll(() => fsp.rm(work, { recursive: true, force: true }))

const component = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom('a', 'b', 'up', 'abs', 'f', 'sentinel', 'outside') },
  { weight: 2, arbitrary: fc.constantFrom('..', '.', '') },
  { weight: 1, arbitrary: fc.constantFrom('a\0b', 'x'.repeat(120), '.wh.a', '\xff') },
)
const memberName = fc.tuple(
  fc.oneof({ weight: 6, arbitrary: fc.constantFrom('', '/', './') }, { weight: 1, arbitrary: fc.constantFrom('../', '../../../../../../../../') }),
  fc.array(component, { minLength: 1, maxLength: 4 }),
).map(([lead, parts]) => lead + parts.join('/'))
const linkTarget = fc.oneof(memberName, fc.constantFrom(outside, sentinel, '../outside', '../../outside/sentinel', '/', '/etc/shadow'))

const entry = fc.record({
  name: memberName,
  type: fc.constantFrom<EntryType>('file', 'file', 'dir', 'symlink', 'symlink', 'link', 'char', 'fifo'),
  linkname: linkTarget,
  data: fc.uint8Array({ maxLength: 600 }),
  mode: fc.constantFrom(0o644, 0o755, 0o4755, 0o000, 0o7777),
})

const archive = fc.array(entry, { minLength: 1, maxLength: 10 }).map((es) => Buffer.concat([
  ...es.map((e) => {
    const data = Buffer.from(e.data)
    const h = newHeader(e.name, e.type, { mode: e.mode, size: e.type === 'file' ? data.length : 0, linkname: e.type === 'symlink' || e.type === 'link' ? e.linkname : '', devmajor: 1, devminor: 3 })
    return e.type === 'file' ? Buffer.concat([encodeHeader(h), data, padding(data.length)]) : encodeHeader(h)
  }),
  END_OF_ARCHIVE,
]))

function untouched(): void {
  expect(readdirSync(outside)).toEqual(['sentinel'])
  expect(readFileSync(sentinel, 'utf8')).toBe('untouched')
  expect(readdirSync(work).filter((f) => f !== 'outside' && !f.startsWith('dest-'))).toEqual([])
}

let n = 0
async function property(mode: 'context' | 'chroot', tar: Buffer): Promise<void> {
  const dest = path.join(work, `dest-${n++}`)
  await fsp.mkdir(dest)
  if (mode === 'chroot') {
    // What an image's rootfs may hold: links that point out of it when read on the host.
    await fsp.symlink(outside, path.join(dest, 'abs'))
    await fsp.symlink('../outside', path.join(dest, 'up'))
    await fsp.symlink(sentinel, path.join(dest, 'sentinel'))
  }
  try {
    await extractTar(Readable.from([tar]), dest, { mode })
  } catch (err) {
    if (!(err instanceof EngineError)) throw new Error(`not an EngineError: ${String(err)}`, { cause: err })
  } finally {
    untouched()
    // Modes of 0 would stop rm: make everything writable first.
    await fsp.chmod(dest, 0o755).catch(() => {})
    await fsp.rm(dest, { recursive: true, force: true }).catch(async () => {
      const { execFileSync } = await import('node:child_process')
      execFileSync('chmod', ['-R', 'u+rwx', dest])
      await fsp.rm(dest, { recursive: true, force: true })
    })
  }
}

describe('extractTar on hostile archives', () => {
  it('context mode: only EngineErrors, nothing written outside', async () => {
    await fc.assert(fc.asyncProperty(archive, (tar) => property('context', tar)), { numRuns: 150 * SCALE })
  }, 60_000 * SCALE)

  it('chroot mode, into a rootfs with links out of it: only EngineErrors, nothing written outside', async () => {
    await fc.assert(fc.asyncProperty(archive, (tar) => property('chroot', tar)), { numRuns: 150 * SCALE })
  }, 60_000 * SCALE)
})
