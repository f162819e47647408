// berthd killed outright (SIGKILL) in the middle of work on a container's
// files: an upload into a stopped container (cp PUT), a commit of a big
// writable layer, a download of a big directory (cp GET). After a restart
// nothing of the interrupted work may linger (rootfs mounts of stopped
// containers, cp helper processes, half-made images or blobs), the container
// works, the work can be done again, and nothing outside the container (a
// bind's host directory, a sentinel) changed. Volumes keep their files through
// container removal and daemon crashes. A berthd of this file's own, since it
// is killed.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { removeDaemonLeftovers } from '../../daemon-cleanup.js'
import { berth, missing, ok, repo, uniq, waitFor, type CmdOptions } from '../../helpers.js'
import { api, fsHelpers, mountsAt, settled, slowTar, treeListing, untar } from './fs-helpers.js'

const skip = missing('root', 'daemon')

function alive(pid: number): boolean {
  if (pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}


/** Processes named `name` (argv[0]'s base name) whose arguments mention `text`. */
function processes(name: string, text: string): number[] {
  const out: number[] = []
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0')
      if (path.basename(argv[0] ?? '') === name && argv.some((a) => a.includes(text))) out.push(Number(d))
    } catch {
      // gone meanwhile
    }
  }
  return out
}

/** Gone, or a zombie waiting to be reaped (no command line any more). */
function ended(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === ''
  } catch {
    return true
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.skipIf(skip)('berthd killed during work on container files', () => {
  const base = mkdtempSync('/var/tmp/berth-crash-')
  // Short: conmon's attach socket path under it must stay below 108 bytes.
  const execRoot = `/run/bk${process.pid}`
  const dataRoot = path.join(base, 'data')
  const sockPath = path.join(execRoot, 'berth.sock')
  const log = path.join(base, 'berthd.log')
  const cfgFile = path.join(base, 'daemon.json')
  const bridge = `bk${process.pid}`
  const sentinel = path.join(base, 'sentinel')
  const b = (args: string[], o: CmdOptions = {}) => berth(args, { timeoutMs: 120_000, ...o, env: { BERTH_HOST: `unix://${sockPath}`, ...o.env } })
  const pidFile = path.join(execRoot, 'berthd.pid')
  const daemonPid = () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0)

  async function start(): Promise<void> {
    const out = openSync(log, 'a')
    const child = spawn(path.join(repo, 'bin/berthd'), ['--data-root', dataRoot, '--exec-root', execRoot, '--config-file', cfgFile, '--log-level', 'debug'], { stdio: ['ignore', out, out], detached: true })
    child.unref()
    await waitFor(async () => ((await b(['version'])).code === 0 ? true : undefined), 30_000, 'berthd of the crash tests to answer')
  }

  async function kill(): Promise<void> {
    const pid = daemonPid()
    expect(alive(pid)).toBe(true)
    process.kill(pid, 'SIGKILL')
    await waitFor(() => !alive(pid) || undefined, 15_000, 'berthd to die')
  }

  const inspect = async (c: string, format: string) => ok(await b(['inspect', '--format', format, c])).stdout.trim()
  /** Nothing of a cp is left once it is over: no helper, no mount of the stopped container's rootfs, no tar reading it. */
  async function nothingLeft(c: string, soft = false): Promise<void> {
    const merged = await inspect(c, '{{.GraphDriver.Data.MergedDir}}')
    const check = soft ? expect.soft : expect
    check(await settled(() => mountsAt(merged)), `mounts of ${c}'s rootfs left while it is stopped`).toEqual([])
    check(await settled(() => fsHelpers(dataRoot)), 'cp helpers left').toEqual([])
    check(await settled(() => processes('tar', dataRoot)), 'tar processes left').toEqual([])
  }

  beforeAll(async () => {
    mkdirSync(execRoot, { recursive: true })
    // A cgroup parent of its own: `system check` counts the cgroups under it.
    writeFileSync(cfgFile, JSON.stringify({ bridge, 'cgroup-parent': `/${bridge}` }))
    mkdirSync(sentinel)
    writeFileSync(path.join(sentinel, 'keep'), 'host file\n')
    await start()
    execFileSync('sh', ['-c', `"${repo}/scripts/busybox-rootfs" | "${repo}/bin/berth" import -c 'CMD ["sh"]' - busybox:latest`], { env: { ...process.env, BERTH_HOST: `unix://${sockPath}` }, stdio: 'pipe' })
  }, 120_000)

  afterAll(async () => {
    if (!alive(daemonPid())) await start().catch(() => {})
    const ids = (await b(['ps', '-aq'])).stdout.split('\n').filter(Boolean)
    if (ids.length) await b(['rm', '-f', '-v', ...ids])
    const pid = daemonPid()
    if (alive(pid)) {
      process.kill(pid, 'SIGTERM')
      await waitFor(() => !alive(pid) || undefined, 15_000, 'berthd to stop').catch(() => {})
    }
    // Helpers a crash might have left: ours only (their namespaces hold our data root).
    for (const p of fsHelpers(dataRoot)) {
      try {
        process.kill(p, 'SIGKILL')
      } catch {
        // gone
      }
    }
    await removeDaemonLeftovers(base, bridge, execRoot)
    for (const h of readdirSync('/sys/fs/cgroup')) {
      try {
        rmdirSync(`/sys/fs/cgroup/${h}/${bridge}`)
      } catch {
        // not made in this hierarchy
      }
    }
  }, 120_000)

  test('a kill during a slow upload into a stopped container leaves nothing behind; the upload can be done again', async () => {
    const bind = path.join(base, 'bind-up')
    mkdirSync(bind)
    writeFileSync(path.join(bind, 'host'), 'bound\n')
    const c = uniq('crash-up')
    const vol = uniq('crash-up-vol')
    // A volume with driver options is mounted while something uses it: a copy too.
    const tmpVol = uniq('crash-up-tmpfs')
    ok(await b(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=16m', tmpVol]))
    ok(await b(['create', '--name', c, '-v', `${bind}:/bind`, '-v', `${vol}:/vol`, '-v', `${tmpVol}:/tv`, 'busybox', 'sleep', '1d']))
    ok(await b(['start', c]))
    ok(await b(['exec', c, 'sh', '-c', 'echo in-volume > /vol/v']))
    ok(await b(['stop', '-t', '0', c]))
    const id = await inspect(c, '{{.Id}}')
    const upper = await inspect(c, '{{.GraphDriver.Data.UpperDir}}')
    const merged = await inspect(c, '{{.GraphDriver.Data.MergedDir}}')
    const volDir = ok(await b(['volume', 'inspect', '--format', '{{.Mountpoint}}', vol])).stdout.trim()
    const tmpDir = ok(await b(['volume', 'inspect', '--format', '{{.Mountpoint}}', tmpVol])).stdout.trim()
    const outside = () => [treeListing(sentinel), treeListing(bind), treeListing(volDir)]
    const before = outside()
    expect(await settled(() => mountsAt(merged))).toEqual([])

    // 64 files of 1 MiB, held back after the first few until the daemon is dead.
    let paused!: () => void
    const pausedP = new Promise<void>((r) => (paused = r))
    let release!: () => void
    const releaseP = new Promise<void>((r) => (release = r))
    const files = 64
    const upload = api(sockPath, 'PUT', `/v1.50/containers/${id}/archive?path=/`, slowTar(files, 1 << 20, { prefix: 'up', pauseAfter: 4 << 20, onPause: paused, release: releaseP }), { 'Content-Type': 'application/x-tar' })
    const outcome = upload.then((r) => `status ${r.status}`, (err: Error) => `failed: ${err.message}`)
    await pausedP
    // The daemon is mid-upload: the first files are in the container's layer, its rootfs mounted for the copy, a helper holding the view.
    await waitFor(() => existsSync(path.join(upper, 'up', 'f0')) || undefined, 20_000, 'the first uploaded file')
    expect(mountsAt(merged)).toContain(merged)
    expect(mountsAt(tmpDir)).toEqual([tmpDir])
    const helpers = fsHelpers(dataRoot)
    expect(helpers.length).toBeGreaterThan(0)
    await kill()
    release()
    expect(await outcome).not.toBe('status 200')
    // The helper ends with berthd (its stdin closes), taking its namespace with it.
    await waitFor(() => helpers.every(ended) || undefined, 10_000, 'the cp helper to end')

    await start()
    expect(ok(await b(['ps', '-a', '--filter', `id=${id}`, '--format', '{{.Names}} {{.State}}'])).stdout).toBe(`${c} exited\n`)
    // A stopped container's rootfs is not mounted after a restart (what the killed copy mounted is gone).
    await nothingLeft(c, true)
    // As docker's local driver, which unmounts what an unclean shutdown left mounted when it starts.
    expect.soft(mountsAt(tmpDir), 'the tmpfs volume left mounted with no user').toEqual([])
    expect(outside()).toEqual(before)

    // The same upload again, whole this time.
    const full = slowTar(files, 1 << 20, { prefix: 'up', pauseAfter: Infinity, onPause: () => {}, release: Promise.resolve() })
    const r = await api(sockPath, 'PUT', `/v1.50/containers/${id}/archive?path=/`, full, { 'Content-Type': 'application/x-tar' })
    expect([r.status, r.body.toString()]).toEqual([200, ''])
    await nothingLeft(c)
    ok(await b(['start', c]))
    expect(ok(await b(['exec', c, 'sh', '-c', 'ls /up | wc -l; cat /up/f* | wc -c; cat /vol/v /bind/host'])).stdout.split('\n').map((s) => s.trim())).toEqual([String(files), String(files << 20), 'in-volume', 'bound', ''])
    ok(await b(['stop', '-t', '0', c]))
    await nothingLeft(c)
    expect(await settled(() => mountsAt(tmpDir))).toEqual([])
    expect(outside()).toEqual(before)
  })

  /** berth's own store check: blob digests, ingest and .tmp- leftovers, layers, references, host leftovers. */
  async function checkStore(): Promise<void> {
    const r = await b(['system', 'check'])
    expect(`exit ${r.code}\n${r.stdout}${r.stderr}`).toBe('exit 0\nno problems found\n')
  }

  /**
   * Every listed image inspects, has its layer directories, and runs; every
   * directory under overlay2 is a layer of an image or a container's
   * snapshot (no half-made layer is kept).
   */
  async function checkImages(): Promise<string[]> {
    const lines = ok(await b(['images', '-a', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}'])).stdout.trim().split('\n').filter(Boolean)
    const known = new Set(['l', 'empty'])
    const dirsOf = (json: string) => {
      const data = JSON.parse(json) as { UpperDir?: string; LowerDir?: string }
      return [data.UpperDir ?? '', ...(data.LowerDir ?? '').split(':')].filter(Boolean)
    }
    for (const line of lines) {
      const imageId = line.split(' ')[0] ?? ''
      for (const d of dirsOf(ok(await b(['image', 'inspect', '--format', '{{json .GraphDriver.Data}}', imageId])).stdout)) {
        expect([line, d, existsSync(d)]).toEqual([line, d, true])
        known.add(path.basename(path.dirname(d)))
      }
      expect(ok(await b(['run', '--rm', imageId, 'sh', '-c', 'echo runs'])).stdout).toBe('runs\n')
    }
    for (const c of ok(await b(['ps', '-aq', '--no-trunc'])).stdout.split('\n').filter(Boolean)) {
      for (const d of dirsOf(ok(await b(['inspect', '--format', '{{json .GraphDriver.Data}}', c])).stdout)) known.add(path.basename(path.dirname(d)))
    }
    expect(readdirSync(path.join(dataRoot, 'overlay2')).filter((n) => !known.has(n))).toEqual([])
    return lines
  }

  test('a kill during a commit of a big layer leaves no half-made image; the commit can be done again', async () => {
    const c = uniq('crash-commit')
    const size = 200 << 20
    ok(await b(['run', '--name', c, 'busybox', 'dd', 'if=/dev/zero', 'of=/big', 'bs=1M', 'count=200']), 0)
    const repoName = uniq('crash-img').toLowerCase()
    // A few delays, so that some kill lands inside the commit; what each landed on is not asserted.
    const outcomes: string[] = []
    for (const [i, delay] of [100, 400, 1000, 2500].entries()) {
      const commit = api(sockPath, 'POST', `/v1.50/commit?container=${c}&repo=${repoName}&tag=try${i}`, '{}', { 'Content-Type': 'application/json' })
        .then((r) => `status ${r.status}`, (err: Error) => `failed: ${err.message}`)
      await sleep(delay)
      await kill()
      outcomes.push(`${delay}ms: ${await commit}`)
      await start()
      await checkStore()
      const listed = await checkImages()
      const tagged = listed.find((l) => l.endsWith(`${repoName}:try${i}`))
      if (tagged) expect(ok(await b(['run', '--rm', `${repoName}:try${i}`, 'stat', '-c', '%s', '/big'])).stdout).toBe(`${size}\n`)
      expect(ok(await b(['ps', '-a', '--filter', `name=${c}`, '--format', '{{.State}}'])).stdout).toBe('exited\n')
    }
    console.info(`commits killed after: ${outcomes.join('; ')}`)
    const r = await api(sockPath, 'POST', `/v1.50/commit?container=${c}&repo=${repoName}&tag=done`, '{}', { 'Content-Type': 'application/json' })
    expect(r.status).toBe(201)
    expect(ok(await b(['run', '--rm', `${repoName}:done`, 'stat', '-c', '%s', '/big'])).stdout).toBe(`${size}\n`)
    await checkStore()
    // The container's layer is its own still: a new container of the image starts without /big.
    expect((await b(['run', '--rm', 'busybox', 'test', '-e', '/big'])).code).toBe(1)
  }, 600_000)

  test('a kill during a download of a big directory leaves nothing behind; the container is fine', async () => {
    const c = uniq('crash-get')
    ok(await b(['run', '--name', c, 'busybox', 'sh', '-c', 'mkdir -p /big && for i in $(seq 1 64); do dd if=/dev/zero of=/big/f$i bs=1M count=2 2>/dev/null; done']))
    const id = await inspect(c, '{{.Id}}')
    const merged = await inspect(c, '{{.GraphDriver.Data.MergedDir}}')
    // Read the first bytes of the reply, then stop reading: the daemon is held mid-tar.
    let req: http.ClientRequest | undefined
    const first = new Promise<void>((resolve, reject) => {
      req = http.request({ socketPath: sockPath, method: 'GET', path: `/v1.50/containers/${id}/archive?path=/big` }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`))
        res.once('data', () => {
          res.pause()
          resolve()
        })
        res.on('error', () => {})
      })
      req.on('error', () => {})
      req.end()
    })
    await first
    expect(mountsAt(merged)).toContain(merged)
    const helpers = fsHelpers(dataRoot)
    expect(helpers.length).toBeGreaterThan(0)
    const tars = processes('tar', dataRoot)
    await kill()
    req?.destroy()
    await waitFor(() => [...helpers, ...tars].every(ended) || undefined, 10_000, 'the cp helper and its tar to end')
    await start()
    await nothingLeft(c, true)
    // The container is fine: the whole directory comes out, and it starts.
    const r = await api(sockPath, 'GET', `/v1.50/containers/${id}/archive?path=/big`)
    expect(r.status).toBe(200)
    const entries = await untar(r.body)
    expect(entries.filter((e) => e.type === 'file').length).toBe(64)
    expect(entries.reduce((n, e) => n + e.data.length, 0)).toBe(128 << 20)
    await nothingLeft(c)
    ok(await b(['start', c]))
    expect(ok(await b(['wait', c])).stdout).toBe('0\n')
  }, 180_000)

  test('volume data outlives container removal and daemon crashes', async () => {
    const vol = uniq('crash-keep')
    const user = uniq('crash-vol-user')
    const runner = uniq('crash-vol-runner')
    ok(await b(['run', '--name', user, '-v', `${vol}:/data`, '-v', '/anon', 'busybox', 'sh', '-c', 'echo a > /data/a && mkdir -p /data/sub && echo b > /data/sub/b && echo anon > /anon/f']))
    const mountpoint = ok(await b(['volume', 'inspect', '--format', '{{.Mountpoint}}', vol])).stdout.trim()
    const anon = JSON.parse(await inspect(user, '{{json .Mounts}}')) as Array<{ Name: string; Destination: string; Source: string }>
    const anonVol = anon.find((m) => m.Destination === '/anon')
    expect(anonVol?.Name).toMatch(/^[0-9a-f]{64}$/)
    const listing = treeListing(mountpoint)
    const anonListing = treeListing(anonVol?.Source ?? '')
    ok(await b(['run', '-d', '--name', runner, '-v', `${vol}:/data`, 'busybox', 'sleep', '1d']))

    // A crash with one user running and one stopped.
    await kill()
    await start()
    expect(treeListing(mountpoint)).toBe(listing)
    expect(treeListing(anonVol?.Source ?? '')).toBe(anonListing)
    expect(ok(await b(['exec', runner, 'cat', '/data/a', '/data/sub/b'])).stdout).toBe('a\nb\n')
    // Removing the users (running, with -v) keeps the named volume; the anonymous one goes only with rm -v.
    ok(await b(['rm', '-f', '-v', runner]))
    ok(await b(['rm', user]))
    expect(treeListing(mountpoint)).toBe(listing)
    expect(ok(await b(['volume', 'ls', '-q'])).stdout.split('\n')).toEqual(expect.arrayContaining([vol, anonVol?.Name]))
    expect(treeListing(anonVol?.Source ?? '')).toBe(anonListing)
    ok(await b(['run', '--name', user, '-v', `${vol}:/data`, 'busybox', 'true']))
    ok(await b(['container', 'prune', '-f']))
    await kill()
    await start()
    expect(treeListing(mountpoint)).toBe(listing)
    expect(ok(await b(['run', '--rm', '-v', `${vol}:/d`, 'busybox', 'cat', '/d/a', '/d/sub/b'])).stdout).toBe('a\nb\n')
    // Only an explicit removal deletes the data.
    ok(await b(['volume', 'rm', vol, anonVol?.Name ?? '']))
    expect(existsSync(mountpoint)).toBe(false)
  }, 180_000)
})
