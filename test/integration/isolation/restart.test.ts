import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { berth, containerNames, docker, missing, ok, waitFor } from '../../helpers.js'
import { PrivateDaemon } from '../system/helpers.js'

const skip = missing('root', 'daemon', 'docker-cli')

const state = async (n: string, run = docker) => ok(await run(['inspect', '-f', '{{.RestartCount}} {{.State.Status}}', n])).stdout.trim()
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.skipIf(skip)('restart policies', () => {
  const name = containerNames()

  it('on-failure:3 restarts three times, then the container stays exited', async () => {
    const n = name('onfail')
    const since = String(Math.floor(Date.now() / 1000) - 1)
    ok(await docker(['run', '-d', '--name', n, '--restart', 'on-failure:3', 'busybox', 'sh', '-c', 'exit 3']))
    await waitFor(async () => (await state(n)) === '3 exited' || undefined, 20_000, 'three restarts')
    expect(ok(await docker(['inspect', '-f', '{{.State.ExitCode}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}', n])).stdout.trim()).toBe('3 on-failure:3')
    const until = String(Math.floor(Date.now() / 1000) + 1)
    const ev = ok(await docker(['events', '--since', since, '--until', until, '--filter', `container=${n}`, '--format', '{{.Action}}']))
    const actions = ev.stdout.split('\n').filter(Boolean)
    // docker's restart manager starts the container again; `restart` is only for `docker restart`.
    expect(actions.filter((a) => a === 'start')).toHaveLength(4)
    expect(actions.filter((a) => a === 'die')).toHaveLength(4)
    expect(actions).not.toContain('restart')
    // A successful run is no failure: on-failure leaves it alone.
    const z = name('onfail0')
    ok(await berth(['run', '-d', '--name', z, '--restart', 'on-failure', 'busybox', 'true']))
    expect(ok(await berth(['wait', z])).stdout.trim()).toBe('0')
    await pause(500)
    expect(await state(z)).toBe('0 exited')
  })

  it('always restarts after exit 0 until docker stop; a manual start resets the count', async () => {
    const n = name('always')
    // Exits after 0.2s until /stay exists.
    ok(await docker(['run', '-d', '--name', n, '--restart', 'always', 'busybox', 'sh', '-c', '[ -e /stay ] && exec sleep 1d; sleep 0.2']))
    await waitFor(async () => Number((await state(n)).split(' ')[0]) >= 2 || undefined, 20_000, 'two restarts')
    ok(await docker(['stop', '-t', '1', n]))
    const stopped = await state(n)
    expect(stopped).toMatch(/ exited$/)
    await pause(1000)
    expect(await state(n)).toBe(stopped)
    ok(await docker(['cp', '/etc/hostname', `${n}:/stay`]))
    ok(await docker(['start', n]))
    expect(await state(n)).toBe('0 running')
    ok(await docker(['stop', '-t', '0', n]))
  })

  it('docker update --restart applies to the next exit; kill ends the restarts', async () => {
    const n = name('upd')
    ok(await docker(['run', '-d', '--name', n, 'busybox', 'sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 0.1; done']))
    ok(await docker(['update', '--restart', 'always', n]))
    expect(ok(await docker(['inspect', '-f', '{{.HostConfig.RestartPolicy.Name}}', n])).stdout.trim()).toBe('always')
    ok(await docker(['exec', n, 'touch', '/tmp/go']))
    await waitFor(async () => Number((await state(n)).split(' ')[0]) >= 1 || undefined, 20_000, 'a restart after update')
    await waitFor(async () => (await docker(['kill', n])).code === 0 || undefined, 10_000, 'kill')
    await waitFor(async () => (await state(n)).endsWith(' exited') || undefined, 10_000, 'exited after kill')
    const after = await state(n)
    await pause(1000)
    expect(await state(n)).toBe(after)
  })
})

describe.skipIf(skip)('restart policies at daemon start', () => {
  const d = new PrivateDaemon()
  beforeAll(async () => {
    await d.start()
  })
  afterAll(async () => {
    await d.stop()
  })

  it('starts always containers, and unless-stopped ones only if the user did not stop them', async () => {
    for (const [n, p] of [['us-stopped', 'unless-stopped'], ['us-crashed', 'unless-stopped'], ['al-stopped', 'always'], ['no-stopped', 'no']]) {
      ok(await d.docker(['run', '-d', '--name', n!, '--restart', p!, 'busybox', 'sleep', '1d']))
    }
    for (const n of ['us-stopped', 'al-stopped', 'no-stopped']) ok(await d.docker(['stop', '-t', '0', n]))
    // While berthd is down, the unless-stopped container's process dies: nobody stopped it by hand.
    const pid = Number(ok(await d.docker(['inspect', '-f', '{{.State.Pid}}', 'us-crashed'])).stdout.trim())
    await d.kill()
    process.kill(pid, 'SIGKILL')
    await d.restart()
    const running = async (n: string) => ok(await d.docker(['inspect', '-f', '{{.State.Running}}', n])).stdout.trim()
    expect(await running('al-stopped')).toBe('true')
    expect(await running('us-stopped')).toBe('false')
    expect(await running('no-stopped')).toBe('false')
    await waitFor(async () => (await running('us-crashed')) === 'true' || undefined, 10_000, 'us-crashed restarted')
    expect(ok(await d.berth(['ps', '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean).sort()).toEqual(['al-stopped', 'us-crashed'])
  })
})
