#!/usr/bin/env node
// Scale benchmark (issue 9): `ps` with many containers, 100 containers
// started at once, and what each of 100 running containers costs in memory,
// berthd beside dockerd and podman in the same run. Run on demand
// (`bench/run scale`, or `bench/run` for every bench); never in CI.
// `--quick` (2 repetitions, 0/5/20 containers, 5 started at once, berthd
// only, docs/bench.md untouched) only checks that the bench completes.
//
// How to read the numbers
// -----------------------
// * `ps -a` with 0, 100 and 1000 containers: one CLI invocation, end to end
//   (`-a`: the containers are made with `create` only and never run, so
//   plain `ps` would list none). They are created through the Engine API
//   (POST /containers/create, 8 at a time; podman: `podman create`, 4 at a
//   time), which is not timed, and removed at the end. "0" is the engine as
//   found: the header says how many containers of their own each held
//   before (a full run expects 0). Columns: berth through the docker CLI and
//   through its own CLI, docker, podman. The output must list at least as
//   many containers as this script made.
// * 100 × `run -d busybox sleep 1d` at once: 100 CLI processes spawned
//   together, timed until the last one exits (each must exit 0), one engine
//   at a time; berth through the docker CLI, like docker.
// * Per running container, with those 100 running: the processes whose
//   command line names one of the 100 container IDs (conmon for berth and
//   podman, containerd-shim-runc-v2 for docker; the container's own `sleep`
//   is not counted), summed and divided by 100, as in bench/engine.js: RSS
//   counts shared library pages in full in every process, PSS divides them
//   among the processes mapping them. "daemon growth" is how much the
//   daemon's process tree grew with the 100 running, per container
//   (informational). Then every container is removed (untimed).
// * Each figure is the median of BENCH_REPS (10) repetitions with the lowest
//   and highest in brackets, after one untimed warm-up of each kind; the
//   engines take turns within each repetition, so drift hits them equally.
// * Goals (issue 9): `ps` with 1000 containers < 100 ms; per-container
//   memory ≤ docker's shim (judged on PSS and RSS).
// * Every container carries the label berth.bench=scale; leftovers of a
//   killed run are removed at the start, and everything on SIGINT/SIGTERM.
//
// Environment: BENCH_REPS (10; --quick: 2), BERTH_SOCK (/run/berth/berth.sock),
// DOCKERD_SOCK (/var/run/docker.sock), BENCH_WRITE=0 to not touch
// docs/bench.md (--quick never writes), BENCH_ENGINES=berth,berth-cli,docker,podman
// to choose columns, BENCH_PS_LEVELS (0,100,1000; ascending) and
// BENCH_PARALLEL (100) to try other sizes.
import { spawn } from 'node:child_process'
import http from 'node:http'
import {
  checkArgs, commOf, descendants, engineColumns, envReps, findDaemons, formatter, listenerPid, loadavg, loadNote, machineLine, median, memSum, monitorsOf,
  noDockerNote, now, quickMode, quiet, resultsTable, sh, sleep, trapCleanups, versions, writeDocBlock, writeWanted,
} from './lib.js'

checkArgs('scale.js')
const reps = envReps(quickMode ? 2 : 10)
const LEVELS = (process.env.BENCH_PS_LEVELS ?? (quickMode ? '0,5,20' : '0,100,1000')).split(',').map(Number)
const PARALLEL = Number(process.env.BENCH_PARALLEL ?? (quickMode ? 5 : 100))
const LABEL = 'berth.bench=scale'
const MiB = 1024
if (!Number.isInteger(reps) || reps < 1 || !Number.isInteger(PARALLEL) || PARALLEL < 1 || LEVELS.some((n) => !Number.isInteger(n) || n < 0)) {
  console.error('bench: BENCH_REPS and BENCH_PARALLEL must be positive integers, BENCH_PS_LEVELS a list of counts (0,100,1000)')
  process.exit(2)
}

const { cleanups, cleanupAll } = trapCleanups()
const { daemons, berthEnv, dockerEnv } = findDaemons({ podmanProbe: ['image', 'exists', 'busybox'] })
const { columns, used } = engineColumns({ daemons, berthEnv, dockerEnv, run: (cli, args, env) => sh(cli, args, env, { maxBuffer: 64 * 1024 * 1024 }) })
for (const d of used) {
  d.monitor = d.name === 'docker' ? 'containerd-shim' : 'conmon'
  if (d.sock) d.pid = listenerPid(d.sock)
}
console.error(`bench: ${versions(used)}; columns ${columns.map((c) => c.name).join(', ')}; ${reps} reps; ps with ${LEVELS.join('/')}, ${PARALLEL} at once${quickMode ? ' (quick)' : ''}`)

// ---- helpers ---------------------------------------------------------------
/** One Engine API request on a unix socket; resolves with the parsed body (or text). */
function api(sock, method, path, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body)
    const req = http.request({ socketPath: sock, method, path: `/v1.41${path}`, headers: data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {} }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c) => (text += c))
      res.on('end', () => {
        if (res.statusCode >= 300) return reject(new Error(`bench: ${method} ${path}: HTTP ${res.statusCode}: ${text.slice(0, 500)}`))
        try {
          resolve(text ? JSON.parse(text) : undefined)
        } catch {
          resolve(text)
        }
      })
    })
    req.on('error', reject)
    req.end(data)
  })
}
/** A CLI command run asynchronously (so many can run at once); rejects on a non-zero exit. */
function spawnAsync(cli, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cli, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (c) => (out += c))
    child.stderr.on('data', (c) => (err += c))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`bench: ${cli} ${args.join(' ')}: exit ${code}: ${err.slice(-500)}`))))
  })
}
/** fn(i) for i < n, at most `width` at a time; the results in order. */
async function pool(n, width, fn) {
  const out = new Array(n)
  let next = 0
  const worker = async () => {
    while (next < n) {
      const i = next++
      out[i] = await fn(i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(width, n) }, worker))
  return out
}
/** n stopped containers (`create` only) carrying the label; their IDs. */
function createMany(d, n) {
  if (d.sock) return pool(n, 8, async () => (await api(d.sock, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], Labels: { [LABEL.split('=')[0]]: LABEL.split('=')[1] } })).Id)
  return pool(n, 4, async () => (await spawnAsync(d.cli, ['create', '--label', LABEL, 'busybox', 'true'], d.env)).trim())
}
/** Every container carrying the label, removed (running ones too). */
async function removeLabelled(d) {
  const ids = d.run('ps', '-aq', '--no-trunc', '--filter', `label=${LABEL}`).split('\n').filter(Boolean)
  if (d.sock) await pool(ids.length, 8, (i) => api(d.sock, 'DELETE', `/containers/${ids[i]}?force=true`))
  // podman's rm -f waits 10 s for SIGTERM first, which `sleep` as PID 1 ignores; docker's kills at once
  else for (let i = 0; i < ids.length; i += 100) quiet(d.cli, ['rm', '-f', '-t', '0', ...ids.slice(i, i + 100)], d.env)
  return ids.length
}
const countAll = (d) => d.run('ps', '-aq').split('\n').filter(Boolean).length
const treeMem = (d) => (d.pid ? memSum(descendants(d.pid)) : undefined)
const tick = () => new Promise((resolve) => setImmediate(resolve))

// ---- the run ---------------------------------------------------------------
const results = {}
const samples = {} // metric -> column -> [values]
const add = (metric, col, v) => ((samples[metric] ??= {})[col] ??= []).push(v)
const loadAtStart = loadavg()
const before = {} // daemon -> containers of its own
const psMetric = (n) => `ps -a, ${n} containers (s)`
const parMetric = `${PARALLEL} × run -d at once (s)`
const memRss = `per running container, ${PARALLEL} running: monitor (MiB RSS)`
const memPss = `per running container, ${PARALLEL} running: monitor (MiB PSS)`
const memGrowth = `per running container, ${PARALLEL} running: daemon growth (MiB RSS, informational)`

try {
  for (const d of used) {
    const left = await removeLabelled(d)
    if (left) console.error(`bench: ${d.name}: removed ${left} containers a killed run left`)
    if (!quiet(d.cli, ['image', 'inspect', 'busybox:latest'], d.env)) throw new Error(`bench: ${d.name} has no busybox image (bench/setup, scripts/setup)`)
    before[d.name] = countAll(d)
  }
  // cleanups run synchronously on a signal: remove what is labelled, one CLI call per engine
  for (const d of used) {
    cleanups.push(() => {
      const ids = sh(d.cli, ['ps', '-aq', '--filter', `label=${LABEL}`], d.env).split('\n').filter(Boolean)
      if (ids.length) quiet(d.cli, ['rm', '-f', ...(d.sock ? [] : ['-t', '0']), ...ids], d.env)
    })
  }

  // ps -a at each level: create up to the level (untimed), warm-up, then interleaved timed runs
  let made = 0
  for (const level of LEVELS) {
    if (level > made) {
      for (const d of used) {
        const t0 = now()
        await createMany(d, level - made)
        console.error(`bench: ${d.name}: ${level - made} containers created in ${(now() - t0).toFixed(1)} s`)
      }
      made = level
    }
    for (const c of columns) c.daemon.run('ps', '-a') // warm-up
    for (let n = 0; n < reps; n++) {
      for (const c of columns) {
        const t0 = now()
        const out = sh(c.cli, ['ps', '-a'], c.env, { maxBuffer: 64 * 1024 * 1024 })
        add(psMetric(level), c.name, now() - t0)
        const listed = out.split('\n').filter(Boolean).length - 1
        // at least ours: another client may remove its own meanwhile
        if (listed < level) throw new Error(`bench: ${c.name}: ps -a listed ${listed} containers, expected at least ${level}`)
      }
      await tick()
    }
    console.error(`bench: ps -a, ${level}: ${columns.map((c) => `${c.name} ${median(samples[psMetric(level)][c.name]).toFixed(3)} s`).join(', ')}`)
  }
  for (const d of used) await removeLabelled(d)

  // PARALLEL × run -d at once, one engine at a time; memory while they run; then removed
  const round = async (d, timed) => {
    const m0 = treeMem(d)
    const t0 = now()
    const ids = (await Promise.all(Array.from({ length: PARALLEL }, () => spawnAsync(d.cli, ['run', '-d', '--label', LABEL, 'busybox', 'sleep', '1d'], d.env)))).map((s) => s.trim())
    const secs = now() - t0
    if (timed) {
      add(parMetric, d.name, secs)
      sleep(quickMode ? 0.2 : 2)
      const found = monitorsOf(ids)
      const pids = [...found.values()].flat()
      const comms = [...new Set(pids.map(commOf))]
      const bad = ids.filter((id) => (found.get(id) ?? []).length !== 1)
      if (bad.length || comms.some((c) => !c.startsWith(d.monitor))) {
        throw new Error(`bench: ${d.name}: expected one ${d.monitor} per container, found ${pids.length} processes (${comms.join(', ')}) for ${PARALLEL} containers; ${bad.length} containers without exactly one`)
      }
      const m = memSum(pids)
      add(memRss, d.name, m.rss / MiB / PARALLEL)
      add(memPss, d.name, m.pss / MiB / PARALLEL)
      const m1 = treeMem(d)
      if (m0 && m1) add(memGrowth, d.name, (m1.rss - m0.rss) / MiB / PARALLEL)
    }
    await removeLabelled(d)
    return secs
  }
  for (const d of used) await round(d, false) // warm-up
  for (let n = 0; n < reps; n++) {
    for (const d of used) await round(d, true)
    console.error(`bench: rep ${n + 1}/${reps}: ${PARALLEL} at once: ${used.map((d) => `${d.name} ${samples[parMetric][d.name].at(-1).toFixed(2)} s, ${samples[memPss][d.name].at(-1).toFixed(2)} MiB PSS`).join('; ')}`)
  }
} finally {
  for (const d of used) await removeLabelled(d).catch((err) => console.error(`bench: cleanup: ${err.message}`))
  cleanupAll()
}

// ---- report ----------------------------------------------------------------
for (const [metric, byCol] of Object.entries(samples)) for (const [col, xs] of Object.entries(byCol)) (results[metric] ??= {})[col] = median(xs)
const top = psMetric(LEVELS.at(-1))
const targets = {
  [top]: [`< 0.1 s${LEVELS.at(-1) === 1000 ? '' : ' (at 1000)'}`, (r) => r.berth < 0.1],
  [memPss]: ["≤ docker's shim", (r) => r.berth <= r.docker],
  [memRss]: ["≤ docker's shim", (r) => r.berth <= r.docker],
}
const order = [...LEVELS.map(psMetric), parMetric, memPss, memRss, memGrowth]
const table = resultsTable(results, { cols: ['berth', 'berth-cli', 'docker', 'podman'], order, targets, fmt: formatter(3), ratioDigits: 2, samples })
const machine = machineLine() +
  `${versions(used)}; medians (min–max) of ${reps} interleaved runs after a warm-up (bench/run scale${quickMode ? ' --quick' : ''}); ` +
  `containers the engines held before: ${used.map((d) => `${d.name} ${before[d.name]}`).join(', ')}; ${loadNote(loadAtStart)}` + noDockerNote(daemons.docker)
console.log(`${machine}\n\n${table}`)
if (writeWanted(quickMode)) {
  const section = [
    '',
    '## Scale: `ps` with many containers, 100 started at once, memory per container',
    '',
    '`ps -a` with 0, 100 and 1000 (created, never started) containers; 100',
    '`run -d` started at once; what each of those 100 running containers costs',
    "in memory. Goals: `ps` with 1000 containers < 100 ms; per-container memory",
    "≤ docker's shim. `bench/run scale` rewrites only the block between the",
    '`bench-scale:begin`/`bench-scale:end` markers; the header of bench/scale.js',
    'says how each number is taken.',
    '',
    '',
  ].join('\n')
  writeDocBlock('bench-scale', `${machine}\n\n${table}`, { command: 'bench/run scale', section })
}
