/**
 * Errors of the Dockerfile front end. A Dockerfile is user input, so every
 * error is invalid-argument; it names the line docker names, worded as
 * docker's ("dockerfile parse error on line 3: unknown flag: --foo").
 */
import { EngineError } from '../../errors/index.js'

export class DockerfileError extends EngineError {
  /**
   * @param detail the message without the line prefix
   * @param line first line (1-based) of the instruction at fault, if any
   * @param endLine last line of that instruction (heredoc bodies included)
   */
  constructor(
    readonly detail: string,
    readonly line?: number,
    readonly endLine?: number,
    opts?: { cause?: unknown; prefix?: boolean },
  ) {
    super(
      'invalid-argument',
      line !== undefined && opts?.prefix !== false ? `dockerfile parse error on line ${line}: ${detail}` : detail,
      opts?.cause === undefined ? undefined : { cause: opts.cause },
    )
    this.name = 'DockerfileError'
  }
}

/**
 * err as a DockerfileError at a line: one that already has a line keeps it.
 * prefix=false leaves the message as it is (errors found while building, not parsing).
 */
export function atLine(err: unknown, line: number, endLine = line, prefix = true): DockerfileError {
  if (err instanceof DockerfileError) {
    return err.line !== undefined ? err : new DockerfileError(err.detail, line, endLine, { cause: err.cause, prefix })
  }
  const detail = err instanceof Error ? err.message : String(err)
  return new DockerfileError(detail, line, endLine, { cause: err, prefix })
}

/**
 * buildkit's suggestion suffix: the closest option within edit distance 2, as
 * " (did you mean from?)"; '' when none is close or val is itself an option.
 */
export function suggestion(val: string, options: readonly string[], caseSensitive: boolean): string {
  const v = caseSensitive ? val : val.toLowerCase()
  let match = ''
  let min = 3
  for (const o of [...options].sort()) {
    const opt = caseSensitive ? o : o.toLowerCase()
    if (opt === v) return ''
    const d = levenshtein(v, opt)
    if (d < min) {
      min = d
      match = caseSensitive ? opt : matchCase(opt, val)
    }
  }
  return match === '' ? '' : ` (did you mean ${match}?)`
}

function matchCase(opt: string, orig: string): string {
  if (orig === orig.toLowerCase()) return opt.toLowerCase()
  if (orig === orig.toUpperCase()) return opt.toUpperCase()
  return opt
}

function levenshtein(a: string, b: string): number {
  const x = Array.from(a)
  const y = Array.from(b)
  let prev = Array.from({ length: y.length + 1 }, (_, i) => i)
  for (let i = 1; i <= x.length; i++) {
    const cur = [i]
    for (let j = 1; j <= y.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[y.length]
}
