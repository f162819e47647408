/**
 * Heredocs (`RUN <<EOF`, `COPY <<-'EOF' /dst`): finding the `<<WORD` words on
 * an instruction line and reading the delimiter, as buildkit's parser does.
 * A quoted delimiter (any part of it) turns off variable expansion of the
 * body; `<<-` strips leading tabs from the body and the terminator line.
 */
import { ShellLex } from './shell-lex.js'

export interface Heredoc {
  /** The delimiter with quotes removed: the terminator line, and the file name for COPY/ADD. */
  name: string
  /** The body: every line between the instruction and the terminator, line endings kept, tabs not yet stripped. */
  content: string
  /** False when the delimiter was quoted: the body is used as written. */
  expand: boolean
  /** `<<-`: leading tabs are stripped from each body line. */
  chomp: boolean
  /** The `3` of `3<<EOF`; 0 when absent. */
  fileDescriptor: number
}

const noEnv = { get: () => undefined }
// Go's \s is ASCII whitespace only.
const heredocRe = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/

/**
 * The heredoc a word such as `<<EOF`, `<<-'EOF'` or `3<< EOF` introduces
 * (body empty), or undefined if the word is not one. Throws on an unterminated
 * quote in the delimiter.
 */
export function parseHeredoc(word: string): Omit<Heredoc, 'content'> | undefined {
  const m = heredocRe.exec(word)
  if (!m || m[3] === '') return undefined
  const rest = m[3]
  const lex = (rawQuotes: boolean) => new ShellLex({ skipUnsetEnv: true, rawQuotes }).processWords(rest, noEnv)
  const words = lex(false)
  if (words.length !== 1) return undefined
  const raw = lex(true)
  if (raw.length !== 1) throw new Error(`internal lexing of heredoc produced inconsistent results: ${rest}`)
  // Quotes that lexing removed mean part of the delimiter was quoted.
  const quotes = (s: string) => s.split('').filter((c) => c === "'" || c === '"').length
  return {
    name: words[0],
    expand: quotes(words[0]) === quotes(raw[0]),
    chomp: m[2] === '-',
    fileDescriptor: m[1] === '' ? 0 : Number.parseInt(m[1], 10),
  }
}

/** The heredocs an instruction line introduces, in order; [] if its words don't lex. */
export function heredocsFromLine(line: string): Omit<Heredoc, 'content'>[] {
  let words: string[]
  try {
    words = new ShellLex({ rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).processWords(line, noEnv)
  } catch {
    return []
  }
  const docs: Omit<Heredoc, 'content'>[] = []
  for (const w of words) {
    const h = parseHeredoc(w)
    if (h) docs.push(h)
  }
  return docs
}

/** Strips leading tabs from every line, as `<<-` asks. */
export function chompHeredoc(content: string): string {
  return content
    .split('\n')
    .map((l) => l.replace(/^\t+/, ''))
    .join('\n')
}
