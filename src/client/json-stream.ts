/** Reads newline-delimited JSON (progress streams, events) as typed values. */
import type { Readable } from 'node:stream'

/**
 * Yields each JSON value of the stream. Docker writes one object per line but
 * does not promise it, so values are also split when concatenated without a
 * newline (`}{`).
 */
export async function* readJSONStream<T>(src: Readable, parse: (text: string) => T = (t) => JSON.parse(t) as T): AsyncGenerator<T> {
  let buf = ''
  for await (const chunk of src) {
    buf += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8')
    let end: number
    while ((end = nextValueEnd(buf)) >= 0) {
      const text = buf.slice(0, end).trim()
      buf = buf.slice(end)
      if (text) yield parse(text)
    }
  }
  const rest = buf.trim()
  if (rest) yield parse(rest)
}

/** Index just past the first complete top-level JSON value, or -1. */
export function nextValueEnd(s: string): number {
  let depth = 0
  let inString = false
  let started = false
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
      continue
    }
    if (c === '"') { inString = true; started = true } else if (c === '{' || c === '[') { depth++; started = true } else if (c === '}' || c === ']') {
      depth--
      if (depth === 0) return i + 1
    } else if (c === '\n' && started && depth === 0) {
      return i + 1
    } else if (c !== undefined && !/\s/.test(c)) {
      started = true
    }
  }
  return -1
}
