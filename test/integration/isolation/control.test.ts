import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { berth, containerNames, docker, missing, ok, waitFor } from '../../helpers.js'

const skip = missing('root', 'daemon', 'docker-cli')
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.skipIf(skip)('pause, stop signals and timeouts, --init', () => {
  const name = containerNames()
  const dir = skip ? '' : mkdtempSync('/var/tmp/berth-control-')
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('pause freezes a counter, ps says (Paused), exec is refused; unpause lets it go on', async () => {
    const n = name('counter')
    const file = path.join(dir, 'count')
    // 0 until the container has written its first count.
    const count = () => (existsSync(file) ? Number(readFileSync(file, 'utf8').trim() || '0') : 0)
    ok(await docker(['run', '-d', '--name', n, '-v', `${dir}:/out`, 'busybox', 'sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > /out/count.tmp; mv /out/count.tmp /out/count; sleep 0.05; done']))
    await waitFor(() => (count() > 2 ? true : undefined), 10_000, 'the counter to run')
    ok(await berth(['pause', n]))
    const frozen = count()
    expect(ok(await docker(['inspect', '-f', '{{.State.Status}} {{.State.Paused}} {{.State.Running}}', n])).stdout.trim()).toBe('paused true true')
    expect(ok(await docker(['ps', '--filter', `name=^${n}$`, '--format', '{{.Status}}'])).stdout.trim()).toMatch(/^Up .* \(Paused\)$/)
    const ex = await docker(['exec', n, 'true'])
    expect(ex.code).toBe(1)
    // moby getActiveContainer names the container as the client did.
    expect(ex.stderr).toBe(`Error response from daemon: Container ${n} is paused, unpause the container before exec\n`)
    await pause(500)
    expect(count()).toBe(frozen)
    ok(await docker(['unpause', n]))
    await waitFor(() => (count() > frozen ? true : undefined), 10_000, 'the counter to go on')
    // A paused container stops as docker's: the signal lands once it is thawed.
    ok(await docker(['pause', n]))
    ok(await docker(['stop', '-t', '1', n]))
    expect(ok(await docker(['inspect', '-f', '{{.State.Status}}', n])).stdout.trim()).toBe('exited')
  })

  it('stop sends --stop-signal, and SIGKILL after --stop-timeout unless stop -t says otherwise', async () => {
    const s = name('sig')
    ok(await docker(['run', '-d', '--name', s, '--stop-signal', 'USR1', 'busybox', 'sh', '-c', "trap 'echo got USR1; exit 7' USR1; while true; do sleep 0.1; done"]))
    ok(await docker(['stop', s]))
    expect(ok(await docker(['inspect', '-f', '{{.State.ExitCode}}', s])).stdout.trim()).toBe('7')
    expect(ok(await docker(['logs', s])).stdout).toBe('got USR1\n')

    // The TERM handler needs 2s: a 1s --stop-timeout cuts it short, `stop -t 6` lets it finish.
    const slow = ['sh', '-c', "trap 'sleep 2; echo handled; exit 5' TERM; while true; do sleep 0.1; done"]
    const t = name('timeout')
    ok(await berth(['run', '-d', '--name', t, '--stop-timeout', '1', 'busybox', ...slow]))
    expect(ok(await berth(['inspect', '-f', '{{.Config.StopTimeout}}', t])).stdout.trim()).toBe('1')
    ok(await berth(['stop', t]))
    expect(ok(await berth(['inspect', '-f', '{{.State.ExitCode}}', t])).stdout.trim()).toBe('137')
    ok(await berth(['start', t]))
    ok(await berth(['stop', '-t', '6', t]))
    expect(ok(await berth(['inspect', '-f', '{{.State.ExitCode}}', t])).stdout.trim()).toBe('5')
    expect(ok(await berth(['logs', t])).stdout).toContain('handled')
  })

  it('--init runs docker-init as PID 1, which reaps orphans; without it PID 1 is the command and zombies stay', async () => {
    const orphan = ['sh', '-c', '(sleep 0.2 &); exec sleep 1d']
    const zombies = async (n: string) => ok(await docker(['exec', n, 'ps', '-o', 'stat,comm'])).stdout.split('\n').filter((l) => /^Z/.test(l.trim()))
    const plain = name('plain')
    ok(await docker(['run', '-d', '--name', plain, 'busybox', ...orphan]))
    await waitFor(async () => ((await zombies(plain)).length ? true : undefined), 10_000, 'the orphan to become a zombie')
    expect(ok(await docker(['exec', plain, 'cat', '/proc/1/cmdline'])).stdout.replace(/\0/g, ' ').trim()).toBe('sleep 1d')

    const init = name('init')
    ok(await docker(['run', '-d', '--init', '--name', init, 'busybox', ...orphan]))
    expect(ok(await docker(['exec', init, 'cat', '/proc/1/cmdline'])).stdout.replace(/\0/g, ' ').trim()).toBe('/sbin/docker-init -- sh -c (sleep 0.2 &); exec sleep 1d')
    await pause(1000)
    expect(await zombies(init)).toEqual([])
  })
})
