/**
 * Shared by the copy-on-write, crash and hostile-cp tests: raw HTTP to a
 * berthd socket (tar bodies streamed as they are made), small tars built
 * entry by entry, and fingerprints of host trees and mounts that show
 * whether anything outside a container changed.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, readlinkSync, lstatSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { Readable } from 'node:stream'
import { encodeHeader, END_OF_ARCHIVE, newHeader, padding, TarReader, type EntryType, type TarHeader } from '../../../src/archive/index.js'

export interface Reply {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
}

export type Body = Buffer | string | AsyncIterable<Uint8Array>

/** One request to the Engine API on a unix socket; the body (if any) is streamed chunked. */
export function api(socketPath: string, method: string, p: string, body?: Body, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: p, headers: { Host: 'berth', ...headers } }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (b: Buffer) => parts.push(b))
      res.on('error', reject)
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }))
    })
    req.on('error', reject)
    if (body === undefined) {
      req.end()
      return
    }
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      req.end(body)
      return
    }
    const src = Readable.from(body)
    src.on('error', (err) => req.destroy(err))
    src.pipe(req)
  })
}

/** The X-Docker-Container-Path-Stat header of an archive reply. */
export function pathStat(r: Reply): { name: string; size: number; mode: number; mtime: string; linkTarget: string } {
  const h = r.headers['x-docker-container-path-stat']
  if (typeof h !== 'string') throw new Error(`no path stat header (status ${r.status}: ${r.body.toString()})`)
  return JSON.parse(Buffer.from(h, 'base64').toString()) as ReturnType<typeof pathStat>
}

/** The `message` of an error reply, or the raw body. */
export function message(r: Reply): string {
  try {
    return (JSON.parse(r.body.toString()) as { message?: string }).message ?? r.body.toString()
  } catch {
    return r.body.toString()
  }
}

export interface Entry {
  name: string
  type?: EntryType
  data?: string | Buffer
  linkname?: string
  mode?: number
}

/** A tar made of the given entries, in order, names as given (hostile ones included). */
export function tarOf(entries: Entry[]): Buffer {
  const parts: Buffer[] = []
  for (const e of entries) {
    const type = e.type ?? 'file'
    const data = Buffer.from(e.data ?? '')
    const size = type === 'file' ? data.length : 0
    parts.push(encodeHeader(newHeader(e.name, type, { size, mtime: 1_700_000_000, linkname: e.linkname ?? '', ...(e.mode !== undefined ? { mode: e.mode } : {}) })))
    if (size > 0) parts.push(data, padding(size))
  }
  parts.push(END_OF_ARCHIVE)
  return Buffer.concat(parts)
}

/** The entries of a tar, with the data of regular files. */
export async function untar(buf: Buffer): Promise<Array<TarHeader & { data: Buffer }>> {
  const reader = new TarReader(Readable.from([buf]))
  const out: Array<TarHeader & { data: Buffer }> = []
  for (;;) {
    const h = await reader.next()
    if (!h) return out
    const parts: Buffer[] = []
    if (h.type === 'file') for await (const c of reader.body()) parts.push(c)
    out.push({ ...h, data: Buffer.concat(parts) })
  }
}

/**
 * Every path under dir with its type, size, mode, owner, times (modification
 * and change) and link target, and a hash of each file's bytes: equal
 * listings are unchanged trees.
 */
export function treeListing(dir: string): string {
  const meta = execFileSync('find', [dir, '-printf', '%P %y %s %m %U:%G %T@ %C@ %l\\n'], { maxBuffer: 256 << 20 }).toString().split('\n').sort().join('\n')
  const h = createHash('sha256').update(meta)
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name)
      const st = lstatSync(p)
      if (st.isDirectory()) walk(p)
      else if (st.isFile()) h.update(`${p}\0`).update(readFileSync(p))
      else if (st.isSymbolicLink()) h.update(`${p}\0${readlinkSync(p)}`)
    }
  }
  walk(dir)
  return h.digest('hex')
}

/**
 * The writable layer's size as docker accounts it (moby pkg/directory Size,
 * used by overlay2's DiffSize for SizeRw): the sizes of everything that is
 * not a directory, each inode once.
 */
export function dockerDirSize(dir: string): number {
  const seen = new Set<string>()
  let size = 0
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) {
        walk(p)
        continue
      }
      const st = lstatSync(p)
      if (st.size === 0 || seen.has(`${st.dev}:${st.ino}`)) continue
      seen.add(`${st.dev}:${st.ino}`)
      size += st.size
    }
  }
  walk(dir)
  return size
}

/** `du -sb`: apparent bytes of everything under dir, directories included. */
export function duApparent(dir: string): number {
  return Number(execFileSync('du', ['-sb', dir]).toString().split(/\s/)[0])
}

/** Mount points (as /proc/self/mountinfo shows them) at or under p. */
export function mountsAt(p: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '')
    .map((m) => m.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m === p || m.startsWith(`${p}/`))
}

/** docker's units.HumanSizeWithPrecision(n, 3): decimal units, Go's %.3g. */
export function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB']
  let i = 0
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000
    i++
  }
  return `${Number(n.toPrecision(3))}${units[i]}`
}

/** The shell loop of berthd's container-filesystem helper (src/containerfs/view.ts) shows in its argv. */
const HELPER_MARK = 'mount --no-canonicalize'

/**
 * Processes that are berthd's cp helpers (an `unshare --mount` running sh)
 * and have something under `under` (a data root) in their mount namespace.
 */
export function fsHelpers(under: string): number[] {
  const out: number[] = []
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8')
      if (!argv.includes(HELPER_MARK)) continue
      if (readFileSync(`/proc/${d}/mountinfo`, 'utf8').includes(under)) out.push(Number(d))
    } catch {
      // gone meanwhile
    }
  }
  return out
}

/** A chunked tar body that holds back after `pauseAfter` bytes until `release` resolves: a slow upload to kill a daemon in. */
export async function* slowTar(files: number, fileSize: number, opts: { prefix: string; onPause: () => void; release: Promise<void>; pauseAfter: number }): AsyncGenerator<Buffer> {
  let sent = 0
  let paused = false
  const chunk = Buffer.alloc(fileSize, 0x61)
  for (let i = 0; i < files; i++) {
    const parts = [encodeHeader(newHeader(`${opts.prefix}/f${i}`, 'file', { size: fileSize, mtime: 1_700_000_000 })), chunk, padding(fileSize)]
    if (i === 0) parts.unshift(encodeHeader(newHeader(opts.prefix, 'dir', { mtime: 1_700_000_000 })))
    const b = Buffer.concat(parts)
    yield b
    sent += b.length
    if (!paused && sent >= opts.pauseAfter) {
      paused = true
      opts.onPause()
      await opts.release
    }
  }
  yield END_OF_ARCHIVE
}

/**
 * What `left()` lists once it is empty, or after `ms` whatever it still
 * lists: a copy's reply may end a moment before its helper exits and the
 * rootfs it mounted is unmounted.
 */
export async function settled<T>(left: () => T[], ms = 5000): Promise<T[]> {
  const end = Date.now() + ms
  for (;;) {
    const now = left()
    if (now.length === 0 || Date.now() > end) return now
    await new Promise((r) => setTimeout(r, 50))
  }
}
