/**
 * The benchmark and compatibility scripts in bench/ compare berth with the
 * reference engines, which CI does not run. Their `--quick` modes run a few
 * cases against the test berthd only, so the scripts cannot rot unnoticed.
 */
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
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

  // Each bench's --quick: berthd only, a couple of runs, tiny sizes; it prints its table and writes nothing to docs/.
  const hostBusybox = ['/usr/bin/busybox', '/bin/busybox'].some((p) => existsSync(p))
  const benches: Array<[string, string | undefined]> = [
    ['engine', undefined],
    ['scale', undefined],
    ['registry', undefined],
    ['build', undefined],
    ['network', hostBusybox ? undefined : 'no busybox on the host (bench/network.js uses it as the host-side client)'],
    ['logs', undefined],
  ]
  for (const [bench, skip] of benches) {
    if (skip) console.warn(`skipping bench/${bench}.js --quick: ${skip}`)
    it.skipIf(!!skip)(`bench/${bench}.js --quick completes against berthd and leaves docs/bench.md alone`, async () => {
      const doc = path.join(repo, 'docs/bench.md')
      const before = existsSync(doc) ? readFileSync(doc, 'utf8') : undefined
      const r = await run(`bench/${bench}.js`, ['--quick'])
      expect(r.code, r.out).toBe(0)
      expect(r.out).toMatch(/^\| metric \|/m)
      expect(r.out).not.toMatch(/bench: wrote \S*bench\.md/)
      expect(existsSync(doc) ? readFileSync(doc, 'utf8') : undefined).toBe(before)
    }, 60_000)
  }
})
