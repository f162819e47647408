/**
 * POST /build?remote=<http(s) URL>: the daemon downloads the context, as
 * moby's remotecontext does for URL remotes — a tar (plain or compressed)
 * becomes the context; a text/plain answer is a lone Dockerfile. Git remotes
 * are refused by the route: berthd does not clone repositories.
 */
import http from 'node:http'
import https from 'node:https'
import { Readable, Transform } from 'node:stream'
import tar from 'tar-stream'
import { EngineError, forbidden, invalidArgument, notFound, unauthorized } from '../../../errors/index.js'
import type { BuildMessage } from '../../../builder/index.js'

/** moby's maxPreambleLength: bytes looked at to sniff the content type. */
const PREAMBLE = 100
const MAX_REDIRECTS = 10
/** A remote Dockerfile is read whole; past this it is not a Dockerfile. */
const MAX_DOCKERFILE = 16 << 20
/** Progress is reported at most every this many bytes (moby's progress reader). */
const PROGRESS_EVERY = 512 * 1024

const ACCEPTABLE_MIME = /(?:application\/(?:(?:x-)?tar|octet-stream|((?:x-)?(?:gzip|bzip2?|xz)))|(?:text\/plain))/

export interface RemoteContext {
  context: Readable
  /** Path of the Dockerfile in the context: `Dockerfile` for a text/plain remote. */
  dockerfile: string
}

function get(url: string, signal: AbortSignal | undefined, redirects = 0): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const u = new URL(url)
    const mod = u.protocol === 'https:' ? https : http
    const req = mod.get(u, { signal, headers: { 'User-Agent': 'berth-build' } }, (res) => {
      const status = res.statusCode ?? 0
      const location = res.headers.location
      if (status >= 300 && status < 400 && location) {
        res.resume()
        if (redirects >= MAX_REDIRECTS) {
          reject(new Error(`Get ${JSON.stringify(url)}: stopped after ${MAX_REDIRECTS} redirects`))
          return
        }
        get(new URL(location, u).href, signal, redirects + 1).then(resolve, reject)
        return
      }
      resolve(res)
    })
    req.on('error', (err: NodeJS.ErrnoException) => {
      const e = new Error(`Get ${JSON.stringify(url)}: ${err.message}`, { cause: err })
      reject(err.code === 'ENOTFOUND' ? notFound(e.message, err) : e)
    })
  })
}

async function readUpTo(src: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let n = 0
  for await (const c of src as AsyncIterable<Buffer>) {
    chunks.push(c)
    n += c.length
    if (n > limit) break
  }
  return Buffer.concat(chunks)
}

/** GetWithStatusError: 4xx and 5xx answers become errors of the matching kind, with the body. */
async function getWithStatusError(url: string, signal?: AbortSignal): Promise<http.IncomingMessage> {
  const res = await get(url, signal)
  const status = res.statusCode ?? 0
  if (status < 400) return res
  const body = (await readUpTo(res, 64 * 1024)).toString('utf8').trim()
  const msg = `failed to GET ${url} with status ${status} ${res.statusMessage ?? ''}: ${body}`
  switch (status) {
    case 404: throw notFound(msg)
    case 400: throw invalidArgument(msg)
    case 401: throw unauthorized(msg)
    case 403: throw forbidden(msg)
    default: throw new Error(msg)
  }
}

/** http.DetectContentType, for the types that matter here: gzip, text, anything else. */
export function sniffContentType(b: Buffer): string {
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'application/x-gzip'
  for (const x of b) {
    if (x <= 0x08 || x === 0x0b || (x >= 0x0e && x <= 0x1a) || (x >= 0x1c && x <= 0x1f)) return 'application/octet-stream'
  }
  return 'text/plain'
}

/** inspectResponse: the accepted MIME type of a remote, sniffed when the server says nothing useful. */
export function remoteContentType(header: string, preamble: Buffer): string {
  const mediaType = header.split(';')[0]?.trim().toLowerCase() ?? ''
  const ct = mediaType === '' || mediaType === 'application/octet-stream' ? sniffContentType(preamble) : header
  const accepted = ACCEPTABLE_MIME.exec(ct)?.[0]
  if (!accepted) throw invalidArgument(`unsupported Content-Type ${JSON.stringify(header)}`)
  return accepted
}

/** Counts bytes through and reports them as moby's "Downloading context" progress. */
function progressReader(url: string, emit: (m: BuildMessage) => void): Transform {
  let current = 0
  let last = 0
  // moby passes the request's (empty) length as the total, and the URL and label swapped.
  const report = () => emit({ status: url, id: 'Downloading context', progressDetail: { current, total: 0 } })
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      current += chunk.length
      if (current - last > PROGRESS_EVERY) {
        last = current
        report()
      }
      cb(null, chunk)
    },
    flush(cb) {
      report()
      cb()
    },
  })
}

/** A tar holding one file, `Dockerfile`: a text/plain remote as a context. */
function dockerfileTar(content: Buffer): Readable {
  const pack = tar.pack()
  pack.entry({ name: 'Dockerfile', mode: 0o644, mtime: new Date(), size: content.length }, content)
  pack.finalize()
  return Readable.from(pack, { objectMode: false })
}

/**
 * Downloads a URL remote and returns it as a context stream. Errors before
 * the first byte (unreachable host, 404, unacceptable type) are thrown; the
 * download's progress goes to `emit`.
 */
export async function fetchRemoteContext(url: string, dockerfile: string, emit: (m: BuildMessage) => void, signal?: AbortSignal): Promise<RemoteContext> {
  let res: http.IncomingMessage
  try {
    res = await getWithStatusError(url, signal)
  } catch (err) {
    const kind = err instanceof EngineError ? err.kind : 'unavailable'
    throw new EngineError(kind, `error downloading remote context ${url}: ${(err as Error).message}`, { cause: err })
  }
  const it = (res as AsyncIterable<Buffer>)[Symbol.asyncIterator]()
  const first = await it.next()
  const preamble: Buffer = first.done ? Buffer.alloc(0) : first.value
  if (preamble.length === 0) {
    res.destroy()
    throw invalidArgument(`error detecting content type for remote ${url}: empty response`)
  }
  let contentType: string
  try {
    contentType = remoteContentType(res.headers['content-type'] ?? '', preamble.subarray(0, PREAMBLE))
  } catch (err) {
    res.destroy()
    throw invalidArgument(`error detecting content type for remote ${url}: ${(err as Error).message}`, err)
  }
  async function* body(): AsyncGenerator<Buffer> {
    yield preamble
    for (;;) {
      const r = await it.next()
      if (r.done) return
      yield r.value
    }
  }
  const counted = Readable.from(body(), { objectMode: false }).pipe(progressReader(url, emit))
  if (contentType !== 'text/plain') return { context: counted, dockerfile }
  const text = await readUpTo(counted, MAX_DOCKERFILE)
  if (text.length > MAX_DOCKERFILE) {
    res.destroy()
    throw invalidArgument(`remote Dockerfile ${url} is larger than ${MAX_DOCKERFILE} bytes`)
  }
  return { context: dockerfileTar(text), dockerfile: 'Dockerfile' }
}
