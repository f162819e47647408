import { spawn } from 'node:child_process'
import { openSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { berth, missing, ok, repo, uniq, waitFor } from '../../helpers.js'

const skip = missing('root', 'daemon')

/** Live restore: containers outlive a berthd killed with SIGKILL, and the new berthd adopts them. */
function startDaemon(): void {
  const out = openSync(inject('berthLog'), 'a')
  const runtime = process.env.BERTH_TEST_RUNTIME
  const args = ['--data-root', inject('berthDataRoot'), '--exec-root', inject('berthExecRoot'), '--config-file', inject('berthConfigFile'), '--log-level', 'debug', ...(runtime ? ['--default-runtime', runtime] : [])]
  const child = spawn(path.join(repo, 'bin/berthd'), args, {
    stdio: ['ignore', out, out],
    detached: true,
  })
  child.unref()
}

function daemonPid(): number {
  return Number(readFileSync(path.join(inject('berthExecRoot'), 'berthd.pid'), 'utf8').trim())
}

function gone(pid: number): true | undefined {
  try {
    process.kill(pid, 0)
    return undefined
  } catch {
    return true
  }
}

describe.skipIf(skip)('daemon restart', () => {
  const n = uniq('survivor')
  const g = uniq('graceful')
  afterAll(async () => {
    await berth(['rm', '-f', n, g])
  })

  it('shuts down on SIGTERM, leaving containers running, and comes back', async () => {
    ok(await berth(['run', '-d', '--name', g, 'busybox', 'sleep', '1d']))
    const cpid = Number(ok(await berth(['inspect', '-f', '{{.State.Pid}}', g])).stdout.trim())
    const dpid = daemonPid()
    process.kill(dpid, 'SIGTERM')
    await waitFor(() => gone(dpid), 10_000, 'berthd to exit')
    expect(gone(cpid)).toBeUndefined()
    startDaemon()
    await waitFor(async () => ((await berth(['version'])).code === 0 ? true : undefined), 20_000, 'berthd to come back')
    expect(ok(await berth(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', g])).stdout.trim()).toBe(`running ${cpid}`)
  })

  it('keeps a running container through kill -9 of berthd', async () => {
    ok(await berth(['run', '-d', '--name', n, 'busybox', 'sh', '-c', 'echo before; while :; do sleep 0.2; done']))
    const pidBefore = ok(await berth(['inspect', '-f', '{{.State.Pid}}', n])).stdout.trim()
    const dpid = daemonPid()
    process.kill(dpid, 'SIGKILL')
    await waitFor(() => gone(dpid), 5000, 'berthd to die')
    // The container's process is still there without its daemon.
    expect(() => process.kill(Number(pidBefore), 0)).not.toThrow()

    startDaemon()
    await waitFor(async () => ((await berth(['version'])).code === 0 ? true : undefined), 20_000, 'berthd to come back')

    expect(ok(await berth(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', n])).stdout.trim()).toBe(`running ${pidBefore}`)
    expect(ok(await berth(['exec', n, 'echo', 'after'])).stdout).toBe('after\n')
    expect(ok(await berth(['logs', n])).stdout).toMatch(/^before\n/)
    ok(await berth(['stop', '-t', '1', n]))
    expect(ok(await berth(['inspect', '-f', '{{.State.Status}}', n])).stdout.trim()).toBe('exited')
  })

  it('records an exit that happened while berthd was down', async () => {
    const e = uniq('exited-meanwhile')
    ok(await berth(['run', '-d', '--name', e, 'busybox', 'sh', '-c', 'sleep 1; exit 3']))
    const dpid = daemonPid()
    process.kill(dpid, 'SIGKILL')
    await waitFor(() => gone(dpid), 5000, 'berthd to die')
    await new Promise((r) => setTimeout(r, 1500))
    startDaemon()
    await waitFor(async () => ((await berth(['version'])).code === 0 ? true : undefined), 20_000, 'berthd to come back')
    expect(ok(await berth(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', e])).stdout.trim()).toBe('exited 3')
    expect(ok(await berth(['wait', e])).stdout.trim()).toBe('3')
    ok(await berth(['rm', e]))
  })
})
