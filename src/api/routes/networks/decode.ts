/**
 * Request bodies decoded as dockerd's httputils.ReadJSON decodes them into Go
 * structs: the first value only, field names matched case-insensitively,
 * unknown fields ignored, null leaving the zero value, and Go's wording for
 * syntax errors ("invalid character 'x' looking for beginning of value") and
 * type errors ("json: cannot unmarshal number into Go struct field
 * CreateRequest.Name of type string"). Hand-written: JSON.parse reports
 * neither the Go messages clients and tests compare against nor the first
 * mismatched field; a schema validator library would add its own wording.
 */
import { invalidArgument } from '../../../errors/index.js'
import type { Ctx } from '../../server/index.js'
import { MAX_JSON_BODY } from '../../server/index.js'

/** The shape of a Go type as encoding/json sees it; `go` is its name in messages. */
export type GoType =
  | { kind: 'string' | 'bool' | 'int'; go: string }
  | { kind: 'map'; go: string; elem: GoType }
  | { kind: 'slice'; go: string; elem: GoType }
  | { kind: 'struct'; go: string; fields: Record<string, GoType> }

export const goString: GoType = { kind: 'string', go: 'string' }
export const goBool: GoType = { kind: 'bool', go: 'bool' }
export const goInt: GoType = { kind: 'int', go: 'int' }
export const goStringMap: GoType = { kind: 'map', go: 'map[string]string', elem: goString }
export const goStrings: GoType = { kind: 'slice', go: '[]string', elem: goString }

class Eof extends Error {}
class Syntax extends Error {}

/** Go's quoteChar for scanner messages. */
function quoteChar(c: string): string {
  if (c === "'") return `'\\''`
  if (c === '"') return `'"'`
  const esc: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r', '\\': '\\\\', '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\v': '\\v' }
  const e = esc[c]
  if (e) return `'${e}'`
  const code = c.codePointAt(0) ?? 0
  if (code < 0x20 || code === 0x7f) return `'\\x${code.toString(16).padStart(2, '0')}'`
  return `'${c}'`
}

/** Finds the end of the first JSON value from `start`, or throws Eof/Syntax with Go's scanner wording. */
function scanValue(s: string, start: number): number {
  let i = start
  const isWs = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r'
  const ws = () => { while (isWs(s[i])) i++ }
  const peek = (): string => {
    const c = s[i]
    if (c === undefined) throw new Eof()
    return c
  }
  const bad = (c: string, where: string): Syntax => new Syntax(`invalid character ${quoteChar(c)} ${where}`)
  const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9'
  const digits = () => { while (isDigit(s[i])) i++ }

  const str = (): void => {
    i++
    for (;;) {
      const c = peek()
      if (c === '"') { i++; return }
      if (c === '\\') {
        i++
        const e = peek()
        if ('"\\/bfnrt'.includes(e)) { i++; continue }
        if (e !== 'u') throw bad(e, 'in string escape code')
        i++
        for (let k = 0; k < 4; k++) {
          const h = peek()
          if (!/[0-9a-fA-F]/.test(h)) throw bad(h, 'in \\u hexadecimal character escape')
          i++
        }
        continue
      }
      if (c < ' ') throw bad(c, 'in string literal')
      i++
    }
  }
  const num = (): void => {
    if (s[i] === '-') {
      i++
      const c = peek()
      if (!isDigit(c)) throw bad(c, 'in numeric literal')
    }
    if (s[i] === '0') i++
    else digits()
    if (s[i] === '.') {
      i++
      const c = peek()
      if (!isDigit(c)) throw bad(c, 'after decimal point in numeric literal')
      digits()
    }
    if (s[i] === 'e' || s[i] === 'E') {
      i++
      if (s[i] === '+' || s[i] === '-') i++
      const c = peek()
      if (!isDigit(c)) throw bad(c, 'in exponent of numeric literal')
      digits()
    }
  }
  const literal = (word: string): void => {
    i++
    for (let k = 1; k < word.length; k++) {
      const c = peek()
      if (c !== word[k]) throw bad(c, `in literal ${word} (expecting ${quoteChar(word[k] ?? '')})`)
      i++
    }
  }
  const value = (): void => {
    ws()
    const c = peek()
    if (c === '{') {
      i++
      ws()
      if (peek() === '}') { i++; return }
      for (;;) {
        const k = peek()
        if (k !== '"') throw bad(k, 'looking for beginning of object key string')
        str()
        ws()
        const colon = peek()
        if (colon !== ':') throw bad(colon, 'after object key')
        i++
        value()
        ws()
        const sep = peek()
        if (sep === '}') { i++; return }
        if (sep !== ',') throw bad(sep, 'after object key:value pair')
        i++
        ws()
      }
    }
    if (c === '[') {
      i++
      ws()
      if (peek() === ']') { i++; return }
      for (;;) {
        value()
        ws()
        const sep = peek()
        if (sep === ']') { i++; return }
        if (sep !== ',') throw bad(sep, 'after array element')
        i++
      }
    }
    if (c === '"') return str()
    if (c === '-' || isDigit(c)) return num()
    if (c === 't') return literal('true')
    if (c === 'f') return literal('false')
    if (c === 'n') return literal('null')
    throw bad(c, 'looking for beginning of value')
  }
  value()
  return i
}

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'object') return 'object'
  if (typeof v === 'boolean') return 'bool'
  return typeof v
}

interface Path {
  struct: string
  fields: string[]
}

/**
 * Go's UnmarshalTypeError text for the first mismatch, else undefined; fills
 * `out` with the value under canonical field names.
 */
function check(v: unknown, t: GoType, path: Path | undefined, set: (x: unknown) => void): string | undefined {
  if (v === null) return undefined
  const mismatch = (value: string): string => path
    ? `json: cannot unmarshal ${value} into Go struct field ${path.struct}.${path.fields.join('.')} of type ${t.go}`
    : `json: cannot unmarshal ${value} into Go value of type ${t.go}`
  switch (t.kind) {
    case 'string':
      if (typeof v !== 'string') return mismatch(jsonKind(v))
      set(v)
      return undefined
    case 'bool':
      if (typeof v !== 'boolean') return mismatch(jsonKind(v))
      set(v)
      return undefined
    case 'int':
      if (typeof v !== 'number') return mismatch(jsonKind(v))
      if (!Number.isSafeInteger(v)) return mismatch(`number ${String(v)}`)
      set(v)
      return undefined
    case 'slice': {
      if (!Array.isArray(v)) return mismatch(jsonKind(v))
      const arr: unknown[] = []
      let first: string | undefined
      for (const item of v) {
        let got: unknown = zeroOf(t.elem)
        first ??= check(item, t.elem, path, (x) => { got = x })
        arr.push(got)
      }
      set(arr)
      return first
    }
    case 'map': {
      if (typeof v !== 'object' || Array.isArray(v)) return mismatch(jsonKind(v))
      const m: Record<string, unknown> = {}
      let first: string | undefined
      for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
        first ??= check(item, t.elem, path, (x) => { m[k] = x })
      }
      set(m)
      return first
    }
    case 'struct': {
      if (typeof v !== 'object' || Array.isArray(v)) return mismatch(jsonKind(v))
      const obj: Record<string, unknown> = {}
      const names = Object.keys(t.fields)
      let first: string | undefined
      for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
        const name = names.find((n) => n === k) ?? names.find((n) => n.toLowerCase() === k.toLowerCase())
        const ft = name ? t.fields[name] : undefined
        if (!name || !ft) continue
        const sub: Path = { struct: t.go.replace(/^.*\./, ''), fields: [...(path?.fields ?? []), name] }
        first ??= check(item, ft, sub, (x) => { obj[name] = x })
      }
      set(obj)
      return first
    }
  }
}

function zeroOf(t: GoType): unknown {
  switch (t.kind) {
    case 'string': return ''
    case 'bool': return false
    case 'int': return 0
    default: return null
  }
}

/**
 * Decodes a request body as dockerd does into a Go value of type `t`. Empty
 * bodies decode to an empty object. Fields absent, null or unknown are
 * absent from the result; every present field has its Go type.
 */
export function decodeBody<T = Record<string, unknown>>(text: string, t: GoType): T {
  if (text.trim() === '') return {} as T
  let end: number
  try {
    end = scanValue(text, 0)
  } catch (err) {
    if (err instanceof Eof) throw invalidArgument('invalid JSON: unexpected EOF')
    if (err instanceof Syntax) throw invalidArgument(`invalid JSON: ${err.message}`)
    throw err
  }
  let out: Record<string, unknown> = {}
  const problem = check(JSON.parse(text.slice(0, end)) as unknown, t, undefined, (x) => { out = x as Record<string, unknown> })
  if (problem) throw invalidArgument(`invalid JSON: ${problem}`)
  const rest = text.slice(end).replace(/^[ \t\r\n]+/, '')
  if (rest !== '' && rest[0] !== ']' && rest[0] !== '}') throw invalidArgument('unexpected content after JSON')
  // check() gave every present field the Go type `t` describes, which T mirrors.
  return out as T
}

/** A request body as text, refused past the API's JSON size limit. */
export async function bodyText(ctx: Ctx): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const c of ctx.body() as AsyncIterable<Buffer>) {
    size += c.length
    if (size > MAX_JSON_BODY) throw invalidArgument('request body is too large')
    chunks.push(c)
  }
  return Buffer.concat(chunks).toString('utf8')
}
