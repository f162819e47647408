/**
 * Variable substitution in Dockerfile words, with the semantics of buildkit's
 * frontend/dockerfile/shell lexer: $var and ${var}, the ${var-w} ${var:-w}
 * ${var+w} ${var:+w} ${var?w} ${var:?w} modifiers, prefix/suffix removal
 * (${var#p} ${var##p} ${var%p} ${var%%p}), substitution (${var/p/r},
 * ${var//p/r}), single and double quotes, and the active escape character.
 * processWord yields one string (ENV, LABEL, WORKDIR, ...); processWords then
 * splits on unquoted whitespace that came from the text or from a variable
 * (EXPOSE, heredoc detection).
 *
 * Hand-written: no npm shell-word package reproduces these rules (no command
 * substitution, ${} forms bash rejects, the escape-token switch, the raw modes
 * the parser uses to find heredocs), and a Dockerfile must expand exactly as
 * docker expands it for the same image to come out.
 */
import { invalidArgument } from '../../errors/index.js'
import { goQuote, isDigit, isLetter, isSpace } from './text.js'

/** Where variables come from; a Map<string, string> is one. */
export interface EnvLookup {
  get(name: string): string | undefined
}

export interface ShellLexOptions {
  /** The Dockerfile's escape character: '\\' (default) or '`'. */
  escapeToken?: string
  /** Keep quote characters in the output (quoting still groups words). */
  rawQuotes?: boolean
  /** Keep escape characters in the output. */
  rawEscapes?: boolean
  /** Treat quotes as ordinary characters (heredoc bodies). */
  skipProcessQuotes?: boolean
  /** Leave references to unset variables as written instead of expanding to ''. */
  skipUnsetEnv?: boolean
}

export interface ProcessResult {
  /** The word with substitutions done and quotes removed. */
  result: string
  /** The same, split into words. */
  words: string[]
  /** Variables that were looked up and set. */
  matched: Set<string>
  /** Variables that were looked up and unset. */
  unmatched: Set<string>
}

/** A lexing or substitution failure; the message is buildkit's. */
class LexError extends Error {}

export class ShellLex {
  readonly escapeToken: string
  private readonly opts: ShellLexOptions

  constructor(opts: ShellLexOptions = {}) {
    this.escapeToken = opts.escapeToken ?? '\\'
    this.opts = opts
  }

  /** The word with variables substituted and quotes and escapes processed. */
  processWord(word: string, env: EnvLookup): string {
    return this.process(word, env).result
  }

  /** processWord, split into words at unquoted whitespace. */
  processWords(word: string, env: EnvLookup): string[] {
    return this.process(word, env).words
  }

  /** Throws invalid-argument `failed to process "<word>": <reason>` on bad syntax or ${var?msg}. */
  process(word: string, env: EnvLookup): ProcessResult {
    const w = new WordProcessor(Array.from(word), env, this.escapeToken, this.opts)
    try {
      const { result, words } = w.processStopOn(undefined, this.opts.rawEscapes ?? false)
      return { result, words, matched: w.matched, unmatched: w.unmatched }
    } catch (err) {
      if (err instanceof LexError) throw invalidArgument(`failed to process ${goQuote(word)}: ${err.message}`)
      throw err
    }
  }
}

/** processWord with the default options. */
export function expandWord(word: string, env: EnvLookup, escapeToken = '\\'): string {
  return new ShellLex({ escapeToken }).processWord(word, env)
}

/** processWords with the default options. */
export function expandWords(word: string, env: EnvLookup, escapeToken = '\\'): string[] {
  return new ShellLex({ escapeToken }).processWords(word, env)
}

/** An environment from docker's KEY=VALUE list; a later entry wins, a bare KEY is set to ''. */
export function envFromList(list: readonly string[]): Map<string, string> {
  const env = new Map<string, string>()
  for (const e of list) {
    const i = e.indexOf('=')
    if (i < 0) env.set(e, '')
    else env.set(e.slice(0, i), e.slice(i + 1))
  }
  return env
}

/** Collects words: whitespace from text or variables separates them, quoted text never does. */
class Words {
  private buf = ''
  private inWord = false
  private readonly words: string[] = []

  addChar(ch: string): void {
    if (!isSpace(ch)) this.addRawChar(ch)
    else if (this.inWord && this.buf !== '') {
      this.words.push(this.buf)
      this.buf = ''
      this.inWord = false
    }
  }

  addRawChar(ch: string): void {
    this.buf += ch
    this.inWord = true
  }

  addString(s: string): void {
    for (const ch of s) this.addChar(ch)
  }

  addRawString(s: string): void {
    this.buf += s
    this.inWord = true
  }

  done(): string[] {
    if (this.buf !== '') this.words.push(this.buf)
    this.buf = ''
    this.inWord = false
    return this.words
  }
}

const specialParams = new Set(['@', '*', '#', '?', '-', '$', '!', '0'])

class WordProcessor {
  private pos = 0
  readonly matched = new Set<string>()
  readonly unmatched = new Set<string>()
  private rawEscapes = false

  constructor(
    private readonly chars: string[],
    private readonly env: EnvLookup,
    private readonly escapeToken: string,
    private readonly opts: ShellLexOptions,
  ) {}

  private peek(): string | undefined {
    return this.chars[this.pos]
  }

  private next(): string | undefined {
    const ch = this.chars[this.pos]
    if (ch !== undefined) this.pos++
    return ch
  }

  /** Processes up to stop (consumed) or the end; a missing stop is an error. */
  processStopOn(stop: string | undefined, rawEscapes: boolean): { result: string; words: string[] } {
    const saved = this.rawEscapes
    this.rawEscapes = rawEscapes
    try {
      let result = ''
      const words = new Words()
      for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
        if (stop !== undefined && ch === stop) {
          this.next()
          return { result, words: words.done() }
        }
        const special = this.special(ch)
        if (special) {
          const tmp = special()
          result += tmp
          if (ch === '$') words.addString(tmp)
          else words.addRawString(tmp)
          continue
        }
        let c = this.next() as string
        if (c === this.escapeToken) {
          if (this.rawEscapes) {
            words.addRawChar(c)
            result += c
          }
          const escaped = this.next()
          // An escape at the very end is dropped.
          if (escaped === undefined) break
          c = escaped
          words.addRawChar(c)
        } else {
          words.addChar(c)
        }
        result += c
      }
      if (stop !== undefined) throw new LexError(`unexpected end of statement while looking for matching ${stop}`)
      return { result, words: words.done() }
    } finally {
      this.rawEscapes = saved
    }
  }

  private special(ch: string): (() => string) | undefined {
    switch (ch) {
      case '$': return () => this.processDollar()
      case '<': return () => this.processPossibleHeredoc()
      case "'": return this.opts.skipProcessQuotes ? undefined : () => this.processSingleQuote()
      case '"': return this.opts.skipProcessQuotes ? undefined : () => this.processDoubleQuote()
    }
    return undefined
  }

  private processSingleQuote(): string {
    // Everything up to the next ' is literal; a ' cannot be escaped inside.
    const raw = this.opts.rawQuotes ?? false
    const open = this.next() as string
    let result = raw ? open : ''
    for (;;) {
      const ch = this.next()
      if (ch === undefined) throw new LexError('unexpected end of statement while looking for matching single-quote')
      if (ch === "'") return raw ? result + ch : result
      result += ch
    }
  }

  private processDoubleQuote(): string {
    // Literal except $, and the escape character before " $ or itself.
    const raw = this.opts.rawQuotes ?? false
    const open = this.next() as string
    let result = raw ? open : ''
    for (;;) {
      const p = this.peek()
      if (p === undefined) throw new LexError('unexpected end of statement while looking for matching double-quote')
      if (p === '"') {
        const ch = this.next() as string
        return raw ? result + ch : result
      }
      if (p === '$') {
        result += this.processDollar()
        continue
      }
      let ch = this.next() as string
      if (ch === this.escapeToken) {
        if (this.rawEscapes) result += ch
        const n = this.peek()
        if (n === undefined) continue
        if (n === '"' || n === '$' || n === this.escapeToken) ch = this.next() as string
      }
      result += ch
    }
  }

  private processPossibleHeredoc(): string {
    this.next()
    if (this.peek() !== '<') return '<'
    this.next()
    // The whitespace between << and the delimiter stays in the word, so
    // `<<  EOF` is one word to the heredoc detector.
    let space = ''
    for (let ch = this.peek(); ch === ' ' || ch === '\t' || ch === '\r'; ch = this.peek()) space += this.next()
    return '<<' + space
  }

  private processName(): string {
    let name = ''
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (name === '' && isDigit(ch)) {
        // Positional parameters: all the digits, never set in a Dockerfile.
        while (isDigit(this.peek())) name += this.next()
        return name
      }
      if (name === '' && specialParams.has(ch)) return this.next() as string
      if (!isLetter(ch) && !isDigit(ch) && ch !== '_') break
      name += this.next()
    }
    return name
  }

  private getEnv(name: string): string | undefined {
    const v = this.env.get(name)
    if (v !== undefined) this.matched.add(name)
    else this.unmatched.add(name)
    return v
  }

  private processDollar(): string {
    this.next()
    const skipUnset = this.opts.skipUnsetEnv ?? false
    if (this.peek() !== '{') {
      const name = this.processName()
      if (name === '') return '$'
      const v = this.getEnv(name)
      if (v === undefined && skipUnset) return '$' + name
      return v ?? ''
    }
    this.next()
    const first = this.peek()
    if (first === undefined) throw new LexError("syntax error: missing '}'")
    if (first === '{' || first === '}' || first === ':') throw new LexError('syntax error: bad substitution')
    const name = this.processName()
    let ch = this.next()
    if (ch === undefined) throw new LexError("syntax error: missing '}'")
    let chs = ch
    if (ch === '}') {
      const v = this.getEnv(name)
      if (v === undefined && skipUnset) return `\${${name}}`
      return v ?? ''
    }
    if (ch === '/') return this.processReplace(name)

    let nullIsUnset = false
    if (ch === ':') {
      nullIsUnset = true
      ch = this.next() ?? ''
      chs += ch
    } else if (!'+-?#%'.includes(ch)) {
      throw new LexError(`unsupported modifier (${chs}) in substitution`)
    }
    const rawEsc = ch === '#' || ch === '%'
    if (nullIsUnset && rawEsc) throw new LexError(`unsupported modifier (${chs}) in substitution`)
    let word: string
    try {
      word = this.processStopOn('}', rawEsc).result
    } catch (err) {
      if (this.peek() === undefined) throw new LexError("syntax error: missing '}'")
      throw err
    }

    const value = this.getEnv(name)
    const set = value !== undefined
    if (skipUnset && !set) return `\${${name}${chs}${word}}`
    const empty = !set || (nullIsUnset && value === '')
    switch (ch) {
      case '-':
        return empty ? word : value ?? ''
      case '+':
        return empty ? '' : word
      case '?':
        if (!set) throw new LexError(`${name}: ${word !== '' ? word : 'is not allowed to be unset'}`)
        if (nullIsUnset && value === '') throw new LexError(`${name}: ${word !== '' ? word : 'is not allowed to be empty'}`)
        return value
      case '%':
      case '#': {
        // One # or % removes the shortest match, a doubled one the longest.
        const greedy = word.startsWith(ch)
        const pattern = greedy ? word.slice(1) : word
        return ch === '%' ? trimSuffix(pattern, value ?? '', greedy) : trimPrefix(pattern, value ?? '', greedy)
      }
    }
    throw new LexError(`unsupported modifier (${chs}) in substitution`)
  }

  private processReplace(name: string): string {
    const all = this.peek() === '/'
    if (all) this.next()
    let pattern: string
    try {
      pattern = this.processStopOn('/', true).result
    } catch (err) {
      if (this.peek() === undefined) throw new LexError("syntax error: missing '/' in ${}")
      throw err
    }
    let replacement: string
    try {
      replacement = this.processStopOn('}', true).result
    } catch (err) {
      if (this.peek() === undefined) throw new LexError("syntax error: missing '}'")
      throw err
    }
    const value = this.getEnv(name)
    if (value === undefined && (this.opts.skipUnsetEnv ?? false)) return `\${${name}/${pattern}/${replacement}}`
    const re = patternRegex(pattern, true, false, all)
    // The replacement is literal text: buildkit's $-expansion of Go regexp
    // replacements is never what a Dockerfile author means.
    return (value ?? '').replace(re, () => replacement)
  }
}

/**
 * A shell wildcard pattern (* and ?, \ escaping * ? \, no bracket
 * expressions) as a regular expression; * is lazy unless greedy.
 */
function patternRegex(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const chars = Array.from(pattern)
  let out = anchored ? '^' : ''
  // Go's . is "anything but newline"; JavaScript's also excludes \r and U+2028/9.
  const any = '[^\\n]'
  for (let i = 0; i < chars.length; i++) {
    let ch = chars[i]
    switch (ch) {
      case '*':
        out += greedy ? `${any}*` : `${any}*?`
        continue
      case '?':
        out += any
        continue
      case '\\': {
        const n = chars[i + 1]
        // \} and \/ only keep the delimiter out of ${...}; the pattern sees the bare character.
        if (n === '}' || n === '/') continue
        if (n !== '*' && n !== '?' && n !== '\\') {
          throw new LexError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${n ?? ''}'`)
        }
        out += '\\'
        ch = n
        i++
        break
      }
      case '[': case ']': case '{': case '}': case '.': case '+':
      case '(': case ')': case '|': case '^': case '$':
        out += '\\'
        break
    }
    out += ch
  }
  return new RegExp(out, global ? 'gu' : 'u')
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = patternRegex(pattern, greedy, true).exec(value)
  return m ? value.slice(m.index + m[0].length) : value
}

/** The shortest or longest matching suffix removed, by matching the reversed pattern against the reversed value. */
function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  return reverse(trimPrefix(reversePattern(pattern), reverse(value), greedy))
}

function reverse(s: string): string {
  return Array.from(s).reverse().join('')
}

/** Reverses a pattern keeping each escape before the character it escapes. */
export function reversePattern(pattern: string): string {
  const chars = Array.from(pattern)
  const out: string[] = []
  for (let i = 0; i < chars.length; ) {
    if (chars[i] === '\\' && i !== chars.length - 1) {
      out.unshift(chars[i], chars[i + 1])
      i += 2
    } else {
      out.unshift(chars[i])
      i++
    }
  }
  return out.join('')
}
