// What the benchmark scripts (bench/engine.js, scale.js, registry.js,
// build.js, network.js, logs.js; compat.js for a few) share: finding the
// engines under test, running their CLIs, the --quick mode, undoing what a
// run made (also on SIGINT/SIGTERM), reading /proc, statistics, the report's
// header line and the marker blocks of docs/bench.md. Hand-written: the
// scripts are plain Node with no dependencies, so that they run on a machine
// where only Node is set up. Nothing here runs at import time beyond reading
// the environment and argv.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

// ---- environment -----------------------------------------------------------
export const repo = path.resolve(import.meta.dirname, '..')
export const docker = ['/usr/local/bin/docker', '/usr/bin/docker'].find((p) => existsSync(p))
export const berthCli = path.join(repo, 'bin/berth')
export const berthSock = process.env.BERTH_SOCK ?? '/run/berth/berth.sock'
export const dockerSock = process.env.DOCKERD_SOCK ?? '/var/run/docker.sock'
/** BENCH_ENGINES, split; undefined means every engine (or column). */
export const only = process.env.BENCH_ENGINES?.split(',')
/** BENCH_REPS, or the script's default. */
export const envReps = (fallback) => Number(process.env.BENCH_REPS ?? fallback)
/**
 * `--quick`: a couple of runs against berthd only, tiny sizes, docs/bench.md
 * untouched; it only checks that a bench still completes (CI runs it).
 */
export const quickMode = process.argv.includes('--quick')
/** Whether to rewrite docs/bench.md: not with BENCH_WRITE=0, never in a quick run. */
export const writeWanted = (quick = false) => !quick && process.env.BENCH_WRITE !== '0'
/** Keeps the entries BENCH_ENGINES names (all without it); in a quick run only berth through the docker CLI. */
export const pick = (list) => (quickMode ? list.filter((x) => x.name === 'berth') : only ? list.filter((x) => only.includes(x.name)) : list)
/** Exits 2 on arguments other than --quick (and those in `allowed`). */
export function checkArgs(script, allowed = []) {
  const unknown = process.argv.slice(2).filter((a) => a !== '--quick' && !allowed.includes(a))
  if (unknown.length) {
    console.error(`usage: bench/${script} [--quick] (unknown: ${unknown.join(' ')})`)
    process.exit(2)
  }
}

// ---- child processes -------------------------------------------------------
export const now = () => Number(process.hrtime.bigint()) / 1e9
export const sleep = (s) => spawnSync('sleep', [String(s)])
/** Runs a command to completion and returns its stdout; throws on a non-zero exit. `opts` adds spawnSync options (maxBuffer). */
export function sh(cmd, args, env = {}, opts = {}) {
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], ...opts })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`)
  return r.stdout.toString()
}
/** Runs a command with no output kept; true when it exited 0. */
export const quiet = (cmd, args, env = {}) => spawnSync(cmd, args, { env: { ...process.env, ...env }, stdio: 'ignore' }).status === 0

/**
 * A stack of undo steps: push onto `cleanups`, and `cleanupAll()` runs them
 * last first. Installs SIGINT/SIGTERM handlers that run them and exit 130,
 * so an interrupted run leaves nothing behind.
 */
export function trapCleanups() {
  const cleanups = []
  const cleanupAll = () => {
    while (cleanups.length) {
      try {
        cleanups.pop()()
      } catch (err) {
        console.error(`bench: cleanup: ${err.message}`)
      }
    }
  }
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      console.error(`bench: ${sig}, cleaning up`)
      cleanupAll()
      process.exit(130)
    })
  }
  return { cleanups, cleanupAll }
}

// ---- /proc -----------------------------------------------------------------
export const allPids = () => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number)
export function readProc(pid, file) {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8')
  } catch {
    return ''
  }
}
/** root and every process below it. */
export function descendants(root) {
  const kids = new Map()
  for (const p of allPids()) {
    const pp = Number(/^PPid:\s+(\d+)/m.exec(readProc(p, 'status'))?.[1] ?? 0)
    if (!kids.has(pp)) kids.set(pp, [])
    kids.get(pp).push(p)
  }
  const out = [root]
  for (let i = 0; i < out.length; i++) out.push(...(kids.get(out[i]) ?? []))
  return out
}
/** { rss, pss } of one process in KiB, from smaps_rollup (rss falls back to VmRSS). */
export function mem(pid) {
  const s = readProc(pid, 'smaps_rollup')
  const rss = Number(/^Rss:\s+(\d+)/m.exec(s)?.[1] ?? /VmRSS:\s+(\d+)/.exec(readProc(pid, 'status'))?.[1] ?? 0)
  const pss = Number(/^Pss:\s+(\d+)/m.exec(s)?.[1] ?? NaN)
  return { rss, pss }
}
export const memSum = (pids) => pids.map(mem).reduce((a, m) => ({ rss: a.rss + m.rss, pss: a.pss + m.pss }), { rss: 0, pss: 0 })
export const commOf = (pid) => readProc(pid, 'comm').trim()
/** Processes whose command line names one of the container ids: id -> [pid] (conmon, containerd-shim). */
export function monitorsOf(ids) {
  const want = new Set(ids)
  const found = new Map()
  for (const pid of allPids()) {
    if (pid === process.pid) continue
    const id = readProc(pid, 'cmdline').split('\0').find((a) => want.has(a))
    if (!id) continue
    if (!found.has(id)) found.set(id, [])
    found.get(id).push(pid)
  }
  return found
}
let clkTck
const clockTicks = () => (clkTck ??= Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100)
/**
 * CPU seconds from a /proc/PID/stat line: utime + stime, and with
 * `children` also cutime + cstime (children that exited and were waited for).
 */
export function cpuOfStat(stat, { children = false } = {}) {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  if (children) return rest.length > 14 ? (Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14])) / clockTicks() : 0
  return rest.length > 12 ? (Number(rest[11]) + Number(rest[12])) / clockTicks() : 0
}
// The pid that listens on a unix socket path (via /proc/net/unix inodes).
export function listenerOf(sock) {
  const paths = new Set([sock])
  try {
    paths.add(realpathSync(sock))
  } catch {
    // not a symlink chain we can resolve: the path as given
  }
  const inodes = new Set()
  for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    // Num RefCount Protocol Flags Type St Inode Path; Flags 00010000 = listening
    if (f.length >= 8 && f[3] === '00010000' && paths.has(f[7])) inodes.add(`socket:[${f[6]}]`)
  }
  for (const pid of allPids()) {
    let fds = []
    try {
      fds = readdirSync(`/proc/${pid}/fd`)
    } catch {
      continue
    }
    for (const fd of fds) {
      try {
        if (inodes.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return pid
      } catch {
        // the fd closed meanwhile
      }
    }
  }
  return undefined
}
/** listenerOf, failing when nothing listens. */
export function listenerPid(sock) {
  const pid = listenerOf(sock)
  if (!pid) throw new Error(`bench: no process listens on ${sock}`)
  return pid
}
/** A free TCP port on 127.0.0.1 (whoever binds it next must do so soon). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

// ---- engines ---------------------------------------------------------------
const alive = (sock, env) => !!docker && existsSync(sock) && quiet(docker, ['version'], env)

/**
 * The engines answering here, keyed berth, docker, podman (in that order):
 * { name, cli, env, sock } (podman: no sock). `env` is added to the docker
 * CLI's environment for berth and docker; podman counts as present when
 * `podman <podmanProbe>` exits 0. Exits 1 when berthd does not answer.
 */
export function findDaemons({ env = {}, podmanProbe = ['version'] } = {}) {
  const berthEnv = { DOCKER_HOST: `unix://${berthSock}`, ...env }
  const dockerEnv = { DOCKER_HOST: `unix://${dockerSock}`, ...env }
  const daemons = {}
  if (alive(berthSock, berthEnv)) daemons.berth = { name: 'berth', cli: docker, env: berthEnv, sock: berthSock }
  // a quick run needs no reference engine: it never looks for one
  if (!quickMode && alive(dockerSock, dockerEnv)) daemons.docker = { name: 'docker', cli: docker, env: dockerEnv, sock: dockerSock }
  if (!quickMode && quiet('podman', podmanProbe)) daemons.podman = { name: 'podman', cli: 'podman', env: {} }
  if (!daemons.berth) {
    console.error(`bench: berthd is not answering on ${berthSock}; run scripts/setup first`)
    process.exit(1)
  }
  return { daemons, berthEnv, dockerEnv }
}
/** The server's version (podman: the client's, it has no server) through d.run. */
export const versionOf = (d) => d.run('version', '--format', d.name === 'podman' ? '{{.Client.Version}}' : '{{.Server.Version}}').trim()

/**
 * The columns every bench prints — berth through the docker CLI and through
 * its own CLI, docker, podman — as BENCH_ENGINES picks them, with `d.run` and
 * `d.version` set on each engine; `used` is the engines that have a column.
 */
export function engineColumns({ daemons, berthEnv, dockerEnv, podmanFlags = [], run = sh }) {
  const columns = pick([
    { name: 'berth', title: 'berth (docker CLI)', daemon: daemons.berth, cli: docker, env: berthEnv, flags: [] },
    { name: 'berth-cli', title: 'berth (berth CLI)', daemon: daemons.berth, cli: berthCli, env: { BERTH_HOST: `unix://${berthSock}` }, flags: [] },
    daemons.docker && { name: 'docker', title: 'docker', daemon: daemons.docker, cli: docker, env: dockerEnv, flags: [] },
    daemons.podman && { name: 'podman', title: 'podman', daemon: daemons.podman, cli: 'podman', env: {}, flags: podmanFlags },
  ].filter(Boolean))
  for (const d of Object.values(daemons)) {
    d.run = (...args) => run(d.cli, args, d.env)
    d.version = versionOf(d)
  }
  return { columns, used: [...new Set(columns.map((c) => c.daemon))] }
}

// ---- statistics ------------------------------------------------------------
/** The upper median; undefined for no values. */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
/** "median (min–max)" of xs with fmt; — for none. */
export const spread = (xs, fmt) => (xs?.length ? `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})` : '—')
/** A number for a table: one decimal from 10 up, `digits` below; — for none. */
export const formatter = (digits) => (v) => (v === undefined || Number.isNaN(v) ? '—' : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(digits))
export const ratio = (a, b, digits = 2) => (a !== undefined && b ? (a / b).toFixed(digits) : '—')
/** A goal's verdict for berth's value v against the reference ref. */
export const judge = (v, ref, ok) => (v === undefined || ref === undefined ? 'no data' : ok(v, ref) ? '**met**' : '**not met**')

/**
 * The table of engine.js and registry.js: one row per metric of `order` that
 * has results ({ metric: { column: value } }), the columns, berth's ratios to
 * docker and podman, and the verdict of the metric's target
 * ([text, (row) => met]), "no data" without berth's value or, when the text
 * names docker, docker's. With `samples` ({ metric: { column: [values] } })
 * a cell reads "median (min–max)".
 */
export function resultsTable(results, { cols, order, targets, fmt, ratioDigits, samples = {} }) {
  const lines = [`| metric | ${cols.join(' | ')} | berth/docker | berth/podman | target (berth) |`, `|---|${cols.map(() => '---:').join('|')}|---:|---:|---|`]
  for (const metric of order) {
    const row = results[metric]
    if (!row) continue
    // A target is [label, test], or a list of them (a row judged against several goals).
    const goals = !targets[metric] ? [] : Array.isArray(targets[metric][0]) ? targets[metric] : [targets[metric]]
    const verdict = goals.map(([label, test]) => row.berth === undefined || (label.includes('docker') && !row.docker) ? `${label}: no data` : `${label}: ${test(row) ? '**met**' : '**not met**'}`).join('; ')
    const cell = (c) => (samples[metric]?.[c]?.length > 1 ? spread(samples[metric][c], fmt) : fmt(row[c]))
    lines.push(`| ${metric} | ${cols.map(cell).join(' | ')} | ${ratio(row.berth, row.docker, ratioDigits)} | ${ratio(row.berth, row.podman, ratioDigits)} | ${verdict} |`)
  }
  return lines.join('\n')
}

// ---- the report ------------------------------------------------------------
/** The start of every report's header: when, and on what machine. */
export function machineLine() {
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.arch()
  return `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}; `
}
/** "berth 1.2.3, docker 20.10.24" */
export const versions = (list) => list.map((d) => `${d.name} ${d.version}`).join(', ')
export const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0]
export const loadNote = (atStart) => `load average ${atStart} at the start, ${loadavg()} at the end.`
export const noDockerNote = (present) => (present ? '' : ' dockerd was not running: no docker column.')

/**
 * Rewrites the block between `<!-- NAME:begin` and `<!-- NAME:end -->` in
 * docs/bench.md with `body`. Without that block: with `fresh`, the file
 * becomes fresh + the block; otherwise `section` and the block are appended
 * (to "# Benchmarks" when there is no file).
 */
export function writeDocBlock(name, body, { command, section = '', fresh }) {
  const file = path.join(repo, 'docs/bench.md')
  const block = `<!-- ${name}:begin (written by ${command}; edit the text around it, not this block) -->\n${body}\n<!-- ${name}:end -->`
  const re = new RegExp(`<!-- ${name}:begin[\\s\\S]*?<!-- ${name}:end -->`)
  const old = existsSync(file) ? readFileSync(file, 'utf8') : undefined
  let doc
  if (old !== undefined && re.test(old)) doc = old.replace(re, () => block)
  else if (fresh !== undefined) doc = `${fresh}${block}\n`
  else doc = `${(old ?? '# Benchmarks\n').replace(/\n*$/, '\n')}${section}${block}\n`
  writeFileSync(file, doc)
  console.error(`bench: wrote ${path.relative(process.cwd(), file)}`)
}
