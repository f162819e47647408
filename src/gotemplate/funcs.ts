/**
 * text/template's builtin functions and the docker CLI's extra ones
 * (docker/cli templates/templates.go). and, or and call are evaluated by the
 * executor itself; the rest are here.
 */
import {
  compareStrings,
  formatValue,
  isInt,
  isMapLike,
  isPlainObject,
  isPrint,
  sortedEntries,
  sprint,
  sprintf,
  sprintln,
  typeName,
} from './fmt.js'

export type TemplateFunc = (...args: unknown[]) => unknown

/**
 * A function refused its arguments' types, as Go's reflection refuses them
 * before the call: reported without "error calling".
 */
export class ArgTypeError extends Error {}

export interface Builtin {
  /** Fixed parameters; variadic builtins take at least this many. */
  arity: number
  variadic: boolean
  fn: (args: unknown[]) => unknown
}

/** Go's truth: not the zero value of its type. */
export function isTrue(v: unknown): boolean {
  if (v === undefined || v === null) return false
  switch (typeof v) {
    case 'boolean':
      return v
    case 'number':
      return v !== 0
    case 'bigint':
      return v !== 0n
    case 'string':
      return v.length > 0
    case 'function':
      return true
    case 'object':
      if (Array.isArray(v)) return v.length > 0
      if (v instanceof Map) return v.size > 0
      if (isPlainObject(v)) return Object.keys(v).length > 0
      return true
  }
  return true
}

/** A map-like's value for key, or undefined (Go's invalid value) if missing. */
export function mapGet(m: Map<unknown, unknown> | Record<string, unknown>, key: string): unknown {
  if (m instanceof Map) return m.get(key)
  return Object.hasOwn(m, key) ? m[key] : undefined
}

// ---------------------------------------------------------------- index, slice, len

function indexArg(index: unknown, cap: number): number {
  if (index === null || index === undefined) throw new Error('cannot index slice/array with nil')
  if (typeof index !== 'bigint' && !(typeof index === 'number' && Number.isInteger(index))) {
    throw new Error(`cannot index slice/array with type ${typeName(index)}`)
  }
  const x = Number(index)
  if (x < 0 || x > cap) throw new Error(`index out of range: ${String(index)}`)
  return x
}

/**
 * The zero value Go's index returns for a missing key. Docker's maps are
 * nearly all map[string]string (labels, options), whose zero value is "";
 * a map holding other values gives Go's nil instead.
 */
function missingEntry(m: Map<unknown, unknown> | Record<string, unknown>): unknown {
  const values = m instanceof Map ? [...m.values()] : Object.values(m)
  return values.every((v) => typeof v === 'string') ? '' : undefined
}

function index(item: unknown, ...indexes: unknown[]): unknown {
  if (item === undefined) throw new Error('index of untyped nil')
  for (const idx of indexes) {
    if (item === null || item === undefined) {
      // null stands for a nil map or slice of docker's structs: every key
      // is missing (labels are map[string]string), every index out of range.
      if (typeof idx === 'string') return ''
      if (isInt(idx)) throw new Error(`index out of range: ${String(idx)}`)
      throw new Error('index of nil pointer')
    }
    if (Array.isArray(item)) {
      const x = indexArg(idx, item.length)
      if (x === item.length) throw new Error(`index out of range: ${x}`)
      item = item[x]
    } else if (typeof item === 'string') {
      const bytes = Buffer.from(item, 'utf8')
      const x = indexArg(idx, bytes.length)
      if (x === bytes.length) throw new Error(`index out of range: ${x}`)
      item = bytes[x]
    } else if (isMapLike(item)) {
      if (idx === null || idx === undefined) {
        item = missingEntry(item)
        continue
      }
      if (typeof idx !== 'string' && !(item instanceof Map)) {
        throw new Error(`value has type ${typeName(idx)}; should be string`)
      }
      if (item instanceof Map) item = item.has(idx) ? item.get(idx) : missingEntry(item)
      else item = Object.hasOwn(item, idx as string) ? item[idx as string] : missingEntry(item)
    } else {
      throw new Error(`can't index item of type ${typeName(item)}`)
    }
  }
  return item
}

function slice(item: unknown, ...indexes: unknown[]): unknown {
  if (item === null || item === undefined) throw new Error('slice of untyped nil')
  if (indexes.length > 3) throw new Error(`too many slice indexes: ${indexes.length}`)
  let len: number
  if (typeof item === 'string') {
    if (indexes.length === 3) throw new Error('cannot 3-index slice a string')
    len = Buffer.byteLength(item, 'utf8')
  } else if (Array.isArray(item)) {
    len = item.length
  } else {
    throw new Error(`can't slice item of type ${typeName(item)}`)
  }
  const idx = [0, len, len]
  indexes.forEach((x, i) => {
    idx[i] = indexArg(x, len)
  })
  const [i, j, k] = idx as [number, number, number]
  if (i > j) throw new Error(`invalid slice index: ${i} > ${j}`)
  if (indexes.length === 3 && j > k) throw new Error(`invalid slice index: ${j} > ${k}`)
  if (typeof item === 'string') return Buffer.from(item, 'utf8').subarray(i, j).toString('utf8')
  return (item as unknown[]).slice(i, j)
}

function length(item: unknown): number {
  // null stands for a nil slice or map of docker's structs, whose length is 0.
  if (item === null) return 0
  if (item === undefined) throw new Error('len of untyped nil')
  if (typeof item === 'string') return Buffer.byteLength(item, 'utf8')
  if (Array.isArray(item)) return item.length
  if (item instanceof Map) return item.size
  if (isPlainObject(item)) return Object.keys(item).length
  throw new Error(`len of type ${typeName(item)}`)
}

// ---------------------------------------------------------------- comparison

type Kind = 'nil' | 'bool' | 'number' | 'string' | 'other'

function basicKind(v: unknown): Kind {
  if (v === null || v === undefined) return 'nil'
  switch (typeof v) {
    case 'boolean':
      return 'bool'
    case 'number':
    case 'bigint':
      return 'number'
    case 'string':
      return 'string'
  }
  return 'other'
}

// Numbers compare by value whatever Go type they stand for: JSON cannot say
// whether 3 was an int or a float64.
function eq(a: unknown, ...bs: unknown[]): boolean {
  if (bs.length === 0) throw new Error('missing argument for comparison')
  const k1 = basicKind(a)
  for (const b of bs) {
    const k2 = basicKind(b)
    let truth: boolean
    if (k1 === 'nil' || k2 === 'nil') {
      truth = k1 === k2
    } else if (k1 !== k2) {
      throw new Error(`incompatible types for comparison: ${typeName(a)} and ${typeName(b)}`)
    } else if (k1 === 'other') {
      if (Array.isArray(b) || isMapLike(b) || typeof b === 'function') {
        throw new Error(`non-comparable type ${formatValue(b)}: ${typeName(b)}`)
      }
      truth = a === b
    } else {
      // Loose equality compares a bigint with a number by value.
      truth = a == b
    }
    if (truth) return true
  }
  return false
}

function lt(a: unknown, b: unknown): boolean {
  const k1 = basicKind(a)
  const k2 = basicKind(b)
  const ok = (k: Kind) => k === 'bool' || k === 'number' || k === 'string'
  if (!ok(k1) || !ok(k2)) throw new Error('invalid type for comparison')
  if (k1 !== k2) throw new Error(`incompatible types for comparison: ${typeName(a)} and ${typeName(b)}`)
  if (k1 === 'bool') throw new Error('invalid type for comparison')
  if (k1 === 'string') return compareStrings(a as string, b as string) < 0
  return (a as number | bigint) < (b as number | bigint)
}

const le = (a: unknown, b: unknown) => lt(a, b) || eq(a, b)

// ---------------------------------------------------------------- escapers

/** Text for html, js and urlquery: Sprint, with nil as "<no value>". */
function evalArgs(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0]
  return sprint(args.map((a) => (a === null || a === undefined ? '<no value>' : a)))
}

const htmlEscapes: Record<string, string> = {
  '\0': '\uFFFD',
  '"': '&#34;',
  "'": '&#39;',
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
}

export function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) => htmlEscapes[c] ?? c)
}

const jsEscapes: Record<string, string> = {
  '\\': '\\\\',
  "'": "\\'",
  '"': '\\"',
  '<': '\\u003C',
  '>': '\\u003E',
  '&': '\\u0026',
  '=': '\\u003D',
}

export function jsEscape(s: string): string {
  let out = ''
  for (const ch of s) {
    let r = ch.codePointAt(0) ?? 0
    const simple = jsEscapes[ch]
    if (simple) out += simple
    else if (r < 0x20) out += '\\u00' + r.toString(16).toUpperCase().padStart(2, '0')
    else if (r < 0x80) out += ch
    else {
      if (r >= 0xd800 && r <= 0xdfff) r = 0xfffd
      out += isPrint(r) ? String.fromCodePoint(r) : '\\u' + r.toString(16).toUpperCase().padStart(4, '0')
    }
  }
  return out
}

/** url.QueryEscape. */
export function queryEscape(s: string): string {
  let out = ''
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b)
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c
    else if (c === ' ') out += '+'
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0')
  }
  return out
}

// ---------------------------------------------------------------- builtins

function printfFormat(v: unknown): string {
  if (v === null || v === undefined) throw new ArgTypeError('invalid value; expected string')
  if (typeof v !== 'string') throw new ArgTypeError(`wrong type for value; expected string; got ${typeName(v)}`)
  return v
}

const fixed = (arity: number, fn: (args: unknown[]) => unknown): Builtin => ({ arity, variadic: false, fn })
const variadic = (arity: number, fn: (args: unknown[]) => unknown): Builtin => ({ arity, variadic: true, fn })

/** The builtins evaluated like any function; and, or, call are the executor's. */
export const builtins: ReadonlyMap<string, Builtin> = new Map<string, Builtin>([
  ['and', variadic(1, () => undefined)],
  ['or', variadic(1, () => undefined)],
  ['call', variadic(1, () => undefined)],
  ['not', fixed(1, ([a]) => !isTrue(a))],
  ['len', fixed(1, ([a]) => length(a))],
  ['index', variadic(1, ([item, ...rest]) => index(item, ...rest))],
  ['slice', variadic(1, ([item, ...rest]) => slice(item, ...rest))],
  ['print', variadic(0, (args) => sprint(args))],
  ['printf', variadic(1, ([f, ...rest]) => sprintf(printfFormat(f), rest))],
  ['println', variadic(0, (args) => sprintln(args))],
  ['html', variadic(0, (args) => htmlEscape(evalArgs(args)))],
  ['js', variadic(0, (args) => jsEscape(evalArgs(args)))],
  ['urlquery', variadic(0, (args) => queryEscape(evalArgs(args)))],
  ['eq', variadic(1, ([a, ...rest]) => eq(a, ...rest))],
  ['ne', fixed(2, ([a, b]) => !eq(a, b))],
  ['lt', fixed(2, ([a, b]) => lt(a, b))],
  ['le', fixed(2, ([a, b]) => le(a, b))],
  ['gt', fixed(2, ([a, b]) => !le(a, b))],
  ['ge', fixed(2, ([a, b]) => !lt(a, b))],
])

// ---------------------------------------------------------------- docker's functions

function wantString(v: unknown): string {
  if (v === null || v === undefined) throw new ArgTypeError('invalid value; expected string')
  if (typeof v !== 'string') throw new ArgTypeError(`wrong type for value; expected string; got ${typeName(v)}`)
  return v
}

function wantInt(v: unknown): number {
  if (v === null || v === undefined) throw new ArgTypeError('invalid value; expected int')
  if (typeof v === 'bigint') return Number(v)
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new ArgTypeError(`wrong type for value; expected int; got ${typeName(v)}`)
  }
  return v
}

function wantArgs(args: unknown[], n: number, name: string): void {
  if (args.length !== n) throw new ArgTypeError(`wrong number of args for ${name}: want ${n} got ${args.length}`)
}

/** Struct field names are PascalCase; any other key set is a Go map, which encodes sorted. */
function looksLikeStruct(keys: string[]): boolean {
  return keys.every((k) => /^[A-Z][A-Za-z0-9]*$/.test(k))
}

const jsonStringEscapes: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
}

function jsonString(s: string): string {
  let out = '"'
  for (const ch of s) {
    const r = ch.codePointAt(0) ?? 0
    const e = jsonStringEscapes[ch]
    if (e) out += e
    else if (r < 0x20) out += '\\u00' + r.toString(16).padStart(2, '0')
    else if (r >= 0xd800 && r <= 0xdfff) out += '\\ufffd'
    else out += ch
  }
  return out + '"'
}

class UnsupportedValue extends Error {}

/** encoding/json with SetEscapeHTML(false), as docker's json function encodes. */
function encodeJSON(v: unknown, depth = 0): string {
  if (depth > 1000) throw new UnsupportedValue('json: nesting too deep')
  if (v === null || v === undefined) return 'null'
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false'
    case 'bigint':
      return v.toString()
    case 'number':
      if (!Number.isFinite(v)) throw new UnsupportedValue(`json: unsupported value: ${formatValue(v)}`)
      return String(v)
    case 'string':
      return jsonString(v)
    case 'function':
      throw new UnsupportedValue('json: unsupported type: func')
  }
  if (typeof v !== 'object') throw new UnsupportedValue(`json: unsupported type: ${typeof v}`)
  const toJSON = (v as { toJSON?: unknown }).toJSON
  if (typeof toJSON === 'function') return encodeJSON(toJSON.call(v), depth + 1)
  if (Array.isArray(v)) return '[' + v.map((e) => encodeJSON(e, depth + 1)).join(',') + ']'
  let entries: [unknown, unknown][]
  if (v instanceof Map) {
    entries = sortedEntries(v)
  } else {
    entries = Object.entries(v).filter(([, x]) => typeof x !== 'function' && x !== undefined)
    if (isPlainObject(v) && !looksLikeStruct(entries.map(([k]) => String(k)))) {
      entries.sort((a, b) => compareStrings(String(a[0]), String(b[0])))
    }
  }
  return '{' + entries.map(([k, x]) => jsonString(String(k)) + ':' + encodeJSON(x, depth + 1)).join(',') + '}'
}

const isSpaceRune = (r: number) => /\s/u.test(String.fromCodePoint(r))
const alnumRe = /[\p{L}\p{Nd}]/u

/** strings.Title's word boundary. */
function isSeparator(r: number): boolean {
  if (r <= 0x7f) {
    const c = String.fromCharCode(r)
    return !/[A-Za-z0-9_]/.test(c)
  }
  if (alnumRe.test(String.fromCodePoint(r))) return false
  return isSpaceRune(r)
}

/** Go maps case rune by rune; a mapping to several runes leaves the rune alone. */
function mapRunes(s: string, f: (ch: string, prev: number) => string): string {
  let out = ''
  let prev = 0x20
  for (const ch of s) {
    const m = f(ch, prev)
    out += [...m].length === 1 ? m : ch
    prev = ch.codePointAt(0) ?? 0
  }
  return out
}

/** The docker CLI's template functions (docker/cli templates/templates.go). */
export const dockerFuncs: Record<string, TemplateFunc> = {
  json: (...args) => {
    wantArgs(args, 1, 'json')
    try {
      return encodeJSON(args[0])
    } catch (err) {
      // docker ignores the encoder's error and prints what it has: nothing.
      if (err instanceof UnsupportedValue) return ''
      throw err
    }
  },
  split: (...args) => {
    wantArgs(args, 2, 'split')
    const s = wantString(args[0])
    const sep = wantString(args[1])
    if (sep === '') return [...s]
    return s.split(sep)
  },
  join: (...args) => {
    wantArgs(args, 2, 'join')
    const sep = wantString(args[1])
    const elems = args[0]
    if (elems === null || elems === undefined) return ''
    if (!Array.isArray(elems)) {
      throw new ArgTypeError(`wrong type for value; expected []string; got ${typeName(elems)}`)
    }
    return elems.map((e) => (typeof e === 'string' ? e : formatValue(e))).join(sep)
  },
  title: (...args) => {
    wantArgs(args, 1, 'title')
    return mapRunes(wantString(args[0]), (ch, prev) => (isSeparator(prev) ? ch.toUpperCase() : ch))
  },
  lower: (...args) => {
    wantArgs(args, 1, 'lower')
    return mapRunes(wantString(args[0]), (ch) => ch.toLowerCase())
  },
  upper: (...args) => {
    wantArgs(args, 1, 'upper')
    return mapRunes(wantString(args[0]), (ch) => ch.toUpperCase())
  },
  pad: (...args) => {
    wantArgs(args, 3, 'pad')
    const s = wantString(args[0])
    const left = wantInt(args[1])
    const right = wantInt(args[2])
    if (left < 0 || right < 0) throw new Error('strings: negative Repeat count')
    if (s === '') return s
    return ' '.repeat(left) + s + ' '.repeat(right)
  },
  truncate: (...args) => {
    wantArgs(args, 2, 'truncate')
    const s = wantString(args[0])
    const n = wantInt(args[1])
    const chars = [...s]
    if (chars.length < n) return s
    if (n < 0) throw new Error(`slice bounds out of range [:${n}]`)
    return chars.slice(0, n).join('')
  },
}
