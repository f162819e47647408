#!/usr/bin/env node
// Engine benchmarks: berthd beside dockerd and podman when they are running,
// with raw `runc run` as the floor. Run on demand (bench/run); never in CI.
// Set the reference engines up first with bench/setup (idempotent).
//
// How to read the numbers
// -----------------------
// * Every time is wall-clock seconds for one CLI invocation, end to end (CLI
//   start, API round trips, daemon work, runtime, container exit). berth and
//   docker are both driven by the same docker CLI binary, so CLI start-up
//   cost is identical for them; podman is its own CLI (no daemon). Times are
//   medians of BENCH_REPS runs (default 10) and the engines take turns within
//   each repetition, so hour-to-hour drift hits them equally. Only the ratios
//   of one run are meaningful; absolute times drift ±15% on this VM.
// * `run --rm busybox true` is each engine's default network (docker: a veth on
//   docker0; berth: a veth on berth0; podman: CNI bridge); the
//   `--network none` row removes networking from the comparison. The
//   "berth crun" column is the same berthd with `docker run --runtime crun`
//   (timed rows only); targets are judged on the default (runc) column.
// * The floor is `runc run` of a plain bundle whose process is `true` (checked:
//   the same bundle with `sh -c 'exit 7'` must exit 7): namespaces + cgroup +
//   pivot_root + exec, no daemon, no overlay mount, no image.
// * `create + start + rm`: three CLI invocations timed together: `create
//   busybox true`, `start` (returns once the container started), `rm -f`
//   (podman: `rm -f -t 0`, which kills at once as docker's `rm -f` does).
// * Cells of timed rows read "median (min–max)".
// * `exec true` runs in a `sleep 1d` container started for it; its floor is
//   `runc exec <c> true` in a `sleep 1d` started with `runc run -d`.
// * `50 × run -d` is the total for 50 detached `sleep 1d` containers started one
//   after another (not the median: one series per engine).
// * Per running container: while the 50 are running, the processes whose
//   command line names one of those 50 container IDs (conmon for berth and
//   podman, containerd-shim-runc-v2 for docker; the container's own `sleep` is
//   not counted) are summed and divided by 50. The script fails if it does not
//   find exactly one such monitor per container, so monitors of other daemons
//   (e.g. a test suite's berthd) are never counted. RSS counts every resident
//   page, shared library pages included, in full for each process; PSS (from
//   /proc/PID/smaps_rollup) divides each shared page among the processes that
//   map it, so the PSS sum is what the 50 monitors add to the machine's memory.
//   "daemon growth" is how much the daemon(s) grew with the 50 running, per
//   container (informational; V8 and Go heaps grow in steps).
// * Idle daemon memory: the process that listens on the engine's socket plus
//   its descendants (dockerd + its containerd), with no containers, after a
//   warm-up `run --rm` and 3 s of quiet ("after warm-up"), and again after the
//   whole workload once every container is gone and 3 s passed ("after
//   workload"). Another berthd on another socket is never counted.
// * Targets (the project's): start-to-exit ≤ 0.3× docker (issue 9 asks
//   ≤ 0.5×, the row shows both); exec ≤ 0.5× docker; ≤ 2 MiB per running
//   container; berthd idle RSS ≤ 0.6× dockerd + containerd. `ps` with many
//   containers, 100 started at once and memory with 100 running are in
//   bench/scale.js.
// * `--quick` (2 repetitions, 3 containers, no runc floor and no crun column,
//   berthd only, docs/bench.md untouched) only checks that the bench completes.
//
// Environment: BENCH_REPS (10), BERTH_SOCK (/run/berth/berth.sock),
// DOCKERD_SOCK (/var/run/docker.sock), BENCH_WRITE=0 to not touch docs/bench.md,
// BENCH_ENGINES=berth,docker,podman to choose engines.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import {
  checkArgs, commOf, descendants, envReps, findDaemons, formatter, listenerPid, machineLine, median, memSum, monitorsOf, noDockerNote, pick, quickMode, quiet, repo,
  resultsTable, sh, sleep, versionOf, versions, writeDocBlock, writeWanted,
} from './lib.js'

checkArgs('engine.js')
const reps = envReps(quickMode ? 2 : 10)
const N = quickMode ? 3 : 50
const MiB = 1024

function time(fn) {
  const t = process.hrtime.bigint()
  fn()
  return Number(process.hrtime.bigint() - t) / 1e9
}

// ---- engines -------------------------------------------------------------
// what monitors each container: conmon for berth and podman, the shim for docker
const { daemons } = findDaemons({ podmanProbe: ['image', 'exists', 'busybox'] })
let engines = Object.values(daemons).map((d) => ({ ...d, monitor: d.name === 'docker' ? 'containerd-shim' : 'conmon' }))
// berth with crun as the container's runtime (timed series only; same daemon)
if (engines[0].name === 'berth' && spawnSync('crun', ['--version']).status === 0) {
  engines.push({ ...engines[0], name: 'berth crun', runtimeArgs: ['--runtime', 'crun'], seriesOnly: true })
}
engines = pick(engines)
for (const e of engines) {
  // the runtime flag goes after `run` or `create` (docker run --runtime crun ...)
  e.run = (...args) => sh(e.cli, (args[0] === 'run' || args[0] === 'create') && e.runtimeArgs ? [args[0], ...e.runtimeArgs, ...args.slice(1)] : args, e.env)
  e.version = versionOf(e)
  if (e.sock) e.pid = listenerPid(e.sock)
}
console.error(`bench: engines ${engines.filter((e) => !e.seriesOnly).map((e) => `${e.name} ${e.version}${e.pid ? ` (pid ${e.pid})` : ''}`).join(', ')}; ${reps} reps`)

const results = {}
const samples = {} // metric -> engine -> [values], for min–max
const put = (metric, engine, v) => ((results[metric] ??= {})[engine] = v)
const created = [] // [engine, name] to remove at the end whatever happens
const tag = `bench-${process.pid}`

function daemonMem(e) {
  if (!e.pid) return undefined
  return memSum(descendants(e.pid))
}

try {
  // warm up, then idle memory before the workload
  for (const e of engines) e.run('run', '--rm', 'busybox', 'true')
  sleep(quickMode ? 0.2 : 3)
  for (const e of engines.filter((x) => !x.seriesOnly)) {
    const m = daemonMem(e)
    if (m) put('idle daemon, after warm-up (MiB RSS)', e.name, m.rss / MiB)
    if (m) put('idle daemon, after warm-up (MiB PSS)', e.name, m.pss / MiB)
  }

  // interleaved timed series: engines take turns within each repetition
  // argsOf gives one command, or a list of commands timed together
  const series = (metric, argsOf) => {
    const xs = Object.fromEntries(engines.map((e) => [e.name, []]))
    for (let i = 0; i < reps; i++) {
      for (const e of engines) {
        const a = argsOf(e, i)
        const cmds = Array.isArray(a[0]) ? a : [a]
        xs[e.name].push(time(() => cmds.forEach((c) => e.run(...c))))
      }
    }
    for (const e of engines) put(metric, e.name, median(xs[e.name]))
    samples[metric] = xs
  }
  series('run --rm busybox true (s)', () => ['run', '--rm', 'busybox', 'true'])
  series('run --rm --network none busybox true (s)', () => ['run', '--rm', '--network', 'none', 'busybox', 'true'])
  // three CLI invocations: create, start (returns once started), rm -f (the container may still be exiting;
  // podman's rm -f would give it 10 s after SIGTERM where docker's kills at once: -t 0 makes them alike)
  const csr = (e, i) => {
    const name = `${tag}-csr-${e.name.replace(/\W/g, '')}-${i}`
    created.push([e, name])
    return [['create', '--name', name, 'busybox', 'true'], ['start', name], ['rm', '-f', ...(e.name === 'podman' ? ['-t', '0'] : []), name]]
  }
  for (const e of engines) for (const args of csr(e, 'warm')) e.run(...args)
  series('create + start + rm (s)', csr)

  for (const e of engines) {
    e.execName = `${tag}-exec-${e.name.replace(/\W/g, '')}`
    created.push([e, e.execName])
    e.run('run', '-d', '--name', e.execName, 'busybox', 'sleep', '1d')
    e.run('exec', e.execName, 'true')
  }
  series('exec true (s)', (e) => ['exec', e.execName, 'true'])
  for (const e of engines) e.run('rm', '-f', e.execName)

  // 50 × run -d, one engine at a time; then measure its monitors while they run
  for (const e of engines.filter((x) => !x.seriesOnly)) {
    const before = daemonMem(e)
    const names = Array.from({ length: N }, (_, i) => `${tag}-d${i}`)
    const ids = []
    put(`${N} × run -d (s)`, e.name, time(() => names.forEach((n) => {
      created.push([e, n])
      ids.push(e.run('run', '-d', '--name', n, 'busybox', 'sleep', '1d').trim())
    })))
    sleep(quickMode ? 0.2 : 2)
    const found = monitorsOf(ids)
    const pids = [...found.values()].flat()
    const comms = [...new Set(pids.map(commOf))]
    const bad = ids.filter((id) => (found.get(id) ?? []).length !== 1)
    if (bad.length || comms.some((c) => !c.startsWith(e.monitor))) {
      throw new Error(`bench: ${e.name}: expected one ${e.monitor} per container, found ${pids.length} processes (${comms.join(', ')}) for ${N} containers; ${bad.length} containers without exactly one`)
    }
    const m = memSum(pids)
    put('per running container: monitor (MiB RSS)', e.name, m.rss / MiB / N)
    put('per running container: monitor (MiB PSS)', e.name, m.pss / MiB / N)
    const after = daemonMem(e)
    if (before && after) put('per running container: daemon growth (MiB RSS, informational)', e.name, (after.rss - before.rss) / MiB / N)
    e.run('rm', '-f', ...names)
  }

  sleep(quickMode ? 0.2 : 3)
  for (const e of engines.filter((x) => !x.seriesOnly)) {
    const m = daemonMem(e)
    if (m) put('idle daemon, after workload (MiB RSS)', e.name, m.rss / MiB)
  }

  const floor = quickMode ? undefined : runcFloor()
  if (floor) {
    put('run --rm busybox true (s)', 'runc (floor)', floor.run)
    put('run --rm --network none busybox true (s)', 'runc (floor)', floor.run)
    put('exec true (s)', 'runc (floor)', floor.exec)
  }
} finally {
  for (const [e, n] of created) quiet(e.cli, ['rm', '-f', n], e.env)
}

function runcFloor() {
  if (spawnSync('runc', ['--version']).status !== 0) return undefined
  const dir = mkdtempSync('/tmp/bench-runc-')
  const bundle = (args) => {
    const spec = JSON.parse(readFileSync(`${dir}/config.json`, 'utf8'))
    spec.process.terminal = false
    spec.process.args = args
    writeFileSync(`${dir}/config.json`, JSON.stringify(spec))
  }
  try {
    execFileSync('sh', ['-c', `mkdir -p ${dir}/rootfs && "${repo}/scripts/busybox-rootfs" | tar -x -C ${dir}/rootfs && cd ${dir} && runc spec`])
    bundle(['sh', '-c', 'exit 7'])
    const check = spawnSync('runc', ['run', '--bundle', dir, `${tag}-floor-check`], { stdio: 'ignore' })
    if (check.status !== 7) throw new Error(`bench: runc floor bundle does not run its process (exit ${check.status}, want 7)`)
    bundle(['true'])
    const run = median(Array.from({ length: reps }, (_, i) => time(() => sh('runc', ['run', '--bundle', dir, `${tag}-floor-${i}`]))))
    // exec floor: `runc exec <c> true` in a detached `sleep 1d` of the same bundle
    bundle(['sleep', '1d'])
    const c = `${tag}-floor-exec`
    // stdio ignored: the detached container would hold pipes open
    if (spawnSync('runc', ['run', '-d', '--bundle', dir, c], { stdio: 'ignore' }).status !== 0) throw new Error('bench: runc run -d failed')
    try {
      sh('runc', ['exec', c, 'true'])
      const exec = median(Array.from({ length: reps }, () => time(() => sh('runc', ['exec', c, 'true']))))
      return { run, exec }
    } finally {
      spawnSync('runc', ['delete', '-f', c], { stdio: 'ignore' })
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

// ---- report --------------------------------------------------------------
const dockerIdle = results['idle daemon, after warm-up (MiB RSS)']?.docker
const targets = {
  'run --rm busybox true (s)': [['issue 9: ≤ 0.5 × docker', (r) => r.berth <= 0.5 * r.docker], ['berth\'s own: ≤ 0.3 × docker', (r) => r.berth <= 0.3 * r.docker]],
  'exec true (s)': ['≤ 0.5 × docker', (r) => r.berth <= 0.5 * r.docker],
  'per running container: monitor (MiB RSS)': ['≤ 2 MiB', (r) => r.berth <= 2],
  'per running container: monitor (MiB PSS)': ['≤ 2 MiB', (r) => r.berth <= 2],
  'idle daemon, after warm-up (MiB RSS)': ['≤ 0.6 × dockerd + containerd', (r) => r.berth <= 0.6 * r.docker],
  'idle daemon, after workload (MiB RSS)': ['≤ 0.6 × dockerd + containerd', (r) => r.berth <= 0.6 * r.docker],
}
const cols = ['berth', 'berth crun', 'docker', 'podman', 'runc (floor)']
const order = [
  'run --rm busybox true (s)',
  'run --rm --network none busybox true (s)',
  'create + start + rm (s)',
  'exec true (s)',
  `${N} × run -d (s)`,
  'per running container: monitor (MiB RSS)',
  'per running container: monitor (MiB PSS)',
  'per running container: daemon growth (MiB RSS, informational)',
  'idle daemon, after warm-up (MiB RSS)',
  'idle daemon, after warm-up (MiB PSS)',
  'idle daemon, after workload (MiB RSS)',
]
const table = resultsTable(results, { cols, order, targets, fmt: formatter(3), ratioDigits: 3, samples })
const runcV = /runc version (\S+)/.exec(spawnSync('runc', ['--version']).stdout?.toString() ?? '')?.[1]
const machine = machineLine() +
  `${versions(engines.filter((e) => !e.seriesOnly))}${runcV ? `, runc ${runcV}` : ''}; medians (min–max) of ${reps} interleaved runs after a warm-up (bench/run${quickMode ? ' --quick' : ''}).` +
  noDockerNote(dockerIdle)
console.log(`${machine}\n\n${table}`)
if (writeWanted(quickMode)) {
  writeDocBlock('bench', `${machine}\n\n${table}`, {
    command: 'bench/run',
    fresh: '# Benchmarks\n\nRun `bench/setup` then `bench/run`; the header of bench/engine.js says how each number is taken.\n\n',
  })
}
