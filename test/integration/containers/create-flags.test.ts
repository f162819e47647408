// The rarer run/create flags, through both CLIs, as docker 28 has them:
// --cidfile, --domainname, --annotation, --isolation, --storage-opt,
// --volume-driver, --gpus and --use-api-socket, and the image's SHELL in
// CMD-SHELL health probes.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { berth, containerNames, docker, missing, ok, uniq, waitFor, type CmdResult } from '../../helpers.js'

const skip = missing('root', 'daemon', 'docker-cli')

/** The command fails with `code` and says `message` on stderr. */
async function refused(r: Promise<CmdResult>, code: number, message: string): Promise<void> {
  const res = await r
  expect(res.code).toBe(code)
  expect(res.stderr).toContain(message)
}

describe.skipIf(skip)('run/create flags beyond the common ones', () => {
  const name = containerNames()
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-flags-'))
  afterAll(() => rmSync(tmp, { recursive: true, force: true }))

  it('--cidfile writes the ID, refuses an existing file and leaves none behind when create fails', async () => {
    for (const cli of [berth, docker]) {
      const file = path.join(tmp, `${uniq('cid')}`)
      const c = name('cid')
      const id = ok(await cli(['run', '-d', '--cidfile', file, '--name', c, 'busybox', 'sleep', '1d'])).stdout.trim()
      expect(readFileSync(file, 'utf8')).toBe(id)
      expect(ok(await cli(['inspect', '-f', '{{.HostConfig.ContainerIDFile}}', c])).stdout.trim()).toBe(file)
      await refused(cli(['run', '-d', '--cidfile', file, '--name', name('cid2'), 'busybox', 'true']), 125, `container ID file found, make sure the other container isn't running or delete ${file}`)
      expect(readFileSync(file, 'utf8')).toBe(id)
      const failed = path.join(tmp, uniq('cid-failed'))
      const r = await cli(['create', '--pull', 'never', '--cidfile', failed, 'berth-no-such-image:1'])
      expect(r.code).not.toBe(0)
      expect(existsSync(failed)).toBe(false)
    }
  })

  it('--domainname sets the NIS domain name inside and shows in inspect', async () => {
    const c = name('dom')
    const r = ok(await docker(['run', '--name', c, '--domainname', 'example.test', '-h', 'box', 'busybox', 'sh', '-c', 'cat /proc/sys/kernel/domainname; hostname']))
    expect(r.stdout).toBe('example.test\nbox\n')
    expect(ok(await docker(['inspect', '-f', '{{.Config.Domainname}}', c])).stdout.trim()).toBe('example.test')
    expect(ok(await berth(['run', '--rm', '--domainname', 'other.test', 'busybox', 'cat', '/proc/sys/kernel/domainname'])).stdout).toBe('other.test\n')
  })

  it('--annotation is kept in HostConfig.Annotations', async () => {
    for (const cli of [berth, docker]) {
      const c = name('ann')
      ok(await cli(['create', '--name', c, '--annotation', 'org.example.a=1', '--annotation', 'org.example.b', 'busybox', 'true']))
      const a = JSON.parse(ok(await cli(['inspect', '-f', '{{json .HostConfig.Annotations}}', c])).stdout) as unknown
      expect(a).toEqual({ 'org.example.a': '1', 'org.example.b': '' })
      ok(await cli(['start', '-a', c]))
    }
  })

  it('--isolation takes only the default on Linux', async () => {
    ok(await docker(['run', '--rm', '--isolation', 'default', 'busybox', 'true']))
    for (const cli of [berth, docker]) {
      await refused(cli(['run', '--rm', '--isolation', 'hyperv', 'busybox', 'true']), 125, "invalid isolation 'hyperv' on linux")
    }
  })

  it('--storage-opt: no per-container quota on this storage, with dockerd\'s words', async () => {
    for (const cli of [berth, docker]) {
      await refused(cli(['run', '--rm', '--storage-opt', 'size=1G', 'busybox', 'true']), 125, "--storage-opt is supported only for overlay over xfs with 'pquota' mount option")
      await refused(cli(['run', '--rm', '--storage-opt', 'size', 'busybox', 'true']), 125, 'invalid storage option')
    }
  })

  it('--volume-driver applies to -v volumes: local works, another is not found', async () => {
    const vol = uniq('vdrv')
    try {
      ok(await docker(['run', '--rm', '--volume-driver', 'local', '-v', `${vol}:/data`, 'busybox', 'touch', '/data/x']))
      expect(ok(await docker(['volume', 'inspect', '-f', '{{.Driver}}', vol])).stdout.trim()).toBe('local')
      // The 404 is dockerd's too; the docker CLI takes any 404 from create for a missing image and pulls unless told not to.
      await refused(docker(['run', '--rm', '--pull', 'never', '--volume-driver', 'nosuchdriver', '-v', `${uniq('vdrv2')}:/data`, 'busybox', 'true']), 125, 'error looking up volume plugin nosuchdriver: plugin "nosuchdriver" not found')
      await refused(berth(['run', '--rm', '--volume-driver', 'nosuchdriver', '-v', `${uniq('vdrv2')}:/data`, 'busybox', 'true']), 125, 'error looking up volume plugin nosuchdriver: plugin "nosuchdriver" not found')
    } finally {
      await docker(['volume', 'rm', vol])
    }
  })

  it('--gpus: the request is kept, and start fails as dockerd with no GPU driver', async () => {
    for (const cli of [berth, docker]) {
      const c = name('gpu')
      ok(await cli(['create', '--name', c, '--gpus', 'all', 'busybox', 'true']))
      const reqs = JSON.parse(ok(await cli(['inspect', '-f', '{{json .HostConfig.DeviceRequests}}', c])).stdout) as unknown
      expect(reqs).toEqual([{ Driver: '', Count: -1, DeviceIDs: null, Capabilities: [['gpu']], Options: {} }])
      await refused(cli(['start', c]), 1, 'could not select device driver "" with capabilities: [[gpu]]')
      await refused(cli(['run', '--rm', '--gpus', 'count=2,capabilities=compute', 'busybox', 'true']), 125, 'could not select device driver "" with capabilities: [[compute gpu]]')
      await refused(cli(['run', '--rm', '--gpus', 'count=x', 'busybox', 'true']), 125, 'invalid count (x): value must be either "all" or an integer')
    }
  })

  it('--use-api-socket mounts the daemon socket and hands the client\'s logins to the container', async () => {
    const cfgDir = mkdtempSync(path.join(tmp, 'cfg-'))
    const auth = Buffer.from('alice:s3cret').toString('base64')
    writeFileSync(path.join(cfgDir, 'config.json'), JSON.stringify({ auths: { 'registry.test:5000': { auth } } }))
    for (const cli of [berth, docker]) {
      const r = ok(await cli(['run', '--rm', '--use-api-socket', 'busybox', 'sh', '-c', 'test -S /var/run/docker.sock && echo socket; echo $DOCKER_CONFIG; cat /run/secrets/docker/config.json'], { env: { DOCKER_CONFIG: cfgDir } }))
      const [socket, dockerConfig, ...rest] = r.stdout.split('\n')
      expect(socket).toBe('socket')
      expect(dockerConfig).toBe('/run/secrets/docker')
      const cfg = JSON.parse(rest.join('\n')) as { auths: Record<string, { auth?: string }> }
      expect(cfg.auths['registry.test:5000']?.auth).toBe(auth)
    }
    // No logins: only the socket, no DOCKER_CONFIG.
    const empty = mkdtempSync(path.join(tmp, 'cfg-'))
    const r = ok(await berth(['run', '--rm', '--use-api-socket', 'busybox', 'sh', '-c', 'test -S /var/run/docker.sock && echo socket; echo "[$DOCKER_CONFIG]"'], { env: { DOCKER_CONFIG: empty } }))
    expect(r.stdout).toBe('socket\n[]\n')
  })

  it('CMD-SHELL health probes run in the image\'s SHELL', async () => {
    const tag = `${uniq('shellhc')}:1`
    const dockerfile = 'FROM busybox\nSHELL ["/bin/false"]\nHEALTHCHECK --interval=100ms --retries=1 CMD true\n'
    ok(await berth(['build', '-q', '-t', tag, '-'], { input: dockerfile, timeoutMs: 60_000 }))
    try {
      const c = name('shellhc')
      ok(await docker(['run', '-d', '--name', c, tag, 'sleep', '1d']))
      expect(JSON.parse(ok(await docker(['inspect', '-f', '{{json .Config.Shell}}', c])).stdout)).toEqual(['/bin/false'])
      // `/bin/false true` fails where `/bin/sh -c true` would pass.
      await waitFor(async () => ok(await docker(['inspect', '-f', '{{.State.Health.Status}}', c])).stdout.trim() === 'unhealthy' || undefined, 15_000, 'unhealthy')
      await docker(['rm', '-f', c])
    } finally {
      await berth(['rmi', '-f', tag])
    }
  })
})
