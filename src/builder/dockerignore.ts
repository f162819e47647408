/**
 * .dockerignore: reading the file as moby/patternmatcher's ignorefile.ReadAll
 * does, and matching context paths as its PatternMatcher does — Go
 * filepath.Match wildcards (`*`, `?`, `[a-z]`, `\` escapes) within one path
 * segment, `**` across segments, later patterns overriding earlier ones,
 * `!pattern` re-including, and a path excluded when it or any parent
 * directory matches.
 *
 * Hand-written: the npm ignore libraries follow .gitignore rules (unanchored
 * names, trailing-slash directories, "a parent excluded can't be re-included")
 * which give different contexts than docker's.
 */
import path from 'node:path'
import { invalidArgument } from '../errors/index.js'

/**
 * The patterns of a .dockerignore file: a BOM, `#` comment lines and blank
 * lines dropped; each pattern trimmed, cleaned like Go's filepath.Clean, a
 * leading `/` removed ("/a" and "./a" both become "a"), `!` kept in front.
 */
export function parseDockerignore(text: string): string[] {
  const patterns: string[] = []
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text
  for (const raw of body.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    // A comment starts in the first column; "  #x" is a pattern.
    if (line.startsWith('#')) continue
    let pattern = line.trim()
    if (pattern === '') continue
    const invert = pattern.startsWith('!')
    if (invert) pattern = pattern.slice(1).trim()
    if (pattern !== '') {
      pattern = cleanPath(pattern)
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1)
    }
    patterns.push(invert ? `!${pattern}` : pattern)
  }
  return patterns
}

/** Go's path.Clean: "" → ".", no trailing slash, no "." segments, ".." resolved lexically. */
export function cleanPath(p: string): string {
  const n = path.posix.normalize(p)
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n
}

type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp'

interface Pattern {
  /** Cleaned, without the `!`. */
  text: string
  exclusion: boolean
  type: MatchType
  regexp?: RegExp
}

/** Per-pattern results for a directory, to pass when matching its children. */
export interface MatchInfo {
  readonly parentMatched: readonly boolean[]
}

/** Which context paths a .dockerignore excludes. Paths are slash-separated and relative to the context root. */
export class IgnoreMatcher {
  private readonly patterns: Pattern[] = []
  /** Whether any pattern is a `!` exception. */
  readonly hasExclusions: boolean

  /** Throws invalid-argument on a malformed pattern (an unclosed `[`, a trailing `\`, a lone `!`). */
  constructor(patterns: readonly string[]) {
    for (const raw of patterns) {
      let p = raw.trim()
      if (p === '') continue
      p = cleanPath(p)
      const exclusion = p.startsWith('!')
      if (exclusion) {
        if (p.length === 1) throw invalidArgument('illegal exclusion pattern: "!"')
        p = p.slice(1)
      }
      if (!validGlob(p)) throw invalidArgument(`syntax error in pattern: ${p}`)
      this.patterns.push({ text: p, exclusion, ...compile(p) })
    }
    this.hasExclusions = this.patterns.some((p) => p.exclusion)
  }

  /** The patterns as given (cleaned), `!` marking exceptions. */
  get patternTexts(): string[] {
    return this.patterns.map((p) => (p.exclusion ? `!${p.text}` : p.text))
  }

  /**
   * Whether path is excluded: the last pattern matching it or one of its
   * parent directories decides. The context root itself is never excluded.
   */
  matches(file: string): boolean {
    const f = cleanPath(file)
    if (f === '.') return false
    const parents = parentDirs(f)
    let matched = false
    for (const p of this.patterns) {
      // An inclusion can't change an excluded path, nor an exception a kept one.
      if (p.exclusion !== matched) continue
      if (matchOne(p, f) || parents.some((d) => matchOne(p, d))) matched = !p.exclusion
    }
    return matched
  }

  /**
   * matches(), for walkers: pass the MatchInfo returned for the parent
   * directory (none for top-level entries) to skip re-testing the parents.
   */
  matchesWithParent(file: string, parent?: MatchInfo): { excluded: boolean; info: MatchInfo } {
    const f = cleanPath(file)
    const known = parent?.parentMatched
    if (known && known.length !== this.patterns.length) throw new Error('MatchInfo from another matcher')
    const result: boolean[] = []
    let matched = false
    this.patterns.forEach((p, i) => {
      let m = known?.[i] ?? false
      if (!m) {
        if (p.exclusion !== matched) {
          result.push(false)
          return
        }
        m = matchOne(p, f) || (!known && parentDirs(f).some((d) => matchOne(p, d)))
      }
      result.push(m)
      if (m) matched = !p.exclusion
    })
    return { excluded: matched, info: { parentMatched: result } }
  }

  /**
   * For an excluded directory: whether a walker must still descend into it
   * because an exception could re-include something inside. This is the
   * docker CLI's rule: some `!pattern` starts with "dir/" as text.
   */
  mayReinclude(dir: string): boolean {
    if (!this.hasExclusions) return false
    const prefix = `${cleanPath(dir)}/`
    return this.patterns.some((p) => p.exclusion && `${p.text}/`.startsWith(prefix))
  }
}

/**
 * The docker CLI keeps the Dockerfile and .dockerignore in the context even
 * when the patterns exclude them (the daemon reads both and removes them
 * again); these are the patterns with the exceptions that does added.
 */
export function keepBuildFiles(patterns: readonly string[], dockerfile: string, dockerfileFromStdin = false): string[] {
  const out = [...patterns]
  if (new IgnoreMatcher(out).matches('.dockerignore')) out.push('!.dockerignore')
  if (dockerfileFromStdin) return out
  const df = dockerfile.replaceAll('\\', '/')
  if (new IgnoreMatcher(out).matches(df)) out.push(`!${df}`)
  return out
}

/** "a/b/c" → ["a", "a/b"]. */
function parentDirs(file: string): string[] {
  const parts = file.split('/')
  const dirs: string[] = []
  for (let i = 1; i < parts.length; i++) dirs.push(parts.slice(0, i).join('/'))
  return dirs
}

function matchOne(p: Pattern, file: string): boolean {
  switch (p.type) {
    case 'exact':
      return file === p.text
    case 'prefix':
      return file.startsWith(p.text.slice(0, -2))
    case 'suffix': {
      // "**/foo" matches "x/foo" and "foo".
      const suffix = p.text.slice(2)
      return file.endsWith(suffix) || (suffix.startsWith('/') && file === suffix.slice(1))
    }
    case 'regexp':
      return p.regexp?.test(file) ?? false
  }
}

const regexpSpecial = /[\\^$.*+?()[\]{}|]/

function escapeRe(ch: string): string {
  return regexpSpecial.test(ch) ? `\\${ch}` : ch
}

/**
 * patternmatcher's compile: literal patterns compare as strings, `x/**` as a
 * prefix, `**\/x` as a suffix; anything else becomes a regular expression.
 */
function compile(pattern: string): { type: MatchType; regexp?: RegExp } {
  const chars = Array.from(pattern)
  let re = '^'
  let type: MatchType = 'exact'
  for (let i = 0, iter = 0; i < chars.length; i++, iter++) {
    const ch = chars[i]
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        i++
        // "**/" is "**"
        if (chars[i + 1] === '/') i++
        if (i + 1 >= chars.length) {
          // "**" at the end matches everything below, like .gitignore.
          if (type === 'exact') type = 'prefix'
          else {
            re += anyChars
            type = 'regexp'
          }
        } else {
          re += `(?:${anyChars}/)?`
          type = 'regexp'
        }
        if (iter === 0) type = 'suffix'
      } else {
        re += '[^/]*'
        type = 'regexp'
      }
    } else if (ch === '?') {
      re += '[^/]'
      type = 'regexp'
    } else if (ch === '\\') {
      // validGlob guarantees a character follows.
      re += escapeRe(chars[++i])
      type = 'regexp'
    } else if (ch === '[') {
      const cls = parseClass(chars, i)
      if (!cls) throw new Error(`unchecked pattern ${pattern}`)
      re += cls.regexp
      i = cls.end
      type = 'regexp'
    } else {
      re += escapeRe(ch)
    }
  }
  return type === 'regexp' ? { type, regexp: new RegExp(`${re}$`, 'u') } : { type }
}

/** Go regexp's `.*`: anything but a newline. */
const anyChars = '[^\\n]*'

/**
 * The filepath.Match class opening at chars[open]: `[` `^`? items `]`, an
 * item being a character or a range `a-z`, `\\` escaping. Returns its
 * regexp form and the index of the `]`, or undefined when malformed. A
 * negated class matches '/' as in docker.
 */
function parseClass(chars: string[], open: number): { regexp: string; end: number } | undefined {
  let i = open + 1
  let re = '['
  if (chars[i] === '^') {
    re += '^'
    i++
  }
  let items = 0
  for (;;) {
    if (i >= chars.length) return undefined
    if (chars[i] === ']' && items > 0) return { regexp: `${re}]`, end: i }
    const lo = classChar(chars, i)
    if (!lo) return undefined
    re += escapeClass(lo.ch)
    i = lo.next
    if (chars[i] === '-') {
      const hi = classChar(chars, i + 1)
      if (!hi) return undefined
      re += `-${escapeClass(hi.ch)}`
      i = hi.next
    }
    items++
  }
}

/** One (possibly escaped) class character at i; undefined where Go's Match finds none. */
function classChar(chars: string[], i: number): { ch: string; next: number } | undefined {
  const ch = chars[i]
  if (ch === undefined || ch === '-' || ch === ']') return undefined
  if (ch !== '\\') return { ch, next: i + 1 }
  const escaped = chars[i + 1]
  return escaped === undefined ? undefined : { ch: escaped, next: i + 2 }
}

function escapeClass(ch: string): string {
  return /[\\\]^[-]/.test(ch) ? `\\${ch}` : ch
}

/** Whether Go's filepath.Match accepts the pattern's syntax. */
function validGlob(pattern: string): boolean {
  const chars = Array.from(pattern)
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] === '\\') {
      if (++i >= chars.length) return false
    } else if (chars[i] === '[') {
      const cls = parseClass(chars, i)
      if (!cls) return false
      i = cls.end
    }
  }
  return true
}
