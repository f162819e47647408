/**
 * Who can reach the API socket (issue 10, access control): it is root:<group>
 * 0660 — `berth` by default, dockerd's -G/`group` to change it — and its
 * directory lets the group through; a user outside the group is refused, one
 * in it gets in. As dockerd, a missing default group is a warning (the socket
 * stays root's) and a missing group named with -G stops berthd. Containers
 * see no API socket unless one is mounted into them.
 */
import { spawnSync } from 'node:child_process'
import { statSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { berth, containerNames, dockerBin, missing, ok, sock } from '../../helpers.js'
import { TestDaemon } from './helpers.js'

const skip = missing('root', 'daemon')
const hasSetpriv = spawnSync('setpriv', ['--version']).status === 0

/** The gid of a group in /etc/group, or undefined. */
function gidOf(name: string): number | undefined {
  const r = spawnSync('getent', ['group', name], { encoding: 'utf8' })
  const gid = r.status === 0 ? Number(r.stdout.split(':')[2]) : NaN
  return Number.isInteger(gid) ? gid : undefined
}

/** A gid no group has, for -G <number>. */
function unusedGid(): number {
  for (let g = 4242; ; g++) if (spawnSync('getent', ['group', String(g)]).status !== 0) return g
}

describe.skipIf(skip !== undefined)('the API socket', () => {
  it('is 0660 root:berth, or root:root with dockerd\'s warning when the berth group is missing', async () => {
    const d = new TestDaemon()
    try {
      expect(await d.start(), d.log()).toBe('started')
      const st = statSync(d.sock)
      expect(st.mode & 0o777).toBe(0o660)
      expect(st.uid).toBe(0)
      const berthGid = gidOf('berth')
      if (berthGid !== undefined) {
        expect(st.gid).toBe(berthGid)
      } else {
        expect(st.gid).toBe(0)
        expect(d.log()).toContain(`could not change group ${d.sock} to berth: group berth not found`)
      }
      // The group must get through the exec root the socket lives in; nothing there is listable.
      expect(statSync(d.execRoot).mode & 0o777).toBe(0o711)
    } finally {
      await d.stop()
    }
  })

  it('refuses to start when the group named with -G does not exist', async () => {
    const d = new TestDaemon(['-G', 'no-such-group-berth-test'])
    try {
      expect(await d.start()).toBe(1)
      expect(d.log()).toContain('berthd: group no-such-group-berth-test not found')
    } finally {
      await d.stop()
    }
  })

  describe('with -G <gid>', () => {
    const gid = unusedGid()
    let d: TestDaemon
    beforeAll(async () => {
      d = new TestDaemon(['-G', String(gid)])
      expect(await d.start(), d.log()).toBe('started')
    })
    afterAll(async () => d?.stop())

    it('gives the socket to that group', () => {
      const st = statSync(d.sock)
      expect(st.gid).toBe(gid)
      expect(st.mode & 0o777).toBe(0o660)
    })

    it.skipIf(!hasSetpriv || !dockerBin)('lets in a user of the group and no one else', () => {
      const asNobody = (groups: string[]) => spawnSync('setpriv', ['--reuid=65534', '--regid=65534', ...groups, dockerBin!, '-H', `unix://${d.sock}`, 'version', '--format', '{{.Server.Version}}'], {
        encoding: 'utf8', env: { ...process.env, DOCKER_CONFIG: '/tmp/berth-test-nobody-docker', HOME: '/tmp' }, timeout: 30_000,
      })
      const outside = asNobody(['--clear-groups'])
      expect(outside.status).not.toBe(0)
      expect(outside.stderr).toContain('permission denied')
      const inside = asNobody([`--groups=${gid}`])
      expect(inside.status, inside.stderr).toBe(0)
      expect(inside.stdout.trim()).toBe('0.1.0')
    })
  })
})

describe.skipIf(skip !== undefined)('containers and the API socket', () => {
  const name = containerNames()

  it('a container sees no API socket and not the exec root', async () => {
    const r = ok(await berth(['run', '--rm', '--name', name('nosock'), 'busybox', 'sh', '-c',
      `find / -path /proc -prune -o -path /sys -prune -o -type s -print; test -e ${sock()} && echo visible; true`]))
    expect(r.stdout).toBe('')
  })

  // -v makes the source if missing and binds it if not; --mount binds what is there.
  it.skipIf(!dockerBin).each([
    ['-v', (src: string) => `${src}:/var/run/docker.sock`],
    ['--mount', (src: string) => `type=bind,source=${src},target=/var/run/docker.sock`],
  ])('reaches the API when the socket is mounted (%s)', async (flag, spec) => {
    const r = ok(await berth(['run', '--rm', '--name', name('withsock'), flag, spec(sock()), '--mount', `type=bind,source=${dockerBin},target=/usr/local/bin/docker,readonly`,
      '-e', 'DOCKER_CONFIG=/tmp', 'busybox', 'docker', 'version', '--format', '{{.Server.Version}}']))
    expect(r.stdout.trim()).toBe('0.1.0')
  })
})
