/**
 * One logical Dockerfile line (continuations already joined) into a Node:
 * the keyword, the leading `--flags`, and the arguments split the way each
 * instruction splits them in buildkit's parser (line_parsers.go): JSON or
 * one shell string for RUN/CMD/ENTRYPOINT/SHELL, JSON or whitespace-separated
 * for COPY/ADD/VOLUME, quote-aware words for ENV/LABEL/ARG, the rest of the
 * line for USER/WORKDIR/... Quotes are kept here; expansion removes them.
 */
import type { Node } from './ast.js'
import { DockerfileError } from './errors.js'
import { goQuote, isSpace, trimLeftSpace, trimSpace } from './text.js'

/** Go's regexp `[\t\v\f\r ]+`, the separator of commands and plain word lists. */
const whitespaceRun = /[\t\v\f\r ]+/

type Args = Pick<Node, 'args' | 'json'> & { child?: Node }

/** A Node for one logical line; line numbers and heredoc bodies are the caller's. */
export function parseLine(line: string, escapeToken: string): Node {
  const { keyword, flags, rest } = splitCommand(line, escapeToken)
  const parse = lineParsers[keyword.toLowerCase()] ?? ((): Args => ({ args: [], json: false }))
  const { args, json, child } = parse(rest, escapeToken)
  return { keyword, flags, args, json, original: line, heredocs: [], startLine: 0, endLine: 0, ...(child && { child }) }
}

const lineParsers: Record<string, (rest: string, esc: string) => Args> = {
  add: parseMaybeJSONToList,
  arg: (rest, esc) => ({ args: parseWords(rest, esc), json: false }),
  cmd: parseMaybeJSON,
  copy: parseMaybeJSONToList,
  entrypoint: parseMaybeJSON,
  env: (rest, esc) => parseNameVal(rest, 'ENV', esc),
  expose: (rest) => ({ args: splitWhitespace(rest), json: false }),
  from: (rest) => ({ args: splitWhitespace(rest), json: false }),
  healthcheck: parseHealthConfig,
  label: (rest, esc) => parseNameVal(rest, 'LABEL', esc),
  maintainer: parseString,
  onbuild: parseSubCommand,
  run: parseMaybeJSON,
  shell: parseMaybeJSON,
  stopsignal: parseString,
  user: parseString,
  volume: parseMaybeJSONToList,
  workdir: parseString,
}

/** Keyword, flags and remaining text of a line. */
export function splitCommand(line: string, escapeToken: string): { keyword: string; flags: string[]; rest: string } {
  const trimmed = trimSpace(line)
  const m = whitespaceRun.exec(trimmed)
  if (!m) return { keyword: trimmed, flags: [], rest: '' }
  const { rest, flags } = extractBuilderFlags(trimmed.slice(m.index + m[0].length), escapeToken)
  return { keyword: trimmed.slice(0, m.index), flags, rest: trimSpace(rest) }
}

/**
 * The leading `--name[=value]` words (quotes and escapes removed) and the text
 * after them. A bare `--` ends the flags and is dropped.
 */
export function extractBuilderFlags(line: string, escapeToken: string): { rest: string; flags: string[] } {
  const chars = Array.from(line)
  const flags: string[] = []
  let phase: 'spaces' | 'word' | 'quote' = 'spaces'
  let buf = ''
  let quote = ''
  let blankOK = false
  for (let pos = 0; pos <= chars.length; pos++) {
    let ch = chars[pos]
    if (phase === 'spaces') {
      if (pos === chars.length) break
      if (isSpace(ch)) continue
      if (ch !== '-' || chars[pos + 1] !== '-') return { rest: chars.slice(pos).join(''), flags }
      phase = 'word'
    }
    if (pos === chars.length) {
      if (buf !== '--' && (blankOK || buf !== '')) flags.push(buf)
      break
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        if (buf === '--') return { rest: chars.slice(pos).join(''), flags }
        if (blankOK || buf !== '') flags.push(buf)
        phase = 'spaces'
        buf = ''
        blankOK = false
        continue
      }
      if (ch === "'" || ch === '"') {
        quote = ch
        blankOK = true
        phase = 'quote'
        continue
      }
      if (ch === escapeToken) {
        if (pos + 1 === chars.length) continue
        ch = chars[++pos]
      }
      buf += ch
      continue
    }
    if (ch === quote) {
      phase = 'word'
      continue
    }
    if (ch === escapeToken) {
      if (pos + 1 === chars.length) {
        phase = 'word'
        continue
      }
      ch = chars[++pos]
    }
    buf += ch
  }
  return { rest: '', flags }
}

/**
 * Space-separated words honouring quotes and escapes, which stay in the words
 * (`a "b c"` → `a`, `"b c"`); an escape at the very end is dropped.
 */
export function parseWords(rest: string, escapeToken: string): string[] {
  const chars = Array.from(rest)
  const words: string[] = []
  let phase: 'spaces' | 'word' | 'quote' = 'spaces'
  let buf = ''
  let quote = ''
  let blankOK = false
  for (let pos = 0; pos <= chars.length; pos++) {
    let ch = chars[pos]
    if (phase === 'spaces') {
      if (pos === chars.length) break
      if (isSpace(ch)) continue
      phase = 'word'
    }
    if (pos === chars.length) {
      if (blankOK || buf !== '') words.push(buf)
      break
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        if (blankOK || buf !== '') words.push(buf)
        phase = 'spaces'
        buf = ''
        blankOK = false
        continue
      }
      if (ch === "'" || ch === '"') {
        quote = ch
        blankOK = true
        phase = 'quote'
      }
      if (ch === escapeToken) {
        if (pos + 1 === chars.length) continue
        buf += ch
        ch = chars[++pos]
      }
      buf += ch
      continue
    }
    if (ch === quote) phase = 'word'
    // Nothing escapes inside single quotes.
    if (ch === escapeToken && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = 'word'
        continue
      }
      buf += ch
      ch = chars[++pos]
    }
    buf += ch
  }
  return words
}

function splitWhitespace(rest: string): string[] {
  return rest === '' ? [] : rest.split(whitespaceRun)
}

const notStrings = 'when using JSON array syntax, arrays must be comprised of strings only'

/** The strings of a JSON array, or undefined if rest is not one; an array of non-strings is an error. */
export function parseJSONArray(rest: string): string[] | undefined {
  const text = trimLeftSpace(rest)
  if (!text.startsWith('[')) return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!Array.isArray(value)) return undefined
  if (!value.every((v): v is string => typeof v === 'string')) throw new DockerfileError(notStrings)
  return value
}

function parseString(rest: string): Args {
  return { args: rest === '' ? [] : [rest], json: false }
}

function parseMaybeJSON(rest: string): Args {
  if (rest === '') return { args: [], json: false }
  const json = parseJSONArray(rest)
  return json ? { args: json, json: true } : { args: [rest], json: false }
}

function parseMaybeJSONToList(rest: string): Args {
  const json = parseJSONArray(rest)
  return json ? { args: json, json: true } : { args: splitWhitespace(rest), json: false }
}

/** ENV and LABEL: `k=v k2="v 2"` as [k, v, '=', k2, '"v 2"', '='], or legacy `k some value` as [k, 'some value', '']. */
function parseNameVal(rest: string, keyword: string, escapeToken: string): Args {
  const words = parseWords(rest, escapeToken)
  if (words.length === 0) return { args: [], json: false }
  if (!words[0].includes('=')) {
    const m = whitespaceRun.exec(rest)
    if (!m) throw new DockerfileError(`${keyword} must have two arguments`)
    return { args: [rest.slice(0, m.index), rest.slice(m.index + m[0].length), ''], json: false }
  }
  const args: string[] = []
  for (const word of words) {
    const i = word.indexOf('=')
    if (i < 0) {
      throw new DockerfileError(`Syntax error - can't find = in ${goQuote(word)}. Must be of the form: name=value`)
    }
    args.push(word.slice(0, i), word.slice(i + 1), '=')
  }
  return { args, json: false }
}

/** HEALTHCHECK: the type word, then the command as RUN takes it. */
function parseHealthConfig(rest: string): Args {
  const m = whitespaceRun.exec(rest)
  const typ = m ? rest.slice(0, m.index) : rest
  if (typ === '') return { args: [], json: false }
  const cmd = parseMaybeJSON(m ? rest.slice(m.index + m[0].length) : '')
  return { args: [typ, ...cmd.args], json: cmd.json }
}

/** ONBUILD: the wrapped instruction is a line of its own. */
function parseSubCommand(rest: string, escapeToken: string): Args {
  if (rest === '') return { args: [], json: false }
  const child = parseLine(rest, escapeToken)
  return { args: [child.keyword, ...child.args], json: false, child }
}
