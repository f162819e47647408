/**
 * The two range headers the registry reads: `Range: bytes=a-b` on blob GET
 * (RFC 9110 §14, single range only, as registries serve) and the upload
 * PATCH's `Content-Range: a-b` (spec.md: `^[0-9]+-[0-9]+$`, inclusive, no
 * `bytes ` unit, though clients that send one are accepted).
 */

export interface ByteRange {
  /** First byte, inclusive. */
  start: number
  /** Last byte, inclusive. */
  end: number
}

/**
 * The range a GET asks for against a blob of `size` bytes: null when the
 * header is absent or not a single byte range (serve the whole blob, as RFC
 * 9110 allows), 'unsatisfiable' when it starts past the end.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | null | 'unsatisfiable' {
  if (header === undefined) return null
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!m || (m[1] === '' && m[2] === '')) return null
  if (m[1] === '') {
    // Suffix range: the last N bytes.
    const n = Number(m[2])
    if (n === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - n), end: size - 1 }
  }
  const start = Number(m[1])
  if (start >= size) return 'unsatisfiable'
  let end = m[2] === '' ? size - 1 : Number(m[2])
  if (end < start) return null
  if (end >= size) end = size - 1
  return { start, end }
}

/** A PATCH chunk's Content-Range, or null when malformed. */
export function parseContentRange(header: string): ByteRange | null {
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim())
  if (!m) return null
  const start = Number(m[1])
  const end = Number(m[2])
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return null
  return { start, end }
}

/**
 * An upload's progress as the `Range` response header: `0-<last byte>`. An
 * empty upload says `0-0`, as distribution does and docker expects.
 */
export function uploadRange(size: number): string {
  return `0-${Math.max(0, size - 1)}`
}
