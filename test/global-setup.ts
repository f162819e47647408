/**
 * One real berthd for the integration and e2e projects: its own data root,
 * exec root and socket, so it runs beside a berthd the machine may have.
 * A busybox image is made offline and imported before any test runs.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, openSync, existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import type { TestProject } from 'vitest/node'
import { removeDaemonLeftovers } from './daemon-cleanup.js'

declare module 'vitest' {
  export interface ProvidedContext {
    berthSock: string
    berthDataRoot: string
    berthExecRoot: string
    berthLog: string
    berthConfigFile: string
    /** Why the daemon is not available, when it is not (the tests skip and print it). */
    berthUnavailable: string
  }
}

const repo = path.resolve(import.meta.dirname, '..')
let daemon: ChildProcess | undefined
let base = ''
let execRoot = ''
let bridge = ''

async function waitForSocket(sock: string, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (existsSync(sock)) {
      try {
        execFileSync(path.join(repo, 'bin/berth'), ['version'], { env: { ...process.env, BERTH_HOST: `unix://${sock}` }, stdio: 'ignore' })
        return
      } catch {
        // not ready yet
      }
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`berthd did not answer on ${sock}`)
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const provide = project.provide.bind(project)
  if (process.getuid?.() !== 0) {
    provide('berthUnavailable', 'integration tests need root (namespaces, cgroups, mounts)')
    provide('berthSock', '')
    provide('berthDataRoot', '')
    provide('berthExecRoot', '')
    provide('berthLog', '')
    provide('berthConfigFile', '')
    return async () => {}
  }
  base = mkdtempSync('/var/tmp/berth-test-')
  // Short: conmon's attach socket path under it must stay below 108 bytes.
  execRoot = `/run/bt${process.pid}`
  mkdirSync(execRoot, { recursive: true })
  const dataRoot = path.join(base, 'data')
  const sock = path.join(execRoot, 'berth.sock')
  const log = path.join(base, 'berthd.log')
  const cfgFile = path.join(base, 'daemon.json')
  // Its own default bridge (and so its own firewall chains) beside a berthd the machine may run.
  bridge = `bt${process.pid}`
  execFileSync('sh', ['-c', `echo '{"bridge": "${bridge}"}' > ${cfgFile}`])
  const out = openSync(log, 'a')
  // BERTH_TEST_RUNTIME=crun runs the same suite with crun as the default runtime.
  const runtime = process.env.BERTH_TEST_RUNTIME
  const runtimeArgs = runtime ? ['--default-runtime', runtime] : []
  daemon = spawn(path.join(repo, 'bin/berthd'), ['--data-root', dataRoot, '--exec-root', execRoot, '--config-file', cfgFile, '--log-level', 'debug', ...runtimeArgs], {
    stdio: ['ignore', out, out],
    detached: true,
  })
  provide('berthSock', sock)
  provide('berthDataRoot', dataRoot)
  provide('berthExecRoot', execRoot)
  provide('berthLog', log)
  provide('berthConfigFile', cfgFile)
  try {
    await waitForSocket(sock, 20_000)
    const env = { ...process.env, BERTH_HOST: `unix://${sock}` }
    execFileSync('sh', ['-c', `"${repo}/scripts/busybox-rootfs" | "${repo}/bin/berth" import -c 'CMD ["sh"]' - busybox:latest`], { env, stdio: 'pipe' })
    provide('berthUnavailable', '')
  } catch (err) {
    const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-20).join('\n') : ''
    throw new Error(`could not start berthd for the tests: ${(err as Error).message}\n${tail}`)
  }
  return async () => {
    // Containers first (they hold mounts in the data root), then the daemon, then the files.
    const env = { ...process.env, BERTH_HOST: `unix://${sock}` }
    try {
      const ids = execFileSync(path.join(repo, 'bin/berth'), ['ps', '-aq'], { env }).toString().split('\n').filter(Boolean)
      if (ids.length) execFileSync(path.join(repo, 'bin/berth'), ['rm', '-f', ...ids], { env, stdio: 'ignore' })
      execFileSync(path.join(repo, 'bin/berth'), ['network', 'prune', '-f'], { env, stdio: 'ignore' })
    } catch {
      // best effort
    }
    // The daemon may have been replaced by a restart test: stop whoever holds the pid file.
    const pidFile = path.join(execRoot, 'berthd.pid')
    const pid = Number((existsSync(pidFile) ? readFileSync(pidFile, 'utf8') : '').trim() || 0)
    try {
      if (pid > 0) process.kill(pid, 'SIGTERM')
      else daemon?.kill('SIGTERM')
    } catch {
      // already gone
    }
    for (let i = 0; i < 50 && pid > 0; i++) {
      try {
        process.kill(pid, 0)
      } catch {
        break
      }
      await new Promise((r) => setTimeout(r, 100))
    }
    await removeDaemonLeftovers(base, bridge, execRoot)
  }
}
