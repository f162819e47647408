import { afterAll, describe, expect, it } from 'vitest'
import { berth, missing, ok, uniq } from '../../helpers.js'

const skip = missing('root', 'daemon', 'crun')

/** The same container flows through crun as through runc (the default). */
describe.skipIf(skip)('crun runtime', () => {
  const made: string[] = []
  afterAll(async () => {
    if (made.length) await berth(['rm', '-f', ...made])
  })

  it('runs, execs, logs, stops and reports the runtime', async () => {
    expect(ok(await berth(['run', '--rm', '--runtime', 'crun', 'busybox', 'echo', 'hi'])).stdout).toBe('hi\n')
    expect((await berth(['run', '--rm', '--runtime', 'crun', 'busybox', 'sh', '-c', 'exit 9'])).code).toBe(9)
    const n = uniq('crun')
    made.push(n)
    ok(await berth(['run', '-d', '--runtime', 'crun', '--name', n, 'busybox', 'sh', '-c', 'echo up; exec sleep 1d']))
    expect(ok(await berth(['inspect', '-f', '{{.HostConfig.Runtime}} {{.State.Status}}', n])).stdout.trim()).toBe('crun running')
    expect(ok(await berth(['exec', n, 'cat', '/proc/1/cmdline'])).stdout).toBe('sleep\u00001d\u0000')
    expect(ok(await berth(['logs', n])).stdout).toBe('up\n')
    ok(await berth(['kill', n]))
    expect(ok(await berth(['wait', n])).stdout.trim()).toBe('137')
  })

  it('refuses an unknown runtime', async () => {
    const r = await berth(['run', '--rm', '--runtime', 'nope', 'busybox', 'true'])
    expect(r.code).toBe(125)
    expect(r.stderr).toMatch(/unknown or invalid runtime name: nope/)
  })
})
