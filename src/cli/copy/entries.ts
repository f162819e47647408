/**
 * A copy's tar as a stream of entries, so names can be rewritten on the way
 * (go-archive's RebaseArchiveEntries) without holding the archive: an
 * entry's body must be read, or left, before the next entry is asked for.
 */
import { encodeHeader, END_OF_ARCHIVE, padding, TarReader, type TarHeader } from '../../archive/index.js'
import { nameRebaser } from './paths.js'

export interface TarEntry {
  header: TarHeader
  /** A regular file's bytes, exactly header.size of them. */
  body?: AsyncIterable<Buffer>
}

/** The entries of a tar stream. */
export async function* readEntries(src: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const reader = new TarReader(src)
  for (;;) {
    const header = await reader.next()
    if (!header) return
    yield header.type === 'file' && header.size > 0 ? { header, body: reader.body() } : { header }
  }
}

/** Names (and hard-link targets) starting with the element `from` start with `to` instead. */
export async function* rebaseEntries(entries: AsyncIterable<TarEntry>, from: string, to: string): AsyncGenerator<TarEntry> {
  const rebase = nameRebaser(from, to)
  for await (const e of entries) {
    const header = { ...e.header, name: rebase(e.header.name) }
    if (header.type === 'link') header.linkname = rebase(header.linkname)
    yield { ...e, header }
  }
}

/** The bytes of a tar of the entries, closed by the end-of-archive blocks. */
export async function* encodeEntries(entries: AsyncIterable<TarEntry>): AsyncGenerator<Buffer> {
  for await (const { header, body } of entries) {
    yield encodeHeader(header)
    if (header.type !== 'file' || header.size === 0) continue
    let n = 0
    if (body) {
      for await (const c of body) {
        n += c.length
        yield c
      }
    }
    if (n !== header.size) throw new Error(`tar entry ${JSON.stringify(header.name)}: ${n} bytes of ${header.size}`)
    yield padding(header.size)
  }
  yield END_OF_ARCHIVE
}

/** Bytes of src gathered into chunks of at least `size` (the last may be smaller). */
export async function* chunked(src: AsyncIterable<Buffer>, size = 256 << 10): AsyncGenerator<Buffer> {
  let parts: Buffer[] = []
  let n = 0
  for await (const b of src) {
    if (b.length === 0) continue
    parts.push(b)
    n += b.length
    if (n >= size) {
      yield parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, n)
      parts = []
      n = 0
    }
  }
  if (n > 0) yield Buffer.concat(parts, n)
}
