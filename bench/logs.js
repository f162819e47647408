#!/usr/bin/env node
// Log throughput benchmark (issue 7): how many lines a container can write
// with the json-file driver, berthd beside dockerd (and podman, whose
// default k8s-file is its nearest equivalent) in the same run. Run on demand
// (`bench/run logs`, or `bench/run` for every bench); never in CI.
//
// How to read the numbers
// -----------------------
// * Each repetition runs `run -d busybox seq 1 N` (BENCH_LINES, default
//   200000 lines of up to 7 bytes) and times, from the CLI's start:
//   - "container exit": until `wait` returns: how long the container's own
//     writes took (the engine's copier is in its way on docker; on berth
//     conmon writes the file and the container never waits for berthd);
//   - "all lines readable": until `logs` (stdout) holds all N lines: for
//     berth the shipper has turned conmon's file into json-file lines.
//   lines/s = N / that time. Medians of BENCH_REPS (10) repetitions after
//   one warm-up, the columns taking turns within each repetition; the
//   container is removed after each.
// * No goal in the issue for this one: the ratios say where berth stands.
// * "berth (docker CLI)" and "docker" use the same docker CLI binary.
// * Times are "median (min–max)"; lines/s is N over the median time.
// * `--quick` (1000 lines, 2 repetitions, berthd only, docs/bench.md
//   untouched) only checks that the bench completes.
//
// Environment: BENCH_LINES, BENCH_REPS, BERTH_SOCK, DOCKERD_SOCK,
// BENCH_WRITE=0, BENCH_ENGINES (as bench/lib.js).
import { spawnSync } from 'node:child_process'
import {
  checkArgs, engineColumns, envReps, findDaemons, formatter, loadavg, loadNote, machineLine, median, noDockerNote, now, quickMode, ratio, spread, trapCleanups, versions,
  writeDocBlock, writeWanted,
} from './lib.js'

checkArgs('logs.js')
const N = Number(process.env.BENCH_LINES ?? (quickMode ? 1000 : 200000))
const REPS = envReps(quickMode ? 2 : 10)
const { daemons, berthEnv, dockerEnv } = findDaemons()
const { columns, used } = engineColumns({ daemons, berthEnv, dockerEnv })
const cols = columns.filter((c) => c.name !== 'berth-cli')
const { cleanups, cleanupAll } = trapCleanups()
const load0 = loadavg()

const run = (c, args) => spawnSync(c.cli, [...args], { env: { ...process.env, ...c.env }, encoding: 'utf8', maxBuffer: 1 << 30 })

function once(c) {
  const name = `bench-logs-${process.pid}-${c.name}`
  cleanups.push(() => run(c, ['rm', '-f', name]))
  const t0 = now()
  const r = run(c, ['run', '-d', '--name', name, ...c.flags, 'busybox', 'seq', '1', String(N)])
  if (r.status !== 0) throw new Error(`${c.name}: run failed: ${r.stderr}`)
  run(c, ['wait', name])
  const exited = now() - t0
  let readable
  for (let i = 0; i < 600; i++) {
    const out = run(c, ['logs', name]).stdout
    if (out.endsWith(`\n${N}\n`) && out.split('\n').length === N + 1) {
      readable = now() - t0
      break
    }
    spawnSync('sleep', ['0.05'])
  }
  run(c, ['rm', '-f', name])
  if (readable === undefined && quickMode) throw new Error(`bench: ${c.name}: logs never held all ${N} lines`)
  return { exited, readable }
}

const results = Object.fromEntries(cols.map((c) => [c.name, { exited: [], readable: [] }]))
for (const c of cols) once(c) // warm-up
for (let i = 0; i < REPS; i++) {
  for (const c of cols) {
    const r = once(c)
    results[c.name].exited.push(r.exited)
    if (r.readable !== undefined) results[c.name].readable.push(r.readable)
  }
}

const f1 = formatter(2)
const rows = [
  ['container exit (s)', (c) => median(results[c.name].exited), (c) => results[c.name].exited],
  ['all lines readable (s)', (c) => median(results[c.name].readable), (c) => results[c.name].readable],
  ['lines/s until readable', (c) => { const t = median(results[c.name].readable); return t ? N / t : undefined }],
]
const head = `| metric | ${cols.map((c) => c.title).join(' | ')} | berth/docker | berth/podman |`
const lines = [head, `|---|${cols.map(() => '---:').join('|')}|---:|---:|`]
for (const [label, get, all] of rows) {
  const vals = Object.fromEntries(cols.map((c) => [c.name, get(c)]))
  lines.push(`| ${label} | ${cols.map((c) => (label.startsWith('lines') ? (vals[c.name] ? Math.round(vals[c.name]).toLocaleString('en') : '—') : spread(all(c), f1))).join(' | ')} | ${ratio(vals.berth, vals.docker)} | ${ratio(vals.berth, vals.podman)} |`)
}
const table = lines.join('\n')
const header = `${machineLine()}${versions(used)}; ${N} lines per container, median (min–max) of ${REPS} after a warm-up${quickMode ? ' (bench/run logs --quick)' : ''}; ${loadNote(load0)}${noDockerNote(!!daemons.docker)}`
console.log(`${header}\n\n${table}`)
if (writeWanted(quickMode)) writeDocBlock('logs', `${header}\n\n${table}`, { command: 'bench/run logs', section: '\n## Logs (json-file throughput)\n\n' })
cleanupAll()
