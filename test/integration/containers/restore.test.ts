import { spawn } from 'node:child_process'
import { openSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { berth, missing, ok, repo, uniq, waitFor } from '../../helpers.js'

const skip = missing('root', 'daemon')

/** Live restore: containers outlive a berthd killed with SIGKILL, and the new berthd adopts them. */
describe.skipIf(skip)('daemon restart', () => {
  const n = uniq('survivor')
  afterAll(async () => {
    await berth(['rm', '-f', n])
  })

  it('keeps a running container through kill -9 of berthd', async () => {
    ok(await berth(['run', '-d', '--name', n, 'busybox', 'sh', '-c', 'echo before; while :; do sleep 0.2; done']))
    const pidBefore = ok(await berth(['inspect', '-f', '{{.State.Pid}}', n])).stdout.trim()
    const execRoot = inject('berthExecRoot')
    const daemonPid = Number(readFileSync(path.join(execRoot, 'berthd.pid'), 'utf8').trim())
    process.kill(daemonPid, 'SIGKILL')
    await waitFor(() => {
      try {
        process.kill(daemonPid, 0)
        return undefined
      } catch {
        return true
      }
    }, 5000, 'berthd to die')
    // The container's process is still there without its daemon.
    expect(() => process.kill(Number(pidBefore), 0)).not.toThrow()

    const out = openSync(inject('berthLog'), 'a')
    const child = spawn(path.join(repo, 'bin/berthd'), ['--data-root', inject('berthDataRoot'), '--exec-root', execRoot, '--config-file', inject('berthConfigFile'), '--log-level', 'debug'], {
      stdio: ['ignore', out, out],
      detached: true,
    })
    child.unref()
    await waitFor(async () => ((await berth(['version'])).code === 0 ? true : undefined), 20_000, 'berthd to come back')

    expect(ok(await berth(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', n])).stdout.trim()).toBe(`running ${pidBefore}`)
    expect(ok(await berth(['exec', n, 'echo', 'after'])).stdout).toBe('after\n')
    expect(ok(await berth(['logs', n])).stdout).toMatch(/^before\n/)
    ok(await berth(['stop', '-t', '1', n]))
    expect(ok(await berth(['inspect', '-f', '{{.State.Status}}', n])).stdout.trim()).toBe('exited')
  })
})
