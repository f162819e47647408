// The seed's volume and copy-on-write commands, as a user types them, through
// the real docker CLI against berthd (names made unique, busybox for alpine).
import { afterAll, describe, expect, test } from 'vitest'
import { berth, docker, missing, ok, uniq } from '../../helpers.js'

const skip = missing('root', 'daemon', 'docker-cli')

describe.skipIf(skip)('the volumes walkthrough with the docker CLI', () => {
  const myvol = uniq('seed-myvol')
  const ubervol = uniq('seed-ubervol')
  const ctr = uniq('seed-vol')

  afterAll(async () => {
    await berth(['rm', '-f', ctr])
    await berth(['volume', 'rm', '-f', myvol, ubervol])
  })

  test('volume create, ls, inspect, rm', async () => {
    expect(ok(await docker(['volume', 'create', myvol])).stdout).toBe(`${myvol}\n`)
    expect(ok(await docker(['volume', 'ls'])).stdout).toMatch(new RegExp(`^local\\s+${myvol}$`, 'm'))
    // The seed's bare `docker volume inspect` is the CLI's usage error.
    const bare = await docker(['volume', 'inspect'])
    expect(bare.code).toBe(1)
    expect(bare.stderr).toContain("'docker volume inspect' requires at least 1 argument")
    const [v] = JSON.parse(ok(await docker(['volume', 'inspect', myvol])).stdout) as Array<{ Name: string; Driver: string; Mountpoint: string; Scope: string }>
    expect(v).toMatchObject({ Name: myvol, Driver: 'local', Scope: 'local' })
    expect(v?.Mountpoint).toMatch(new RegExp(`/volumes/${myvol}/_data$`))
    expect(ok(await docker(['volume', 'rm', myvol])).stdout).toBe(`${myvol}\n`)
    expect(ok(await docker(['volume', 'ls', '-q'])).stdout.split('\n')).not.toContain(myvol)
  })

  test('run --mount source=…,target=/vol makes the volume; ls -s, cp and system info', async () => {
    // The seed's `-name` is a typo docker rejects; the corrected command follows.
    const typo = await docker(['container', 'run', '-dit', '-name', ctr, 'busybox'])
    expect(typo.code).toBe(125)
    expect(typo.stderr).toContain("unknown shorthand flag: 'n' in -name")

    ok(await docker(['container', 'run', '-dit', '--name', ctr, '--mount', `source=${ubervol},target=/vol`, 'busybox']))
    const mounts = JSON.parse(ok(await docker(['inspect', '-f', '{{json .Mounts}}', ctr])).stdout) as Array<{ Type: string; Name: string; Destination: string; RW: boolean }>
    expect(mounts).toEqual([expect.objectContaining({ Type: 'volume', Name: ubervol, Destination: '/vol', RW: true })])
    ok(await docker(['exec', ctr, 'sh', '-c', 'echo persisted > /vol/f; head -c 100000 /dev/zero > /rw-layer']))

    const ls = ok(await docker(['container', 'ls', '-s', '--filter', `name=${ctr}`])).stdout.split('\n')
    expect(ls[0]).toMatch(/SIZE$/)
    // Only the container's layer counts as its size: the 100 kB file, not the volume.
    expect(ls[1]).toMatch(/\s1\d\d(\.\d+)?kB \(virtual \d+(\.\d+)?[kM]B\)$/)

    expect(ok(await docker(['cp', `${ctr}:/vol/f`, '-'])).stdout).toContain('persisted\n')
    const info = ok(await docker(['system', 'info'])).stdout
    expect(info).toMatch(/Storage Driver: overlay2/)
    expect(info).toMatch(/Docker Root Dir: \//)

    ok(await docker(['rm', '-f', ctr]))
    expect(ok(await docker(['run', '--rm', '-v', `${ubervol}:/data`, 'busybox', 'cat', '/data/f'])).stdout).toBe('persisted\n')
  })
})
