/**
 * Go's fmt (Sprint, Sprintln, Sprintf) and strconv quoting, over values decoded
 * from JSON. Go's types are inferred: an integral number below 2^63 is an int,
 * any other number a float64, an array a []interface {}, a plain object or Map
 * a map[string]interface {}, null a nil interface.
 */

// ---------------------------------------------------------------- value kinds

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const proto: unknown = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/** A map in Go's sense: a Map or a plain object. Class instances are structs. */
export function isMapLike(v: unknown): v is Map<unknown, unknown> | Record<string, unknown> {
  return v instanceof Map || isPlainObject(v)
}

/** Integral and small enough to be a Go int; other numbers are float64. */
export function isIntNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < 2 ** 63
}

export function isInt(v: unknown): v is number | bigint {
  return typeof v === 'bigint' || isIntNumber(v)
}

/** The Go type a value stands for, as fmt's %T and error messages print it. */
export function typeName(v: unknown): string {
  if (v === null || v === undefined) return '<nil>'
  switch (typeof v) {
    case 'boolean':
      return 'bool'
    case 'bigint':
      return 'int'
    case 'number':
      return isIntNumber(v) ? 'int' : 'float64'
    case 'string':
      return 'string'
    case 'function':
      return 'func(...interface {}) interface {}'
    case 'object':
      if (Array.isArray(v)) return '[]interface {}'
      if (isMapLike(v)) return 'map[string]interface {}'
      return `*${(v as object).constructor?.name || 'struct {}'}`
    default:
      return typeof v
  }
}

/** Entries of a map-like value in Go's sorted key order (fmtsort). */
export function sortedEntries(m: Map<unknown, unknown> | Record<string, unknown>): [unknown, unknown][] {
  const entries: [unknown, unknown][] =
    m instanceof Map ? [...m.entries()] : Object.keys(m).map((k) => [k, m[k]] as [unknown, unknown])
  return entries.sort((a, b) => compareKeys(a[0], b[0]))
}

function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b)
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    return a < b ? -1 : a > b ? 1 : 0
  }
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b)
  return compareStrings(typeof a, typeof b)
}

/** Go compares strings bytewise; for UTF-8 that is code point order. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) ?? 0
    const y = b.codePointAt(i) ?? 0
    if (x !== y) return x < y ? -1 : 1
    if (x > 0xffff) i++
  }
  return a.length - b.length
}

/** Own properties in order, for printing class instances as Go structs. */
function structFields(v: object): [string, unknown][] {
  return Object.entries(v).filter(([, x]) => typeof x !== 'function')
}

/** A Go-style String() or Error() method: fmt prints its result. */
function stringerOf(v: object): (() => unknown) | undefined {
  const rec = v as Record<string, unknown>
  for (const name of ['Error', 'String']) {
    const m = rec[name]
    if (typeof m === 'function' && m.length === 0) return m as () => unknown
  }
  return undefined
}

// ---------------------------------------------------------------- strconv

const printRe = /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u

/** unicode.IsPrint: graphic characters and the ASCII space. */
export function isPrint(r: number): boolean {
  if (r < 0x80) return r >= 0x20 && r < 0x7f
  if (r >= 0xd800 && r <= 0xdfff) return false
  return printRe.test(String.fromCodePoint(r))
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0')
}

function escapeRune(r: number, quote: number, asciiOnly: boolean): string {
  if (r === quote || r === 0x5c) return '\\' + String.fromCodePoint(r)
  if (asciiOnly ? r < 0x80 && isPrint(r) : isPrint(r)) return String.fromCodePoint(r)
  switch (r) {
    case 7:
      return '\\a'
    case 8:
      return '\\b'
    case 12:
      return '\\f'
    case 10:
      return '\\n'
    case 13:
      return '\\r'
    case 9:
      return '\\t'
    case 11:
      return '\\v'
  }
  if (r < 0x20 || r === 0x7f) return '\\x' + hex(r, 2)
  if (r < 0x10000) return '\\u' + hex(r, 4)
  return '\\U' + hex(r, 8)
}

/** Lone UTF-16 surrogates cannot come from Go strings; they stand for U+FFFD. */
function runes(s: string): number[] {
  const out: number[] = []
  for (const ch of s) {
    const r = ch.codePointAt(0) ?? 0xfffd
    out.push(r >= 0xd800 && r <= 0xdfff ? 0xfffd : r)
  }
  return out
}

/** strconv.Quote (QuoteToASCII with asciiOnly). */
export function goQuote(s: string, asciiOnly = false): string {
  let out = '"'
  for (const r of runes(s)) out += escapeRune(r, 0x22, asciiOnly)
  return out + '"'
}

/** strconv.QuoteRune (QuoteRuneToASCII with asciiOnly). */
export function goQuoteRune(r: number, asciiOnly = false): string {
  if (r < 0 || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) r = 0xfffd
  return "'" + escapeRune(r, 0x27, asciiOnly) + "'"
}

function canBackquote(s: string): boolean {
  for (const ch of s) {
    const r = ch.codePointAt(0) ?? 0
    if (r === 0x60 || r === 0xfeff || (r >= 0xd800 && r <= 0xdfff)) return false
    if ((r < 0x20 && r !== 9) || r === 0x7f) return false
  }
  return true
}

function runeCount(s: string): number {
  let n = 0
  for (const _ of s) n++
  return n
}

function truncateRunes(s: string, n: number): string {
  let i = 0
  for (const ch of s) {
    if (n-- <= 0) return s.slice(0, i)
    i += ch.length
  }
  return s
}

// Decimal digits of a float64: d holds significant digits without trailing
// zeros, and the value is 0.d × 10^dp (strconv's decimal).
interface Decimal {
  d: string
  dp: number
}

function float64Bits(v: number): { mant: bigint; exp: number; denormal: boolean } {
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, v)
  const hi = view.getUint32(0)
  const lo = view.getUint32(4)
  const expBits = (hi >>> 20) & 0x7ff
  const frac = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo)
  if (expBits === 0) return { mant: frac, exp: -1074, denormal: true }
  return { mant: frac | (1n << 52n), exp: expBits - 1075, denormal: false }
}

function trimZeros(d: string): string {
  let end = d.length
  while (end > 0 && d[end - 1] === '0') end--
  return d.slice(0, end)
}

/** The exact decimal value of a finite, non-negative float64. */
function exactDecimal(a: number): Decimal {
  const { mant, exp } = float64Bits(a)
  if (mant === 0n) return { d: '', dp: 0 }
  if (exp >= 0) {
    const s = (mant << BigInt(exp)).toString()
    return { d: trimZeros(s), dp: s.length }
  }
  const s = (mant * 5n ** BigInt(-exp)).toString()
  return { d: trimZeros(s), dp: s.length + exp }
}

/** The shortest decimal that reads back as a (as strconv's shortest mode). */
function shortestDecimal(a: number): Decimal {
  if (a === 0) return { d: '', dp: 0 }
  const [m, e] = a.toExponential().split('e')
  return { d: trimZeros((m ?? '').replace('.', '')), dp: Number(e) + 1 }
}

/** Round to nd digits, half to even on the exact value, as strconv does. */
function roundDecimal(x: Decimal, nd: number): Decimal {
  if (nd < 0 || nd >= x.d.length) return x
  const c = x.d[nd] ?? '0'
  let up: boolean
  if (c === '5' && nd + 1 === x.d.length) {
    up = nd > 0 && Number(x.d[nd - 1]) % 2 === 1
  } else {
    up = c >= '5'
  }
  if (!up) {
    const d = trimZeros(x.d.slice(0, nd))
    return { d, dp: d === '' ? 0 : x.dp }
  }
  for (let i = nd - 1; i >= 0; i--) {
    const digit = x.d.charCodeAt(i) - 48
    if (digit < 9) return { d: x.d.slice(0, i) + String(digit + 1), dp: x.dp }
  }
  return { d: '1', dp: x.dp + 1 }
}

function fmtE(neg: boolean, x: Decimal, prec: number, ch: string): string {
  let s = neg ? '-' : ''
  s += x.d[0] ?? '0'
  if (prec > 0) {
    s += '.'
    for (let i = 1; i <= prec; i++) s += x.d[i] ?? '0'
  }
  const exp = x.d === '' ? 0 : x.dp - 1
  const abs = Math.abs(exp)
  return s + ch + (exp < 0 ? '-' : '+') + (abs < 10 ? '0' : '') + String(abs)
}

function fmtF(neg: boolean, x: Decimal, prec: number): string {
  let s = neg ? '-' : ''
  if (x.dp > 0) {
    const m = Math.min(x.d.length, x.dp)
    s += x.d.slice(0, m) + '0'.repeat(x.dp - m)
  } else {
    s += '0'
  }
  if (prec > 0) {
    s += '.'
    for (let i = 0; i < prec; i++) {
      const j = x.dp + i
      s += j >= 0 && j < x.d.length ? x.d[j] : '0'
    }
  }
  return s
}

function fmtB(neg: boolean, a: number): string {
  const { mant, exp, denormal } = float64Bits(a)
  const e = denormal && mant === 0n ? -1074 : exp
  return (neg ? '-' : '') + mant.toString() + 'p' + (e >= 0 ? '+' : '') + String(e)
}

function fmtX(neg: boolean, a: number, prec: number, upper: boolean): string {
  let { mant, exp } = float64Bits(a)
  if (mant === 0n) {
    exp = 0
  } else {
    // Normalize so the leading 1 sits at bit 60 (strconv's fmtX layout).
    exp += 52
    while (mant < 1n << 52n) {
      mant <<= 1n
      exp--
    }
    mant <<= 8n
  }
  if (prec >= 0 && prec < 15) {
    const shift = BigInt(prec * 4)
    const extra = (mant << shift) & ((1n << 60n) - 1n)
    mant >>= 60n - shift
    if ((extra | (mant & 1n)) > 1n << 59n) mant++
    mant <<= 60n - shift
    if ((mant & (1n << 61n)) !== 0n) {
      mant >>= 1n
      exp++
    }
  }
  let s = (neg ? '-' : '') + '0x' + String(mant >> 60n)
  mant &= (1n << 60n) - 1n
  if (prec < 0 && mant !== 0n) {
    s += '.'
    while (mant !== 0n) {
      s += ((mant >> 56n) & 15n).toString(16)
      mant = (mant << 4n) & ((1n << 60n) - 1n)
    }
  } else if (prec > 0) {
    s += '.'
    for (let i = 0; i < prec; i++) {
      s += ((mant >> 56n) & 15n).toString(16)
      mant = (mant << 4n) & ((1n << 60n) - 1n)
    }
  }
  const abs = Math.abs(exp)
  s += 'p' + (exp < 0 ? '-' : '+') + (abs < 10 ? '0' : '') + String(abs)
  return upper ? s.toUpperCase() : s
}

/** strconv.FormatFloat(v, fmt, prec, 64); prec -1 means shortest. */
export function formatFloat(v: number, fmt: string, prec: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  const neg = v < 0 || Object.is(v, -0)
  const a = Math.abs(v)
  if (fmt === 'b') return fmtB(neg, a)
  if (fmt === 'x' || fmt === 'X') return fmtX(neg, a, prec, fmt === 'X')
  const shortest = prec < 0
  let x: Decimal
  if (shortest) {
    x = shortestDecimal(a)
    if (fmt === 'e' || fmt === 'E') prec = Math.max(x.d.length - 1, 0)
    else if (fmt === 'f' || fmt === 'F') prec = Math.max(x.d.length - x.dp, 0)
    else prec = x.d.length
  } else {
    x = exactDecimal(a)
    if (fmt === 'e' || fmt === 'E') x = roundDecimal(x, prec + 1)
    else if (fmt === 'f' || fmt === 'F') x = roundDecimal(x, x.dp + prec)
    else {
      if (prec === 0) prec = 1
      x = roundDecimal(x, prec)
    }
  }
  switch (fmt) {
    case 'e':
    case 'E':
      return fmtE(neg, x, prec, fmt)
    case 'f':
    case 'F':
      return fmtF(neg, x, prec)
  }
  // %g, %G
  let eprec = prec
  if (eprec > x.d.length && x.d.length >= x.dp) eprec = x.d.length
  if (shortest) eprec = 6
  const exp = x.dp - 1
  if (exp < -4 || exp >= eprec) {
    if (prec > x.d.length) prec = x.d.length
    return fmtE(neg, x, prec - 1, fmt === 'G' ? 'E' : 'e')
  }
  if (prec > x.dp) prec = x.d.length
  return fmtF(neg, x, Math.max(prec - x.dp, 0))
}

// ---------------------------------------------------------------- printer

interface Flags {
  plus: boolean
  minus: boolean
  sharp: boolean
  space: boolean
  zero: boolean
  plusV: boolean
  sharpV: boolean
  wid: number
  widPresent: boolean
  prec: number
  precPresent: boolean
}

function noFlags(): Flags {
  return {
    plus: false,
    minus: false,
    sharp: false,
    space: false,
    zero: false,
    plusV: false,
    sharpV: false,
    wid: 0,
    widPresent: false,
    prec: 0,
    precPresent: false,
  }
}

const maxPrintDepth = 100

class Printer {
  out = ''
  f: Flags = noFlags()

  private writePadding(n: number, zero: boolean): void {
    if (n > 0) this.out += (zero ? '0' : ' ').repeat(n)
  }

  /** Pads s to the width, on the left unless '-'; zero only where Go allows it. */
  private pad(s: string, zero = false): void {
    const f = this.f
    if (!f.widPresent || f.wid === 0) {
      this.out += s
      return
    }
    const n = f.wid - runeCount(s)
    if (f.minus) {
      this.out += s
      this.writePadding(n, false)
    } else {
      this.writePadding(n, zero && f.zero)
      this.out += s
    }
  }

  private badVerb(verb: string, arg: unknown): void {
    this.out += '%!' + verb + '('
    if (arg === null || arg === undefined) {
      this.out += '<nil>'
    } else {
      this.out += typeName(arg) + '='
      this.printArg(arg, 'v', 0)
    }
    this.out += ')'
  }

  printArg(arg: unknown, verb: string, depth: number): void {
    if (arg === null || arg === undefined) {
      if (depth > 0) {
        this.pad(this.f.sharpV ? 'interface {}(nil)' : '<nil>')
      } else if (verb === 'T' || verb === 'v') {
        this.pad('<nil>')
      } else {
        this.badVerb(verb, arg)
      }
      return
    }
    if (verb === 'T') {
      this.fmtS(typeName(arg))
      return
    }
    if (depth > maxPrintDepth) {
      this.out += '...'
      return
    }
    switch (typeof arg) {
      case 'boolean':
        if (verb === 't' || verb === 'v') this.pad(arg ? 'true' : 'false')
        else this.badVerb(verb, arg)
        return
      case 'bigint':
        this.fmtInteger(arg, verb, arg)
        return
      case 'number':
        if (isIntNumber(arg)) this.fmtInteger(BigInt(arg), verb, arg)
        else this.fmtFloat(arg, verb)
        return
      case 'string':
        this.fmtString(arg, verb)
        return
      case 'function':
        if (verb === 'v' || verb === 'p') this.pad('0x0')
        else this.badVerb(verb, arg)
        return
      case 'object':
        this.printObject(arg, verb, depth)
        return
      default:
        this.badVerb(verb, arg)
    }
  }

  private printObject(arg: object, verb: string, depth: number): void {
    const f = this.f
    const stringer = stringerOf(arg)
    if (stringer && !f.sharpV && 'vsxXq'.includes(verb)) {
      this.fmtString(String(stringer.call(arg)), verb)
      return
    }
    if (Array.isArray(arg)) {
      if (f.sharpV) {
        this.out += '[]interface {}{'
        arg.forEach((e, i) => {
          if (i > 0) this.out += ', '
          this.printArg(e, verb, depth + 1)
        })
        this.out += '}'
        return
      }
      this.out += '['
      arg.forEach((e, i) => {
        if (i > 0) this.out += ' '
        this.printArg(e, verb, depth + 1)
      })
      this.out += ']'
      return
    }
    if (isMapLike(arg)) {
      this.out += f.sharpV ? 'map[string]interface {}{' : 'map['
      sortedEntries(arg).forEach(([k, v], i) => {
        if (i > 0) this.out += f.sharpV ? ', ' : ' '
        this.printArg(k, verb, depth + 1)
        this.out += ':'
        this.printArg(v, verb, depth + 1)
      })
      this.out += f.sharpV ? '}' : ']'
      return
    }
    // A class instance: print like a Go struct.
    if (f.sharpV) this.out += typeName(arg).replace(/^\*/, '')
    this.out += '{'
    structFields(arg).forEach(([k, v], i) => {
      if (i > 0) this.out += f.sharpV ? ', ' : ' '
      if (f.plusV || f.sharpV) this.out += k + ':'
      this.printArg(v, verb, depth + 1)
    })
    this.out += '}'
  }

  private fmtInteger(v: bigint, verb: string, arg: unknown): void {
    switch (verb) {
      case 'v':
      case 'd':
        this.fmtIntBase(v, 10, verb)
        return
      case 'b':
        this.fmtIntBase(v, 2, verb)
        return
      case 'o':
      case 'O':
        this.fmtIntBase(v, 8, verb)
        return
      case 'x':
      case 'X':
        this.fmtIntBase(v, 16, verb)
        return
      case 'c':
        this.pad(String.fromCodePoint(validRune(v)))
        return
      case 'q':
        this.pad(goQuoteRune(validRune(v), this.f.plus))
        return
      case 'U':
        this.fmtUnicode(v)
        return
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G':
        // Go would refuse a float verb for an int; JSON cannot tell them apart.
        this.fmtFloat(Number(v), verb)
        return
      default:
        this.badVerb(verb, arg)
    }
  }

  private fmtIntBase(v: bigint, base: number, verb: string): void {
    const f = this.f
    const negative = v < 0n
    const a = negative ? -v : v
    let digits = a.toString(base)
    if (verb === 'X') digits = digits.toUpperCase()
    let prec = 0
    if (f.precPresent) {
      prec = f.prec
      if (prec === 0 && a === 0n) {
        this.writePadding(f.widPresent ? f.wid : 0, false)
        return
      }
    } else if (f.zero && !f.minus && f.widPresent) {
      prec = f.wid
      if (negative || f.plus || f.space) prec--
    }
    if (digits.length < prec) digits = '0'.repeat(prec - digits.length) + digits
    if (f.sharp) {
      if (base === 2) digits = '0b' + digits
      else if (base === 8 && digits[0] !== '0') digits = '0' + digits
      else if (base === 16) digits = (verb === 'X' ? '0X' : '0x') + digits
    }
    if (verb === 'O') digits = '0o' + digits
    if (negative) digits = '-' + digits
    else if (f.plus) digits = '+' + digits
    else if (f.space) digits = ' ' + digits
    this.pad(digits)
  }

  private fmtUnicode(v: bigint): void {
    const f = this.f
    let digits = (v < 0n ? -v : v).toString(16).toUpperCase()
    const prec = f.precPresent && f.prec > 4 ? f.prec : 4
    if (digits.length < prec) digits = '0'.repeat(prec - digits.length) + digits
    let s = 'U+' + digits
    if (f.sharp && v >= 0n && v <= 0x10ffffn && isPrint(Number(v))) s += " '" + String.fromCodePoint(Number(v)) + "'"
    this.pad(s)
  }

  private fmtFloat(v: number, verb: string): void {
    const f = this.f
    let prec: number
    let fmt = verb
    switch (verb) {
      case 'v':
        fmt = 'g'
        prec = -1
        break
      case 'b':
      case 'g':
      case 'G':
      case 'x':
      case 'X':
        prec = -1
        break
      case 'f':
      case 'e':
      case 'E':
      case 'F':
        prec = 6
        break
      default:
        this.badVerb(verb, v)
        return
    }
    if (f.precPresent) prec = f.prec
    let num = formatFloat(v, fmt, prec)
    num = num[0] === '-' || num[0] === '+' ? num : '+' + num
    if (f.space && num[0] === '+' && !f.plus) num = ' ' + num.slice(1)
    if (num[1] === 'I' || num[1] === 'N') {
      if (num[1] === 'N' && !f.space && !f.plus) num = num.slice(1)
      this.pad(num)
      return
    }
    if (f.sharp && fmt !== 'b') {
      let digits = 0
      if (fmt === 'g' || fmt === 'G' || fmt === 'x' || fmt === 'X') digits = prec === -1 ? 6 : prec
      let tail = ''
      let body = num
      const cut = body.search(fmt === 'x' || fmt === 'X' ? /[pP]/ : /[eEpP]/)
      if (cut >= 0) {
        tail = body.slice(cut)
        body = body.slice(0, cut)
      }
      let sawNonzero = false
      for (let i = 1; i < body.length; i++) {
        const c = body[i] ?? ''
        if (c === '.') continue
        if (c !== '0') sawNonzero = true
        if (sawNonzero) digits--
      }
      if (!body.includes('.')) {
        if (body.length === 2 && body[1] === '0') digits--
        body += '.'
      }
      if (digits > 0) body += '0'.repeat(digits)
      num = body + tail
    }
    if (f.plus || num[0] !== '+') {
      if (f.zero && !f.minus && f.widPresent && f.wid > num.length) {
        this.out += num[0]
        this.writePadding(f.wid - num.length, true)
        this.out += num.slice(1)
        return
      }
      this.pad(num)
      return
    }
    this.pad(num.slice(1), true)
  }

  private fmtString(s: string, verb: string): void {
    switch (verb) {
      case 'v':
        if (this.f.sharpV) this.pad(goQuote(s))
        else this.fmtS(s)
        return
      case 's':
        this.fmtS(s)
        return
      case 'x':
      case 'X':
        this.fmtSx(s, verb === 'X')
        return
      case 'q':
        this.fmtQ(s)
        return
      default:
        this.badVerb(verb, s)
    }
  }

  private fmtS(s: string): void {
    if (this.f.precPresent) s = truncateRunes(s, this.f.prec)
    this.pad(s)
  }

  private fmtQ(s: string): void {
    const f = this.f
    if (f.precPresent) s = truncateRunes(s, f.prec)
    if (f.sharp && canBackquote(s)) this.pad('`' + s + '`')
    else this.pad(goQuote(s, f.plus))
  }

  private fmtSx(s: string, upper: boolean): void {
    const f = this.f
    let bytes = Buffer.from(s, 'utf8')
    if (f.precPresent && f.prec < bytes.length) bytes = bytes.subarray(0, f.prec)
    const prefix = upper ? '0X' : '0x'
    let out = ''
    if (bytes.length === 0) {
      this.writePadding(f.widPresent ? f.wid : 0, false)
      return
    }
    bytes.forEach((b, i) => {
      if (f.space) {
        if (i > 0) out += ' '
        if (f.sharp) out += prefix
      } else if (f.sharp && i === 0) {
        out += prefix
      }
      const h = hex(b, 2)
      out += upper ? h.toUpperCase() : h
    })
    this.pad(out)
  }
}

function validRune(v: bigint): number {
  if (v < 0n || v > 0x10ffffn) return 0xfffd
  const r = Number(v)
  return r >= 0xd800 && r <= 0xdfff ? 0xfffd : r
}

// ---------------------------------------------------------------- entry points

/** fmt.Sprint("%v") of one value: the text a template action prints. */
export function formatValue(v: unknown): string {
  const p = new Printer()
  p.printArg(v, 'v', 0)
  return p.out
}

/** fmt.Sprint: spaces between operands when neither is a string. */
export function sprint(args: readonly unknown[]): string {
  const p = new Printer()
  let prevString = false
  args.forEach((a, i) => {
    const isString = typeof a === 'string'
    if (i > 0 && !isString && !prevString) p.out += ' '
    p.f = noFlags()
    p.printArg(a, 'v', 0)
    prevString = isString
  })
  return p.out
}

/** fmt.Sprintln: spaces between all operands and a trailing newline. */
export function sprintln(args: readonly unknown[]): string {
  const p = new Printer()
  args.forEach((a, i) => {
    if (i > 0) p.out += ' '
    p.f = noFlags()
    p.printArg(a, 'v', 0)
  })
  return p.out + '\n'
}

const tooLarge = (n: number) => n > 1e6 || n < -1e6

function parseNum(s: string, start: number, end: number): [num: number, ok: boolean, next: number] {
  if (start >= end) return [0, false, end]
  let num = 0
  let ok = false
  let i = start
  for (; i < end; i++) {
    const c = s.charCodeAt(i)
    if (c < 48 || c > 57) break
    if (tooLarge(num)) return [0, false, end]
    num = num * 10 + (c - 48)
    ok = true
  }
  return [num, ok, i]
}

/** fmt.Sprintf with Go's verbs, flags, width, precision and [n] indexes. */
export function sprintf(format: string, args: readonly unknown[]): string {
  const p = new Printer()
  const end = format.length
  let argNum = 0
  let afterIndex = false
  let reordered = false
  let goodArgNum = true

  const argNumber = (i: number): number => {
    if (i >= end || format[i] !== '[') return i
    reordered = true
    const close = format.indexOf(']', i + 1)
    if (close < 0) {
      goodArgNum = false
      return i + 1
    }
    const [n, ok, next] = parseNum(format, i + 1, close)
    if (!ok || next !== close || n - 1 < 0 || n - 1 >= args.length) {
      goodArgNum = false
      return close + 1
    }
    argNum = n - 1
    afterIndex = true
    return close + 1
  }

  const intFromArg = (): [num: number, isInt: boolean] => {
    let num = 0
    let ok = false
    if (argNum < args.length) {
      const a = args[argNum]
      if (isInt(a)) {
        num = Number(a)
        ok = true
        if (tooLarge(num)) {
          num = 0
          ok = false
        }
      }
      argNum++
    }
    return [num, ok]
  }

  let i = 0
  while (i < end) {
    goodArgNum = true
    const lasti = i
    while (i < end && format[i] !== '%') i++
    if (i > lasti) p.out += format.slice(lasti, i)
    if (i >= end) break
    i++
    const f = noFlags()
    p.f = f
    flags: for (; i < end; i++) {
      switch (format[i]) {
        case '#':
          f.sharp = true
          break
        case '0':
          f.zero = !f.minus
          break
        case '+':
          f.plus = true
          break
        case '-':
          f.minus = true
          f.zero = false
          break
        case ' ':
          f.space = true
          break
        default:
          break flags
      }
    }
    afterIndex = false
    i = argNumber(i)
    if (i < end && format[i] === '*') {
      i++
      const [w, ok] = intFromArg()
      f.wid = w
      f.widPresent = ok
      if (!ok) p.out += '%!(BADWIDTH)'
      if (f.wid < 0) {
        f.wid = -f.wid
        f.minus = true
        f.zero = false
      }
      afterIndex = false
    } else {
      const [w, ok, next] = parseNum(format, i, end)
      f.wid = w
      f.widPresent = ok
      i = next
      if (afterIndex && ok) goodArgNum = false
    }
    if (i + 1 <= end && format[i] === '.') {
      i++
      if (afterIndex) goodArgNum = false
      afterIndex = false
      i = argNumber(i)
      if (i < end && format[i] === '*') {
        i++
        const [pr, ok] = intFromArg()
        f.prec = pr
        f.precPresent = ok
        if (f.prec < 0) {
          f.prec = 0
          f.precPresent = false
        }
        if (!ok) p.out += '%!(BADPREC)'
        afterIndex = false
      } else {
        const [pr, ok, next] = parseNum(format, i, end)
        f.prec = ok ? pr : 0
        f.precPresent = true
        i = next
      }
    }
    if (!afterIndex) i = argNumber(i)
    if (i >= end) {
      p.out += '%!(NOVERB)'
      break
    }
    const verb = String.fromCodePoint(format.codePointAt(i) ?? 0)
    i += verb.length
    if (verb === '%') {
      p.out += '%'
    } else if (!goodArgNum) {
      p.out += '%!' + verb + '(BADINDEX)'
    } else if (argNum >= args.length) {
      p.out += '%!' + verb + '(MISSING)'
    } else {
      if (verb === 'v') {
        f.sharpV = f.sharp
        f.sharp = false
        f.plusV = f.plus
        f.plus = false
      }
      p.printArg(args[argNum], verb, 0)
      argNum++
    }
  }
  if (!reordered && argNum < args.length) {
    p.f = noFlags()
    p.out += '%!(EXTRA '
    args.slice(argNum).forEach((a, k) => {
      if (k > 0) p.out += ', '
      if (a === null || a === undefined) {
        p.out += '<nil>'
      } else {
        p.out += typeName(a) + '='
        p.printArg(a, 'v', 0)
      }
    })
    p.out += ')'
  }
  return p.out
}
