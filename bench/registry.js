#!/usr/bin/env node
// Registry benchmark (issue 3): push and pull of a ~200 MB, 5-layer image
// through a loopback registry, berthd beside dockerd and podman in the same
// run. Run on demand (`bench/run registry`, or `bench/run` for every bench);
// never in CI. Set the reference engines up first with bench/setup.
//
// How to read the numbers
// -----------------------
// * The image is written here as a docker-archive (`docker save` format) and
//   loaded into every engine, so each starts from the same bytes, offline:
//   5 layers of 40 MiB uncompressed (200 MiB), each 20 MiB of random data
//   (incompressible), 16 MiB of text drawn from a skewed vocabulary (gzip
//   ≈ 3:1, like source and docs) and 1000 small 4 KiB text files (per-file
//   unpack cost). About 145 MB once gzipped; the "pushed" row says how
//   much each engine's gzip made of it.
// * The registry is Debian's docker-registry (distribution 2.8) on
//   127.0.0.1:<free port> with its own config: filesystem storage in a temp
//   dir, no auth, no blob-descriptor cache. Every push goes to a registry
//   started for it (new port, empty storage), so every push uploads every
//   byte: no blob is already there, and no cross-repository mount is possible
//   (docker and berth only mount from repositories of a registry they know
//   the blob from; a new port is a new registry to them).
// * Per repetition, each engine in turn (so drift hits them equally):
//     load the archive (informational) → tag → push to registry A
//     ("push, image from load": every engine compresses its layers now)
//     → rmi -f the image (every tag) and prune → pull from A (the script fails
//     if the pull finds any layer already present, or if berth kept a blob)
//     → tag → push to a fresh registry B ("push, image from pull": berth reuses
//     the gzip blobs the pull stored; docker and podman compress again)
//     → rmi -f, prune.
//   `sync` runs before every timed step so one engine's writeback does not
//   land in the next one's time. Times are wall-clock seconds of one CLI
//   invocation, medians of BENCH_REPS (default 10), after one untimed cycle
//   per engine. berth and docker are both driven by the same docker CLI
//   binary (DOCKER_HOST); podman by its own CLI with --tls-verify=false.
// * Memory and CPU of each step: the daemon and its descendants (berthd and
//   its tar children; dockerd, its containerd and docker-untar re-execs).
//   Peak RSS is the highest of their summed RSS sampled every 100 ms and the
//   daemon's own VmHWM (reset through /proc/PID/clear_refs before the step);
//   CPU is user + system seconds of that tree, children that exited during
//   the step included. "pull: RSS before" is the tree just before the pull.
//   podman has no daemon: its rows are the podman process (RSS sampled; CPU
//   from its parent shell's cutime/cstime). Medians over the repetitions.
// * Phases: after the timed repetitions, one more push and pull per daemon,
//   the pull through the Engine API with every progress message timestamped:
//   when the manifest came back, when each layer finished downloading, when
//   it started and finished extracting. berth's "Extracting" counts the
//   compressed bytes read from the stored blob, which is gunzipped straight
//   into overlay2 as docker does (one pass); the gap from its last
//   "Extracting" to "Pull complete" is the end of that unpack and recording.
// * Target (issue 3): berth pulls at least as fast as docker
//   (pull time ≤ 1.0 × docker's).
// * Cells read "median (min–max)".
// * `--quick` (2 layers of about 0.5 MiB, 2 repetitions, no phases, berthd
//   only, docs/bench.md untouched) only checks that the bench completes;
//   without Debian's docker-registry it serves the registry with
//   `berth registry serve`.
//
// Environment: BENCH_REPS (10), BERTH_SOCK (/run/berth/berth.sock),
// DOCKERD_SOCK (/var/run/docker.sock), BENCH_WRITE=0 to not touch
// docs/bench.md, BENCH_ENGINES=berth,docker,podman to choose engines,
// BENCH_PHASES=0 to skip the phase pulls.
import { spawn, spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import {
  berthCli, checkArgs, cpuOfStat, descendants, envReps, findDaemons, formatter, freePort, listenerPid, loadavg, loadNote, machineLine, median, noDockerNote, now,
  pick, quickMode, quiet, readProc, resultsTable, sh as shell, trapCleanups, versionOf, versions, writeDocBlock, writeWanted,
} from './lib.js'

checkArgs('registry.js')
const reps = envReps(quickMode ? 2 : 10)
const phasesWanted = process.env.BENCH_PHASES !== '0' && !quickMode
const MiB = 1024 * 1024
// --quick: 2 layers of 4 × 64 KiB random, 4 × 64 KiB text and 20 small files
const LAYERS = quickMode ? 2 : 5
const [CHUNK, SMALL_FILES] = quickMode ? [64 * 1024, 20] : [5 * MiB, 1000]
// A quick run without Debian's docker-registry serves the registry with `berth registry serve`.
const berthRegistry = quickMode && spawnSync('docker-registry', ['--version']).status !== 0
const REPO_TAG = 'bench/pushpull:latest'
const LABEL = 'berth.bench=registry'
// saved images and pushes print a lot (spawnSync's default keeps 1 MiB)
const sh = (cmd, args, env = {}) => shell(cmd, args, env, { maxBuffer: 64 * MiB })

// ---- cleanup of everything this script starts ---------------------------
const { cleanups, cleanupAll } = trapCleanups()

// ---- processes -----------------------------------------------------------
const pageKiB = 4
const rssKiB = (pid) => Number(readProc(pid, 'statm').split(' ')[1] ?? 0) * pageKiB
// utime + stime + cutime + cstime, in seconds
const cpuOf = (stat) => cpuOfStat(stat, { children: true })
function treeUsage(root) {
  const pids = descendants(root)
  return {
    rss: pids.reduce((a, p) => a + rssKiB(p), 0) / 1024,
    cpu: pids.reduce((a, p) => a + cpuOf(readProc(p, 'stat')), 0),
  }
}

// ---- the image: a docker-archive written here -----------------------------
function tarHeader(name, size, type = '0', mode = 0o644) {
  const b = Buffer.alloc(512)
  if (Buffer.byteLength(name) > 99) throw new Error(`tar name too long: ${name}`)
  b.write(name, 0, 100, 'utf8')
  b.write(mode.toString(8).padStart(7, '0'), 100)
  b.write('0000000', 108)
  b.write('0000000', 116)
  b.write(size.toString(8).padStart(11, '0'), 124)
  b.write(Math.floor(Date.UTC(2024, 0, 1) / 1000).toString(8).padStart(11, '0'), 136)
  b.write('        ', 148)
  b.write(type, 156)
  b.write('ustar\u000000', 257)
  b.write('root', 265)
  b.write('root', 297)
  let sum = 0
  for (const x of b) sum += x
  b.write(sum.toString(8).padStart(6, '0') + '\u0000 ', 148)
  return b
}
const pad = (n) => Buffer.alloc((512 - (n % 512)) % 512)

// Text that gzips like prose or source (≈3:1): words from a fixed vocabulary, Zipf-like skew.
function textGenerator(seed) {
  let s = seed >>> 0 || 1
  const rnd = () => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s / 2 ** 32
  }
  const letters = 'etaoinshrdlcumwfgypbvkjxqz'
  const vocab = Array.from({ length: 4096 }, () => {
    const n = 2 + Math.floor(rnd() * 9)
    let w = ''
    for (let i = 0; i < n; i++) w += letters[Math.floor(rnd() ** 1.5 * letters.length)]
    return Buffer.from(w)
  })
  return (size) => {
    const out = Buffer.alloc(size)
    let off = 0
    let col = 0
    while (off < size) {
      const w = vocab[Math.floor(rnd() ** 3 * vocab.length)]
      const sep = col > 72 ? 10 : 32
      col = sep === 10 ? 0 : col + w.length + 1
      off += w.copy(out, off)
      if (off < size) out[off++] = sep
    }
    return out
  }
}

function layerTar(i) {
  const text = textGenerator(0x9e3779b9 ^ (i + 1))
  const parts = []
  const dir = (name) => parts.push(tarHeader(name, 0, '5', 0o755))
  const file = (name, data) => parts.push(tarHeader(name, data.length), data, pad(data.length))
  dir('bench/')
  dir(`bench/l${i}/`)
  for (let k = 0; k < 4; k++) file(`bench/l${i}/random-${k}.bin`, randomBytes(CHUNK))
  for (let k = 0; k < 4; k++) file(`bench/l${i}/text-${k}.txt`, text((CHUNK * 4) / 5))
  dir(`bench/l${i}/small/`)
  for (let k = 0; k < SMALL_FILES; k++) file(`bench/l${i}/small/f${k}.txt`, text(4096))
  parts.push(Buffer.alloc(1024))
  return Buffer.concat(parts)
}

// Writes the archive to file; returns the image ID (sha256 of the config) and its size.
function writeArchive(file) {
  const fd = openSync(file, 'w')
  const put = (name, data) => {
    writeSync(fd, tarHeader(name, data.length))
    writeSync(fd, data)
    writeSync(fd, pad(data.length))
  }
  const diffIds = []
  const layerPaths = []
  let bytes = 0
  for (let i = 0; i < LAYERS; i++) {
    const tar = layerTar(i)
    const hex = createHash('sha256').update(tar).digest('hex')
    diffIds.push(`sha256:${hex}`)
    layerPaths.push(`${hex}/layer.tar`)
    writeSync(fd, tarHeader(`${hex}/`, 0, '5', 0o755))
    put(`${hex}/VERSION`, Buffer.from('1.0'))
    put(`${hex}/layer.tar`, tar)
    bytes += tar.length
  }
  const created = '2024-01-01T00:00:00Z'
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created,
    config: { Cmd: ['sh'], Labels: { [LABEL.split('=')[0]]: LABEL.split('=')[1] } },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map((_, i) => ({ created, created_by: `bench layer ${i}` })),
  }))
  const id = createHash('sha256').update(config).digest('hex')
  put(`${id}.json`, config)
  put('manifest.json', Buffer.from(JSON.stringify([{ Config: `${id}.json`, RepoTags: [REPO_TAG], Layers: layerPaths }])))
  writeSync(fd, Buffer.alloc(1024))
  closeSync(fd)
  return { id: `sha256:${id}`, diffIds, bytes }
}

// ---- registries -----------------------------------------------------------
const sleepMs = (ms) => new Promise((r) => setTimeout(r, ms))

// A docker-registry of its own on a free loopback port with empty storage; stop() kills it and removes its data.
async function startRegistry(tmp) {
  const port = await freePort()
  const dir = mkdtempSync(path.join(tmp, `registry-${port}-`))
  const cfg = path.join(dir, 'config.yml')
  mkdirSync(path.join(dir, 'data'))
  writeFileSync(cfg, [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${path.join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '',
  ].join('\n'))
  const child = berthRegistry
    ? spawn(berthCli, ['registry', 'serve', '--addr', `127.0.0.1:${port}`, '--root', path.join(dir, 'data')], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn('docker-registry', ['serve', cfg], { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  child.stderr.on('data', (c) => (err = (err + c).slice(-2000)))
  let stopped = false
  const stop = () => {
    if (stopped) return
    stopped = true
    if (child.exitCode === null) child.kill('SIGTERM')
    rmSync(dir, { recursive: true, force: true })
  }
  cleanups.push(stop)
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break
    try {
      const r = await fetch(`http://127.0.0.1:${port}/v2/`)
      if (r.status === 200) return { host: `127.0.0.1:${port}`, stop }
    } catch {
      // not listening yet
    }
    await sleepMs(50)
  }
  stop()
  throw new Error(`bench: ${berthRegistry ? 'berth registry serve' : 'docker-registry'} did not start on 127.0.0.1:${port}: ${err}`)
}

async function manifestOf(host, name) {
  const r = await fetch(`http://${host}/v2/${name}/manifests/latest`, {
    headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' },
  })
  if (!r.ok) throw new Error(`bench: manifest ${host}/${name}: ${r.status}`)
  return r.json()
}

// ---- engines -------------------------------------------------------------
const { daemons } = findDaemons()
if (daemons.podman) daemons.podman.tls = ['--tls-verify=false']
if (!berthRegistry && spawnSync('docker-registry', ['--version']).status !== 0) {
  console.error('bench: docker-registry is not installed; run bench/setup first')
  process.exit(1)
}
const engines = pick(Object.values(daemons))
for (const e of engines) {
  e.run = (...args) => sh(e.cli, args, e.env)
  e.version = versionOf(e)
  if (e.sock) e.pid = listenerPid(e.sock)
}
const berthRoot = engines.find((e) => e.name === 'berth')?.run('info', '--format', '{{.DockerRootDir}}').trim()
console.error(`bench: engines ${engines.map((e) => `${e.name} ${e.version}${e.pid ? ` (pid ${e.pid})` : ''}`).join(', ')}; ${reps} reps`)

function removeImage(e, id) {
  spawnSync(e.cli, ['rmi', '-f', id], { env: { ...process.env, ...e.env }, stdio: 'ignore' })
  spawnSync(e.cli, ['image', 'prune', '-f', '--filter', `label=${LABEL}`], { env: { ...process.env, ...e.env }, stdio: 'ignore' })
  if (quiet(e.cli, ['image', 'inspect', id], e.env)) throw new Error(`bench: ${e.name}: image ${id} still there after rmi -f`)
}

/**
 * Runs one CLI command, timing it while sampling the RSS of the daemon's
 * process tree (or, without a daemon, of the command's own tree).
 */
async function measured(e, args) {
  spawnSync('sync')
  const before = e.pid ? treeUsage(e.pid) : { rss: 0, cpu: 0 }
  // Reset the daemon's VmHWM (clear_refs 5), so it then holds this step's peak.
  if (e.pid) writeFileSync(`/proc/${e.pid}/clear_refs`, '5')
  // Without a daemon the work happens in the CLI: a shell around it reports its children's CPU time after it exits.
  const argv = e.pid ? [e.cli, args] : ['sh', ['-c', '"$@"; s=$?; cat /proc/$$/stat >&3; exit $s', 'sh', e.cli, ...args]]
  const t0 = now()
  const child = spawn(argv[0], argv[1], { env: { ...process.env, ...e.env }, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] })
  const root = e.pid ?? child.pid
  let out = ''
  let stat = ''
  child.stdout.on('data', (c) => (out += c))
  child.stderr.on('data', (c) => (out += c))
  child.stdio[3].on('data', (c) => (stat += c))
  let peak = 0
  const sample = () => {
    peak = Math.max(peak, treeUsage(root).rss)
  }
  const timer = setInterval(sample, 100)
  sample()
  const code = await new Promise((resolve) => child.on('close', resolve))
  const secs = now() - t0
  clearInterval(timer)
  if (code !== 0) throw new Error(`bench: ${e.name}: ${e.cli} ${args.join(' ')}: exit ${code}: ${out.slice(-2000)}`)
  // The daemon's own high-water mark catches a peak between two samples.
  if (e.pid) peak = Math.max(peak, Number(/^VmHWM:\s+(\d+)/m.exec(readProc(e.pid, 'status'))?.[1] ?? 0) / 1024)
  const cpu = e.pid ? treeUsage(e.pid).cpu - before.cpu : cpuOf(stat)
  return { secs, out, peak, before: e.pid ? before.rss : undefined, cpu }
}

// ---- phases: one pull through the Engine API, every message timestamped ---
function apiPull(sock, ref) {
  return new Promise((resolve, reject) => {
    const [name, tag] = [ref.slice(0, ref.lastIndexOf(':')), ref.slice(ref.lastIndexOf(':') + 1)]
    const events = []
    const t0 = now()
    const req = http.request({
      socketPath: sock,
      method: 'POST',
      path: `/v1.41/images/create?fromImage=${encodeURIComponent(name)}&tag=${encodeURIComponent(tag)}`,
      headers: { 'X-Registry-Auth': 'e30=' },
    }, (res) => {
      let buf = ''
      res.setEncoding('utf8')
      res.on('data', (c) => {
        const t = now() - t0
        buf += c
        let nl
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim()
          buf = buf.slice(nl + 1)
          if (!line) continue
          const m = JSON.parse(line)
          if (m.error) return reject(new Error(`bench: pull ${ref}: ${m.error}`))
          events.push({ t, status: m.status ?? '', id: m.id })
        }
      })
      res.on('end', () => (res.statusCode === 200 ? resolve({ total: now() - t0, events }) : reject(new Error(`bench: pull ${ref}: HTTP ${res.statusCode} ${buf}`))))
    })
    req.on('error', reject)
    req.end()
  })
}

function phasesOf({ total, events }) {
  const layers = new Map()
  const at = (id) => layers.get(id) ?? layers.set(id, {}).get(id)
  let manifest
  for (const ev of events) {
    if (ev.status.startsWith('Pulling from')) manifest ??= ev.t
    if (!ev.id || ev.status.startsWith('Pulling from')) continue
    const l = at(ev.id)
    if (ev.status === 'Pulling fs layer') l.queued ??= ev.t
    else if (ev.status === 'Downloading') l.dl0 ??= ev.t
    else if (ev.status === 'Download complete') l.dl1 = ev.t
    else if (ev.status === 'Extracting') {
      l.ex0 ??= ev.t
      l.exLast = ev.t
    } else if (ev.status === 'Pull complete') l.done = ev.t
  }
  return { total, manifest, layers: [...layers.entries()].filter(([, l]) => l.done !== undefined) }
}

// ---- the run -------------------------------------------------------------
const results = {}
const samples = {}
const add = (metric, engine, v) => (((samples[metric] ??= {})[engine] ??= []).push(v))
const phaseRuns = {}
const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-registry-'))
cleanups.push(() => rmSync(tmp, { recursive: true, force: true }))
let image
const loadAtStart = loadavg()

try {
  const archive = path.join(tmp, 'image.tar')
  const t0 = now()
  image = writeArchive(archive)
  console.error(`bench: wrote a ${LAYERS}-layer archive of ${(image.bytes / MiB).toFixed(0)} MiB (layers) in ${(now() - t0).toFixed(1)} s; image ${image.id.slice(7, 19)}`)
  for (const e of engines) {
    removeImage(e, image.id) // leftovers of an interrupted run
    cleanups.push(() => spawnSync(e.cli, ['rmi', '-f', image.id], { env: { ...process.env, ...e.env }, stdio: 'ignore' }))
  }

  // One engine's turn: load, push (image from load), remove, pull, push again (image from pull), remove.
  // Untimed (phases): load, push, remove; the caller pulls from the registry returned and stops it.
  const cycle = async (e, n, { timedRun }) => {
    const name = `bench/${e.name}-${n}`
    const tls = e.tls ?? []
    const steps = {}
    steps.load = await measured(e, ['load', '-i', archive])
    const a = await startRegistry(tmp)
    try {
      e.run('tag', image.id, `${a.host}/${name}:latest`)
      steps.pushLoad = await measured(e, ['push', ...tls, `${a.host}/${name}:latest`])
      const pushed = await manifestOf(a.host, name)
      steps.pushedBytes = pushed.layers.reduce((sum, l) => sum + l.size, 0)
      removeImage(e, image.id)
      if (e.name === 'berth') {
        const kept = [...pushed.layers.map((l) => l.digest), ...image.diffIds].filter((d) => existsSync(path.join(berthRoot, 'blobs/sha256', d.slice(7))))
        if (kept.length) throw new Error(`bench: berth kept ${kept.length} blobs after rmi -f; the pull would not download them`)
      }
      if (!timedRun) return { registry: a, name }
      steps.pull = await measured(e, ['pull', ...tls, `${a.host}/${name}:latest`])
      if (/already exists/i.test(steps.pull.out)) throw new Error(`bench: ${e.name}: the pull found layers already present:\n${steps.pull.out}`)
      const b = await startRegistry(tmp)
      try {
        e.run('tag', image.id, `${b.host}/${name}:latest`)
        steps.pushPull = await measured(e, ['push', ...tls, `${b.host}/${name}:latest`])
        return steps
      } finally {
        b.stop()
        removeImage(e, image.id)
      }
    } finally {
      if (timedRun) a.stop()
    }
  }

  const what = { pull: 'pull', pushLoad: 'push, image from load', pushPull: 'push, image from pull', load: 'load the docker-archive' }
  // warm-up: one untimed cycle per engine (a quick run goes straight to its two)
  if (!quickMode) for (const e of engines) await cycle(e, 'warm', { timedRun: true })
  for (let n = 0; n < reps; n++) {
    for (const e of engines) {
      const r = await cycle(e, n, { timedRun: true })
      for (const [k, label] of Object.entries(what)) {
        add(`${label} (s)`, e.name, r[k].secs)
        add(`${label}: CPU (s)`, e.name, r[k].cpu)
        add(`${label}: peak RSS (MiB)`, e.name, r[k].peak)
      }
      if (r.pull.before !== undefined) add('pull: RSS before (MiB)', e.name, r.pull.before)
      add('pushed layers, gzipped (MB)', e.name, r.pushedBytes / 1e6)
      console.error(`bench: rep ${n + 1}/${reps} ${e.name}: ` + Object.entries(what).map(([k, label]) =>
        `${label} ${r[k].secs.toFixed(2)} s (cpu ${r[k].cpu.toFixed(2)} s, peak ${r[k].peak.toFixed(0)} MiB)`).join('; '))
    }
  }
  for (const [metric, byEngine] of Object.entries(samples)) {
    for (const [engine, xs] of Object.entries(byEngine)) (results[metric] ??= {})[engine] = median(xs)
  }

  if (phasesWanted) {
    for (const e of engines.filter((x) => x.sock)) {
      const { registry, name } = await cycle(e, 'phases', { timedRun: false })
      try {
        spawnSync('sync')
        phaseRuns[e.name] = phasesOf(await apiPull(e.sock, `${registry.host}/${name}:latest`))
      } finally {
        registry.stop()
        removeImage(e, image.id)
      }
    }
  }
} finally {
  cleanupAll()
}

// ---- report --------------------------------------------------------------
const cols = ['berth', 'docker', 'podman']
const fmt = formatter(2)
const order = [
  'pull (s)',
  'push, image from load (s)',
  'push, image from pull (s)',
  'load the docker-archive (s)',
  'pushed layers, gzipped (MB)',
  'pull: CPU (s)',
  'push, image from load: CPU (s)',
  'push, image from pull: CPU (s)',
  'load the docker-archive: CPU (s)',
  'pull: RSS before (MiB)',
  'pull: peak RSS (MiB)',
  'push, image from load: peak RSS (MiB)',
  'push, image from pull: peak RSS (MiB)',
  'load the docker-archive: peak RSS (MiB)',
]
const targets = { 'pull (s)': ["≤ 1.0 × docker (throughput ≥ docker's)", (r) => r.berth <= r.docker] }
const table = resultsTable(results, { cols, order, targets, fmt, ratioDigits: 2, samples })

// Per layer: download done, extract start/end, pull complete (s after the request).
const phaseLines = []
for (const [engine, p] of Object.entries(phaseRuns)) {
  const ls = p.layers
  const dlDone = Math.max(...ls.map(([, l]) => l.dl1 ?? 0))
  const extracting = ls.reduce((a, [, l]) => a + ((l.done ?? 0) - (l.ex0 ?? l.done ?? 0)), 0)
  const gunzip = ls.reduce((a, [, l]) => a + ((l.exLast ?? 0) - (l.ex0 ?? 0)), 0)
  phaseLines.push(`| ${engine} | ${fmt(p.total)} | ${fmt(p.manifest)} | ${fmt(dlDone)} | ${fmt(extracting)} | ${engine === 'berth' ? `${fmt(gunzip)} + ${fmt(extracting - gunzip)}` : '—'} | ` +
    `${ls.map(([, l]) => `${fmt(l.dl1)}/${fmt(l.ex0)}/${fmt(l.done)}`).join(', ')} |`)
}
const phaseTable = phaseLines.length
  ? ['| engine | pull total | manifest | all downloaded | Σ extracting → pull complete | berth: Σ Extracting + Σ after it | per layer: downloaded / extract start / complete |',
      '|---|---:|---:|---:|---:|---:|---|', ...phaseLines].join('\n')
  : ''
const regV = berthRegistry ? undefined : /v?(\d+\.\d+\.\d+\S*)/.exec(spawnSync('docker-registry', ['--version']).stdout?.toString() ?? '')?.[1]
const machine = machineLine() +
  `${versions(engines)}${regV ? `, docker-registry ${regV}` : ''}${berthRegistry ? ', registry: berth registry serve' : ''}; image ${LAYERS} × ${(image.bytes / LAYERS / MiB).toFixed(0)} MiB layers; ` +
  `medians (min–max) of ${reps} interleaved runs (bench/run registry${quickMode ? ' --quick' : ''}); ${loadNote(loadAtStart)}` + noDockerNote(engines.some((e) => e.name === 'docker'))
const phaseText = phaseTable ? `\n\nOne more pull per daemon, through the Engine API (seconds after the request):\n\n${phaseTable}` : ''
console.log(`${machine}\n\n${table}${phaseText}`)
if (writeWanted(quickMode)) {
  writeDocBlock('bench-registry', `${machine}\n\n${table}${phaseText}`, {
    command: 'bench/run registry',
    section: '\n## Registry: push and pull\n\nRun `bench/setup`, then `bench/run registry`; the header of bench/registry.js says how each number is taken.\n\n',
  })
}
