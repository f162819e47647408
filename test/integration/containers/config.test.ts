// How a container's config and process come out of what the docker CLI sends,
// as docker 28 has them: the environment (Config.Env against the process's),
// an empty --entrypoint, -u with its supplementary groups, and the errors of
// a missing network, a missing user and an exec of a missing program.
import { describe, expect, it } from 'vitest'
import { containerNames, docker, missing, ok, uniq } from '../../helpers.js'

const skip = missing('root', 'daemon', 'docker-cli')
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

describe.skipIf(skip)('container config as the docker CLI sends it', () => {
  const name = containerNames()

  it('keeps PATH out of Config.Env while the process and exec have it', async () => {
    const c = name('cfg-env')
    ok(await docker(['run', '-d', '--name', c, '-e', 'X=1', 'busybox', 'sleep', '1d']))
    // The test busybox has no Env of its own: Config.Env is what the user gave.
    const env = JSON.parse(ok(await docker(['inspect', '-f', '{{json .Config.Env}}', c])).stdout) as string[]
    expect(env).toEqual(['X=1'])
    const inside = ok(await docker(['exec', c, 'env'])).stdout.split('\n')
    expect(inside).toContain(DEFAULT_PATH)
    expect(inside).toContain('X=1')
    // exec finds programs through that PATH, and its -e goes over the container's.
    expect(ok(await docker(['exec', '-e', 'X=2', c, 'sh', '-c', 'echo $X'])).stdout).toBe('2\n')
    const bare = name('cfg-noenv')
    ok(await docker(['create', '--pull', 'never', '--name', bare, 'busybox', 'true']))
    expect(ok(await docker(['inspect', '-f', '{{json .Config.Env}}', bare])).stdout.trim()).toBe('null')
  })

  it('-e NAME with NAME unset in the client: the CLI sends a bare NAME, the container has no NAME', async () => {
    const r = ok(await docker(['run', '--rm', '-e', 'BERTH_TEST_NOT_IN_CLIENT', '-e', 'BERTH_TEST_IN_CLIENT', 'busybox', 'sh', '-c', 'echo "${BERTH_TEST_NOT_IN_CLIENT-unset}|$BERTH_TEST_IN_CLIENT"'], { env: { BERTH_TEST_IN_CLIENT: 'given' } }))
    expect(r.stdout).toBe('unset|given\n')
  })

  it('--entrypoint "" clears the image entrypoint and runs the command', async () => {
    expect(ok(await docker(['run', '--rm', '--entrypoint', '', 'busybox', 'echo', 'x'])).stdout).toBe('x\n')
    const r = await docker(['run', '--rm', '--entrypoint', '', 'busybox'])
    expect(r.code).toBe(125)
    expect(r.stderr).toContain('no command specified')
  })

  it('an empty command name is created and fails at start, as in moby (exit 127)', async () => {
    // runc's words, as dockerd's default runtime gives them (crun says `open executable: Operation not permitted`).
    const r = await docker(['run', '--rm', '--runtime', 'runc', 'busybox', ''])
    expect(r.code).toBe(127)
    expect(r.stderr).toContain('exec: "": executable file not found in $PATH')
  })

  it('-u puts the primary group among the supplementary ones (run and exec)', async () => {
    expect(ok(await docker(['run', '--rm', '-u', '1000:1000', 'busybox', 'id'])).stdout).toBe('uid=1000 gid=1000 groups=1000\n')
    expect(ok(await docker(['run', '--rm', '-u', 'nobody', 'busybox', 'id'])).stdout).toBe('uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n')
    const c = name('cfg-user')
    ok(await docker(['run', '-d', '--name', c, 'busybox', 'sleep', '1d']))
    expect(ok(await docker(['exec', '-u', '1000:1000', c, 'id'])).stdout).toBe('uid=1000 gid=1000 groups=1000\n')
    expect(ok(await docker(['exec', '-u', 'nobody', c, 'id'])).stdout).toBe('uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n')
  })

  it('an unknown user fails the start with moby\'s text, no task prefix', async () => {
    const r = await docker(['run', '--rm', '-u', 'berthnosuchuser', 'busybox', 'true'])
    expect(r.code).toBe(125)
    expect(r.stderr).toContain('docker: Error response from daemon: unable to find user berthnosuchuser: no matching entries in passwd file\n')
  })

  it('a missing network: create succeeds, start fails with network … not found', async () => {
    const c = name('cfg-nonet')
    const net = uniq('nosuchnet')
    // --pull never: were create to answer 404, the CLI would try to pull.
    ok(await docker(['create', '--pull', 'never', '--name', c, '--network', net, 'busybox', 'true']))
    const s = await docker(['start', c])
    expect(s.code).toBe(1)
    expect(s.stderr).toContain(`Error response from daemon: network ${net} not found`)
    const r = await docker(['run', '--pull', 'never', '--rm', '--network', net, 'busybox', 'true'])
    expect(r.code).toBe(125)
    expect(r.stderr).toContain(`docker: Error response from daemon: network ${net} not found`)
    // A network made after create is joined at start.
    ok(await docker(['network', 'create', net]))
    try {
      ok(await docker(['start', c]))
    } finally {
      await docker(['rm', '-f', c])
      await docker(['network', 'rm', net])
    }
  })

  it('exec of a missing program: the reason on stdout, exit 127 (docker 28)', async () => {
    const c = name('cfg-exec')
    ok(await docker(['run', '-d', '--name', c, 'busybox', 'sleep', '1d']))
    const r = await docker(['exec', c, 'berthnosuchcmd'])
    expect(r.code).toBe(127)
    expect(r.stdout).toMatch(/^OCI runtime exec failed: .*"berthnosuchcmd": executable file not found in \$PATH.*\r\n$/)
    expect(r.stderr).toBe('')
    // An unknown user: moby 28 looks it up at exec create, which fails (400) before any exec exists.
    const u = await docker(['exec', '-u', 'berthnosuchuser', c, 'true'])
    expect(u.code).toBe(1)
    expect(u.stderr).toBe('Error response from daemon: unable to find user berthnosuchuser: no matching entries in passwd file\n')
  })
})
