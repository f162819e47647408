/**
 * `berth inspect` finds objects as `docker inspect` does: its autodetect
 * order (container, image, network, volume, plugin; swarm objects only on a
 * manager), `--type` for each of docker's ten types, `--size` warnings, and
 * the output printed once all names are looked up, the errors after it;
 * and `image inspect --platform` (API 1.49) as docker 28 answers it.
 */
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { berth, containerNames, docker, missing, ok, sock, uniq } from '../../helpers.js'

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

function send(method: string, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.request({ socketPath: sock(), method, path: p, headers: { 'X-Registry-Auth': 'e30=' } }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    }).on('error', reject).end()
  })
}
const get = (p: string) => send('GET', p)

describe.skipIf(skip)('image inspect --platform', () => {
  it('the image when its platform matches, "not found" in moby\'s words when not; the CLIs agree', async () => {
    for (const args of [
      ['--platform', 'linux/amd64', '-f', '{{.Os}}/{{.Architecture}}', 'busybox'],
      ['--platform', 'linux/arm64', 'busybox'],
      ['--platform', 'linux/arm64', 'docker.io/library/busybox:latest'],
      ['--platform', 'windows', 'busybox'],
      ['--platform', 'bogus', 'busybox'],
      ['--platform', 'linux/*', 'busybox'],
      ['--platform', 'a/b/c/d', 'busybox'],
      ['--platform', 'x86_64', '-f', '{{.Os}}', 'busybox'],
    ]) {
      const d = await docker(['image', 'inspect', ...args])
      const b = await berth(['image', 'inspect', ...args])
      expect({ code: b.code, stdout: b.stdout, stderr: b.stderr }, args.join(' ')).toEqual({ code: d.code, stdout: d.stdout, stderr: d.stderr })
    }
    expect(ok(await berth(['image', 'inspect', '--platform', 'linux/amd64', '-f', '{{.Os}}/{{.Architecture}}', 'busybox'])).stdout).toBe('linux/amd64\n')
    const r = await berth(['image', 'inspect', '--platform', 'linux/arm64', 'busybox'])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('Error response from daemon: image with reference busybox was found but its platform (linux/amd64) does not match the specified platform (linux/arm64)\n')
  })

  it('the API refuses a bad platform (inspect and push) and platform with manifests; before 1.49 inspect ignores platform', async () => {
    const q = (v: string) => encodeURIComponent(v)
    expect(await get(`/v1.49/images/busybox/json?platform=${q('{"os":')}`)).toMatchObject({ status: 400, body: expect.stringContaining('failed to parse platform') })
    expect(await get(`/v1.49/images/busybox/json?platform=${q('{"os":"linux"}')}`)).toMatchObject({ status: 400, body: expect.stringContaining('both OS and Architecture must be provided') })
    expect(await get(`/v1.49/images/busybox/json?platform=${q('{"variant":"v8"}')}`)).toMatchObject({ status: 400, body: expect.stringContaining('optional platform fields provided, but OS and Architecture are missing') })
    expect(await get(`/v1.49/images/busybox/json?manifests=1&platform=${q('{"os":"linux","architecture":"amd64"}')}`)).toMatchObject({
      status: 400, body: expect.stringContaining('conflicting options: manifests and platform options cannot both be set'),
    })
    expect((await get(`/v1.48/images/busybox/json?platform=${q('{"os":"linux","architecture":"arm64"}')}`)).status).toBe(200)
    // push decodes its platform JSON with the same rules (it was a 500 on malformed JSON).
    expect(await send('POST', `/v1.49/images/busybox/push?tag=latest&platform=${q('{"os":')}`)).toMatchObject({ status: 400, body: expect.stringContaining('failed to parse platform') })
    expect((await get(`/v1.49/images/busybox/json?platform=${q('{"os":"linux","architecture":"arm64"}')}`)).status).toBe(404)
  })
})
