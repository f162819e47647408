/**
 * Renders JSON progress streams (pull, load, import) like docker's
 * jsonmessage.DisplayJSONMessagesStream: on a terminal one redrawn row per
 * id; elsewhere only messages without a live progress bar.
 */
import type { JSONMessage, JSONProgress } from '../../api/types/index.js'
import { humanSize } from '../../lib/index.js'

export class JSONMessageError extends Error {
  constructor(message: string, readonly code?: number) {
    super(message)
  }
}

/** jsonmessage.JSONProgress.String(). */
export function progressString(p: JSONProgress | undefined, width: number): string {
  if (!p) return ''
  const current = p.current ?? 0
  const total = p.total ?? 0
  if (current <= 0 && total <= 0) return ''
  if (total <= 0) {
    if (!p.units) return humanSize(current).padStart(8)
    return `${current} ${p.units}`
  }
  let percentage = Math.trunc(Math.trunc((current / total) * 100) / 2)
  if (percentage > 50) percentage = 50
  let bar = ''
  if (width > 110) bar = `[${'='.repeat(percentage)}>${' '.repeat(Math.max(0, 50 - percentage))}] `
  let numbers = ''
  if (p.hidecounts) {
    numbers = ''
  } else if (!p.units) {
    numbers = `${humanSize(current).padStart(8)}/${humanSize(total)}`
    if (current > total) numbers = humanSize(current).padStart(8)
  } else {
    numbers = `${current}/${total} ${p.units}`
    if (current > total) numbers = `${current} ${p.units}`
  }
  return bar + numbers
}

export interface ProgressOptions {
  isTerminal: boolean
  width?: number
  /** Called with each `aux` payload (load's loaded image, build's image ID). */
  onAux?: (aux: unknown) => void
}

/** Stateful renderer; feed it messages in order. Throws JSONMessageError on an errorDetail. */
export class ProgressRenderer {
  private ids = new Map<string, number>()

  constructor(private readonly write: (s: string) => void, private readonly opts: ProgressOptions) {}

  render(jm: JSONMessage): void {
    if (jm.errorDetail || jm.error) {
      throw new JSONMessageError(jm.errorDetail?.message ?? jm.error ?? '', jm.errorDetail?.code)
    }
    if (jm.aux !== undefined) {
      this.opts.onAux?.(jm.aux)
      return
    }
    const tty = this.opts.isTerminal
    let diff = 0
    const hasProgress = jm.progressDetail !== undefined || !!jm.progress
    if (jm.id && hasProgress) {
      let line = this.ids.get(jm.id)
      if (line === undefined) {
        line = this.ids.size
        this.ids.set(jm.id, line)
        if (tty) this.write('\n')
      }
      diff = this.ids.size - line
      if (tty && diff > 0) this.write(`\x1b[${diff}A`)
    } else {
      this.ids.clear()
    }
    this.display(jm)
    if (jm.id && tty && diff > 0) this.write(`\x1b[${diff}B`)
  }

  private display(jm: JSONMessage): void {
    const tty = this.opts.isTerminal
    const width = this.opts.width ?? 200
    const bar = progressString(jm.progressDetail, width)
    let endl = ''
    if (tty && !jm.stream && jm.progressDetail !== undefined) {
      this.write('\x1b[2K\r')
      endl = '\r'
    } else if (jm.progressDetail !== undefined && bar !== '') {
      return
    }
    let out = ''
    if (jm.id) out += `${jm.id}: `
    if (jm.from) out += `(from ${jm.from}) `
    if (jm.progressDetail !== undefined && tty) out += `${jm.status ?? ''} ${bar}${endl}`
    else if (jm.progress && !tty) out += `${jm.status ?? ''} ${jm.progress}${endl}`
    else if (jm.stream) out += `${jm.stream}${endl}`
    else out += `${jm.status ?? ''}${endl}\n`
    this.write(out)
  }
}
