/**
 * daemon.json registry settings on a second berthd of the test's own:
 * `registry-service` (berthd runs berth's registry as a child process) and
 * `registry-mirrors` (docker.io names pulled from a mirror). The same daemon
 * shows `pull -a` and two concurrent pulls of one new image sharing the work.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import net from 'node:net'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDb } from '../../../src/db/index.js'
import { EventBus } from '../../../src/events/index.js'
import { ImageService, type PullProgress } from '../../../src/images/index.js'
import { nullLogger } from '../../../src/lib/index.js'
import { removeDaemonNetwork } from '../../daemon-cleanup.js'
import { berth, docker, dockerBin, missing, ok, repo, uniq, waitFor, freePort } from '../../helpers.js'

const skip = missing('root', 'daemon')


async function answers(url: string): Promise<true | undefined> {
  try {
    const res = await fetch(url)
    await res.body?.cancel()
    return res.status === 200 ? true : undefined
  } catch {
    return undefined
  }
}

async function refused(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1')
    s.once('connect', () => {
      s.destroy()
      resolve(undefined)
    })
    s.once('error', () => resolve(true))
  })
}

describe.skipIf(skip)('daemon.json registry-service and registry-mirrors', () => {
  const base = mkdtempSync('/var/tmp/berth-regsvc-')
  const execRoot = `/run/br${process.pid}`
  const sock = path.join(execRoot, 'berth.sock')
  const log = path.join(base, 'berthd.log')
  let port = 0
  let daemon: ChildProcess | undefined
  let registry = ''
  const other = (args: string[]) => berth(args, { env: { BERTH_HOST: `unix://${sock}` }, timeoutMs: 60_000 })

  function start(): ChildProcess {
    const out = openSync(log, 'a')
    const child = spawn(path.join(repo, 'bin/berthd'), ['--data-root', path.join(base, 'data'), '--exec-root', execRoot, '--config-file', path.join(base, 'daemon.json'), '--log-level', 'debug'], {
      stdio: ['ignore', out, out],
      detached: true,
    })
    child.unref()
    return child
  }

  beforeAll(async () => {
    port = await freePort()
    registry = `127.0.0.1:${port}`
    mkdirSync(execRoot, { recursive: true })
    writeFileSync(path.join(base, 'daemon.json'), JSON.stringify({
      'registry-service': { addr: registry, root: path.join(base, 'registry') },
      'registry-mirrors': [`http://${registry}`],
      bridge: `btr${process.pid}`,
    }))
    daemon = start()
    await waitFor(async () => ((await other(['version'])).code === 0 ? true : undefined), 20_000, 'the second berthd')
    await waitFor(() => answers(`http://${registry}/v2/`), 20_000, 'the registry service')
    // The test daemon fills the registry: busybox under the mirror's library/ namespace, two tags.
    for (const tag of ['latest', '1.0']) {
      ok(await berth(['tag', 'busybox', `${registry}/library/busybox:${tag}`]))
      ok(await berth(['push', `${registry}/library/busybox:${tag}`], { timeoutMs: 60_000 }))
      ok(await berth(['rmi', `${registry}/library/busybox:${tag}`]))
    }
  }, 90_000)

  afterAll(async () => {
    if (daemon?.pid) {
      try {
        process.kill(daemon.pid, 'SIGTERM')
      } catch {
        // already gone
      }
      await waitFor(() => refused(port), 10_000, 'the registry service to stop').catch(() => {})
    }
    await removeDaemonNetwork(`btr${process.pid}`, execRoot)
    rmSync(base, { recursive: true, force: true })
    rmSync(execRoot, { recursive: true, force: true })
  })

  it('runs the registry as a child of berthd, logging into its log', () => {
    expect(readFileSync(log, 'utf8')).toMatch(/registry service starting/)
    expect(readFileSync(log, 'utf8')).toMatch(/PUT \/v2\/library\/busybox\/manifests\/1\.0/)
  })

  it('pulls docker.io names from the mirror', async () => {
    const r = ok(await other(['pull', 'busybox']))
    expect(r.stdout).toContain('latest: Pulling from library/busybox')
    expect(r.stdout).toContain('Status: Downloaded newer image for busybox:latest')
    expect(r.stdout.trim().split('\n').at(-1)).toBe('docker.io/library/busybox:latest')
    const ls = ok(await other(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']))
    expect(ls.stdout.split('\n')).toContain('busybox:latest')
    expect(readFileSync(log, 'utf8')).toMatch(/GET \/v2\/library\/busybox\/manifests\/latest/)
  })

  it.skipIf(!dockerBin)('serves docker pull through the mirror as well', async () => {
    const r = await docker(['pull', 'busybox:1.0'], { env: { DOCKER_HOST: `unix://${sock}` }, timeoutMs: 60_000 })
    ok(r)
    expect(r.stdout).toContain('Status: Downloaded newer image for busybox:1.0')
  })

  it('pulls every tag with pull -a', async () => {
    const name = `${registry}/library/busybox`
    const r = ok(await other(['pull', '-a', name]))
    expect(r.stdout).toContain('1.0: Pulling from library/busybox')
    expect(r.stdout).toContain('latest: Pulling from library/busybox')
    expect(r.stdout).toContain(`Status: Downloaded newer image for ${name}\n`)
    expect(r.stdout.trim().split('\n').at(-1)).toBe(name)
    const tags = ok(await other(['image', 'ls', name, '--format', '{{.Tag}}'])).stdout.trim().split('\n').sort()
    expect(tags).toEqual(['1.0', 'latest'])
    const bad = await other(['pull', '-a', `${name}:1.0`])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain("tag can't be used with --all-tags/-a")
  })

  it('downloads a layer once for two concurrent pulls of a new image', async () => {
    // A fresh 8 MiB layer nobody has, imported into the test daemon and pushed.
    const img = `${registry}/shared/${uniq('img')}:1`
    const dir = mkdtempSync(path.join(base, 'layer-'))
    writeFileSync(path.join(dir, 'data'), randomBytes(8 << 20))
    const imported = ok(await berth(['import', '-', img], { input: execFileSync('tar', ['-c', '-C', dir, 'data'], { maxBuffer: 64 << 20 }) })).stdout.trim()
    ok(await berth(['push', img], { timeoutMs: 60_000 }))
    ok(await berth(['rmi', img]))
    // Two pulls in one ImageService started in the same tick: both read the config, the layer is shared.
    const root = mkdtempSync(path.join(base, 'engine-'))
    const db = openDb(path.join(root, 'berth.db'))
    const svc = await ImageService.open({ db, dataRoot: root, logger: nullLogger, events: new EventBus(), containersUsing: () => [] })
    try {
      const before = readFileSync(log, 'utf8').length
      const events: PullProgress[][] = [[], []]
      const [a, b] = await Promise.all([0, 1].map((i) => svc.pull(img, { progress: (e) => events[i]!.push(e) })))
      expect(a!.id).toBe(imported)
      expect(b!.id).toBe(imported)
      expect(svc.store.layers()).toHaveLength(1)
      const gets = readFileSync(log, 'utf8').slice(before).split('\n').filter((l) => /"GET \/v2\/shared\/[^ ]+\/blobs\/sha256:/.test(l))
      const byDigest = new Map<string, number>()
      for (const l of gets) {
        const d = /blobs\/(sha256:[a-f0-9]{64})/.exec(l)?.[1] as string
        byDigest.set(d, (byDigest.get(d) ?? 0) + 1)
      }
      // The config is read by each pull; the layer only once.
      expect([...byDigest.values()].sort()).toEqual([1, 2])
      expect(events.flat().filter((e) => e.status === 'Pull complete')).toHaveLength(2)
    } finally {
      db.close()
    }
  })

  it('stops the registry with berthd, even when berthd is killed outright', async () => {
    const pid = Number(readFileSync(path.join(execRoot, 'berthd.pid'), 'utf8').trim())
    process.kill(pid, 'SIGKILL')
    await waitFor(() => refused(port), 15_000, 'the orphaned registry to stop')
    rmSync(path.join(execRoot, 'berthd.pid'), { force: true })
    daemon = start()
    await waitFor(() => answers(`http://${registry}/v2/`), 20_000, 'the registry service after a restart')
  })
})

