/**
 * ADD <url>: the download, as moby's builder/dockerfile copy.go
 * downloadSource does it: GET (redirects followed), a 4xx/5xx answer is an
 * error carrying the body, the file is named after the URL path (else the
 * Content-Disposition filename), written 0600 into a temporary directory
 * with the Last-Modified time as its mtime (the epoch without one).
 * `--checksum` (BuildKit's) is verified on the bytes received.
 */
import { createHash } from 'node:crypto'
import { constants, promises as fsp } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { EngineError, forbidden, internal, invalidArgument, notFound, unauthorized, unavailable } from '../errors/index.js'

export interface Downloaded {
  /** The file, in a directory of its own under the tmp dir given. */
  file: string
  /** Its name as docker derives it; '' when neither the URL nor the response gives one. */
  name: string
}

/** moby urlutil.IsURL. */
export function isUrl(s: string): boolean {
  return s.startsWith('http://') || s.startsWith('https://')
}

const DIGESTS: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 }

/** An `algo:hex` digest as go-digest's Parse accepts it (sha256, sha384, sha512). */
export function parseChecksum(s: string): { algorithm: string; hex: string } {
  const i = s.indexOf(':')
  if (i <= 0 || i === s.length - 1) throw invalidArgument('invalid checksum digest format')
  const algorithm = s.slice(0, i)
  const hex = s.slice(i + 1)
  const len = DIGESTS[algorithm]
  if (len === undefined) throw invalidArgument('unsupported digest algorithm')
  if (hex.length !== len || !/^[a-f0-9]+$/.test(hex)) throw invalidArgument('invalid checksum digest length')
  return { algorithm, hex }
}

/** docker's getFilenameForDownload. */
function filenameFor(url: URL, contentDisposition: string | null): string {
  let p = url.pathname
  try {
    p = decodeURIComponent(p)
  } catch {
    // Keep the raw path, as Go would have refused to parse it anyway.
  }
  if (p !== '' && !p.endsWith('/')) {
    const base = path.posix.basename(p)
    if (base !== '' && base !== '.' && base !== '..') return base
  }
  if (contentDisposition) {
    const m = /(?:^|;)\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(contentDisposition)
    const v = m ? (m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]) : undefined
    if (v && !v.endsWith('/')) {
      const base = path.posix.basename(v)
      if (base !== '' && base !== '.' && base !== '..') return base
    }
  }
  return ''
}

function statusError(status: number, msg: string): EngineError {
  switch (status) {
    case 404:
      return notFound(msg)
    case 400:
      return invalidArgument(msg)
    case 401:
      return unauthorized(msg)
    case 403:
      return forbidden(msg)
    default:
      return internal(msg)
  }
}

/**
 * Download url into a new directory under tmpDir (the caller removes it).
 * The file is named `name`, or `__unnamed__` when there is none.
 */
export async function download(url: string, tmpDir: string, opts: { checksum?: string; signal?: AbortSignal } = {}): Promise<Downloaded & { dir: string }> {
  const expected = opts.checksum ? parseChecksum(opts.checksum) : undefined
  let res: Response
  try {
    res = await fetch(url, { redirect: 'follow', ...(opts.signal ? { signal: opts.signal } : {}) })
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err
    const cause = (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message
    throw unavailable(`Get ${JSON.stringify(url)}: ${cause}`, err)
  }
  if (res.status >= 400) {
    const body = await res.text().catch(() => '')
    throw statusError(res.status, `failed to GET ${url} with status ${res.status} ${res.statusText}: ${body.trim()}`)
  }
  const name = filenameFor(new URL(url), res.headers.get('content-disposition'))
  const dir = await fsp.mkdtemp(path.join(tmpDir, 'add-'))
  try {
    const file = path.join(dir, name || '__unnamed__')
    const hash = expected ? createHash(expected.algorithm) : undefined
    const fh = await fsp.open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)
    try {
      if (res.body) {
        for await (const chunk of Readable.fromWeb(res.body as WebReadableStream<Uint8Array>)) {
          const buf = chunk as Buffer
          hash?.update(buf)
          let off = 0
          while (off < buf.length) off += (await fh.write(buf, off, buf.length - off)).bytesWritten
        }
      }
    } finally {
      await fh.close()
    }
    if (expected && hash) {
      const got = `${expected.algorithm}:${hash.digest('hex')}`
      if (got !== `${expected.algorithm}:${expected.hex}`) throw invalidArgument(`digest mismatch for ${url}: ${got} (expected: ${opts.checksum})`)
    }
    // moby sets the zero time, which its Chtimes turns into the epoch.
    const lastModified = Date.parse(res.headers.get('last-modified') ?? '')
    const mtime = Number.isNaN(lastModified) || lastModified < 0 ? 0 : Math.floor(lastModified / 1000)
    await fsp.utimes(file, mtime, mtime)
    return { dir, file, name }
  } catch (err) {
    await fsp.rm(dir, { recursive: true, force: true })
    throw err
  }
}
