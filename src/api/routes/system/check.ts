/**
 * GET /berth/check: berth's own store check (`berth system check`), outside
 * docker's API on purpose — no docker client sends it. 200 with the report
 * whether or not problems were found; the CLI decides its exit status.
 */
import type { Router } from '../../server/index.js'

export interface CheckProblemJson {
  Kind: string
  Object: string
  Message: string
}

export interface CheckReportJson {
  Problems: CheckProblemJson[]
  Checked: Record<string, number>
}

export interface CheckBackend {
  check(): Promise<{ problems: Array<{ kind: string; object: string; message: string }>; checked: Record<string, number> }>
}

export function checkRoutes(r: Router, b: CheckBackend): void {
  r.get('/berth/check', async (ctx) => {
    const report = await b.check()
    const body: CheckReportJson = {
      Problems: report.problems.map((p) => ({ Kind: p.kind, Object: p.object, Message: p.message })),
      Checked: report.checked,
    }
    ctx.send(200, body)
  })
}
