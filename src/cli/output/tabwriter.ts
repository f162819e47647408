/**
 * Go's text/tabwriter (flags 0, as docker's formatter uses it): tab-terminated
 * cells are aligned in columns; a column block is a run of consecutive lines
 * that all have a cell at that index. Written here because docker's tables
 * are defined by this exact algorithm, and no npm package reproduces it.
 */

export interface TabwriterOptions {
  minwidth: number
  tabwidth: number
  padding: number
  padchar: string
}

/** docker's formatter settings: tabwriter.NewWriter(out, 10, 1, 3, ' ', 0). */
export const DOCKER_TABLE: TabwriterOptions = { minwidth: 10, tabwidth: 1, padding: 3, padchar: ' ' }

interface Cell {
  text: string
  width: number
}

function runeWidth(s: string): number {
  let n = 0
  for (const _ of s) n++
  return n
}

/** Aligns `text` (lines of tab-separated cells) the way Go's tabwriter does on Flush. */
export function tabwrite(text: string, opts: TabwriterOptions = DOCKER_TABLE): string {
  const rawLines = text.split('\n')
  // A trailing newline ends the last line rather than starting an empty one.
  const endsWithNewline = text.endsWith('\n')
  if (endsWithNewline) rawLines.pop()
  const lines: Cell[][] = rawLines.map((l) => l.split('\t').map((t) => ({ text: t, width: runeWidth(t) })))
  const widths: number[] = []
  const out: string[] = []

  const writeLines = (line0: number, line1: number): void => {
    for (let i = line0; i < line1; i++) {
      const line = lines[i] ?? []
      let s = ''
      line.forEach((c, j) => {
        if (j < line.length - 1 && j < widths.length) {
          const w = widths[j] ?? 0
          s += c.text + opts.padchar.repeat(Math.max(0, w - c.width))
        } else {
          s += c.text
        }
      })
      out.push(s)
    }
  }

  const format = (line0: number, line1: number): void => {
    const column = widths.length
    for (let t = line0; t < line1; t++) {
      const line = lines[t] ?? []
      if (column >= line.length - 1) continue
      writeLines(line0, t)
      line0 = t
      let width = opts.minwidth
      for (; t < line1; t++) {
        const l = lines[t] ?? []
        if (column >= l.length - 1) break
        const w = (l[column]?.width ?? 0) + opts.padding
        if (w > width) width = w
      }
      widths.push(width)
      format(line0, t)
      widths.pop()
      line0 = t
    }
    writeLines(line0, line1)
  }

  format(0, lines.length)
  return out.join('\n') + (endsWithNewline ? '\n' : '')
}
