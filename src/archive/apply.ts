import { createHash } from 'node:crypto'
import path from 'node:path'
import type { Readable, Writable } from 'node:stream'
import { EngineError, invalidArgument } from '../errors/index.js'
import { tarExtract } from './gnu-tar.js'
import { encodeHeader, END_OF_ARCHIVE, newHeader, padding, TarReader, type TarHeader } from './tar.js'

export interface ApplyResult {
  /** sha256 of the uncompressed tar stream, as read. */
  diffId: string
  /** Bytes of that tar stream: what save and push send for the layer. */
  tarSize: number
  /** Bytes the layer unpacked: file data plus symlink targets, hard links once (docker's DiffSize). */
  size: number
}

export interface ApplyOptions {
  signal?: AbortSignal
}

/** Bytes gathered before one write to tar's stdin. */
const BATCH = 128 << 10
const NO_BYTES = Buffer.alloc(0)
const WHITEOUT = '.wh.'
const OPAQUE = '.wh..wh..opq'
const OVERLAY_XATTR = 'SCHILY.xattr.trusted.overlay.'
const OPAQUE_XATTR = 'SCHILY.xattr.trusted.overlay.opaque'

type Kind = 'dir' | 'symlink' | 'file' | 'other'

const refuse = (msg: string) => invalidArgument(`invalid layer: ${msg}`)

/**
 * Clean a member name the way docker does (filepath.Clean on a relative path)
 * and refuse names that climb out of the root. '' means the root itself.
 */
export function cleanMemberName(name: string): string {
  const stripped = name.replace(/^\/+/, '')
  if (stripped === '') return ''
  const clean = path.posix.normalize(stripped).replace(/\/+$/, '')
  if (clean === '.' ) return ''
  if (clean === '..' || clean.startsWith('../')) throw refuse(`${JSON.stringify(name)} points outside the layer`)
  return clean
}

function printable(s: string): string {
  return JSON.stringify(Buffer.from(s, 'latin1').toString('utf8'))
}

/**
 * Applies a layer's uncompressed tar into dir (an empty directory owned by
 * the caller): each header is validated and rewritten here, then re-packed
 * into GNU tar. OCI whiteouts become overlayfs ones: `.wh.NAME` a 0:0
 * character device NAME, `.wh..wh..opq` the trusted.overlay.opaque xattr on
 * its directory. Refused: names outside the root, paths through a symlink
 * this layer made, hard links to anything this layer did not make, entry
 * types tar cannot express safely. On error dir holds garbage; the caller
 * removes it.
 */
export async function applyLayer(dir: string, input: Readable, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const hash = createHash('sha256')
  let tarSize = 0
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const c of input as AsyncIterable<Buffer>) {
      hash.update(c)
      tarSize += c.length
      yield c
    }
  }
  const reader = new TarReader(hashed())
  const tar = tarExtract(dir)
  const stdin = tar.child.stdin as Writable
  let tarFailed: unknown
  tar.done.catch((e: unknown) => {
    tarFailed = e
  })
  stdin.on('error', () => {})

  // Pieces are corked and reach tar as one writev of about BATCH bytes: a
  // pipe write, and a wake-up of tar, for every header, small file and
  // padding block cost about three times the main-thread time per layer.
  let batched = 0
  const write = async (b: Buffer): Promise<void> => {
    if (b.length === 0) return
    if (batched === 0) stdin.cork()
    batched += b.length
    if (batched < BATCH) {
      stdin.write(b)
      return
    }
    await send(b)
  }
  const flush = async (): Promise<void> => {
    if (batched > 0) await send(NO_BYTES)
  }
  const send = async (b: Buffer): Promise<void> => {
    if (tarFailed) throw tarFailed
    batched = 0
    const ok = b.length > 0 ? stdin.write(b) : true
    stdin.uncork()
    if (!ok || stdin.writableNeedDrain) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = () => { cleanup(); resolve() }
        const onClose = () => { cleanup(); reject(tarFailed ?? new Error('tar closed its input early')) }
        const cleanup = () => { stdin.off('drain', onDrain); stdin.off('close', onClose) }
        stdin.once('drain', onDrain)
        stdin.once('close', onClose)
      })
    }
  }

  const kinds = new Map<string, Kind>()
  const dirHeaders = new Map<string, TarHeader>()
  let size = 0

  const checkParents = (p: string, what: string) => {
    let i = p.indexOf('/')
    while (i !== -1) {
      const anc = p.slice(0, i)
      if (kinds.get(anc) === 'symlink') throw refuse(`${what} ${printable(p)} goes through symlink ${printable(anc)}`)
      i = p.indexOf('/', i + 1)
    }
  }

  try {
    for (;;) {
      opts.signal?.throwIfAborted()
      const h = await reader.next()
      if (!h) break
      const name = cleanMemberName(h.name)
      if (name === '') continue
      checkParents(name, 'entry')
      const base = path.posix.basename(name)
      const parent = path.posix.dirname(name)
      const parentKey = parent === '.' ? '' : parent

      // Layers may not set overlay's own xattrs: only whiteouts become them.
      for (const k of [...h.pax.keys()]) {
        if (!k.startsWith('SCHILY.xattr.') || k.startsWith(OVERLAY_XATTR)) h.pax.delete(k)
      }

      if (base.startsWith(WHITEOUT)) {
        if (base === OPAQUE) {
          const dh = dirHeaders.get(parentKey) ?? newHeader(parentKey, 'dir', { mtime: h.mtime })
          const again: TarHeader = { ...dh, name: parentKey === '' ? '.' : parentKey, pax: new Map(dh.pax) }
          again.pax.set(OPAQUE_XATTR, Buffer.from('y'))
          await write(encodeHeader(again))
          if (parentKey !== '') kinds.set(parentKey, 'dir')
          continue
        }
        if (base.startsWith(WHITEOUT + WHITEOUT)) continue // aufs metadata, meaningless here
        const target = path.posix.join(parent, base.slice(WHITEOUT.length))
        const victim = base.slice(WHITEOUT.length)
        if (victim === '' || victim === '.' || victim === '..') throw refuse(`bad whiteout ${printable(name)}`)
        await write(encodeHeader(newHeader(target, 'char', { mode: 0, uid: h.uid, gid: h.gid, mtime: h.mtime })))
        kinds.set(target, 'other')
        continue
      }

      const out: TarHeader = { ...h, name }
      switch (h.type) {
        case 'dir':
          kinds.set(name, 'dir')
          dirHeaders.set(name, out)
          break
        case 'symlink':
          if (h.linkname === '') throw refuse(`symlink ${printable(name)} has no target`)
          kinds.set(name, 'symlink')
          // du-style, as docker's layer size: a symlink's size is its target's length.
          size += h.linkname.length
          break
        case 'link': {
          const target = cleanMemberName(h.linkname)
          checkParents(target, 'hard link target')
          const k = kinds.get(target)
          if (target === '' || k === undefined) throw refuse(`hard link ${printable(name)} to ${printable(h.linkname)}, which this layer does not contain`)
          if (k === 'dir') throw refuse(`hard link ${printable(name)} to directory ${printable(h.linkname)}`)
          out.linkname = target
          kinds.set(name, k)
          break
        }
        case 'file':
          kinds.set(name, 'file')
          size += h.size
          break
        default:
          kinds.set(name, 'other')
      }
      await write(encodeHeader(out))
      if (h.type === 'file' && h.size > 0) {
        let n = 0
        for await (const c of reader.body()) {
          n += c.length
          await write(c)
        }
        if (n !== h.size) throw refuse('truncated entry')
        await write(padding(h.size))
      }
    }
    await reader.drain()
    await write(END_OF_ARCHIVE)
    await flush()
    stdin.end()
    await tar.done
  } catch (err) {
    stdin.destroy()
    tar.child.kill('SIGKILL')
    await tar.done.catch(() => {})
    input.destroy()
    if (err instanceof EngineError) throw err
    throw invalidArgument(`applying layer: ${(err as Error).message}`, err)
  }
  return { diffId: 'sha256:' + hash.digest('hex'), size, tarSize }
}
