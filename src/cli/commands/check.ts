/**
 * `berth system check`: berth's own command (docker has none). Asks berthd's
 * GET /berth/check and prints each problem, or "no problems found"; exit 1
 * when there are problems, so scripts and tests can rely on it.
 */
import type { Handler } from '../app.js'
import { bool, getClient, out, str } from '../context.js'

/** GET /berth/check's body (api/routes/system/check.ts; berth's own, so not in api/types). */
interface CheckReportJson {
  Problems: Array<{ Kind: string; Object: string; Message: string }>
  Checked: Record<string, number>
}

export const systemCheckCommand: Handler = async (_args, opts, ctx) => {
  const report = await getClient(ctx.globals).json<CheckReportJson>('GET', '/berth/check')
  if (str(opts.format) === 'json') {
    out(JSON.stringify(report) + '\n')
    return report.Problems.length ? 1 : 0
  }
  if (bool(opts.verbose)) {
    const counts = Object.entries(report.Checked).sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k}: ${n}`)
    out(`checked ${counts.join(', ') || 'nothing'}\n`)
  }
  if (report.Problems.length === 0) {
    out('no problems found\n')
    return 0
  }
  for (const p of report.Problems) out(`${p.Kind} ${p.Object}: ${p.Message}\n`)
  out(`${report.Problems.length} problem${report.Problems.length === 1 ? '' : 's'} found\n`)
  return 1
}
