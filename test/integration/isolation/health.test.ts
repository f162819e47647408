import { describe, expect, it } from 'vitest'
import { berth, containerNames, docker, missing, ok, uniq, waitFor } from '../../helpers.js'

const skip = missing('root', 'daemon', 'docker-cli')

interface Health {
  Status: string
  FailingStreak: number
  Log: Array<{ Start: string; End: string; ExitCode: number; Output: string }>
}

async function health(name: string): Promise<Health | null> {
  return JSON.parse(ok(await docker(['inspect', '-f', '{{json .State.Health}}', name])).stdout) as Health | null
}

const status = async (name: string) => ok(await docker(['ps', '-a', '--filter', `name=^${name}$`, '--format', '{{.Status}}'])).stdout.trim()

describe.skipIf(skip)('health checks', () => {
  const name = containerNames()

  it('goes starting → unhealthy → healthy, in ps, inspect, filters and events', async () => {
    const n = name('hc')
    const since = String(Math.floor(Date.now() / 1000) - 1)
    ok(await docker(['run', '-d', '--name', n, '--health-cmd', 'cat /tmp/ok', '--health-interval', '1s', '--health-retries', '3', 'busybox', 'sleep', '1d']))
    expect(await status(n)).toMatch(/^Up .* \(health: starting\)$/)
    expect(ok(await docker(['inspect', '-f', '{{json .Config.Healthcheck}}', n])).stdout.trim()).toBe('{"Test":["CMD-SHELL","cat /tmp/ok"],"Interval":1000000000,"Retries":3}')

    await waitFor(async () => (await health(n))?.Status === 'unhealthy' || undefined, 20_000, 'unhealthy')
    const bad = (await health(n))!
    expect(bad.FailingStreak).toBeGreaterThanOrEqual(3)
    expect(bad.Log.length).toBeGreaterThanOrEqual(3)
    expect(bad.Log[0]).toMatchObject({ ExitCode: 1, Output: 'cat: can\'t open \'/tmp/ok\': No such file or directory\n' })
    expect(Date.parse(bad.Log[0]!.End)).toBeGreaterThanOrEqual(Date.parse(bad.Log[0]!.Start))
    expect(await status(n)).toMatch(/^Up .* \(unhealthy\)$/)
    expect(ok(await docker(['ps', '-q', '--filter', 'health=unhealthy', '--filter', `name=^${n}$`])).stdout.trim()).not.toBe('')
    expect(ok(await docker(['ps', '-q', '--filter', 'health=healthy', '--filter', `name=^${n}$`])).stdout.trim()).toBe('')

    ok(await docker(['exec', n, 'sh', '-c', 'echo fine > /tmp/ok']))
    await waitFor(async () => (await health(n))?.Status === 'healthy' || undefined, 20_000, 'healthy')
    const good = (await health(n))!
    expect(good.FailingStreak).toBe(0)
    expect(good.Log.at(-1)).toMatchObject({ ExitCode: 0, Output: 'fine\n' })
    expect(ok(await berth(['ps', '--filter', `name=^${n}$`, '--format', '{{.Status}}'])).stdout.trim()).toMatch(/^Up .* \(healthy\)$/)
    expect(ok(await berth(['ps', '-q', '--filter', 'health=healthy', '--filter', `name=^${n}$`])).stdout.trim()).not.toBe('')

    const until = String(Math.floor(Date.now() / 1000) + 1)
    const ev = ok(await docker(['events', '--since', since, '--until', until, '--filter', `container=${n}`, '--filter', 'event=health_status', '--format', '{{.Action}}']))
    expect(ev.stdout.split('\n').filter(Boolean)).toEqual(['health_status: unhealthy', 'health_status: healthy'])
    // Probes are execs, with docker's exec events.
    const ex = ok(await docker(['events', '--since', since, '--until', until, '--filter', `container=${n}`, '--filter', 'event=exec_start', '--format', '{{.Action}}']))
    expect(ex.stdout).toContain('exec_start: /bin/sh -c cat /tmp/ok')

    // A stop ends the probes and, as docker's, leaves the status unhealthy; a start begins again at starting.
    ok(await docker(['exec', n, 'rm', '/tmp/ok']))
    ok(await docker(['stop', '-t', '0', n]))
    expect((await health(n))?.Status).toBe('unhealthy')
    ok(await docker(['start', n]))
    const again = (await health(n))!
    expect(again.Status).toBe('starting')
    expect(again.FailingStreak).toBe(0)
  })

  it('runs the image HEALTHCHECK (exec form), merges --health-* into it and drops it with --no-healthcheck', async () => {
    const base = name('hcbase')
    const image = uniq('berth-health').toLowerCase()
    ok(await berth(['create', '--name', base, 'busybox', 'true']))
    ok(await berth(['commit', '-c', 'HEALTHCHECK --interval=1s --timeout=5s CMD ["echo", "probe-said-hi"]', base, `${image}:1`]))
    try {
      const n = name('hcimg')
      ok(await berth(['run', '-d', '--name', n, `${image}:1`, 'sleep', '1d']))
      await waitFor(async () => (await health(n))?.Status === 'healthy' || undefined, 20_000, 'healthy from the image check')
      expect((await health(n))!.Log[0]).toMatchObject({ ExitCode: 0, Output: 'probe-said-hi\n' })

      const merged = name('hcmerge')
      ok(await docker(['create', '--name', merged, '--health-retries', '7', `${image}:1`, 'sleep', '1d']))
      expect(ok(await docker(['inspect', '-f', '{{json .Config.Healthcheck}}', merged])).stdout.trim()).toBe('{"Test":["CMD","echo","probe-said-hi"],"Interval":1000000000,"Timeout":5000000000,"Retries":7}')
      // Not started yet: no health state, so the `none` filter holds it.
      expect(ok(await docker(['ps', '-aq', '--filter', 'health=none', '--filter', `name=^${merged}$`])).stdout.trim()).not.toBe('')

      const off = name('hcoff')
      ok(await docker(['run', '-d', '--name', off, '--no-healthcheck', `${image}:1`, 'sleep', '1d']))
      expect(ok(await docker(['inspect', '-f', '{{json .Config.Healthcheck.Test}} {{json .State.Health}}', off])).stdout.trim()).toBe('["NONE"] null')
      expect(await status(off)).toMatch(/^Up [^(]*$/)
    } finally {
      await berth(['rmi', '-f', `${image}:1`])
    }
  })

  it('cuts a probe at its timeout and keeps 4096 bytes of output', async () => {
    const n = name('hcslow')
    ok(await berth(['run', '-d', '--name', n, '--health-cmd', 'head -c 5000 /dev/zero | tr "\\0" x; sleep 30', '--health-interval', '1s', '--health-timeout', '300ms', 'busybox', 'sleep', '1d']))
    await waitFor(async () => ((await health(n))?.Log.length ?? 0) > 0 || undefined, 20_000, 'a probe result')
    const r = (await health(n))!.Log[0]!
    expect(r.ExitCode).toBe(-1)
    const prefix = 'Health check exceeded timeout (300ms): '
    expect(r.Output.startsWith(prefix)).toBe(true)
    expect(r.Output.slice(prefix.length)).toBe(`${'x'.repeat(4096)}...`)
    // The killed probe is gone from the container.
    expect(ok(await docker(['exec', n, 'ps', '-o', 'args'])).stdout).not.toContain('sleep 30')
  })

  it('refuses what docker refuses', async () => {
    const r = await docker(['run', '--rm', '--health-cmd', 'true', '--health-interval', '1us', 'busybox', 'true'])
    expect(r.code).toBe(125)
    expect(r.stderr).toContain('Interval in Healthcheck cannot be less than 1ms')
    const f = await docker(['ps', '--filter', 'health=poorly'])
    expect(f.code).not.toBe(0)
    expect(f.stderr).toContain("invalid filter 'health=poorly': invalid value for health (poorly): must be one of none, starting, healthy, unhealthy")
  })
})
