#!/usr/bin/env node
// Networking benchmark (issue 5): what bridge networking costs at container
// start, and TCP throughput through a published port and between containers,
// berthd beside dockerd and podman in the same run. Run on demand
// (`bench/run network`, or `bench/run` for every bench); never in CI.
// `--quick` (2 repetitions, 16 MiB transfers, berthd only, docs/bench.md untouched) only
// checks that the bench completes. Set the reference engines up first with
// bench/setup.
//
// How to read the numbers
// -----------------------
// * Columns: "berth (docker CLI)" is berthd driven by the docker CLI 28 (the
//   same binary as the docker column, so CLI start-up cost is identical);
//   "berth (berth CLI)" is the same berthd driven by `berth` (start-to-exit
//   rows only: the throughput rows do not depend on the CLI); "docker" is
//   dockerd 20.10; "podman" is podman 4.3 (CNI, runc). Ratios are berth's
//   value (docker-CLI column) over the other engine's: for times below 1 means
//   berth is faster, for MB/s above 1 means berth is faster.
// * Every figure is the median of BENCH_REPS (10) repetitions, with the
//   lowest and highest in brackets, after one untimed warm-up of each kind.
//   In each repetition every column takes its turn, so drift hits them
//   equally; absolute figures drift ±15% on this shared VM.
// * `run --rm busybox true`: one CLI invocation, end to end, with the
//   engine's default network (berth: a veth on berth0; docker: a veth on
//   docker0; podman: a veth on its CNI bridge) and with `--network none`.
//   "bridge overhead" is the median over repetitions of (bridge − none), each
//   pair taken back to back by the same column.
// * Throughput: on each engine a user-defined bridge network `bench-net-PID`
//   (created by name), a server container on it publishing 127.0.0.1:P→5001,
//   running busybox `nc -ll -p 5001 -e dd if=/dev/zero bs=64k count=N`: every
//   connection gets N × 64 KiB of zeros (BENCH_MB, default 512 MiB), written
//   by dd straight into the socket, and then EOF. No disk is involved.
//   - host → published port: the host's busybox runs
//     `nc 127.0.0.1 P -e dd of=/dev/null bs=64k iflag=fullblock`, so the
//     reader is dd on the socket, no pipe; timed by this script from spawn to
//     exit (the few ms of process start are in the time). This is the path a
//     local client takes: berth DNATs 127.0.0.1:P in the kernel (route_localnet
//     on its bridge); docker 20.10 hands loopback connections to docker-proxy
//     (userland-proxy is on by default), which copies every byte in user
//     space; podman DNATs through CNI's portmap plugin.
//   - container → container: a second container on the same network
//     (`sleep 1d`) runs, through exec, busybox
//     `adjtimex; nc bench-net-PID-srv 5001 -e dd of=/dev/null bs=64k iflag=fullblock; adjtimex`:
//     busybox has no sub-second `date`, and `time` counts in 10 ms, but
//     adjtimex(2) with no changes prints the wall clock in µs (allowed in a
//     container, docker's seccomp profile included). The interval includes
//     starting nc and dd and resolving the server's name through the engine's
//     DNS, a few ms, as the host row includes its process start. podman 4.3
//     with CNI has no name resolution here (no dnsname plugin), so its client
//     connects to the server's address.
//   Each transfer is checked: dd must report exactly N+0 full records in.
//   MB/s are 10^6 bytes per second.
// * "CPU of the daemon-side forwarder": user + system CPU, over each host
//   transfer, of the process that would carry a published port's bytes in
//   user space, per 10^9 bytes: berthd itself (its in-process listener holds
//   the port; IPv4 is DNATed by the kernel, so this stays near 0) and the
//   docker-proxy of that port. Kernel work (NAT, veth, TCP) is in no process
//   and not counted; podman has no such process (—). With an idle core
//   docker-proxy's copies cost little throughput; on a busy machine its CPU
//   competes with the sender and the receiver.
// * Goals (issue 5): berth's bridge overhead at start-to-exit ≤ docker's
//   (judged on the docker-CLI column); host → published port ≥ docker's;
//   container → container ≥ 0.9 × docker's.
// * Traffic goes only to 127.0.0.1 and to the containers this script makes.
//   Every container and network it makes carries the label
//   berth.bench=network and is removed at the end, on failure and on
//   SIGINT/SIGTERM; leftovers of a killed run are removed at the start.
//
// Environment: BENCH_REPS (10; --quick: 2), BENCH_MB (512; --quick: 16),
// BERTH_SOCK (/run/berth/berth.sock), DOCKERD_SOCK (/var/run/docker.sock),
// BENCH_WRITE=0 to not touch docs/bench.md (--quick never writes),
// BENCH_ENGINES=berth,berth-cli,docker,podman to choose columns.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import {
  allPids, berthSock, cpuOfStat, docker, engineColumns, envReps, findDaemons, freePort, judge, listenerPid, loadavg, loadNote, machineLine, median, noDockerNote, now, only, quiet, ratio, readProc, sh, sleep, trapCleanups, versions, writeDocBlock, writeWanted,
} from './lib.js'

const quick = process.argv.includes('--quick')
const unknown = process.argv.slice(2).filter((a) => a !== '--quick')
if (unknown.length) {
  console.error(`usage: bench/network.js [--quick] (unknown: ${unknown.join(' ')})`)
  process.exit(2)
}
const reps = envReps(quick ? 2 : 10)
const sizeMiB = Number(process.env.BENCH_MB ?? (quick ? 16 : 512))
const write = writeWanted(quick)
const busybox = ['/usr/bin/busybox', '/bin/busybox'].find((p) => existsSync(p))
const LABEL = 'berth.bench=network'
const BLOCK = 64 * 1024
const blocks = sizeMiB * 16
const bytes = blocks * BLOCK
const tag = `bench-net-${process.pid}`
const SERVER_PORT = 5001

if (!Number.isInteger(reps) || reps < 1 || !Number.isInteger(sizeMiB) || sizeMiB < 1) {
  console.error('bench: BENCH_REPS and BENCH_MB must be positive integers')
  process.exit(2)
}

// Every step runs synchronously; a signal handler only runs when the event loop gets a turn.
const tick = () => new Promise((resolve) => setImmediate(resolve))

// ---- cleanup of everything this script makes -----------------------------
const { cleanups, cleanupAll } = trapCleanups()

// ---- processes -------------------------------------------------------------
/** utime + stime of one process, in seconds (its children not included). */
const cpuOf = (pid) => cpuOfStat(readProc(pid, 'stat'))
/** docker's forwarder for one published host port: the docker-proxy whose arguments name it. */
function dockerProxiesOf(port) {
  return allPids().filter((pid) => {
    const argv = readProc(pid, 'cmdline').split('\0')
    return argv[0]?.endsWith('docker-proxy') && argv[argv.indexOf('-host-port') + 1] === String(port)
  })
}

// ---- engines ---------------------------------------------------------------
// A daemon (or podman): the CLI that makes its containers and networks.
const { daemons, berthEnv, dockerEnv } = findDaemons({ podmanProbe: ['image', 'exists', 'busybox'] })
if (!quiet(docker, ['network', 'ls'], berthEnv)) {
  console.error(`bench: berthd on ${berthSock} has no networking API (network ls fails): restart it on current code`)
  process.exit(1)
}
if (!busybox) {
  console.error('bench: no busybox on the host (apt-get install busybox-static): it is the host-side client')
  process.exit(1)
}
if (only) for (const k of Object.keys(daemons)) if (k !== 'berth' && !only.includes(k)) delete daemons[k]
// Throughput is measured per daemon that has a column (the CLI does not matter there).
const { columns, used } = engineColumns({ daemons, berthEnv, dockerEnv })
console.error(`bench: ${versions(used)}; columns ${columns.map((c) => c.name).join(', ')}; ${reps} reps, ${sizeMiB} MiB per transfer${quick ? ' (quick)' : ''}`)

/** Containers and networks an earlier, killed run left behind (all carry the label). */
function removeLeftovers(d) {
  const ids = d.run('ps', '-aq', '--filter', `label=${LABEL}`).split('\n').filter(Boolean)
  if (ids.length) quiet(d.cli, ['rm', '-f', ...ids], d.env)
  const nets = d.run('network', 'ls', '-q', '--filter', `label=${LABEL}`).split('\n').filter(Boolean)
  if (nets.length) quiet(d.cli, ['network', 'rm', ...nets], d.env)
}

// ---- the transfers ---------------------------------------------------------
/** dd's "N+M records in" must say exactly `blocks` full records and no partial one. */
function checkRecords(what, out) {
  const m = /(\d+)\+(\d+) records in/.exec(out)
  if (!m || Number(m[1]) !== blocks || Number(m[2]) !== 0) {
    throw new Error(`bench: ${what}: expected ${blocks}+0 records of 64 KiB, got: ${out.trim().slice(-500)}`)
  }
}
const mbps = (seconds) => bytes / 1e6 / seconds

/** Host → 127.0.0.1:port: busybox nc hands the socket to dd; timed spawn to exit. */
function hostTransfer(d) {
  const t0 = now()
  const r = spawnSync(busybox, ['nc', '127.0.0.1', String(d.port), '-e', busybox, 'dd', 'of=/dev/null', 'bs=64k', 'iflag=fullblock'], { stdio: ['ignore', 'pipe', 'pipe'] })
  const t = now() - t0
  const out = `${r.stdout}${r.stderr}`
  if (r.status !== 0) throw new Error(`bench: ${d.name}: host → 127.0.0.1:${d.port}: exit ${r.status}: ${out.trim().slice(-500)}`)
  checkRecords(`${d.name}: host → 127.0.0.1:${d.port}`, out)
  return mbps(t)
}

/** Container → container: the client container reads the clock (busybox adjtimex: µs) before and after. */
function containerTransfer(d) {
  const out = d.run('exec', d.client, 'sh', '-c', `adjtimex; nc ${d.target} ${SERVER_PORT} -e dd of=/dev/null bs=64k iflag=fullblock 2>&1; s=$?; adjtimex; exit $s`)
  checkRecords(`${d.name}: container → container`, out)
  const clock = [...out.matchAll(/time\.tv_sec:\s+(\d+)\s+time\.tv_usec:\s+(\d+)/g)].map((m) => Number(m[1]) + Number(m[2]) / 1e6)
  if (clock.length !== 2) throw new Error(`bench: ${d.name}: expected two clock readings from busybox adjtimex: ${out.trim().slice(-800)}`)
  return mbps(clock[1] - clock[0])
}

/** Network, server (published on 127.0.0.1) and client container on one daemon. */
async function setUp(d) {
  d.net = `${tag}-net`
  d.server = `${tag}-srv`
  d.client = `${tag}-cli`
  d.port = await freePort()
  d.run('network', 'create', '--label', LABEL, d.net)
  cleanups.push(() => quiet(d.cli, ['network', 'rm', d.net], d.env))
  cleanups.push(() => quiet(d.cli, ['rm', '-f', d.server, d.client], d.env))
  d.run('run', '-d', '--name', d.server, '--label', LABEL, '--network', d.net, '-p', `127.0.0.1:${d.port}:${SERVER_PORT}`,
    'busybox', 'nc', '-ll', '-p', String(SERVER_PORT), '-e', 'dd', 'if=/dev/zero', 'bs=64k', `count=${blocks}`)
  d.run('run', '-d', '--name', d.client, '--label', LABEL, '--network', d.net, 'busybox', 'sleep', '1d')
  await tick()
  // The user-space process a published port's bytes could pass through (podman: none, CNI's portmap is DNAT only).
  if (d.name === 'berth') {
    const pid = listenerPid(berthSock)
    d.forwarders = () => [pid]
  } else if (d.name === 'docker') {
    d.forwarders = () => dockerProxiesOf(d.port)
  }
  d.target = d.server
  if (d.name === 'podman') {
    // CNI without the dnsname plugin: no names on podman's networks here.
    d.target = d.run('inspect', '-f', `{{(index .NetworkSettings.Networks "${d.net}").IPAddress}}`, d.server).trim()
    if (!d.target) throw new Error(`bench: podman: no address for ${d.server} on ${d.net}`)
  }
  // Until the server listens: the first full transfer is the warm-up.
  for (let i = 0; ; i++) {
    try {
      hostTransfer(d)
      break
    } catch (err) {
      if (i >= 50) throw err
      sleep(0.1)
      await tick()
    }
  }
  containerTransfer(d)
  await tick()
}

// ---- the run ---------------------------------------------------------------
const startBridge = {} // column -> [s]
const startNone = {}
const overhead = {}
const hostRate = {} // daemon -> [MB/s]
const c2cRate = {}
const forwarderCpu = {} // daemon -> [CPU s per GB]
const push = (o, k, v) => (o[k] ??= []).push(v)
const loadAtStart = loadavg()
const runArgs = (c, none) => ['run', '--rm', ...(none ? ['--network', 'none'] : []), 'busybox', 'true']
const timeRun = (c, none) => {
  const t0 = now()
  sh(c.cli, runArgs(c, none), c.env)
  return now() - t0
}

try {
  for (const d of used) {
    removeLeftovers(d)
    if (!quiet(d.cli, ['image', 'inspect', 'busybox:latest'], d.env)) throw new Error(`bench: ${d.name} has no busybox image (bench/setup, scripts/setup)`)
  }
  for (const c of columns) {
    timeRun(c, false)
    timeRun(c, true)
    await tick()
  }
  for (const d of used) await setUp(d)

  for (let n = 0; n < reps; n++) {
    for (const c of columns) {
      const bridge = timeRun(c, false)
      const none = timeRun(c, true)
      push(startBridge, c.name, bridge)
      push(startNone, c.name, none)
      push(overhead, c.name, bridge - none)
      await tick()
    }
    for (const d of used) {
      const pids = d.forwarders?.() ?? []
      const cpu0 = pids.reduce((a, p) => a + cpuOf(p), 0)
      push(hostRate, d.name, hostTransfer(d))
      if (d.forwarders) push(forwarderCpu, d.name, (pids.reduce((a, p) => a + cpuOf(p), 0) - cpu0) / (bytes / 1e9))
      await tick()
    }
    for (const d of used) {
      push(c2cRate, d.name, containerTransfer(d))
      await tick()
    }
    const f = (o, k, p) => (o[k] ? o[k].at(-1).toFixed(p) : '—')
    console.error(`bench: rep ${n + 1}/${reps}: ${columns.map((c) => `${c.name} ${f(startBridge, c.name, 3)}/${f(startNone, c.name, 3)} s`).join(', ')}; ` +
      `host ${used.map((d) => `${d.name} ${f(hostRate, d.name, 0)}`).join(', ')} MB/s; c2c ${used.map((d) => `${d.name} ${f(c2cRate, d.name, 0)}`).join(', ')} MB/s`)
  }
} finally {
  cleanupAll()
}

// ---- report ----------------------------------------------------------------
const fmtT = (v) => (v === undefined ? '—' : v.toFixed(3))
const fmtR = (v) => (v === undefined ? '—' : v.toFixed(0))
const fmtC = (v) => (v === undefined ? '—' : v.toFixed(2))
const cell = (xs, fmt) => (xs?.length ? `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})` : '—')
const allCols = columns.map((c) => [c.name, c.title])
const rows = [
  ['run --rm busybox true, default bridge (s)', startBridge, fmtT],
  ['run --rm --network none busybox true (s)', startNone, fmtT],
  ['bridge overhead: bridge − none, paired (s)', overhead, fmtT, '≤ docker', (v, r) => v <= r],
  [`host → 127.0.0.1:published port, ${sizeMiB} MiB (MB/s)`, hostRate, fmtR, '≥ docker', (v, r) => v >= r],
  [`container → container, user-defined network, ${sizeMiB} MiB (MB/s)`, c2cRate, fmtR, '≥ 0.9 × docker', (v, r) => v >= 0.9 * r],
  ['host → published port: CPU of the daemon-side forwarder (s per GB)', forwarderCpu, fmtC],
]
const lines = [
  `| metric | ${allCols.map(([, t]) => t).join(' | ')} | berth/docker | berth/podman | goal (berth) |`,
  `|---|${allCols.map(() => '---:').join('|')}|---:|---:|---|`,
]
for (const [label, o, fmt, goal, ok] of rows) {
  const m = (k) => median(o[k] ?? [])
  let verdict = ''
  if (goal) {
    verdict = `${goal}: ${judge(m('berth'), m('docker'), ok)}`
    if (o['berth-cli']) verdict += ` (berth CLI: ${judge(m('berth-cli'), m('docker'), ok).replace(/\*/g, '')})`
  }
  lines.push(`| ${label} | ${allCols.map(([n]) => cell(o[n], fmt)).join(' | ')} | ${ratio(m('berth'), m('docker'))} | ${ratio(m('berth'), m('podman'))} | ${verdict} |`)
}
const table = lines.join('\n')
const machine = machineLine() +
  `${versions(used)}; medians (min–max) of ${reps} interleaved runs, ${sizeMiB} MiB per transfer (bench/run network${quick ? ' --quick' : ''}); ` +
  loadNote(loadAtStart) +
  noDockerNote(daemons.docker) +
  (daemons.podman ? ' podman\'s container → container client connects by address (no DNS on its CNI networks here).' : '')
console.log(`${machine}\n\n${table}`)
if (write) {
  const section = [
    '',
    '## Networking: bridge start-up and TCP throughput',
    '',
    'Issue 5: `run --rm busybox true` with the default bridge against',
    '`--network none`, and TCP throughput from a container to the host through a',
    'port published on 127.0.0.1 and between two containers on a user-defined',
    'network, berth beside docker and podman in one run. `bench/run network`',
    'rewrites only the block between the `bench-network:begin`/`bench-network:end`',
    'markers; the header of bench/network.js says how each number is taken.',
    '',
    '',
  ].join('\n')
  writeDocBlock('bench-network', `${machine}\n\n${table}`, { command: 'bench/run network', section })
}
