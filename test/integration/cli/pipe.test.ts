/** A reader that goes away early (`berth … | head`): the CLI stops quietly with SIGPIPE's status, as docker's does. */
import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { berthBin, missing, sock } from '../../helpers.js'

const skip = missing('root', 'daemon')

describe.skipIf(skip)('berth writing into a closed pipe', () => {
  it('ends with status 141 and no stack trace', () => {
    const r = spawnSync('bash', ['-c', `"${berthBin}" run --rm busybox sh -c 'seq 1 200000' | head -1; echo "status=\${PIPESTATUS[0]}" >&2`], {
      env: { ...process.env, BERTH_HOST: `unix://${sock()}` },
      encoding: 'utf8',
      timeout: 60_000,
    })
    expect(r.stdout).toBe('1\n')
    expect(r.stderr).toContain('status=141')
    expect(r.stderr).not.toMatch(/EPIPE|Error/)
  })
})
