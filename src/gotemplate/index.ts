/**
 * Go's text/template, as the docker CLI uses it for `--format` and
 * `inspect -f`, plus docker's extra functions.
 *
 * Hand-written: no maintained npm package implements Go's text/template
 * faithfully (trim markers, pipelines and variables, sorted map ranges, fmt's
 * verbs and %v printing, Go's error messages), and users' format strings
 * written for docker depend on exactly those details.
 */
import { execute } from './exec.js'
import { builtins, type TemplateFunc } from './funcs.js'
import { parse } from './parser.js'

export { TemplateError } from './error.js'
export { formatValue } from './fmt.js'
export { dockerFuncs, type TemplateFunc } from './funcs.js'

export interface Template {
  /** Runs the template over data; throws TemplateError on an execution error. */
  execute(data: unknown): string
}

export interface ParseTemplateOptions {
  /** Functions beyond the builtins; they take precedence over builtins of the same name. */
  funcs?: Record<string, TemplateFunc>
  /** The template's name in error messages; docker's is "". */
  name?: string
  /** 'error' is Go's missingkey=error, which docker's inspect uses on raw JSON. */
  missingKey?: 'default' | 'error'
}

/** Parses a template; throws TemplateError with Go's message on bad syntax. */
export function parseTemplate(text: string, opts: ParseTemplateOptions = {}): Template {
  const name = opts.name ?? ''
  const funcs = { ...opts.funcs }
  const hasFunction = (fn: string) => Object.hasOwn(funcs, fn) || builtins.has(fn)
  const { trees } = parse(text, { name, hasFunction })
  const env = { text, parseName: name, trees, funcs, missingKey: opts.missingKey ?? 'default' }
  return { execute: (data: unknown) => execute(env, name, data) }
}
