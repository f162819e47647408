/**
 * The template lexer: text, and inside {{ }} the tokens of Go's template
 * language, with trim markers and comments handled here. Lexing stops at the
 * first error, which becomes the last item.
 */
import { goQuote } from './fmt.js'

export type ItemType =
  | 'error'
  | 'bool'
  | 'char'
  | 'charConstant'
  | 'complex'
  | 'assign'
  | 'declare'
  | 'eof'
  | 'field'
  | 'identifier'
  | 'leftDelim'
  | 'leftParen'
  | 'number'
  | 'pipe'
  | 'rawString'
  | 'rightDelim'
  | 'rightParen'
  | 'space'
  | 'string'
  | 'text'
  | 'variable'
  // keywords
  | 'block'
  | 'break'
  | 'continue'
  | 'dot'
  | 'define'
  | 'else'
  | 'end'
  | 'if'
  | 'nil'
  | 'range'
  | 'template'
  | 'with'

export interface Item {
  type: ItemType
  val: string
  /** Offset of the item in the template text. */
  pos: number
  /** 1-based line of the item's start. */
  line: number
}

const keywordTypes = new Set<ItemType>([
  'block',
  'break',
  'continue',
  'dot',
  'define',
  'else',
  'end',
  'if',
  'nil',
  'range',
  'template',
  'with',
])

const keywords = new Map<string, ItemType>([
  ['block', 'block'],
  ['break', 'break'],
  ['continue', 'continue'],
  ['define', 'define'],
  ['else', 'else'],
  ['end', 'end'],
  ['if', 'if'],
  ['nil', 'nil'],
  ['range', 'range'],
  ['template', 'template'],
  ['with', 'with'],
])

/** An item as Go's parser names it in "unexpected ..." errors. */
export function itemString(it: Item): string {
  if (it.type === 'eof') return 'EOF'
  if (it.type === 'error') return it.val
  if (keywordTypes.has(it.type)) return `<${it.val}>`
  const chars = [...it.val]
  if (chars.length > 10) return goQuote(chars.slice(0, 10).join('')) + '...'
  return goQuote(it.val)
}

/** %#U of a rune: U+0041 'A'. */
export function formatU(r: number): string {
  const h = r.toString(16).toUpperCase().padStart(4, '0')
  return r >= 0x20 && r !== 0x7f ? `U+${h} '${String.fromCodePoint(r)}'` : `U+${h}`
}

const leftDelim = '{{'
const rightDelim = '}}'
const leftComment = '/*'
const rightComment = '*/'
const EOF = -1

const isSpace = (r: number) => r === 0x20 || r === 0x09 || r === 0x0d || r === 0x0a
const letterRe = /[\p{L}\p{Nd}]/u
const isAlphaNumeric = (r: number) =>
  r === 0x5f ||
  (r >= 0x30 && r <= 0x39) ||
  (r >= 0x41 && r <= 0x5a) ||
  (r >= 0x61 && r <= 0x7a) ||
  (r > 0x7f && letterRe.test(String.fromCodePoint(r)))
const isPrintASCII = (r: number) => r >= 0x20 && r < 0x7f

export interface LexOptions {
  /** "break" and "continue" are keywords unless a function has that name. */
  breakOK: boolean
  continueOK: boolean
}

type StateFn = (() => StateFn) | null

class Lexer {
  readonly items: Item[] = []
  private pos = 0
  private start = 0
  private startLine = 1
  private parenDepth = 0

  constructor(
    private readonly input: string,
    private readonly opts: LexOptions,
  ) {}

  run(): Item[] {
    let state: StateFn = this.lexText
    while (state) state = state.call(this)
    return this.items
  }

  private next(): number {
    if (this.pos >= this.input.length) {
      this.pos = this.input.length + 1
      return EOF
    }
    const r = this.input.codePointAt(this.pos) ?? EOF
    this.pos += r > 0xffff ? 2 : 1
    return r
  }

  private peek(): number {
    return this.pos >= this.input.length ? EOF : (this.input.codePointAt(this.pos) ?? EOF)
  }

  /** Steps back over the rune just read by next(). */
  private backup(r: number): void {
    if (r === EOF) this.pos = this.input.length
    else this.pos -= r > 0xffff ? 2 : 1
  }

  private countLines(from: number, to: number): number {
    let n = 0
    for (let i = from; i < to; i++) if (this.input.charCodeAt(i) === 0x0a) n++
    return n
  }

  private emit(type: ItemType, val = this.input.slice(this.start, this.pos)): StateFn {
    this.items.push({ type, val, pos: this.start, line: this.startLine })
    this.ignore()
    return null
  }

  private ignore(): void {
    this.startLine += this.countLines(this.start, this.pos)
    this.start = this.pos
  }

  private errorf(msg: string): StateFn {
    this.items.push({ type: 'error', val: msg, pos: this.start, line: this.startLine })
    return null
  }

  private accept(valid: string): boolean {
    const r = this.next()
    if (r !== EOF && valid.includes(String.fromCodePoint(r))) return true
    this.backup(r)
    return false
  }

  private acceptRun(valid: string): void {
    while (this.accept(valid));
  }

  private hasLeftTrimMarker(at: number): boolean {
    return this.input[at] === '-' && isSpace(this.input.charCodeAt(at + 1))
  }

  private hasRightTrimMarker(at: number): boolean {
    return isSpace(this.input.charCodeAt(at)) && this.input[at + 1] === '-'
  }

  /** Whether a right delimiter, possibly trim-marked, starts at pos. */
  private atRightDelim(): [delim: boolean, trimSpace: boolean] {
    if (this.hasRightTrimMarker(this.pos) && this.input.startsWith(rightDelim, this.pos + 2)) return [true, true]
    if (this.input.startsWith(rightDelim, this.pos)) return [true, false]
    return [false, false]
  }

  private skipSpaceAfterTrim(): void {
    while (isSpace(this.input.charCodeAt(this.pos))) this.pos++
    this.ignore()
  }

  private lexText(): StateFn {
    const x = this.input.indexOf(leftDelim, this.pos)
    if (x < 0) {
      this.pos = this.input.length
      if (this.pos > this.start) this.emit('text')
      this.emit('eof')
      return null
    }
    let textEnd = x
    if (this.hasLeftTrimMarker(x + leftDelim.length)) {
      while (textEnd > this.start && isSpace(this.input.charCodeAt(textEnd - 1))) textEnd--
    }
    if (textEnd > this.start) {
      this.pos = textEnd
      this.emit('text')
    }
    this.pos = x
    this.ignore()
    return this.lexLeftDelim
  }

  private lexLeftDelim(): StateFn {
    this.pos += leftDelim.length
    const afterMarker = this.hasLeftTrimMarker(this.pos) ? 2 : 0
    if (this.input.startsWith(leftComment, this.pos + afterMarker)) {
      this.pos += afterMarker
      this.ignore()
      return this.lexComment
    }
    this.emit('leftDelim')
    this.pos += afterMarker
    this.ignore()
    this.parenDepth = 0
    return this.lexInsideAction
  }

  private lexComment(): StateFn {
    this.pos += leftComment.length
    const x = this.input.indexOf(rightComment, this.pos)
    if (x < 0) return this.errorf('unclosed comment')
    this.pos = x + rightComment.length
    const [delim, trimSpace] = this.atRightDelim()
    if (!delim) return this.errorf('comment ends before closing delimiter')
    if (trimSpace) this.pos += 2
    this.pos += rightDelim.length
    this.ignore()
    if (trimSpace) this.skipSpaceAfterTrim()
    return this.lexText
  }

  private lexRightDelim(trimSpace: boolean): StateFn {
    if (trimSpace) {
      this.pos += 2
      this.ignore()
    }
    this.pos += rightDelim.length
    this.emit('rightDelim')
    if (trimSpace) this.skipSpaceAfterTrim()
    return this.lexText
  }

  private lexInsideAction(): StateFn {
    const [delim, trimSpace] = this.atRightDelim()
    if (delim) {
      if (this.parenDepth === 0) return this.lexRightDelim(trimSpace)
      return this.errorf('unclosed left paren')
    }
    const r = this.next()
    if (r === EOF) return this.errorf('unclosed action')
    if (isSpace(r)) {
      this.backup(r)
      return this.lexSpace
    }
    switch (r) {
      case 0x3d: // =
        this.emit('assign')
        return this.lexInsideAction
      case 0x3a: // :
        if (this.next() !== 0x3d) return this.errorf('expected :=')
        this.emit('declare')
        return this.lexInsideAction
      case 0x7c: // |
        this.emit('pipe')
        return this.lexInsideAction
      case 0x22: // "
        return this.lexQuote
      case 0x60: // `
        return this.lexRawQuote
      case 0x24: // $
        return this.lexVariable
      case 0x27: // '
        return this.lexChar
      case 0x2e: {
        // '.': a field, unless a number like .5 follows.
        if (this.pos < this.input.length) {
          const c = this.input.charCodeAt(this.pos)
          if (c < 0x30 || c > 0x39) return this.lexField
        }
        this.backup(r)
        return this.lexNumber
      }
      case 0x28: // (
        this.emit('leftParen')
        this.parenDepth++
        return this.lexInsideAction
      case 0x29: // )
        if (--this.parenDepth < 0) return this.errorf('unexpected right paren')
        this.emit('rightParen')
        return this.lexInsideAction
    }
    if (r === 0x2b || r === 0x2d || (r >= 0x30 && r <= 0x39)) {
      this.backup(r)
      return this.lexNumber
    }
    if (isAlphaNumeric(r)) {
      this.backup(r)
      return this.lexIdentifier
    }
    if (isPrintASCII(r)) {
      this.emit('char')
      return this.lexInsideAction
    }
    return this.errorf(`unrecognized character in action: ${formatU(r)}`)
  }

  private lexSpace(): StateFn {
    let numSpaces = 0
    while (isSpace(this.peek())) {
      this.next()
      numSpaces++
    }
    // A trim-marked right delimiter starts with a space: leave that one.
    if (this.hasRightTrimMarker(this.pos - 1) && this.input.startsWith(rightDelim, this.pos + 1)) {
      this.pos--
      if (numSpaces === 1) return this.lexInsideAction
    }
    this.emit('space')
    return this.lexInsideAction
  }

  /** Consume alphanumerics; an error state if they are not followed by a terminator. */
  private scanWord(): StateFn | undefined {
    let r: number
    for (;;) {
      r = this.next()
      if (!isAlphaNumeric(r)) break
    }
    this.backup(r)
    return this.atTerminator() ? undefined : this.errorf(`bad character ${formatU(r)}`)
  }

  private lexIdentifier(): StateFn {
    const bad = this.scanWord()
    if (bad) return bad
    const word = this.input.slice(this.start, this.pos)
    const kw = keywords.get(word)
    if (kw && !(kw === 'break' && !this.opts.breakOK) && !(kw === 'continue' && !this.opts.continueOK)) {
      this.emit(kw)
    } else if (word === 'true' || word === 'false') {
      this.emit('bool')
    } else {
      this.emit('identifier')
    }
    return this.lexInsideAction
  }

  private lexField(): StateFn {
    return this.lexFieldOrVariable('field')
  }

  private lexVariable(): StateFn {
    return this.lexFieldOrVariable('variable')
  }

  private lexFieldOrVariable(type: 'field' | 'variable'): StateFn {
    if (this.atTerminator()) {
      if (type === 'variable') this.emit('variable')
      else this.emit('dot')
      return this.lexInsideAction
    }
    const bad = this.scanWord()
    if (bad) return bad
    this.emit(type)
    return this.lexInsideAction
  }

  /** Whether the next rune may follow an identifier or field. */
  private atTerminator(): boolean {
    const r = this.peek()
    if (isSpace(r)) return true
    switch (r) {
      case EOF:
      case 0x2e: // .
      case 0x2c: // ,
      case 0x7c: // |
      case 0x3a: // :
      case 0x29: // )
      case 0x28: // (
        return true
    }
    return this.input.startsWith(rightDelim, this.pos)
  }

  private lexChar(): StateFn {
    return this.lexEscaped(0x27, 'charConstant', 'unterminated character constant')
  }

  /** A '…' or "…" literal: backslash escapes, no newline, ends at `close`. */
  private lexEscaped(close: number, kind: 'charConstant' | 'string', unterminated: string): StateFn {
    for (;;) {
      let r = this.next()
      if (r === 0x5c) {
        r = this.next()
        if (r !== EOF && r !== 0x0a) continue
      }
      if (r === EOF || r === 0x0a) return this.errorf(unterminated)
      if (r === close) break
    }
    this.emit(kind)
    return this.lexInsideAction
  }

  private lexNumber(): StateFn {
    if (!this.scanNumber()) return this.errorf(`bad number syntax: ${goQuote(this.input.slice(this.start, this.pos))}`)
    const sign = this.peek()
    if (sign === 0x2b || sign === 0x2d) {
      // Complex: 1+2i.
      if (!this.scanNumber() || this.input[this.pos - 1] !== 'i') {
        return this.errorf(`bad number syntax: ${goQuote(this.input.slice(this.start, this.pos))}`)
      }
      this.emit('complex')
    } else {
      this.emit('number')
    }
    return this.lexInsideAction
  }

  private scanNumber(): boolean {
    this.accept('+-')
    let digits = '0123456789_'
    if (this.accept('0')) {
      if (this.accept('xX')) digits = '0123456789abcdefABCDEF_'
      else if (this.accept('oO')) digits = '01234567_'
      else if (this.accept('bB')) digits = '01_'
    }
    this.acceptRun(digits)
    if (this.accept('.')) this.acceptRun(digits)
    if (digits.length === 11 && this.accept('eE')) {
      this.accept('+-')
      this.acceptRun('0123456789_')
    }
    if (digits.length === 23 && this.accept('pP')) {
      this.accept('+-')
      this.acceptRun('0123456789_')
    }
    this.accept('i')
    if (isAlphaNumeric(this.peek())) {
      this.next()
      return false
    }
    return true
  }

  private lexQuote(): StateFn {
    return this.lexEscaped(0x22, 'string', 'unterminated quoted string')
  }

  private lexRawQuote(): StateFn {
    const x = this.input.indexOf('`', this.pos)
    if (x < 0) return this.errorf('unterminated raw quoted string')
    this.pos = x + 1
    this.emit('rawString')
    return this.lexInsideAction
  }
}

/** Lexes the whole template; the last item is eof or an error. */
export function lex(input: string, opts: LexOptions): Item[] {
  return new Lexer(input, opts).run()
}
