/**
 * Character classes and string helpers with Go's definitions. The Dockerfile
 * parser and shell lexer split words where Go's unicode.IsSpace says so, which
 * differs from JavaScript's \s (U+0085 is a space in Go, U+FEFF is not).
 */

/** Go's unicode.IsSpace for one code point (a string of one character). */
export function isSpace(ch: string | undefined): boolean {
  if (ch === undefined) return false
  const c = ch.codePointAt(0) ?? -1
  switch (c) {
    case 0x09: case 0x0a: case 0x0b: case 0x0c: case 0x0d: case 0x20:
    case 0x85: case 0xa0: case 0x1680: case 0x2028: case 0x2029:
    case 0x202f: case 0x205f: case 0x3000:
      return true
  }
  return c >= 0x2000 && c <= 0x200a
}

const letter = /^\p{L}$/u
const digit = /^\p{Nd}$/u

/** Go's unicode.IsLetter. */
export function isLetter(ch: string | undefined): boolean {
  return ch !== undefined && letter.test(ch)
}

/** Go's unicode.IsDigit (decimal digits of any script). */
export function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && digit.test(ch)
}

/** Go's strings.TrimLeftFunc(s, unicode.IsSpace). */
export function trimLeftSpace(s: string): string {
  let i = 0
  while (i < s.length) {
    const ch = String.fromCodePoint(s.codePointAt(i) ?? 0)
    if (!isSpace(ch)) break
    i += ch.length
  }
  return s.slice(i)
}

/** Go's strings.TrimRightFunc(s, unicode.IsSpace). */
export function trimRightSpace(s: string): string {
  const chars = Array.from(s)
  let end = chars.length
  while (end > 0 && isSpace(chars[end - 1])) end--
  return chars.slice(0, end).join('')
}

/** Go's strings.TrimSpace. */
export function trimSpace(s: string): string {
  return trimRightSpace(trimLeftSpace(s))
}

/** Go's %q for a string, as docker's messages show names and values. */
export function goQuote(s: string): string {
  let out = '"'
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0
    switch (ch) {
      case '"': out += '\\"'; continue
      case '\\': out += '\\\\'; continue
      case '\x07': out += '\\a'; continue
      case '\b': out += '\\b'; continue
      case '\f': out += '\\f'; continue
      case '\n': out += '\\n'; continue
      case '\r': out += '\\r'; continue
      case '\t': out += '\\t'; continue
      case '\v': out += '\\v'; continue
    }
    if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0')
    else if ((c >= 0x80 && c < 0xa0) || c === 0xad || (c >= 0xd800 && c < 0xe000)) {
      out += '\\u' + c.toString(16).padStart(4, '0')
    } else out += ch
  }
  return out + '"'
}
