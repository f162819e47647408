import { describe, expect, it } from 'vitest'
import { berth, containerNames, docker, missing, ok, waitFor } from '../../helpers.js'

const skip = missing('root', 'daemon', 'docker-cli')

/** Holds 64 MiB in a shell variable: past a 16 MiB limit the kernel's OOM killer ends it. */
const lines = (s: string) => s.split('\n').filter(Boolean)

const HOG = ['sh', '-c', 'x=$(head -c 64m /dev/zero | tr "\\0" a); echo survived']

describe.skipIf(skip)('OOM kills', () => {
  const name = containerNames()

  it('reports an OOM-killed container as docker does: OOMKilled, exit 137, an oom event before die', async () => {
    const n = name('oom')
    const since = String(Math.floor(Date.now() / 1000) - 1)
    const r = await docker(['run', '--name', n, '--memory', '16m', 'busybox', ...HOG])
    expect(r.code).toBe(137)
    expect(r.stdout).not.toContain('survived')
    expect(ok(await docker(['inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}} {{.State.Status}}', n])).stdout.trim()).toBe('true 137 exited')
    const until = String(Math.floor(Date.now() / 1000) + 1)
    const ev = ok(await docker(['events', '--since', since, '--until', until, '--filter', `container=${n}`, '--filter', 'event=oom', '--filter', 'event=die', '--format', '{{.Action}} {{index .Actor.Attributes "name"}}']))
    expect(ev.stdout.split('\n').filter(Boolean)).toEqual([`oom ${n}`, `die ${n}`])
  })

  it('reports an OOM kill the container lives through at once, and keeps it until the next start', async () => {
    const n = name('oomchild')
    // sort, run through exec, holds all of its input: the kernel kills it and the container's own process,
    // a sleep that never allocates again, lives on. sort raises its oom_score_adj to 1000 to be the victim
    // for certain (lowering the others' needs CAP_SYS_RESOURCE, which a test host may lack). A shell as
    // the container's process was once killed too on a busy host: its next allocation came while sort's
    // memory was still being freed.
    ok(await docker(['run', '-d', '--name', n, '--memory', '16m', 'busybox', 'sleep', '1d']))
    await docker(['exec', n, 'sh', '-c', 'head -c 64m /dev/zero | tr "\\0" a | sh -c "echo 1000 >/proc/self/oom_score_adj; exec sort" >/dev/null'])
    let seen = ''
    const state = '{{.State.OOMKilled}} {{.State.Running}}'
    await waitFor(async () => (seen = ok(await docker(['inspect', '-f', state, n])).stdout.trim()) === 'true true' || undefined, 30_000, 'the OOM flag on a running container').catch(async (e: unknown) => {
      const detail = (await docker(['inspect', '-f', '{{.State.Status}} exit {{.State.ExitCode}} {{.State.Error}}', n])).stdout.trim()
      throw new Error(`${(e as Error).message} (last seen: OOMKilled Running = ${seen}; ${detail})`)
    })
    const until = String(Math.floor(Date.now() / 1000) + 1)
    expect(lines(ok(await docker(['events', '--since', '1m', '--until', until, '--filter', `container=${n}`, '--filter', 'event=oom', '--format', '{{.Action}}'])).stdout)).toEqual(['oom'])
    ok(await docker(['stop', '-t', '0', n]))
    expect(ok(await docker(['inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}}', n])).stdout.trim()).toBe('true 137')
    ok(await docker(['start', n]))
    expect(ok(await docker(['inspect', '-f', '{{.State.OOMKilled}}', n])).stdout.trim()).toBe('false')
    ok(await docker(['stop', '-t', '0', n]))
  })

  it('through the berth CLI too; a SIGKILL from outside is no OOM', async () => {
    const n = name('oom2')
    expect((await berth(['run', '--name', n, '--memory', '16m', 'busybox', ...HOG])).code).toBe(137)
    expect(ok(await berth(['inspect', '-f', '{{.State.OOMKilled}}', n])).stdout.trim()).toBe('true')

    const k = name('killed')
    ok(await berth(['run', '-d', '--name', k, '--memory', '16m', 'busybox', 'sleep', '1d']))
    ok(await berth(['kill', k]))
    expect(ok(await berth(['wait', k])).stdout.trim()).toBe('137')
    expect(ok(await berth(['inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}}', k])).stdout.trim()).toBe('false 137')
  })
})
