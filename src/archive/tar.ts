/**
 * A small tar codec (ustar, GNU long names, PAX). Hand-written rather than
 * tar-stream because layers must round-trip byte for byte: tar-stream decodes
 * PAX records and names as UTF-8 strings, which corrupts binary xattr values
 * (security.capability) and non-UTF-8 file names. Here names are "binary"
 * strings (latin1: one char per byte) and PAX values stay Buffers.
 */
import { invalidArgument } from '../errors/index.js'

export type EntryType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo'

export interface TarHeader {
  /** Bytes of the name, one char per byte (latin1). */
  name: string
  type: EntryType
  mode: number
  uid: number
  gid: number
  size: number
  /** Seconds since the epoch (PAX may carry a fraction). */
  mtime: number
  linkname: string
  uname: string
  gname: string
  devmajor: number
  devminor: number
  /** PAX records not folded into the fields above (xattrs and the like). */
  pax: Map<string, Buffer>
}

const BLOCK = 512
/** Limits for hostile input: names and PAX data past these are refused. */
export const MAX_NAME = 4096
const MAX_META = 1 << 20
export const MAX_ENTRY_SIZE = 2 ** 42

const TYPES: Record<string, EntryType> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'link', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo' }
const TYPE_FLAGS: Record<EntryType, string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' }

const bad = (msg: string) => invalidArgument(`invalid tar archive: ${msg}`)

/**
 * The chunk as a Buffer without copying it: a view on the same memory. Views
 * handed out stay valid because producers (streams, zlib, generators) never
 * write into a chunk once they have passed it on.
 */
function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength)
}

const NO_BYTES = Buffer.alloc(0)

/** Pull-based byte source over an async iterable of chunks. */
class ByteSource {
  private buf: Buffer = NO_BYTES
  private done = false
  private readonly it: AsyncIterator<Uint8Array>

  constructor(src: AsyncIterable<Uint8Array>) {
    this.it = src[Symbol.asyncIterator]()
  }

  /**
   * Exactly n bytes, or fewer only at end of input. Only the bytes asked for
   * are copied when they span chunks; the rest of the last chunk stays a view.
   */
  async read(n: number): Promise<Buffer> {
    if (this.buf.length >= n || this.done) return this.take(n)
    const parts: Buffer[] = this.buf.length > 0 ? [this.buf] : []
    let have = this.buf.length
    this.buf = NO_BYTES
    while (have < n) {
      const r = await this.it.next()
      if (r.done) {
        this.done = true
        break
      }
      const c = asBuffer(r.value)
      const need = n - have
      if (c.length <= need) {
        parts.push(c)
        have += c.length
      } else {
        parts.push(c.subarray(0, need))
        this.buf = c.subarray(need)
        have = n
      }
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, have)
  }

  /** Up to max bytes, at least one unless at end. */
  async chunk(max: number): Promise<Buffer> {
    while (this.buf.length === 0 && !this.done) {
      const r = await this.it.next()
      if (r.done) this.done = true
      else this.buf = asBuffer(r.value)
    }
    return this.take(max)
  }

  private take(max: number): Buffer {
    const out = this.buf.subarray(0, max)
    this.buf = this.buf.subarray(out.length)
    return out
  }

  /** Consume the rest of the input (so a hash over it completes). */
  async drain(): Promise<void> {
    this.buf = NO_BYTES
    while (!this.done) {
      const r = await this.it.next()
      if (r.done) this.done = true
    }
  }
}

function readString(b: Buffer, off: number, len: number): string {
  const s = b.subarray(off, off + len)
  const nul = s.indexOf(0)
  return (nul === -1 ? s : s.subarray(0, nul)).toString('latin1')
}

function readNumber(b: Buffer, off: number, len: number): number {
  const f = b.subarray(off, off + len)
  if ((f[0] as number) & 0x80) {
    // GNU base-256: big-endian, first byte's top bit is the marker.
    if ((f[0] as number) & 0x40) throw bad('negative number')
    let n = (f[0] as number) & 0x3f
    for (let i = 1; i < f.length; i++) n = n * 256 + (f[i] as number)
    if (!Number.isSafeInteger(n)) throw bad('number too large')
    return n
  }
  const s = f.toString('latin1').replace(/\0.*$/s, '').trim()
  if (s === '') return 0
  if (!/^[0-7]+$/.test(s)) throw bad(`invalid octal field ${JSON.stringify(s)}`)
  return parseInt(s, 8)
}

function checksumOk(b: Buffer): boolean {
  const stored = readNumber(b, 148, 8)
  let sum = 0
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (b[i] as number)
  return sum === stored
}

function parsePax(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  let off = 0
  while (off < data.length) {
    if (data[off] === 0) break
    const sp = data.indexOf(0x20, off)
    if (sp === -1) throw bad('malformed PAX record')
    const len = Number(data.subarray(off, sp).toString('latin1'))
    if (!Number.isInteger(len) || len <= sp - off || off + len > data.length) throw bad('malformed PAX record length')
    const rec = data.subarray(sp + 1, off + len - 1)
    const eq = rec.indexOf(0x3d)
    if (eq === -1) throw bad('malformed PAX record')
    out.set(rec.subarray(0, eq).toString('utf8'), Buffer.from(rec.subarray(eq + 1)))
    off += len
  }
  return out
}

/**
 * Reads a tar stream entry by entry. Call next() for each header and body()
 * (optional) to stream its data; unread data is skipped.
 */
export class TarReader {
  private readonly src: ByteSource
  private remaining = 0
  private padding = 0
  private globalPax = new Map<string, Buffer>()
  private ended = false

  constructor(src: AsyncIterable<Uint8Array>) {
    this.src = new ByteSource(src)
  }

  async next(): Promise<TarHeader | null> {
    await this.skipBody()
    if (this.ended) return null
    let longName: string | undefined
    let longLink: string | undefined
    let pax: Map<string, Buffer> | undefined
    for (;;) {
      const b = await this.src.read(BLOCK)
      if (b.length === 0) {
        this.ended = true
        return null
      }
      if (b.length < BLOCK) throw bad('unexpected end of archive')
      if (b.every((x) => x === 0)) {
        // End-of-archive marker (one or two zero blocks): the rest is padding.
        this.ended = true
        await this.src.drain()
        return null
      }
      if (!checksumOk(b)) throw bad('header checksum mismatch')
      const flag = String.fromCharCode(b[156] as number)
      const size = readNumber(b, 124, 12)
      if (flag === 'L' || flag === 'K' || flag === 'x' || flag === 'g') {
        if (size > MAX_META) throw bad('metadata entry too large')
        const data = await this.readData(size)
        if (flag === 'L') longName = readString(data, 0, data.length)
        else if (flag === 'K') longLink = readString(data, 0, data.length)
        else if (flag === 'x') pax = new Map([...(pax ?? []), ...parsePax(data)])
        else this.globalPax = new Map([...this.globalPax, ...parsePax(data)])
        continue
      }
      const type = TYPES[flag]
      if (type === undefined) throw bad(`unsupported entry type ${JSON.stringify(flag)}`)
      const magic = b.subarray(257, 263).toString('latin1')
      let name = readString(b, 0, 100)
      if (magic === 'ustar\0') {
        const prefix = readString(b, 345, 155)
        if (prefix) name = `${prefix}/${name}`
      }
      const records = new Map([...this.globalPax, ...(pax ?? [])])
      const h: TarHeader = {
        name: longName ?? name,
        type,
        mode: readNumber(b, 100, 8) & 0o7777,
        uid: readNumber(b, 108, 8),
        gid: readNumber(b, 116, 8),
        size,
        mtime: readNumber(b, 136, 12),
        linkname: longLink ?? readString(b, 157, 100),
        uname: readString(b, 265, 32),
        gname: readString(b, 297, 32),
        devmajor: type === 'char' || type === 'block' ? readNumber(b, 329, 8) : 0,
        devminor: type === 'char' || type === 'block' ? readNumber(b, 337, 8) : 0,
        pax: new Map(),
      }
      for (const [k, v] of records) {
        const s = () => v.toString('utf8')
        if (k === 'path') h.name = v.toString('latin1')
        else if (k === 'linkpath') h.linkname = v.toString('latin1')
        else if (k === 'size') h.size = Number(s())
        else if (k === 'uid') h.uid = Number(s())
        else if (k === 'gid') h.gid = Number(s())
        else if (k === 'mtime') h.mtime = Number(s())
        else if (k === 'uname') h.uname = s()
        else if (k === 'gname') h.gname = s()
        else h.pax.set(k, v)
      }
      for (const n of [h.size, h.uid, h.gid]) if (!Number.isSafeInteger(n) || n < 0) throw bad('invalid numeric field')
      if (!Number.isFinite(h.mtime)) h.mtime = 0
      if (h.size > MAX_ENTRY_SIZE) throw bad(`entry ${JSON.stringify(h.name)} claims ${h.size} bytes`)
      if (h.name.length > MAX_NAME || h.linkname.length > MAX_NAME) throw bad('name too long')
      // Only regular files carry data; a size on anything else is skipped.
      this.remaining = h.size
      this.padding = (BLOCK - (h.size % BLOCK)) % BLOCK
      if (h.type !== 'file') {
        await this.skipBody()
        h.size = 0
      }
      return h
    }
  }

  /** The current entry's data, in chunks. */
  async *body(): AsyncGenerator<Buffer> {
    while (this.remaining > 0) {
      const c = await this.src.chunk(Math.min(this.remaining, 1 << 20))
      if (c.length === 0) throw bad('unexpected end of archive')
      this.remaining -= c.length
      yield c
    }
    await this.skipPadding()
  }

  /** Consume everything after the archive (for a hash of the whole stream). */
  async drain(): Promise<void> {
    await this.src.drain()
  }

  private async readData(size: number): Promise<Buffer> {
    const data = await this.src.read(size)
    if (data.length < size) throw bad('unexpected end of archive')
    await this.src.read((BLOCK - (size % BLOCK)) % BLOCK)
    return data
  }

  private async skipBody(): Promise<void> {
    while (this.remaining > 0) {
      const c = await this.src.chunk(Math.min(this.remaining, 1 << 20))
      if (c.length === 0) throw bad('unexpected end of archive')
      this.remaining -= c.length
    }
    await this.skipPadding()
  }

  private async skipPadding(): Promise<void> {
    if (this.padding > 0) {
      const p = await this.src.read(this.padding)
      // The docker CLI's build context ends right after the last file's data, with
      // neither padding nor end blocks; Go's reader takes that as the end, and so do we.
      if (p.length === 0) this.ended = true
      else if (p.length < this.padding) throw bad('unexpected end of archive')
      this.padding = 0
    }
  }
}

function writeString(b: Buffer, off: number, len: number, s: string): void {
  b.write(s, off, len, 'latin1')
}

function writeOctal(b: Buffer, off: number, len: number, n: number): boolean {
  const s = Math.floor(n).toString(8)
  if (s.length > len - 1) return false
  b.write(s.padStart(len - 1, '0') + '\0', off, len, 'latin1')
  return true
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')])
  let len = body.length + 1
  while (String(len).length + body.length !== len) len = String(len).length + body.length
  return Buffer.concat([Buffer.from(String(len), 'latin1'), body])
}

function headerBlock(h: TarHeader, flag: string, name: string, size: number): Buffer {
  const b = Buffer.alloc(BLOCK)
  writeString(b, 0, 100, name)
  writeOctal(b, 100, 8, h.mode & 0o7777)
  writeOctal(b, 108, 8, h.uid <= 0o7777777 ? h.uid : 0)
  writeOctal(b, 116, 8, h.gid <= 0o7777777 ? h.gid : 0)
  writeOctal(b, 124, 12, size)
  writeOctal(b, 136, 12, Math.max(0, Math.min(h.mtime, 0o77777777777)))
  b.fill(0x20, 148, 156)
  b.write(flag, 156, 1, 'latin1')
  writeString(b, 157, 100, h.linkname.length <= 100 ? h.linkname : '')
  b.write('ustar\x0000', 257, 8, 'latin1')
  writeString(b, 265, 32, h.uname)
  writeString(b, 297, 32, h.gname)
  if (flag === '3' || flag === '4') {
    writeOctal(b, 329, 8, h.devmajor)
    writeOctal(b, 337, 8, h.devminor)
  }
  let sum = 0
  for (const x of b) sum += x
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1')
  return b
}

/** Encode one entry's header block(s): a PAX header first when a field needs it. */
export function encodeHeader(h: TarHeader): Buffer {
  const size = h.type === 'file' ? h.size : 0
  const records: Buffer[] = []
  let name = h.name
  if (h.type === 'dir' && !name.endsWith('/')) name += '/'
  if (Buffer.byteLength(name, 'latin1') > 100) records.push(paxRecord('path', Buffer.from(name, 'latin1')))
  if (h.linkname.length > 100) records.push(paxRecord('linkpath', Buffer.from(h.linkname, 'latin1')))
  if (size > 0o77777777777) records.push(paxRecord('size', Buffer.from(String(size))))
  if (h.uid > 0o7777777) records.push(paxRecord('uid', Buffer.from(String(h.uid))))
  if (h.gid > 0o7777777) records.push(paxRecord('gid', Buffer.from(String(h.gid))))
  if (!Number.isInteger(h.mtime) && h.mtime > 0) records.push(paxRecord('mtime', Buffer.from(h.mtime.toFixed(9))))
  for (const [k, v] of [...h.pax].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) records.push(paxRecord(k, v))
  const main = headerBlock(h, TYPE_FLAGS[h.type], name.length > 100 ? name.slice(0, 100) : name, size > 0o77777777777 ? 0 : size)
  if (records.length === 0) return main
  const data = Buffer.concat(records)
  const paxHeader = headerBlock({ ...h, linkname: '', uname: '', gname: '' }, 'x', 'PaxHeaders/' + name.slice(-80), data.length)
  return Buffer.concat([paxHeader, data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK), main])
}

/** Zero padding after an entry's data of the given size. */
export function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK)
}

export const END_OF_ARCHIVE = Buffer.alloc(BLOCK * 2)

export function newHeader(name: string, type: EntryType, fields: Partial<TarHeader> = {}): TarHeader {
  return {
    name, type, mode: type === 'dir' ? 0o755 : 0o644, uid: 0, gid: 0, size: 0, mtime: 0, linkname: '', uname: '', gname: '',
    devmajor: 0, devminor: 0, pax: new Map(), ...fields,
  }
}
