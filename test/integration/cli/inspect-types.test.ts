/**
 * `berth inspect` finds objects as `docker inspect` does: its autodetect
 * order (container, image, network, volume, plugin; swarm objects only on a
 * manager), `--type` for each of docker's ten types, `--size` warnings, and
 * the output printed once all names are looked up, the errors after it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { berth, containerNames, docker, missing, ok, uniq } from '../../helpers.js'

const skip = missing('root', 'daemon', 'docker-cli')

describe.skipIf(skip)('berth inspect against docker inspect', () => {
  const name = containerNames()
  const c = name('inspect-types')
  const vol = uniq('inspect-vol')

  beforeAll(async () => {
    ok(await docker(['volume', 'create', vol]))
    ok(await docker(['create', '--name', c, 'busybox', 'true']))
  })
  afterAll(async () => {
    await docker(['rm', '-f', c])
    await docker(['volume', 'rm', '-f', vol])
  })

  const cases = (): string[][] => [
    [vol],
    ['--type', 'volume', vol],
    ['-f', '{{.Name}} {{.Driver}}', vol],
    ['-s', vol],
    ['-s', c, vol, '-f', '{{.Name}}'],
    ['--type', 'container', vol],
    ['--type', 'plugin', 'nope'],
    ['--type', 'service', 'nope'],
    ['--type', 'task', 'nope'],
    ['--type', 'node', 'nope'],
    ['--type', 'secret', 'nope'],
    ['--type', 'config', 'nope'],
    ['--type=', 'x'],
    ['--type', 'bogus', 'x'],
    ['nope-object'],
    ['-f', '{{.Id}}', c, 'nope-object', 'busybox'],
    ['-f', 'json', 'nope-object'],
  ]

  it('prints the same, on the same streams, with the same exit code', async () => {
    for (const args of cases()) {
      const d = await docker(['inspect', ...args])
      const b = await berth(['inspect', ...args])
      expect({ code: b.code, stdout: b.stdout, stderr: b.stderr }, args.join(' ')).toEqual({ code: d.code, stdout: d.stdout, stderr: d.stderr })
    }
  })

  it('a volume is found without --type, and a missing name is no object of any type', async () => {
    expect(ok(await berth(['inspect', '-f', '{{.Mountpoint}}', vol])).stdout).toContain(`/volumes/${vol}/_data`)
    const r = await berth(['inspect', 'nope-object'])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('[]\n')
    expect(r.stderr).toBe('Error: No such object: nope-object\n')
  })
})
