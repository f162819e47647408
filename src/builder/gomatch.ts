/**
 * Go's path/filepath.Match on Linux, which the classic builder uses for
 * COPY/ADD source wildcards: `*` is any run of characters but `/`, `?` one
 * character but `/`, `[a-z]` / `[^a-z]` a class (which may match `/`), `\`
 * escapes the next character. `**` is not special. A malformed pattern
 * matches nothing (docker ignores Match's error).
 *
 * Hand-written: the npm glob matchers (minimatch, picomatch) give `**`,
 * braces and extglobs meanings Go does not have, and treat a leading `.`
 * specially.
 */

type Token =
  | { t: 'lit'; ch: string }
  | { t: 'any' }
  | { t: 'class'; negated: boolean; ranges: Array<[number, number]> }

/** A pattern split at its stars: each chunk follows zero or more `*`. */
interface Chunk {
  star: boolean
  tokens: Token[]
}

const compiled = new Map<string, Chunk[] | null>()

/** Whether name matches pattern, as Go's filepath.Match (false for a bad pattern). */
export function goMatch(pattern: string, name: string): boolean {
  let chunks = compiled.get(pattern)
  if (chunks === undefined) {
    chunks = compile(pattern)
    if (compiled.size > 1000) compiled.clear()
    compiled.set(pattern, chunks)
  }
  if (chunks === null) return false
  return matchFrom(chunks, 0, Array.from(name), 0)
}

/** docker's containsWildcards: an unescaped `*`, `?` or `[`. */
export function hasWildcards(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name[i]
    if (ch === '\\') i++
    else if (ch === '*' || ch === '?' || ch === '[') return true
  }
  return false
}

function compile(pattern: string): Chunk[] | null {
  const chars = Array.from(pattern)
  const chunks: Chunk[] = []
  let i = 0
  while (i < chars.length) {
    let star = false
    while (chars[i] === '*') {
      star = true
      i++
    }
    const tokens: Token[] = []
    while (i < chars.length && chars[i] !== '*') {
      const ch = chars[i] as string
      if (ch === '?') {
        tokens.push({ t: 'any' })
        i++
      } else if (ch === '\\') {
        if (i + 1 >= chars.length) return null
        tokens.push({ t: 'lit', ch: chars[i + 1] as string })
        i += 2
      } else if (ch === '[') {
        const cls = parseClass(chars, i + 1)
        if (!cls) return null
        tokens.push(cls.token)
        i = cls.next
      } else {
        tokens.push({ t: 'lit', ch })
        i++
      }
    }
    chunks.push({ star, tokens })
  }
  return chunks
}

/** A class body starting after `[`; returns the token and the index after `]`. */
function parseClass(chars: string[], start: number): { token: Token; next: number } | undefined {
  let i = start
  let negated = false
  if (chars[i] === '^') {
    negated = true
    i++
  }
  const ranges: Array<[number, number]> = []
  for (;;) {
    if (chars[i] === ']' && ranges.length > 0) return { token: { t: 'class', negated, ranges }, next: i + 1 }
    const lo = classChar(chars, i)
    if (!lo) return undefined
    i = lo.next
    let hi = lo
    if (chars[i] === '-') {
      const h = classChar(chars, i + 1)
      if (!h) return undefined
      hi = h
      i = h.next
    }
    ranges.push([lo.cp, hi.cp])
  }
}

/** One class character (maybe escaped); Go refuses `-`, `]` or the end here, and a class left unclosed. */
function classChar(chars: string[], i: number): { cp: number; next: number } | undefined {
  let ch = chars[i]
  if (ch === undefined || ch === '-' || ch === ']') return undefined
  if (ch === '\\') {
    i++
    ch = chars[i]
    if (ch === undefined) return undefined
  }
  if (i + 1 >= chars.length) return undefined
  return { cp: ch.codePointAt(0) as number, next: i + 1 }
}

function tokenMatches(tok: Token, ch: string): boolean {
  switch (tok.t) {
    case 'lit':
      return tok.ch === ch
    case 'any':
      return ch !== '/'
    case 'class': {
      const cp = ch.codePointAt(0) as number
      const inside = tok.ranges.some(([lo, hi]) => lo <= cp && cp <= hi)
      return inside !== tok.negated
    }
  }
}

/** Whether the tokens match name at pos exactly; returns the position after, or -1. */
function matchChunkAt(tokens: Token[], name: string[], pos: number): number {
  if (pos + tokens.length > name.length) return -1
  for (let k = 0; k < tokens.length; k++) {
    if (!tokenMatches(tokens[k] as Token, name[pos + k] as string)) return -1
  }
  return pos + tokens.length
}

/**
 * Match chunks[ci..] against name[pos..]. A star may absorb any characters
 * but `/`; trying every split point is exact and, with the names COPY
 * matches (path segments), cheap.
 */
function matchFrom(chunks: Chunk[], ci: number, name: string[], pos: number): boolean {
  if (ci === chunks.length) return pos === name.length
  const { star, tokens } = chunks[ci] as Chunk
  if (!star) {
    const end = matchChunkAt(tokens, name, pos)
    return end >= 0 && matchFrom(chunks, ci + 1, name, end)
  }
  for (let p = pos; p <= name.length; p++) {
    const end = matchChunkAt(tokens, name, p)
    if (end >= 0 && matchFrom(chunks, ci + 1, name, end)) return true
    if (name[p] === '/') break
  }
  return false
}
