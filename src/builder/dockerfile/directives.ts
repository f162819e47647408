/**
 * Parser directives: `# syntax=`, `# escape=` and `# check=` comments at the
 * very top of a Dockerfile. The first line that is not such a directive (a
 * blank line, an instruction, any other comment) ends the directives; later
 * ones are plain comments.
 */
import { DockerfileError } from './errors.js'
import { trimLeftSpace } from './text.js'

export type EscapeToken = '\\' | '`'

export interface Directive {
  /** Lower-cased: 'syntax', 'escape' or 'check'. */
  name: 'syntax' | 'escape' | 'check'
  value: string
  line: number
}

const known = new Set(['syntax', 'escape', 'check'])
// Go's \s is ASCII whitespace only.
const directiveRe = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/

export class DirectiveParser {
  private done = false
  private readonly seen = new Set<string>()
  escapeToken: EscapeToken = '\\'
  readonly directives: Directive[] = []

  /**
   * Looks at one physical line (newline removed); returns true if it was a
   * directive. Throws on a repeated directive or a bad escape token.
   */
  parseLine(text: string, line: number): boolean {
    if (this.done) return false
    const m = text.startsWith('#') ? directiveRe.exec(trimLeftSpace(text.slice(1))) : null
    const name = m?.[1].toLowerCase()
    if (!m || name === undefined || !known.has(name)) {
      this.done = true
      return false
    }
    if (this.seen.has(name)) throw new DockerfileError(`only one ${name} parser directive can be used`, line)
    this.seen.add(name)
    const value = m[2]
    if (name === 'escape') {
      if (value !== '`' && value !== '\\') {
        throw new DockerfileError(`invalid escape token '${value}' does not match \` or \\`, line)
      }
      this.escapeToken = value
    }
    this.directives.push({ name: name as Directive['name'], value, line })
    return true
  }
}
