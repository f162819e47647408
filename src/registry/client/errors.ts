/**
 * Registry answers → EngineErrors with docker's messages (moby
 * distribution/errors.go translatePullError, registry errcode formatting).
 */
import { EngineError, type ErrorKind } from '../../errors/index.js'

/** One entry of the distribution spec's `{"errors":[{code,message,detail}]}` body. */
export interface RegistryErrorEntry {
  code: string
  message: string
}

/** Parse a JSON error body; undefined when the body is not one (HTML, empty). */
export function parseErrorBody(body: string): RegistryErrorEntry[] | undefined {
  try {
    const v = JSON.parse(body) as { errors?: unknown }
    if (!v || !Array.isArray(v.errors)) return undefined
    const out: RegistryErrorEntry[] = []
    for (const e of v.errors as unknown[]) {
      if (!e || typeof e !== 'object') continue
      const o = e as Record<string, unknown>
      out.push({ code: typeof o.code === 'string' ? o.code : 'UNKNOWN', message: typeof o.message === 'string' ? o.message : '' })
    }
    return out.length ? out : undefined
  } catch {
    return undefined
  }
}

/** errcode.Error.Error(): `manifest unknown: manifest unknown`. */
export function formatEntry(e: RegistryErrorEntry): string {
  const code = e.code.toLowerCase().replace(/_/g, ' ')
  return e.message ? `${code}: ${e.message}` : code
}

/** An error from a registry, keeping its HTTP status and error code for the caller to translate. */
export class RegistryError extends EngineError {
  constructor(kind: ErrorKind, message: string, readonly status: number, readonly code: string | undefined, opts?: ErrorOptions) {
    super(kind, message, opts)
  }
}

function kindForStatus(status: number): ErrorKind {
  if (status === 401) return 'unauthorized'
  if (status === 403) return 'forbidden'
  if (status === 404) return 'not-found'
  if (status === 400 || status === 405 || status === 413) return 'invalid-argument'
  if (status === 429 || status >= 500) return 'unavailable'
  return 'internal'
}

/**
 * The error for a non-2xx answer. A JSON `errors` body gives docker's
 * `code: message`; anything else (an HTML page from a proxy, an empty 500)
 * names the status and the start of the body, tags stripped.
 */
export function errorFromResponse(method: string, url: string, status: number, statusText: string, body: string): RegistryError {
  const entries = parseErrorBody(body)
  if (entries) {
    const first = entries[0] as RegistryErrorEntry
    return new RegistryError(kindForStatus(status), formatEntry(first), status, first.code)
  }
  const text = body.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200)
  const what = `received unexpected HTTP status: ${status} ${statusText}`.trim()
  return new RegistryError(kindForStatus(status), `${method} ${redact(url)}: ${what}${text ? ` (${text})` : ''}`, status, undefined)
}

/** Drop credentials and query strings (signed redirect URLs carry secrets) from a URL shown to people. */
export function redact(url: string): string {
  try {
    const u = new URL(url)
    u.username = ''
    u.password = ''
    u.search = ''
    return u.href
  } catch {
    return url
  }
}
