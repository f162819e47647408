/**
 * pflag's help text wrapping (FlagUsagesWrapped): descriptions wrap at the
 * terminal width with a few columns of "slop" so short last words are not
 * orphaned. Ported rather than using a library because the exact break points
 * must match docker's help byte for byte.
 */

/** pflag's wrapN: the first line of `s` within `i` (+slop) columns, and the rest. */
function wrapN(i: number, slop: number, s: string): [string, string] {
  if (i + slop > s.length) return [s, '']
  const head = s.slice(0, i)
  const w = Math.max(head.lastIndexOf(' '), head.lastIndexOf('\t'), head.lastIndexOf('\n'))
  if (w <= 0) return [s, '']
  const nl = head.lastIndexOf('\n')
  if (nl > 0 && nl < w) return [s.slice(0, nl), s.slice(nl + 1)]
  return [s.slice(0, w), s.slice(w + 1)]
}

/** pflag's wrap: `s` wrapped to width `w`, continuation lines indented by `i`. */
export function wrapUsage(i: number, w: number, s: string): string {
  if (w === 0) return s.split('\n').join('\n' + ' '.repeat(i))
  let wrap = w - i
  let r = ''
  if (wrap < 24) {
    i = 16
    wrap = w - i
    r += '\n' + ' '.repeat(i)
  }
  if (wrap < 24) return s.split('\n').join(r)
  const slop = 5
  wrap -= slop
  const indent = (t: string): string => t.split('\n').join('\n' + ' '.repeat(i))
  let [l, rest] = wrapN(wrap, slop, s)
  r += indent(l)
  while (rest !== '') {
    ;[l, rest] = wrapN(wrap, slop, rest)
    r += '\n' + ' '.repeat(i) + indent(l)
  }
  return r
}

export interface FlagRow {
  /** "  -f, --format string" or "      --rm". */
  left: string
  /** Description including any "(default …)". */
  usage: string
}

/** pflag's flag table: descriptions aligned after the longest flag, wrapped at `cols`. */
export function flagUsages(rows: FlagRow[], cols: number): string {
  const maxlen = Math.max(0, ...rows.map((r) => r.left.length + 1))
  return rows.map((r) => `${r.left} ${' '.repeat(maxlen - r.left.length)} ${wrapUsage(maxlen + 2, cols, r.usage)}\n`).join('')
}
