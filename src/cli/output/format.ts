/**
 * docker's formatter.Context: `table …` renders a header and tabwriter-aligned
 * rows, `json` prints `{{json .}}` per row, anything else is a Go template
 * executed per row.
 */
import { parseTemplate, dockerFuncs } from '../../gotemplate/index.js'
import { isGoStruct } from './struct.js'
import { tabwrite } from './tabwriter.js'

export const TABLE_KEY = 'table'
export const JSON_KEY = 'json'
export const QUIET_FORMAT = '{{.ID}}'

export function isTable(format: string): boolean {
  return format.startsWith(TABLE_KEY)
}

/** The template text docker executes for a format: `table ` stripped, `\t`/`\n` escapes expanded. */
export function finalTemplate(format: string): string {
  let f = format
  if (isTable(f)) f = f.slice(TABLE_KEY.length)
  else if (f === JSON_KEY) f = '{{json .}}'
  return f.trim().replace(/\\t/g, '\t').replace(/\\n/g, '\n')
}

/**
 * Header functions as docker's templates.HeaderFunctions: when the header row
 * runs the template, formatting functions must pass header names through.
 */
const headerFuncs: Record<string, (...args: unknown[]) => unknown> = {
  json: () => '',
  split: (v: unknown) => v,
  join: (v: unknown) => v,
  title: (v: unknown) => v,
  lower: (v: unknown) => v,
  upper: (v: unknown) => v,
  truncate: (v: unknown) => v,
  pad: (v: unknown) => v,
}

/** The column header docker prints for `.Label NAME`: its last dot-separated part, `-`/`_` as spaces. */
export function labelHeader(name: unknown): string {
  return String(name).split('.').pop()?.replace(/[-_]/g, ' ') ?? ''
}

/**
 * Renders rows with a docker format. `header` maps field names to column
 * headers; a field missing from it prints as empty in the header row.
 */
export function renderFormat(format: string, rows: object[], header: Record<string, string>): string {
  const text = finalTemplate(format)
  const funcs = { ...dockerFuncs, json: rowJSON }
  let tmpl
  try {
    tmpl = parseTemplate(text, { funcs })
  } catch (e) {
    throw new Error(`template parsing error: ${(e as Error).message}`)
  }
  let body = ''
  try {
    for (const row of rows) body += tmpl.execute(row) + '\n'
  } catch (e) {
    throw new Error(`template parsing error: ${(e as Error).message}`)
  }
  if (!isTable(format)) return body
  const headerTmpl = parseTemplate(text, { funcs: { ...funcs, ...headerFuncs } })
  const headerCtx: Record<string, unknown> = { ...header }
  // Methods with arguments (.Label "k") yield an empty header cell.
  for (const row of rows.slice(0, 1)) {
    for (const [k, v] of Object.entries(row)) if (typeof v === 'function' && !(k in headerCtx)) headerCtx[k] = () => ''
  }
  // docker's header for {{.Label "com.example.some-label"}}: "some label".
  if (rows.length && typeof (rows[0] as Record<string, unknown>).Label === 'function') headerCtx.Label = labelHeader
  let head: string
  try {
    head = headerTmpl.execute(headerCtx)
  } catch {
    head = ''
  }
  return tabwrite(head + '\n' + body)
}

/**
 * docker's `json` over a list row: the row's MarshalJSON uses json.Marshal,
 * which escapes <, > and & (other values go through the encoder, which does not).
 */
function rowJSON(...args: unknown[]): unknown {
  const s = (dockerFuncs.json as (...a: unknown[]) => unknown)(...args)
  if (args.length !== 1 || !isGoStruct(args[0]) || typeof s !== 'string') return s
  return s.replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`)
}
