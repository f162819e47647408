// Fault injection: berthd killed with SIGKILL at randomized moments during
// pull (from `berth registry serve` on loopback), load, build, commit,
// container run (create + start) and rm, volume create and rm, and network
// create. After each kill berthd starts again on the same data and
// `berth system check` must find nothing wrong (blob digests, layers,
// containers' references, leftover mounts, netns files, veths, cgroups,
// firewall rules, conmon processes), a container that ran before the crash
// still runs, and the interrupted operation succeeds when done again.
//
// Each kill lands at a random point of the operation: its delay is drawn
// between 0 and how long one uninterrupted run of the operation took here
// (measured once, only to spread the kills; nothing asserts a duration).
// CI runs a few kills per operation (about 30 in all, ~60-90 s); set
// BERTH_CRASH_ITERATIONS=N for N per operation (a soak), and
// BERTH_CRASH_SEED to replay one sequence of delays.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { berthBin, missing, ok, waitFor, type CmdResult } from '../../helpers.js'
import { api, PrivateDaemon } from '../system/helpers.js'

const skip = missing('root', 'daemon')
if (skip) console.warn(`skipping crash-consistency tests: ${skip}`)

const ITERATIONS = Number(process.env.BERTH_CRASH_ITERATIONS ?? '3')

/** A small seeded generator (mulberry32), so a failing sequence of delays can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const seed = Number(process.env.BERTH_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31))
const rand = random(seed)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.skipIf(skip !== undefined)('berthd killed with SIGKILL during operations', () => {
  const d = new PrivateDaemon({ 'cgroup-parent': `/berth-crash-${process.pid}` })
  const b = (args: string[], timeoutMs = 60_000) => d.berth(args, { timeoutMs })
  let registry: ChildProcess | undefined
  let addr = ''
  const ctx = path.join(d.base, 'ctx')
  const saved = path.join(d.base, 'load.tar')
  const outcomes: string[] = []

  /** `berth system check` passes; its output is the failure message otherwise. */
  async function checkPasses(when: string): Promise<void> {
    const r = await b(['system', 'check'], 120_000)
    expect(`${when}: exit ${r.code}\n${r.stdout}${r.stderr}`).toBe(`${when}: exit 0\nno problems found\n`)
  }

  /** The same check through the API (no CLI process to start: the iterations stay cheap). */
  async function checkPassesApi(when: string): Promise<void> {
    const r = await api(d.sock, 'GET', '/berth/check')
    expect(`${when}: ${r.status} ${JSON.stringify((r.json as { Problems?: unknown }).Problems, null, 1)}`).toBe(`${when}: 200 []`)
  }

  let keeperPid = 0
  async function keeperRuns(when: string): Promise<void> {
    const r = await api(d.sock, 'GET', '/containers/crash-keeper/json')
    const st = (r.json as { State?: { Status?: string; Pid?: number } }).State
    expect(`${when}: ${st?.Status} ${st?.Pid}`).toBe(`${when}: running ${keeperPid}`)
  }

  /**
   * Runs `op` once to learn how long it takes, then `ITERATIONS` times killing
   * berthd at a random point of it; after each restart the store checks out
   * and the keeper still runs; then `retry` (the operation done again)
   * succeeds, and after the last iteration `verify` shows its result works.
   */
  async function crashDuring(name: string, o: { before?: () => Promise<void>; op: () => Promise<CmdResult>; retry: () => Promise<void>; verify?: () => Promise<void> }): Promise<void> {
    await o.before?.()
    const t0 = Date.now()
    ok(await o.op())
    const span = Math.max(Date.now() - t0, 50)
    for (let i = 0; i < ITERATIONS; i++) {
      await o.before?.()
      const delay = Math.floor(rand() * span)
      const running = o.op()
      await sleep(delay)
      await d.kill()
      const r = await running
      outcomes.push(`${name} +${delay}/${span}ms: exit ${r.code}`)
      await d.restart()
      const when = `${name}, killed after ${delay} ms (seed ${seed})`
      if (i === 0) await checkPasses(when)
      else await checkPassesApi(when)
      await keeperRuns(when)
      await o.retry()
    }
    await o.verify?.()
    // `run --rm` removes its container's files after its record, in the background: let that finish.
    await waitFor(async () => ((await api(d.sock, 'GET', '/berth/check')).json as { Problems: unknown[] }).Problems.length === 0 || undefined, 10_000, 'the daemon to settle').catch(() => {})
    await checkPassesApi(`${name}, after the retries`)
  }

  beforeAll(async () => {
    await d.start()
    ok(await b(['run', '-d', '--name', 'crash-keeper', 'busybox', 'sleep', '1d']))
    keeperPid = Number(ok(await b(['inspect', '--format', '{{.State.Pid}}', 'crash-keeper'])).stdout.trim())
    mkdirSync(ctx)
    // Random bytes, so every build makes a layer of its own.
    writeFileSync(path.join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY f /f\nRUN dd if=/dev/urandom of=/big bs=1M count=2 2>/dev/null && echo x > /x\n')
    writeFileSync(path.join(ctx, 'f'), 'context file\n')
    ok(await b(['build', '-q', '-t', 'crash-src:1', ctx], 120_000))

    const root = path.join(d.base, 'registry')
    const child = spawn(berthBin, ['registry', 'serve', '--addr', '127.0.0.1:0', '--root', root], { stdio: ['ignore', 'pipe', 'pipe'] })
    registry = child
    let log = ''
    child.stdout.on('data', (x: Buffer) => (log += x.toString()))
    child.stderr.on('data', (x: Buffer) => (log += x.toString()))
    for (const end = Date.now() + 20_000; !addr;) {
      const m = /listening on (127\.0\.0\.1:\d+)/.exec(log)
      if (m) addr = m[1] ?? ''
      else if (child.exitCode !== null || Date.now() > end) throw new Error(`registry did not start:\n${log}`)
      else await sleep(50)
    }
    ok(await b(['tag', 'crash-src:1', `${addr}/crash/big:1`]))
    ok(await b(['push', `${addr}/crash/big:1`], 120_000))
    ok(await b(['rmi', `${addr}/crash/big:1`]))
    // What load reads: an image whose layers berthd does not have.
    ok(await b(['build', '-q', '-t', 'crash-load:1', ctx], 120_000))
    ok(await b(['save', '-o', saved, 'crash-load:1']))
    ok(await b(['rmi', 'crash-load:1']))
    await checkPasses('before any crash')
  }, 240_000)

  afterAll(async () => {
    if (outcomes.length) console.info(`seed ${seed}; ${outcomes.join('; ')}`)
    registry?.kill('SIGTERM')
    await d.stop().catch(() => {})
    // The cgroup parent this file gave its berthd, empty once its containers are gone.
    for (const h of readdirSync('/sys/fs/cgroup')) {
      try {
        rmdirSync(`/sys/fs/cgroup/${h}/berth-crash-${process.pid}`)
      } catch {
        // not made in this hierarchy
      }
    }
  }, 120_000)

  test('system check reports what a crash could leave', async () => {
    const data = path.join(d.base, 'data')
    const zeros = '0'.repeat(64)
    const wrong = createHash('sha256').update('right').digest('hex')
    const cgroup = `/sys/fs/cgroup/pids/berth-crash-${process.pid}/${'e'.repeat(64)}`
    const mnt = path.join(data, 'tmp', 'crash-stray-mount')
    const planted: Array<[string, () => void, () => void]> = [
      [`snapshot ${zeros}: overlay2/${zeros} belongs to no layer`, () => mkdirSync(path.join(data, 'overlay2', zeros)), () => rmSync(path.join(data, 'overlay2', zeros), { recursive: true })],
      ['blob stray-ingest: partial ingest', () => writeFileSync(path.join(data, 'blobs', 'ingest', 'stray-ingest'), 'x'), () => rmSync(path.join(data, 'blobs', 'ingest', 'stray-ingest'))],
      [`blob sha256:${wrong}: content does not match`, () => writeFileSync(path.join(data, 'blobs', 'sha256', wrong), 'wrong'), () => rmSync(path.join(data, 'blobs', 'sha256', wrong))],
      ['netns abcdef123456: network namespace file without a running container', () => writeFileSync(path.join(d.execRoot, 'netns', 'abcdef123456'), ''), () => rmSync(path.join(d.execRoot, 'netns', 'abcdef123456'))],
      [`cgroup pids/berth-crash-${process.pid}/${'e'.repeat(64)}: cgroup without a running container`, () => mkdirSync(cgroup, { recursive: true }), () => rmdirSync(cgroup)],
      [`mount ${mnt}: mounted (tmpfs)`, () => {
        mkdirSync(mnt, { recursive: true })
        execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', mnt])
      }, () => {
        execFileSync('umount', [mnt])
        rmdirSync(mnt)
      }],
    ]
    try {
      for (const [, plant] of planted) plant()
      const r = await b(['system', 'check'])
      expect(r.code).toBe(1)
      for (const [line] of planted) expect(r.stdout).toContain(line)
      expect(r.stdout).toContain(`${planted.length} problems found\n`)
    } finally {
      for (const [, , clean] of planted) {
        try {
          clean()
        } catch {
          // not planted
        }
      }
    }
    await checkPasses('with the planted problems removed')
  })

  test('a volume whose removal a crash cut short does not come back with its files', async () => {
    // What `volume rm` leaves when killed between dropping the record and the directory.
    const dir = path.join(d.base, 'data', 'volumes', 'crash-gone')
    mkdirSync(path.join(dir, '_data'), { recursive: true })
    writeFileSync(path.join(dir, '_data', 'old'), 'removed data\n')
    const r = await b(['system', 'check'])
    expect([r.code, r.stdout]).toEqual([1, `volume crash-gone: directory ${dir} belongs to no volume\n1 problem found\n`])
    await d.kill()
    await d.restart()
    await checkPasses('after a restart')
    ok(await b(['volume', 'create', 'crash-gone']))
    expect(ok(await b(['run', '--rm', '-v', 'crash-gone:/v', 'busybox', 'ls', '-A', '/v'])).stdout).toBe('')
    ok(await b(['volume', 'rm', 'crash-gone']))
  })

  test('pull', async () => {
    const ref = `${addr}/crash/big:1`
    await crashDuring('pull', {
      before: async () => void (await api(d.sock, 'DELETE', `/images/${encodeURIComponent(ref)}?force=1`)),
      op: () => b(['pull', '-q', ref]),
      retry: async () => void ok(await b(['pull', '-q', ref])),
      verify: async () => {
        expect(ok(await b(['run', '--rm', ref, 'cat', '/x', '/f'])).stdout).toBe('x\ncontext file\n')
      },
    })
  }, 120_000)

  test('load', async () => {
    await crashDuring('load', {
      before: async () => void (await api(d.sock, 'DELETE', '/images/crash-load:1?force=1')),
      op: () => b(['load', '-q', '-i', saved]),
      retry: async () => void ok(await b(['load', '-q', '-i', saved])),
      verify: async () => {
        expect(ok(await b(['run', '--rm', 'crash-load:1', 'cat', '/x'])).stdout).toBe('x\n')
      },
    })
  }, 120_000)

  test('build', async () => {
    let n = 0
    await crashDuring('build', {
      op: () => b(['build', '-q', '-t', `crash-built:${++n}`, ctx], 120_000),
      retry: async () => void ok(await b(['build', '-q', '-t', 'crash-built:retry', ctx], 120_000)),
      verify: async () => {
        expect(ok(await b(['run', '--rm', 'crash-built:retry', 'cat', '/x', '/f'])).stdout).toBe('x\ncontext file\n')
      },
    })
  }, 120_000)

  test('commit', async () => {
    ok(await b(['run', '--name', 'crash-commit', 'busybox', 'sh', '-c', 'dd if=/dev/urandom of=/big bs=1M count=4 2>/dev/null; echo c > /c']))
    let n = 0
    await crashDuring('commit', {
      op: () => b(['commit', 'crash-commit', `crash-committed:${++n}`]),
      retry: async () => void ok(await b(['commit', 'crash-commit', 'crash-committed:retry'])),
      verify: async () => {
        expect(ok(await b(['run', '--rm', 'crash-committed:retry', 'cat', '/c'])).stdout).toBe('c\n')
      },
    })
  }, 120_000)

  test('container run (create and start) and rm', async () => {
    const name = 'crash-run'
    const state = async () => ((await api(d.sock, 'GET', `/containers/${name}/json`)).json as { State?: { Status?: string } } | undefined)?.State?.Status ?? ''
    await crashDuring('run', {
      before: async () => void (await api(d.sock, 'DELETE', `/containers/${name}?force=1`)),
      op: () => b(['run', '-d', '--name', name, 'busybox', 'sleep', '1d']),
      // Created before the crash: it starts; not created: it is made again.
      retry: async () => {
        if ((await state()) === '') ok(await b(['run', '-d', '--name', name, 'busybox', 'sleep', '1d']))
        else ok(await b(['start', name]))
        expect(await state()).toBe('running')
      },
      verify: async () => void ok(await b(['exec', name, 'true'])),
    })
    await crashDuring('rm', {
      before: async () => {
        if ((await state()) === '') ok(await b(['run', '-d', '--name', name, 'busybox', 'sleep', '1d']))
      },
      op: () => b(['rm', '-f', name]),
      retry: async () => {
        const r = await b(['rm', '-f', name])
        expect([0, 1]).toContain(r.code)
        expect(await state()).toBe('')
      },
    })
  }, 120_000)

  test('volume create and rm', async () => {
    const vol = 'crash-vol'
    await crashDuring('volume create', {
      before: async () => void (await api(d.sock, 'DELETE', `/volumes/${vol}?force=1`)),
      op: () => b(['volume', 'create', vol]),
      retry: async () => void ok(await b(['volume', 'create', vol])),
      verify: async () => {
        expect(ok(await b(['run', '--rm', '-v', `${vol}:/v`, 'busybox', 'sh', '-c', 'echo v > /v/f && cat /v/f'])).stdout).toBe('v\n')
      },
    })
    await crashDuring('volume rm', {
      before: async () => void (await b(['volume', 'create', vol])),
      op: () => b(['volume', 'rm', vol]),
      retry: async () => {
        await b(['volume', 'rm', vol])
        expect(ok(await b(['volume', 'ls', '-q', '--filter', `name=^${vol}$`])).stdout).toBe('')
        ok(await b(['volume', 'create', vol]))
      },
    })
  }, 120_000)

  test('network create', async () => {
    const net = 'crash-net'
    await crashDuring('network create', {
      before: async () => void (await api(d.sock, 'DELETE', `/networks/${net}`)),
      op: () => b(['network', 'create', net]),
      retry: async () => {
        if ((await b(['network', 'inspect', net])).code !== 0) ok(await b(['network', 'create', net]))
      },
      verify: async () => void ok(await b(['run', '--rm', '--network', net, 'busybox', 'true'])),
    })
    ok(await b(['network', 'rm', net]))
  }, 120_000)
})
