/**
 * The benchmark and compatibility scripts in bench/ compare berth with the
 * reference engines, which CI does not run. Their `--quick` modes run a few
 * cases against the test berthd only, so the scripts cannot rot unnoticed.
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { missing, repo, sock } from '../../helpers.js'

function run(script: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(repo, script), ...args], { env: { ...process.env, BERTH_SOCK: sock(), BENCH_WRITE: '0' } })
    let out = ''
    p.stdout.on('data', (d: Buffer) => (out += d.toString()))
    p.stderr.on('data', (d: Buffer) => (out += d.toString()))
    p.on('close', (code) => resolve({ code: code ?? 1, out }))
  })
}

describe.skipIf(missing('root', 'daemon', 'docker-cli'))('bench scripts, --quick', () => {
  it('bench/compat --quick runs its cases through the docker CLI against berthd', async () => {
    const r = await run('bench/compat.js', ['--quick'])
    expect(r.out).toMatch(/compat --quick: \d+ cases against berthd, 0 with an unexpected exit code/)
    expect(r.code, r.out).toBe(0)
  }, 120_000)
})
