/**
 * GET /containers/{id}/stats (moby api/server/router/container
 * getContainersStats): `stream` (default true) sends a record a second until
 * the client goes, `stream=false` one record with precpu_stats filled,
 * `one-shot=true` (API 1.41+) one record at once. The backend samples.
 */
import type { Router } from '../../server/index.js'
import type { StatsResponse } from '../../types/index.js'

export interface StatsBackend {
  /** Throws (not-found, invalid-argument) before returning when the request cannot be served. */
  stats(ref: string, req: { stream: boolean; oneShot: boolean }, signal: AbortSignal): AsyncIterable<StatsResponse>
}

const UINT64_MAX = 18446744073709551615n
const MARK = '\u0001'

/**
 * JSON with docker's uint64s: integers past 2^53 (the kernel's "unlimited"
 * 9223372036854771712, v2's "max") are written as the exact integer the
 * double holds, and 2^64 as uint64's maximum, so Go clients can decode them.
 */
export function statsJSON(s: StatsResponse): string {
  const text = JSON.stringify(s, (_k, v: unknown) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= Number.MAX_SAFE_INTEGER) return v
    const big = BigInt(v)
    return MARK + String(big > UINT64_MAX ? UINT64_MAX : big)
  })
  return text.replace(/"\\u0001(\d+)"/g, '$1')
}

export function statsRoutes(r: Router, b: StatsBackend): void {
  r.get('/containers/{id}/stats', async (ctx) => {
    const stream = ctx.bool('stream', true)
    // one-shot arrived with API 1.41; older clients never meant it.
    const oneShot = ctx.version >= 41 && ctx.bool('one-shot', false)
    const gone = new AbortController()
    const records = b.stats(ctx.params.id ?? '', { stream, oneShot }, gone.signal)
    // Headers go out at once: clients wait on them before the first sample.
    const res = ctx.stream(200, 'application/json')
    res.on('close', () => gone.abort())
    try {
      for await (const s of records) {
        if (res.writableEnded || res.destroyed) break
        res.write(statsJSON(s) + '\n')
      }
    } finally {
      gone.abort()
      if (!res.writableEnded) res.end()
    }
  })
}
