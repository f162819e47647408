/**
 * Stop and start the suite's berthd from a test (as test/integration/
 * containers/restore.test.ts does): same arguments as test/global-setup.ts,
 * found again through its pid file, so later test files find it running.
 */
import { spawn } from 'node:child_process'
import { existsSync, openSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { inject } from 'vitest'
import { berth, repo, waitFor } from '../../helpers.js'

export function daemonPid(): number {
  const f = path.join(inject('berthExecRoot'), 'berthd.pid')
  return existsSync(f) ? Number(readFileSync(f, 'utf8').trim()) : 0
}

export function alive(pid: number): boolean {
  if (pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Signal berthd and wait until it is gone. */
export async function stopDaemon(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  const pid = daemonPid()
  if (!alive(pid)) return
  process.kill(pid, signal)
  await waitFor(() => !alive(pid) || undefined, 15_000, `berthd to exit on ${signal}`)
}

/** Start berthd as the global setup does and wait until it answers. */
export async function startDaemon(): Promise<void> {
  const out = openSync(inject('berthLog'), 'a')
  const runtime = process.env.BERTH_TEST_RUNTIME
  const args = ['--data-root', inject('berthDataRoot'), '--exec-root', inject('berthExecRoot'), '--config-file', inject('berthConfigFile'), '--log-level', 'debug', ...(runtime ? ['--default-runtime', runtime] : [])]
  const child = spawn(path.join(repo, 'bin/berthd'), args, { stdio: ['ignore', out, out], detached: true })
  child.unref()
  await waitFor(async () => ((await berth(['version'])).code === 0 ? true : undefined), 20_000, 'berthd to come back')
}

/** For afterAll: whatever happened, leave a berthd running for the files after this one. */
export async function ensureDaemon(): Promise<void> {
  if ((await berth(['version'])).code === 0) return
  if (!alive(daemonPid())) await startDaemon()
  else await waitFor(async () => ((await berth(['version'])).code === 0 ? true : undefined), 20_000, 'berthd to answer')
}
