/**
 * Property-based tests of the tar reader and the layer unpacker on hostile
 * input: random headers (names with `..`, `/`, NUL, long names, link
 * targets in and out of the layer, every entry type, whiteouts), and random
 * corruption of valid archives. Bounded runs, a few seconds in all.
 *
 * The guarantees: only EngineErrors come out (never a TypeError, RangeError
 * or a hang), and nothing is written outside the destination: every link
 * target that leaves it points into a watched directory that must stay empty.
 */
import { existsSync, mkdtempSync, promises as fsp, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EngineError } from '../errors/index.js'
import { applyLayer } from './apply.js'
import { encodeHeader, END_OF_ARCHIVE, newHeader, padding, TarReader, type EntryType, type TarHeader } from './tar.js'

/** BERTH_FUZZ_SCALE=20 runs twenty times the cases: a longer hunt than CI's. */
const SCALE = Number(process.env.BERTH_FUZZ_SCALE ?? 1)

const work = mkdtempSync(path.join(tmpdir(), 'berth-tar-fuzz-'))
/** Where every escaping name and link target in the generated archives points. */
const outside = path.join(work, 'outside')
const sentinel = path.join(outside, 'sentinel')

beforeAll(async () => {
  await fsp.mkdir(outside)
  writeFileSync(sentinel, 'untouched')
})
afterAll(() => fsp.rm(work, { recursive: true, force: true }))

/** Path components: a small pool, so entries meet (a symlink, then a file under its name), and hostile ones. */
const component = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom('a', 'b', 'dir', 'f.txt', 'sentinel', 'outside') },
  { weight: 1, arbitrary: fc.constantFrom('..', '.', '') },
  { weight: 2, arbitrary: fc.constantFrom('.wh.a', '.wh.dir', '.wh..wh..opq', '.wh...', '.wh.', '.wh..wh.x') },
  { weight: 1, arbitrary: fc.constantFrom('a\0b', '\0', 'x'.repeat(120), 'é', '\xff\xfe', ' ', '\\') },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
)

/** Names relative, absolute, climbing: `../` runs long enough to leave any temp dir. */
const memberName = fc.tuple(
  fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom('', '/', './', '//') },
    { weight: 1, arbitrary: fc.constantFrom('../', '../../../../../../../../../../') },
  ),
  fc.array(component, { minLength: 1, maxLength: 4 }),
).map(([lead, parts]) => lead + parts.join('/'))

/** Link targets: inside the layer, out of it by `..`, absolute into the watched directory. */
const linkTarget = fc.oneof(
  memberName,
  fc.constantFrom(outside, sentinel, `${outside}/x`, '../outside/sentinel', '../../outside', '/etc/shadow', '/', '.', ''),
  fc.array(component, { maxLength: 3 }).map((p) => `${outside}/${p.join('/')}`),
)

const entryType = fc.constantFrom<EntryType>('file', 'file', 'dir', 'symlink', 'symlink', 'link', 'link', 'char', 'block', 'fifo')

const entry = fc.record({
  name: memberName,
  type: entryType,
  linkname: linkTarget,
  mode: fc.oneof(fc.constant(0o644), fc.constant(0o4755), fc.constant(0o7777), fc.integer({ min: 0, max: 0o7777 })),
  data: fc.uint8Array({ maxLength: 1100 }),
  xattr: fc.option(fc.constantFrom('SCHILY.xattr.trusted.overlay.opaque', 'SCHILY.xattr.user.x', 'SCHILY.xattr.security.capability', 'LIBARCHIVE.xattr.x'), { nil: undefined }),
})

type Gen = typeof entry extends fc.Arbitrary<infer T> ? T : never

function encode(e: Gen): Buffer {
  const data = Buffer.from(e.data)
  const h: TarHeader = newHeader(e.name, e.type, {
    mode: e.mode,
    size: e.type === 'file' ? data.length : 0,
    linkname: e.type === 'symlink' || e.type === 'link' ? e.linkname : '',
    devmajor: e.type === 'char' || e.type === 'block' ? 1 : 0,
    devminor: e.type === 'char' || e.type === 'block' ? 3 : 0,
  })
  if (e.xattr) h.pax.set(e.xattr, Buffer.from('y'))
  if (e.type !== 'file') return encodeHeader(h)
  return Buffer.concat([encodeHeader(h), data, padding(data.length)])
}

const archive = fc.array(entry, { minLength: 1, maxLength: 12 }).map((es) => Buffer.concat([...es.map(encode), END_OF_ARCHIVE]))

/** Random damage to a valid archive: flipped bytes, truncation, a chunked stream. */
const damaged = fc.tuple(
  archive,
  fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
  fc.option(fc.nat(), { nil: undefined }),
  fc.integer({ min: 1, max: 700 }),
).map(([tar, flips, cut, chunk]) => {
  const b = Buffer.from(tar)
  for (const [at, v] of flips) b[at % b.length] = v
  const out = cut === undefined ? b : b.subarray(0, cut % (b.length + 1))
  const chunks: Buffer[] = []
  for (let i = 0; i < out.length; i += chunk) chunks.push(out.subarray(i, i + chunk))
  return chunks
})

function onlyEngineErrors(err: unknown): void {
  if (!(err instanceof EngineError)) throw new Error(`not an EngineError: ${String(err)}`, { cause: err })
}

/** Every file under dir, as paths relative to it (names are bytes: layers may hold non-UTF-8 names). */
function walk(dir: Buffer): Buffer[] {
  const out: Buffer[] = []
  for (const e of readdirSync(dir, { withFileTypes: true, encoding: 'buffer' })) {
    const name = Buffer.from(e.name)
    out.push(name)
    if (e.isDirectory()) out.push(...walk(Buffer.concat([dir, Buffer.from('/'), name])).map((n) => Buffer.concat([name, Buffer.from('/'), n])))
  }
  return out
}

describe('TarReader on hostile bytes', () => {
  it('reads or refuses with its own error: never throws anything else, always ends', async () => {
    await fc.assert(
      fc.asyncProperty(damaged, async (chunks) => {
        const r = new TarReader(Readable.from(chunks))
        try {
          for (let n = 0; n < 10_000; n++) {
            const h = await r.next()
            if (!h) return
            expect(h.name.length).toBeLessThanOrEqual(4096)
            expect(Number.isSafeInteger(h.size) && h.size >= 0).toBe(true)
            for await (const _c of r.body()) {
              // read the data through
            }
          }
          throw new Error('more than 10000 entries from a tiny archive')
        } catch (err) {
          onlyEngineErrors(err)
        }
      }),
      { numRuns: 400 * SCALE },
    )
  }, 30_000 * SCALE)

  it('refuses random garbage as a tar, with its own error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 3000 }), async (bytes) => {
        const r = new TarReader(Readable.from([Buffer.from(bytes)]))
        try {
          while (await r.next()) {
            for await (const _c of r.body()) {
              // through
            }
          }
        } catch (err) {
          onlyEngineErrors(err)
        }
      }),
      { numRuns: 300 * SCALE },
    )
  }, 30_000 * SCALE)
})

describe('applyLayer on hostile archives', () => {
  let n = 0
  it('never writes outside its destination and throws only EngineErrors', async () => {
    await fc.assert(
      fc.asyncProperty(archive, async (tar) => {
        const dest = path.join(work, `layer-${n++}`)
        await fsp.mkdir(dest)
        try {
          await applyLayer(dest, Readable.from([tar]))
        } catch (err) {
          onlyEngineErrors(err)
        } finally {
          // The watched directory holds the sentinel, unchanged, and nothing else.
          expect(readdirSync(outside)).toEqual(['sentinel'])
          expect(readFileSync(sentinel, 'utf8')).toBe('untouched')
          // Nor did anything land beside the destination.
          expect(readdirSync(work).filter((f) => f !== 'outside' && !f.startsWith('layer-'))).toEqual([])
          expect(existsSync('/etc/shadow.berth-fuzz')).toBe(false)
          // Whatever the layer holds is under dest: walking it stays inside (symlinks are not followed).
          for (const f of walk(Buffer.from(dest))) expect(path.resolve(dest, f.toString('latin1')).startsWith(dest + '/')).toBe(true)
          await fsp.rm(dest, { recursive: true, force: true })
        }
      }),
      { numRuns: 250 * SCALE },
    )
  }, 60_000 * SCALE)

  it('a symlink out of the layer and a file written through it: refused, the target untouched', async () => {
    // The shrunk form of what the property above hunts for, pinned.
    const dest = path.join(work, 'layer-pinned')
    await fsp.mkdir(dest)
    const tar = Buffer.concat([
      encode({ name: 'esc', type: 'symlink', linkname: outside, mode: 0o777, data: new Uint8Array(), xattr: undefined }),
      encode({ name: 'esc/sentinel', type: 'file', linkname: '', mode: 0o644, data: Buffer.from('pwned'), xattr: undefined }),
      END_OF_ARCHIVE,
    ])
    await expect(applyLayer(dest, Readable.from([tar]))).rejects.toThrow(/goes through symlink/)
    expect(readFileSync(sentinel, 'utf8')).toBe('untouched')
  })
})
