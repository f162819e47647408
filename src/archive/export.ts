import path from 'node:path'
import { Readable } from 'node:stream'
import { tarCreate } from './gnu-tar.js'
import { encodeHeader, END_OF_ARCHIVE, newHeader, padding, TarReader } from './tar.js'

const OPAQUE_XATTR = 'SCHILY.xattr.trusted.overlay.opaque'

/**
 * A layer tar of a directory (an overlay upper dir or a layer's diff): GNU
 * tar reads the files, and the stream is rewritten on the way out so overlay
 * whiteouts become OCI ones (0:0 char device → `.wh.NAME`, opaque xattr →
 * `.wh..wh..opq`) and names lose their `./` prefix, as docker's layer tars.
 */
export function tarDirectory(dir: string): Readable {
  const tar = tarCreate(dir)
  async function* gen(): AsyncGenerator<Buffer> {
    const reader = new TarReader(tar.stdout as Readable)
    for (;;) {
      const h = await reader.next()
      if (!h) break
      const name = h.name.replace(/^\.\//, '').replace(/\/$/, '')
      if (name === '.' || name === '') continue
      const opaque = h.pax.get(OPAQUE_XATTR)?.toString() === 'y'
      for (const k of [...h.pax.keys()]) if (k.startsWith('SCHILY.xattr.trusted.overlay.')) h.pax.delete(k)
      if (h.type === 'char' && h.devmajor === 0 && h.devminor === 0) {
        const wh = path.posix.join(path.posix.dirname(name), '.wh.' + path.posix.basename(name))
        yield encodeHeader(newHeader(wh, 'file', { mtime: h.mtime, uid: h.uid, gid: h.gid }))
        continue
      }
      yield encodeHeader({ ...h, name })
      if (h.type === 'file' && h.size > 0) {
        for await (const c of reader.body()) yield c
        yield padding(h.size)
      }
      if (opaque && h.type === 'dir') {
        yield encodeHeader(newHeader(`${name}/.wh..wh..opq`, 'file', { mtime: h.mtime }))
      }
    }
    await tar.done
    yield END_OF_ARCHIVE
  }
  return Readable.from(gen(), { objectMode: false })
}
