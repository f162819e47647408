/**
 * Resuming a blob download whose connection dropped. docker tries a layer
 * download up to five times (moby distribution/xfer maxDownloadAttempts),
 * continuing from the bytes it already has with a Range request
 * (distribution registry/client/transport/http_reader.go). Here the bytes
 * already passed on are never replayed: the caller hashes the one stream it
 * sees, so a resumed download is verified as a whole and nothing unverified
 * reaches the content store. Hand-written: fetch has no resume, and the npm
 * retry wrappers restart whole requests, which would hand the hash the first
 * bytes twice.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { unavailable } from '../../errors/index.js'

/** docker's maxDownloadAttempts: the first GET plus four resumes. */
export const MAX_DOWNLOAD_ATTEMPTS = 5

/** Socket-level failures worth another request; anything else (a 5xx, a bad digest) is final, as in docker's retryOnError. */
const NETWORK_CODES = new Set([
  'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT',
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN',
])

export interface ResumeOptions {
  /** Names the download in the final error: `blob sha256:…`. */
  what: string
  /**
   * GET the blob again from byte `offset` (with `Range: bytes=offset-` when
   * offset > 0). It answers 200 or 206 or throws; its errors are final
   * unless they are network errors.
   */
  reopen: (offset: number) => Promise<Response>
  /** The first answer's Content-Length, when it had one: a 206 must agree with it. */
  size?: number
  signal?: AbortSignal
  /** Total GETs allowed, the first included. */
  attempts?: number
  /** Milliseconds to wait before GET number `attempt` (2…). */
  backoff?: (attempt: number) => number
}

/** A short pause that grows: docker waits 5 s more each time, too long for a loopback registry or a person watching. */
const defaultBackoff = (attempt: number) => 200 * (attempt - 1)

/** Whether err is a dropped or refused connection rather than an answer, looking down the cause chain. */
export function isNetworkError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true
    // undici's body stream fails with TypeError("terminated") when the socket goes; the cause names why.
    if (e instanceof TypeError && e.message === 'terminated') return true
  }
  return false
}

/** The innermost message of a cause chain: "other side closed" rather than "terminated". */
function reason(err: unknown): string {
  let msg = err instanceof Error ? err.message : String(err)
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) if (e.message) msg = e.message
  return msg
}

/** `bytes 100-999/1000` → its first byte and total (undefined for `*`). */
export function parseContentRange(header: string | null): { start: number; total: number | undefined } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec((header ?? '').trim())
  if (!m) return undefined
  return { start: Number(m[1]), total: m[3] === '*' ? undefined : Number(m[3]) }
}

/**
 * The bytes of `first` (the body of a blob GET), continued over new requests
 * when the connection drops: a 206 whose Content-Range starts where the
 * stream stopped is appended; a 200 (a server that ignores Range) is read
 * from the start with the bytes already passed on skipped. After
 * `attempts` GETs, or on any other error, the stream fails; an abort of
 * `signal` ends it at once.
 */
export async function* resumable(first: AsyncIterable<Uint8Array>, o: ResumeOptions): AsyncGenerator<Uint8Array> {
  const max = o.attempts ?? MAX_DOWNLOAD_ATTEMPTS
  const backoff = o.backoff ?? defaultBackoff
  let body = first
  let skip = 0
  let offset = 0
  let attempt = 1
  for (;;) {
    let lost: unknown
    try {
      for await (const chunk of body) {
        let c = chunk
        if (skip > 0) {
          if (c.length <= skip) {
            skip -= c.length
            continue
          }
          c = c.subarray(skip)
          skip = 0
        }
        offset += c.length
        yield c
      }
      if (skip > 0) throw unavailable(`${o.what}: the registry's new answer ended ${skip} bytes short of where the download stopped (${offset} bytes)`)
      return
    } catch (err) {
      if (o.signal?.aborted || !isNetworkError(err)) throw err
      lost = err
    }
    for (;;) {
      if (attempt >= max) {
        const of = o.size === undefined ? '' : ` of ${o.size}`
        throw unavailable(`${o.what}: connection lost after ${offset}${of} bytes (${reason(lost)}); gave up after ${max} attempts`, lost)
      }
      attempt++
      await sleep(backoff(attempt), undefined, o.signal ? { signal: o.signal } : {})
      let res: Response
      try {
        res = await o.reopen(offset)
      } catch (err) {
        if (o.signal?.aborted || !isNetworkError(err)) throw err
        lost = err
        continue
      }
      if (!res.body) throw unavailable(`${o.what}: empty response body on retry`)
      if (res.status === 206 && offset > 0) {
        const cr = parseContentRange(res.headers.get('content-range'))
        if (!cr || cr.start !== offset || (cr.total !== undefined && o.size !== undefined && cr.total !== o.size)) {
          await res.body.cancel().catch(() => {})
          throw unavailable(`${o.what}: asked to resume at byte ${offset}, the registry answered Content-Range ${JSON.stringify(res.headers.get('content-range'))}`)
        }
        skip = 0
      } else if (res.status === 200) {
        skip = offset
      } else {
        await res.body.cancel().catch(() => {})
        throw unavailable(`${o.what}: unexpected status ${res.status} when resuming at byte ${offset}`)
      }
      body = res.body as AsyncIterable<Uint8Array>
      break
    }
  }
}
