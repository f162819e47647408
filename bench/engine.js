#!/usr/bin/env node
// Engine benchmarks: berthd beside dockerd and podman when they are running,
// with raw `runc run` as the floor. Run on demand (bench/run); never in CI.
// Times are medians of repeated runs, compared in one run because absolute
// times drift on shared machines.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'

const repo = path.resolve(import.meta.dirname, '..')
const reps = Number(process.env.BENCH_REPS ?? 10)
const docker = ['/usr/local/bin/docker', '/usr/bin/docker'].find((p) => existsSync(p))
const berthSock = process.env.BERTH_SOCK ?? '/run/berth/berth.sock'
const dockerSock = process.env.DOCKERD_SOCK ?? '/var/run/docker.sock'

function time(fn) {
  const t = process.hrtime.bigint()
  fn()
  return Number(process.hrtime.bigint() - t) / 1e9
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
function sh(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`)
  return r.stdout.toString()
}
function alive(sock, env) {
  if (!docker || !existsSync(sock)) return false
  return spawnSync(docker, ['version'], { env: { ...process.env, ...env }, stdio: 'ignore' }).status === 0
}

const engines = []
if (alive(berthSock, { DOCKER_HOST: `unix://${berthSock}` })) engines.push({ name: 'berth', cli: docker, env: { DOCKER_HOST: `unix://${berthSock}` } })
if (alive(dockerSock, { DOCKER_HOST: `unix://${dockerSock}` })) engines.push({ name: 'docker', cli: docker, env: { DOCKER_HOST: `unix://${dockerSock}` } })
if (spawnSync('podman', ['image', 'exists', 'busybox']).status === 0) engines.push({ name: 'podman', cli: 'podman', env: {} })
if (!engines.some((e) => e.name === 'berth')) {
  console.error(`bench: berthd is not answering on ${berthSock}; run scripts/setup first`)
  process.exit(1)
}

const results = {}
const put = (metric, engine, v) => ((results[metric] ??= {})[engine] = v)

for (const e of engines) {
  const run = (...args) => sh(e.cli, args, e.env)
  run('run', '--rm', 'busybox', 'true') // warm caches
  put('run --rm busybox true (s)', e.name, median(Array.from({ length: reps }, () => time(() => run('run', '--rm', 'busybox', 'true')))))
  const c = `bench-exec-${process.pid}`
  run('run', '-d', '--name', c, 'busybox', 'sleep', '1d')
  run('exec', c, 'true')
  put('exec true (s)', e.name, median(Array.from({ length: reps }, () => time(() => run('exec', c, 'true')))))
  run('rm', '-f', c)
  const names = Array.from({ length: 50 }, (_, i) => `bench-d-${process.pid}-${i}`)
  put('50 × run -d (s)', e.name, time(() => names.forEach((n) => run('run', '-d', '--name', n, 'busybox', 'sleep', '1d'))))
  if (e.name === 'berth') put('per running container (MiB RSS)', e.name, monitorRss('conmon', names.length))
  if (e.name === 'docker') put('per running container (MiB RSS)', e.name, monitorRss('containerd-shim-runc-v2', names.length))
  if (e.name === 'podman') put('per running container (MiB RSS)', e.name, monitorRss('conmon', names.length))
  run('rm', '-f', ...names)
}

put('idle daemon (MiB RSS)', 'berth', rssOf(['berthd']))
if (engines.some((e) => e.name === 'docker')) put('idle daemon (MiB RSS)', 'docker', rssOf(['dockerd', 'containerd']))

const floor = runcFloor()
if (floor) put('run --rm busybox true (s)', 'runc run (floor)', floor)

function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) : 0
}
function pidsOf(comm) {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      const c = readFileSync(`/proc/${p}/comm`, 'utf8').trim()
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8')
      return c === comm || (comm === 'berthd' && cmd.includes('berthd'))
    } catch {
      return false
    }
  }).map(Number)
}
function rssOf(comms) {
  return comms.flatMap(pidsOf).reduce((s, p) => s + rssKiB(p), 0) / 1024
}
function monitorRss(comm, n) {
  const pids = pidsOf(comm)
  return pids.length ? pids.reduce((s, p) => s + rssKiB(p), 0) / 1024 / Math.max(n, 1) : NaN
}
function runcFloor() {
  if (spawnSync('runc', ['--version']).status !== 0) return undefined
  const dir = mkdtempSync('/tmp/bench-runc-')
  try {
    execFileSync('sh', ['-c', `mkdir -p ${dir}/rootfs && "${repo}/scripts/busybox-rootfs" | tar -x -C ${dir}/rootfs && cd ${dir} && runc spec`])
    const spec = JSON.parse(readFileSync(`${dir}/config.json`, 'utf8'))
    spec.process.terminal = false
    spec.process.args = ['true']
    writeFileSync(`${dir}/config.json`, JSON.stringify(spec))
    return median(Array.from({ length: reps }, (_, i) => time(() => sh('runc', ['run', '--bundle', dir, `bench-floor-${process.pid}-${i}`]))))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const targets = {
  'run --rm busybox true (s)': 'berth ≤ 0.3 × docker',
  'exec true (s)': 'berth ≤ 0.5 × docker',
  'per running container (MiB RSS)': 'berth ≤ 2 MiB',
  'idle daemon (MiB RSS)': 'berth ≤ 0.6 × dockerd + containerd',
}
const cols = ['berth', 'docker', 'podman', 'runc run (floor)']
const fmt = (v) => (v === undefined || Number.isNaN(v) ? '—' : v.toFixed(3))
const lines = [`| metric | ${cols.join(' | ')} | berth/docker | target |`, `|---|${cols.map(() => '---:').join('|')}|---:|---|`]
for (const [metric, row] of Object.entries(results)) {
  const ratio = row.berth !== undefined && row.docker ? (row.berth / row.docker).toFixed(2) : '—'
  lines.push(`| ${metric} | ${cols.map((c) => fmt(row[c])).join(' | ')} | ${ratio} | ${targets[metric] ?? ''} |`)
}
const table = lines.join('\n')
console.log(table)
if (process.env.BENCH_WRITE !== '0') {
  writeFileSync(path.join(repo, 'docs/bench.md'), `# Benchmarks\n\nMedians of ${reps} runs on ${new Date().toISOString().slice(0, 10)}, same machine, same run (bench/run).\n\n${table}\n`)
}
