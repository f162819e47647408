import { describe, expect, it } from 'vitest'
import { containerNames, docker, missing, ok, uniq, waitFor } from '../helpers.js'

const skip = missing('root', 'daemon', 'docker-cli')

/** The real docker CLI on the machine, unchanged, driving berthd. */
describe.skipIf(skip)('docker CLI against berthd', () => {
  const name = containerNames()

  it('negotiates API 1.50 and shows the server version', async () => {
    const v = ok(await docker(['version', '--format', '{{.Server.APIVersion}} {{.Server.Os}}']))
    expect(v.stdout.trim()).toBe('1.50 linux')
    const info = ok(await docker(['info', '--format', '{{.Driver}} {{.OSType}}']))
    expect(info.stdout.trim()).toBe('overlay2 linux')
  })

  it('runs --rm with output and exit code', async () => {
    expect(ok(await docker(['run', '--rm', 'busybox', 'echo', 'hello'])).stdout).toBe('hello\n')
    const r = await docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo e >&2; exit 4'])
    expect(r.code).toBe(4)
    expect(r.stderr).toBe('e\n')
  })

  it('pipes stdin through run -i', async () => {
    expect(ok(await docker(['run', '--rm', '-i', 'busybox', 'cat'], { input: 'data\n' })).stdout).toBe('data\n')
  })

  it('runs -d, ps, logs, exec, inspect -f, stop and rm', async () => {
    const n = name('dk')
    const id = ok(await docker(['run', '-d', '--name', n, 'busybox', 'sh', '-c', 'echo ready; exec sleep 1d'])).stdout.trim()
    expect(id).toMatch(/^[0-9a-f]{64}$/)
    const ps = ok(await docker(['ps', '--filter', `name=${n}`])).stdout
    expect(ps).toMatch(new RegExp(`${id.slice(0, 12)}\\s+busybox\\s+"sh -c 'echo ready; …"\\s+.+\\s+Up .+${n}`))
    expect(ok(await docker(['inspect', '-f', '{{.State.Running}} {{.Config.Cmd}}', n])).stdout.trim()).toBe(`true [sh -c echo ready; exec sleep 1d]`)
    await waitFor(async () => (await docker(['logs', n])).stdout.includes('ready') || undefined, 5000, 'logs')
    expect(ok(await docker(['exec', n, 'echo', 'hi'])).stdout).toBe('hi\n')
    expect((await docker(['exec', n, 'sh', '-c', 'exit 5'])).code).toBe(5)
    ok(await docker(['stop', '-t', '1', n]))
    ok(await docker(['rm', n]))
    expect((await docker(['inspect', n])).code).toBe(1)
  })

  it('gets a TTY for run -t and exec -t', async () => {
    const r = ok(await docker(['run', '--rm', '-t', 'busybox', 'sh', '-c', 'test -t 1 && echo tty']))
    expect(r.stdout).toBe('tty\r\n')
    const n = name('tty')
    ok(await docker(['run', '-d', '--name', n, 'busybox', 'sleep', '1d']))
    const e = ok(await docker(['exec', '-t', n, 'sh', '-c', 'test -t 0 && echo yes']))
    expect(e.stdout).toBe('yes\r\n')
  })

  it('saves and loads an image', async () => {
    const tag = `${uniq('saved')}:1`
    ok(await docker(['tag', 'busybox', tag]))
    const file = `/tmp/${uniq('save')}.tar`
    ok(await docker(['save', '-o', file, tag]))
    ok(await docker(['rmi', tag]))
    const l = ok(await docker(['load', '-i', file]))
    expect(l.stdout).toMatch(`Loaded image: ${tag}`)
    ok(await docker(['rmi', tag]))
  })

  it('reports errors as docker does', async () => {
    const r = await docker(['rm', 'no-such-container-x'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch('No such container: no-such-container-x')
    const r2 = await docker(['run', '--rm', 'busybox', 'no-such-cmd'])
    expect(r2.code).toBe(127)
    expect(r2.stderr).toMatch(/executable file not found/)
    const r3 = await docker(['run', 'busybox', 'no-such-cmd'])
    expect(r3.code).toBe(127)
  })
})
