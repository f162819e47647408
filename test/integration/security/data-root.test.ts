/**
 * berth's data root as dockerd lays its own out: images, layers and content
 * are root's alone; volumes can be traversed (a bind made inside a user
 * namespace needs it) but not listed. A local user who is not root or in
 * the socket's group reads nothing of a container's files or an image's.
 */
import { execFileSync } from 'node:child_process'
import { statSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, inject, it } from 'vitest'
import { berth, missing, ok, uniq } from '../../helpers.js'

describe.skipIf(missing('root', 'daemon'))('data root permissions', () => {
  it('overlay2 0710, blobs and tmp 0700, volumes 0701, all root\'s', () => {
    const root = inject('berthDataRoot')
    for (const [dir, mode] of [['overlay2', 0o710], ['blobs', 0o700], ['tmp', 0o700], ['volumes', 0o701]] as const) {
      const st = statSync(path.join(root, dir))
      expect([dir, (st.mode & 0o7777).toString(8), st.uid, st.gid]).toEqual([dir, mode.toString(8), 0, 0])
    }
  })

  it('a user other than root cannot read a running container\'s files', async () => {
    const name = uniq('perm')
    ok(await berth(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'echo secret > /s; sleep 30']))
    try {
      const merged = path.join(inject('berthDataRoot'), 'overlay2', ok(await berth(['inspect', '-f', '{{.Id}}', name])).stdout.trim(), 'merged', 's')
      let err = ''
      try {
        execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'cat', merged], { stdio: 'pipe' })
      } catch (e) {
        err = String((e as { stderr?: Buffer }).stderr ?? '')
      }
      expect(err).toMatch(/Permission denied/)
    } finally {
      await berth(['rm', '-f', name])
    }
  })
})
