import { invalidArgument } from '../errors/index.js'
import { run } from '../lib/index.js'

export interface PsTable {
  Titles: string[]
  Processes: string[][]
}

/**
 * `ps <args>` on the host, keeping only the rows of the given pids: docker's
 * `top`. The last column (the command) may contain spaces; it gets the rest.
 */
export async function psFor(pids: readonly number[], psArgs: string): Promise<PsTable> {
  const args = psArgs.split(/\s+/).filter(Boolean)
  const res = await run('ps', args, { check: false })
  if (res.code !== 0) throw invalidArgument(`Error running ps: ${res.stderr.trim() || `exit status ${res.code}`}`)
  return parsePs(res.stdout, pids)
}

export function parsePs(out: string, pids: readonly number[]): PsTable {
  const lines = out.split('\n').filter((l) => l.trim() !== '')
  const titles = (lines[0] ?? '').trim().split(/\s+/)
  const pidIndex = titles.indexOf('PID')
  if (pidIndex < 0) throw invalidArgument("Couldn't find PID field in ps output")
  const want = new Set(pids)
  const processes: string[][] = []
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/)
    const pid = Number(fields[pidIndex])
    if (!want.has(pid)) continue
    const row = fields.slice(0, titles.length - 1)
    row.push(fields.slice(titles.length - 1).join(' '))
    processes.push(row)
  }
  return { Titles: titles, Processes: processes }
}
