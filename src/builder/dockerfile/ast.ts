/**
 * The physical-line layer of the Dockerfile parser, as buildkit's
 * parser.Parse: parser directives at the top, comments, line continuations
 * with the active escape character (comment lines and blank lines inside a
 * continuation are skipped; blank ones are reported as warnings), heredoc
 * bodies after RUN/COPY/ADD lines, and one Node per logical line with the
 * lines it spans.
 */
import { type Directive, DirectiveParser, type EscapeToken } from './directives.js'
import { DockerfileError, atLine } from './errors.js'
import { type Heredoc, heredocsFromLine } from './heredoc.js'
import { parseLine } from './line-parsers.js'
import { trimLeftSpace } from './text.js'

/** One logical instruction line, split but not yet typed. */
export interface Node {
  /** The instruction keyword as written ("run", "RUN"). */
  keyword: string
  /** The leading `--flag[=value]` words, quotes removed. */
  flags: string[]
  /** Arguments as the keyword's line parser split them (quotes kept, except in JSON form). */
  args: string[]
  /** Whether the arguments were a JSON array (exec form). */
  json: boolean
  /** The logical line: continuations joined, comments dropped, heredoc bodies not included. */
  original: string
  heredocs: Heredoc[]
  startLine: number
  endLine: number
  /** ONBUILD's wrapped instruction. */
  child?: Node
}

export interface ParseWarning {
  message: string
  line: number
}

export interface Ast {
  nodes: Node[]
  directives: Directive[]
  escapeToken: EscapeToken
  warnings: ParseWarning[]
}

/** Longest physical line bufio.Scanner accepts, newline included. */
const maxLineBytes = 64 * 1024
const heredocKeywords = new Set(['add', 'copy', 'run'])

/** Splits a Dockerfile into Nodes; throws DockerfileError with the line at fault. */
export function parseAst(text: string): Ast {
  const lines = splitLines(text.startsWith('\uFEFF') ? text.slice(1) : text)
  const directives = new DirectiveParser()
  const nodes: Node[] = []
  const warnings: ParseWarning[] = []

  /** The line with its newline removed; checked for directives while they may still appear. */
  const processLine = (i: number, stripLeft: boolean): string => {
    let line = trimNewline(lines[i])
    if (stripLeft) line = trimLeftSpace(line)
    directives.parseLine(line, i + 1)
    return isComment(line) ? '' : line
  }

  let i = 0
  while (i < lines.length) {
    const first = processLine(i, true)
    i++
    const startLine = i
    let [logical, end] = trimContinuation(first, directives.escapeToken)
    if (end && logical === '') continue

    let hasEmptyContinuation = false
    while (!end && i < lines.length) {
      const raw = lines[i]
      const line = processLine(i, false)
      i++
      if (isComment(raw)) continue
      if (trimLeftSpace(line) === '') {
        hasEmptyContinuation = true
        continue
      }
      const [more, isEnd] = trimContinuation(line, directives.escapeToken)
      logical += more
      end = isEnd
    }
    if (hasEmptyContinuation) warnings.push({ message: `Empty continuation line found in: ${logical}`, line: i })

    let node: Node
    try {
      node = parseLine(logical, directives.escapeToken)
    } catch (err) {
      throw atLine(err, startLine, i)
    }

    if (canContainHeredoc(node) && logical.includes('<<')) {
      let docs: ReturnType<typeof heredocsFromLine>
      try {
        docs = heredocsFromLine(logical)
      } catch (err) {
        throw atLine(err, startLine, i)
      }
      for (const doc of docs) {
        let content = ''
        let terminated = false
        while (i < lines.length) {
          const raw = lines[i++]
          let candidate = trimNewline(raw)
          if (doc.chomp) candidate = candidate.replace(/^\t+/, '')
          if (candidate === doc.name) {
            terminated = true
            break
          }
          content += raw
        }
        if (!terminated) throw new DockerfileError('unterminated heredoc', startLine, i)
        node.heredocs.push({ ...doc, content })
      }
    }
    node.startLine = startLine
    node.endLine = i
    nodes.push(node)
  }

  if (nodes.length === 0) throw new DockerfileError('file with no instructions', lines.length, lines.length, { prefix: false })
  return { nodes, directives: directives.directives, escapeToken: directives.escapeToken, warnings }
}

/** Physical lines with their line endings; a line too long for docker's scanner is an error. */
function splitLines(text: string): string[] {
  const lines: string[] = []
  for (let start = 0; start < text.length; ) {
    const nl = text.indexOf('\n', start)
    const end = nl < 0 ? text.length : nl + 1
    const line = text.slice(start, end)
    if (line.length > maxLineBytes / 4 && Buffer.byteLength(line) > maxLineBytes) {
      throw new DockerfileError(`dockerfile line greater than max allowed size of ${maxLineBytes - 1}`, lines.length + 1)
    }
    lines.push(line)
    start = end
  }
  return lines
}

function trimNewline(line: string): string {
  return line.replace(/[\r\n]+$/, '')
}

function isComment(line: string): boolean {
  return trimLeftSpace(line).startsWith('#')
}

/**
 * Removes a trailing escape character (and the blanks after it) that
 * continues the line; an escaped escape character does not continue it.
 * Returns the text and whether the logical line ends here.
 */
export function trimContinuation(line: string, escapeToken: string): [string, boolean] {
  let end = line.length
  while (end > 0 && (line[end - 1] === ' ' || line[end - 1] === '\t')) end--
  if (end === 0 || line[end - 1] !== escapeToken) return [line, true]
  if (end === 1) return ['', false]
  if (line[end - 2] === escapeToken) return [line, true]
  return [line.slice(0, end - 1), false]
}

function canContainHeredoc(node: Node): boolean {
  const n = node.keyword.toLowerCase() === 'onbuild' && node.child ? node.child : node
  return heredocKeywords.has(n.keyword.toLowerCase()) && !n.json
}
