/**
 * `images --tree`: docker 28's experimental tree view (docker/cli
 * cli/command/image/tree.go, internal/tui), byte for byte: the warning and
 * the legend, fixed-width columns fitted to the terminal (80 columns when
 * stdout is none), a row per image and, for images whose summary lists
 * manifests, a branch per platform. Colours only on a terminal, except the
 * column titles, which docker makes bold everywhere.
 */
import type { ImageSummary } from '../../api/types/index.js'
import { humanSizeWithPrecision } from '../../lib/index.js'

export interface TreeOptions {
  /** --all: keep dangling images. */
  all: boolean
  /** Whether stdout is a terminal: colours, and chips drawn as badges. */
  isTerminal: boolean
  /** The terminal's columns; 0 when stdout is no terminal. */
  ttyWidth: number
}

/** An aec colour: wraps a string in SGR codes and a reset; `none` leaves it as it is. */
type Color = (s: string) => string

const RESET = '\x1b[0m'
const sgr = (...codes: number[]): Color => (s) => codes.map((c) => `\x1b[${c}m`).join('') + s + RESET
const none: Color = (s) => s

const TITLE = sgr(39, 1)
const COLUMN_SPACING = 3
const WARNING = "WARNING: This is an experimental feature. The output may change and shouldn't be depended on."

interface Details {
  id: string
  diskUsage: string
  inUse: boolean
  contentSize: string
}

interface Child {
  platform: string
  available: boolean
  details: Details
}

interface Top {
  names: string[]
  details: Details
  children: Child[]
  created: number
}

interface Column {
  title: string
  width: number
  align: 'left' | 'right'
  value?: (d: Details) => string
  /** A colour of the column's own, used instead of the row's. */
  color?: Color
}

/** tui.Width: display columns, escape sequences left out (every rune one column, as for the names and platforms shown here). */
export function displayWidth(s: string): number {
  let rest = s
  for (;;) {
    const start = rest.indexOf('\x1b')
    const end = start < 0 ? -1 : rest.indexOf('m', start)
    if (end < 0) break
    rest = rest.slice(0, start) + rest.slice(end + 1)
  }
  return [...rest].length
}

/** tui.Ellipsis: a string that reaches `length` runes keeps length-1 of them and gets "…"; length 0 keeps all. */
export function tuiEllipsis(s: string, length: number): string {
  const runes = [...s]
  if (length <= 0 || runes.length < length) return s
  return runes.slice(0, length - 1).join('') + '…'
}

function printCell(col: Column, color: Color, s: string): string {
  const n = displayWidth(s)
  if (n > col.width) return color(tuiEllipsis(s, col.width))
  const fill = ' '.repeat(col.width - n)
  return col.align === 'right' ? fill + color(s) : color(s) + fill
}

/** stringid.TruncateID. */
function truncateID(id: string): string {
  const i = id.indexOf(':')
  const s = i >= 0 ? id.slice(i + 1) : id
  return s.length > 12 ? s.slice(0, 12) : s
}

/** docker's isDangling: no tags and no digests, or only the `<none>` placeholders. */
function isDangling(img: ImageSummary): boolean {
  const tags = img.RepoTags ?? []
  const digests = img.RepoDigests ?? []
  if (!tags.length && !digests.length) return true
  return tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>'
}

/** containerd's platforms.Format: os/arch/variant, empty parts left out; "unknown" without an os. */
function formatPlatform(p: { os?: string; architecture?: string; variant?: string } | undefined): string {
  if (!p?.os) return 'unknown'
  return [p.os, p.architecture, p.variant].filter((x) => x).join('/')
}

const size = (n: number): string => humanSizeWithPrecision(n, 3)

function treeOf(images: ImageSummary[], all: boolean): { tops: Top[]; spacing: boolean } {
  let spacing = false
  const tops = (all ? images : images.filter((i) => !isDangling(i))).map((img): Top => {
    const details: Details = { id: img.Id, diskUsage: size(img.Size), inUse: img.Containers > 0, contentSize: '' }
    let content = 0
    const children: Child[] = []
    for (const m of img.Manifests ?? []) {
      content += m.Size.Content
      if (m.Kind !== 'image') continue
      const child: Child = {
        platform: formatPlatform(m.ImageData?.Platform),
        available: m.Available,
        details: { id: m.ID, diskUsage: size(m.Size.Total), inUse: (m.ImageData?.Containers.length ?? 0) > 0, contentSize: size(m.Size.Content) },
      }
      // A parent is in use when any of its platforms is.
      if (child.details.inUse) details.inUse = true
      children.push(child)
      spacing = true
    }
    details.contentSize = size(content)
    return { names: img.RepoTags ?? [], details, children, created: img.Created }
  })
  // Newest first; Go's sort.Slice is stable for the few images a host has (insertion sort up to 12).
  tops.sort((a, b) => b.created - a.created)
  return { tops, spacing }
}

/** Fits the name column between the others and drops the columns that would squeeze it under 12. */
function adjustColumns(width: number, columns: Column[], tops: Top[]): Column[] {
  let nameWidth = width
  let cols = columns
  for (const [idx, c] of columns.entries()) {
    if (c.width === 0) continue
    const d = c.width + (idx > 0 ? COLUMN_SPACING : 0)
    if (nameWidth - d < 12) {
      cols = columns.slice(0, idx)
      break
    }
    nameWidth -= d
  }
  // Go's len(): bytes, so a platform's "└─ " counts 7.
  let widest = (cols[0]?.title ?? '').length
  for (const t of tops) {
    for (const n of t.names) widest = Math.max(widest, Buffer.byteLength(n))
    for (const c of t.children) widest = Math.max(widest, Buffer.byteLength(c.platform) + Buffer.byteLength('└─ '))
  }
  const first = cols[0]
  if (first) first.width = Math.min(nameWidth, widest)
  return cols
}

/** The tree view as docker prints it for these images (the list GET /images/json returned). */
export function renderImageTree(images: ImageSummary[], o: TreeOptions): string {
  const term = o.isTerminal
  const color = (c: Color): Color => (term ? c : none)
  const topName = color(sgr(34, 1))
  const normal = color(sgr(39))
  const untagged = color(sgr(39, 2))
  const faint = color(sgr(39, 2))
  let width = o.ttyWidth || 80
  if (width < 20) width = 20

  const { tops, spacing } = treeOf(images, o.all)
  // The "In Use" chip is the only one docker has; it gets a column only if some platform is in use.
  const chipText = term ? '\x1b[38;5;0m\x1b[48;5;14m U \x1b[0m' : 'U'
  const placeholder = term ? '   ' : ' '
  const chips = tops.some((t) => t.children.some((c) => c.details.inUse)) ? [chipText] : []
  const chipsWidth = chips.reduce((n, c) => n + displayWidth(c), 0)

  let s = (term ? sgr(93)(WARNING) : WARNING) + '\n'
  const info = term ? `\x1b[1m\x1b[106m\x1b[30mi${RESET}${RESET} \x1b[96mInfo → ${RESET}${RESET}` : ' Info -> '
  const legend = `${info} ${chipText} In Use `
  s += ' '.repeat(Math.max(0, width - displayWidth(legend))) + legend + '\n\n'

  const columns = adjustColumns(width, [
    { title: 'Image', align: 'left', width: 0 },
    { title: 'ID', align: 'left', width: 12, value: (d) => truncateID(d.id) },
    { title: 'Disk usage', align: 'right', width: 10, value: (d) => d.diskUsage },
    { title: 'Content size', align: 'right', width: 12, value: (d) => d.contentSize },
    {
      title: 'Extra', align: 'left', width: Math.max('Extra'.length, chipsWidth), color: none,
      value: (d) => chips.map((c) => (d.inUse ? c : placeholder)).join(''),
    },
  ], tops)
  const nameCol = columns[0] as Column

  s += columns.map((c) => printCell(c, TITLE, c.title.toUpperCase())).join(' '.repeat(COLUMN_SPACING)) + '\n'
  const details = (rowColor: Color, d: Details): string =>
    columns.filter((c) => c.value).map((c) => ' '.repeat(COLUMN_SPACING) + printCell(c, c.color ?? rowColor, c.value?.(d) ?? '')).join('')

  for (const t of tops) {
    if (!t.names.length) s += printCell(nameCol, untagged, '<untagged>')
    // Longest first; every name but the last on a line of its own, cut only at the terminal's width.
    const names = [...t.names].sort((a, b) => b.length - a.length)
    names.forEach((n, i) => {
      s += i < names.length - 1 ? topName(tuiEllipsis(n, o.ttyWidth)) + '\n' : printCell(nameCol, topName, n)
    })
    s += details(normal, t.details)
    if (t.children.length || spacing) s += '\n'
    t.children.forEach((c, i) => {
      const rowColor = c.available ? normal : faint
      s += printCell(nameCol, rowColor, `${i === t.children.length - 1 ? '└─' : '├─'} ${c.platform}`)
      s += details(rowColor, c.details) + '\n'
    })
    s += '\n'
  }
  return s
}
