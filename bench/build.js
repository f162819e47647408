#!/usr/bin/env node
// Build benchmark (issue 4): a reference Dockerfile built with docker's
// classic builder semantics, berthd beside dockerd and podman in the same
// run. Run on demand (`bench/run build`, or `bench/run` for every bench);
// never in CI. Set the reference engines up first with bench/setup.
//
// How to read the numbers
// -----------------------
// * The context is written here, in a temp dir, once per run: 4 files of
//   10 MiB random data (incompressible), 3000 small text files of 1–4 KiB in
//   30 directories, and the Dockerfile: about 50 MB. The Dockerfile is
//       FROM busybox
//       LABEL berth.bench=build      (every step image carries it: cleanup)
//       RUN  create files (4 MiB from /dev/urandom and a stamp)
//       RUN  a shell loop (20000 iterations of arithmetic)
//       RUN  create 2000 small files
//       COPY . /app/
//       CMD ["sh"]
//   busybox is each engine's own import of scripts/busybox-rootfs (imported
//   here with CMD ["sh"] where an engine has none).
// * Columns: "berth (docker CLI)" is berthd driven by the docker CLI 28 with
//   DOCKER_BUILDKIT=0 (the same binary and the same context tar as the docker
//   column); "berth (berth CLI)" is the same berthd driven by `berth build`;
//   "docker" is dockerd 20.10 with DOCKER_BUILDKIT=0 (the classic builder);
//   "podman" is `podman build --format docker` (buildah, its own layer cache;
//   no daemon, it reads the context directory in place).
// * Per repetition each column takes its turn (so drift hits them equally),
//   and a turn is three builds, each timed end to end (one CLI invocation):
//     1. cold: every image of earlier bench builds is removed from that
//        engine first (tags, step images, dangling ones: all carry the
//        label), then `build --no-cache`; the script fails if the output says
//        "Using cache" anywhere;
//     2. fully cached: the same build again, nothing changed; the script
//        fails unless every step after FROM says "Using cache";
//     3. one file changed: one small file the COPY includes gets new content
//        of the same size (never seen before by any engine, so the COPY
//        misses), then the same build; the script fails unless exactly the
//        LABEL and the three RUN steps come from the cache.
//   `sync` runs before every build so one engine's writeback does not land
//   in the next one's time. Times are medians of BENCH_REPS (default 10),
//   after one untimed warm-up build per column.
// * Phases, from the CLI's output as it arrives: "sent" is when the CLI
//   printed "Sending build context to Docker daemon" (it does when the tar
//   it streams has ended: creating and uploading the context, during which
//   the daemon unpacks it), "step 1" is when "Step 1/7 : FROM busybox"
//   arrived (the daemon has unpacked the context and read the Dockerfile;
//   podman: "STEP 1/7"), "total" is when the CLI exited. Medians, each on
//   its own.
// * The clients alone: each repetition also times `docker build` and
//   `berth build` of the same context against a server on a unix socket of
//   this script's that answers /_ping and /version, reads the whole POST
//   /build body and throws it away ("send the context to a discarding
//   server"): what walking the directory, making the tar and writing it to
//   the socket cost each CLI, with no daemon to wait for.
// * In the last repetition each column's final image is run once and must
//   hold the context's 3005 files, the changed file's new content and the
//   loop's result.
// * Cells of the first table read "median (min–max)".
// * `--quick` (a 0.1 MB context of 12 files, lighter RUN steps, one
//   repetition after the warm-up, berthd through the docker CLI only,
//   docs/bench.md untouched) only checks that the bench completes.
// * Target (issue 4): berth's fully cached rebuild at most docker's
//   (≤ 1.0 ×), judged on the docker-CLI column (same client as docker); the
//   berth-CLI column is reported beside it.
//
// Environment: BENCH_REPS (10), BERTH_SOCK (/run/berth/berth.sock),
// DOCKERD_SOCK (/var/run/docker.sock), BENCH_WRITE=0 to not touch
// docs/bench.md, BENCH_ENGINES=berth,berth-cli,docker,podman to choose
// columns.
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import {
  berthCli, checkArgs, docker, engineColumns, envReps, findDaemons, formatter, judge, loadavg, loadNote, machineLine, median as upperMedian, noDockerNote, now, quickMode, quiet, ratio, spread, repo, sh as shell, trapCleanups, versions, writeDocBlock, writeWanted,
} from './lib.js'

checkArgs('build.js')
const reps = envReps(quickMode ? 1 : 10)
const MiB = 1024 * 1024
const LABEL = 'berth.bench=build'
// --quick: a context of 1 × 64 KiB and 2 × 5 small files, a 200-iteration loop, 20 files made
const BIG_FILES = quickMode ? 1 : 4
const BIG_SIZE = quickMode ? 64 * 1024 : 10 * MiB
const SMALL_DIRS = quickMode ? 2 : 30
const SMALL_PER_DIR = quickMode ? 5 : 100
const TOUCHED = quickMode ? 'small/d01/f002.txt' : 'small/d15/f050.txt'
const LOOP = quickMode ? 200 : 20000
const MADE = quickMode ? 20 : 2000
// Files COPY puts under /app: the big ones, the small ones, the Dockerfile.
const CONTEXT_FILES = BIG_FILES + SMALL_DIRS * SMALL_PER_DIR + 1
const DOCKERFILE = [
  'FROM busybox',
  `LABEL ${LABEL}`,
  `RUN mkdir -p /work && dd if=/dev/urandom of=/work/random.bin bs=1M count=${quickMode ? 1 : 4} 2>/dev/null && echo built > /work/stamp`,
  `RUN i=0; s=0; while [ $i -lt ${LOOP} ]; do s=$((s + i)); i=$((i + 1)); done; echo $s > /work/sum`,
  `RUN mkdir -p /work/many && cd /work/many && for i in $(seq 1 ${MADE}); do echo "file $i" > f$i.txt; done`,
  'COPY . /app/',
  'CMD ["sh"]',
  '',
].join('\n')
// Steps after FROM, and how many of them a build after the one-file change takes from the cache (LABEL + 3 RUN).
const STEPS = DOCKERFILE.trim().split('\n').length - 1
const CACHED_AFTER_TOUCH = 4

// a phase the CLI's output never showed is undefined and left out
const median = (xs) => upperMedian(xs.filter((x) => x !== undefined))
// image lists and build output can pass spawnSync's default 1 MiB
const sh = (cmd, args, env = {}) => shell(cmd, args, env, { maxBuffer: 64 * MiB })

// ---- cleanup of everything this script makes -----------------------------
const { cleanups, cleanupAll } = trapCleanups()

// ---- the context ------------------------------------------------------------
// Text files: lines of base64 (what the bytes are does not matter; the sizes vary).
function textFile(size) {
  const line = (n) => randomBytes(Math.ceil((n * 3) / 4)).toString('base64').slice(0, n)
  let s = ''
  while (s.length < size) s += `${line(Math.min(75, size - s.length - 1))}\n`
  return s.slice(0, size)
}
function writeContext(dir) {
  mkdirSync(path.join(dir, 'big'))
  for (let k = 0; k < BIG_FILES; k++) writeFileSync(path.join(dir, 'big', `random-${k}.bin`), randomBytes(BIG_SIZE))
  for (let d = 0; d < SMALL_DIRS; d++) {
    const sub = path.join(dir, 'small', `d${String(d).padStart(2, '0')}`)
    mkdirSync(sub, { recursive: true })
    for (let f = 0; f < SMALL_PER_DIR; f++) writeFileSync(path.join(sub, `f${String(f).padStart(3, '0')}.txt`), textFile(1024 + ((d * SMALL_PER_DIR + f) * 997) % 3072))
  }
  writeFileSync(path.join(dir, 'Dockerfile'), DOCKERFILE)
  return Number(sh('du', ['-sb', dir]).split('\t')[0])
}
// New content of the same size for the touched file; unique, so no engine's cache has seen it.
function touch(dir, tag) {
  const file = path.join(dir, TOUCHED)
  const size = readFileSync(file).length
  const head = `changed ${tag} ${process.hrtime.bigint()} ${randomBytes(8).toString('hex')}\n`
  const content = (head + textFile(size)).slice(0, size)
  writeFileSync(file, content)
  return content
}

// ---- engines ---------------------------------------------------------------
// A daemon (or podman): the CLI that manages its images. A column: a daemon and the CLI that builds.
const { daemons, berthEnv, dockerEnv } = findDaemons({ env: { DOCKER_BUILDKIT: '0' } })
const { columns, used } = engineColumns({ daemons, berthEnv, dockerEnv, podmanFlags: ['--format', 'docker'], run: sh })
console.error(`bench: ${versions(used)}; columns ${columns.map((c) => c.name).join(', ')}; ${reps} reps`)

/** Every image an earlier bench build left in this engine: all carry the label; children go first, so repeat. */
function removeBenchImages(d) {
  for (let round = 0; round < 20; round++) {
    const ids = [...new Set(d.run('images', '-a', '-q', '--no-trunc', '--filter', `label=${LABEL}`).split('\n').filter(Boolean))]
    if (ids.length === 0) return
    quiet(d.cli, ['rmi', '-f', ...ids], d.env)
  }
  throw new Error(`bench: ${d.name}: bench images still there after 20 rounds of rmi -f`)
}

/** busybox:latest from scripts/busybox-rootfs, CMD ["sh"], where an engine has none. */
function ensureBusybox(tmp) {
  let rootfs
  for (const d of used) {
    if (quiet(d.cli, ['image', 'inspect', 'busybox:latest'], d.env)) continue
    if (!rootfs) {
      rootfs = path.join(tmp, 'busybox-rootfs.tar')
      sh(path.join(repo, 'scripts/busybox-rootfs'), [rootfs])
    }
    console.error(`bench: importing busybox into ${d.name}`)
    d.run('import', ...(d.name === 'podman' ? ['-q'] : []), '-c', 'CMD ["sh"]', rootfs, 'busybox:latest')
  }
}

/** One build, timed, with the moments the context was sent and step 1 began. */
async function build(c, dir, tag, extra = []) {
  spawnSync('sync')
  const args = ['build', ...c.flags, ...extra, '-t', tag, dir]
  const t0 = now()
  const child = spawn(c.cli, args, { env: { ...process.env, ...c.env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let sent
  let step1
  const onData = (chunk) => {
    const t = now() - t0
    out += chunk
    if (sent === undefined && out.includes('Sending build context to Docker daemon')) sent = t
    if (step1 === undefined && /(^|\n)(Step|STEP) 1\//.test(out)) step1 = t
  }
  child.stdout.on('data', onData)
  child.stderr.on('data', onData)
  const code = await new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', resolve)
  })
  const total = now() - t0
  if (code !== 0) throw new Error(`bench: ${c.name}: ${c.cli} ${args.join(' ')}: exit ${code}:\n${out.slice(-3000)}`)
  const cached = (out.match(/Using cache/g) ?? []).length
  const size = /Sending build context to Docker daemon\s+(\S+)/.exec(out)?.[1]
  return { total, sent, step1, cached, size, out }
}

function expectCached(c, what, r, want) {
  if (r.cached !== want) throw new Error(`bench: ${c.name}: ${what}: ${r.cached} steps from the cache, expected ${want}:\n${r.out.slice(-4000)}`)
}

// ---- the clients alone: a server that discards the context -----------------
/** An Engine API stand-in on a unix socket: /_ping and /version, and POST /build bodies read to the end and dropped. */
function startSink(sock) {
  const server = http.createServer((req, res) => {
    if (req.method === 'HEAD' || req.url.endsWith('/_ping')) {
      res.setHeader('Api-Version', '1.41')
      res.end('OK')
      return
    }
    if (req.url.includes('/version')) {
      res.setHeader('Content-Type', 'application/json')
      res.end(JSON.stringify({ ApiVersion: '1.41', MinAPIVersion: '1.12', Version: 'bench-sink', Os: 'linux', Arch: 'amd64' }))
      return
    }
    req.resume()
    req.on('end', () => {
      res.setHeader('Content-Type', 'application/json')
      res.end(`${JSON.stringify({ stream: 'context received\n' })}\n`)
    })
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(sock, () => resolve(() => server.close()))
  })
}
/** One CLI's `build` against the sink: the whole invocation, timed. */
async function sendOnly(cli, env, dir) {
  const t0 = now()
  const child = spawn(cli, ['build', '-t', 'bench/sink', dir], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (c) => (out += c))
  child.stderr.on('data', (c) => (out += c))
  const code = await new Promise((resolve) => child.on('close', resolve))
  if (code !== 0 || !out.includes('Sending build context to Docker daemon')) throw new Error(`bench: ${cli} build against the discarding server: exit ${code}:\n${out.slice(-2000)}`)
  return now() - t0
}

// ---- the run -------------------------------------------------------------
const scenarios = [['cold', 'cold build, --no-cache'], ['cached', 'fully cached rebuild'], ['touched', 'rebuild after changing one small file']]
const samples = {} // scenario -> column -> [{ total, sent, step1 }]
const add = (s, c, r) => ((samples[s] ??= {})[c] ??= []).push({ total: r.total, sent: r.sent, step1: r.step1 })
const sizes = {}
const clientOnly = {} // CLI -> [seconds]
const loadAtStart = loadavg()
const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-build-'))
cleanups.push(() => rmSync(tmp, { recursive: true, force: true }))
const ctx = path.join(tmp, 'context')
mkdirSync(ctx)
let contextBytes
const tagOf = (c) => `bench/build-${c.name}:latest`

/** The image the last build made holds the whole context, the changed file's new content and the RUN steps' work. */
function checkImage(c, content) {
  const got = c.daemon.run('run', '--rm', tagOf(c), 'sh', '-c', `find /app -type f | wc -l; cat /work/sum; cat /app/${TOUCHED}`)
  const [files = '', sum = ''] = got.split('\n')
  const changed = got.slice(files.length + sum.length + 2)
  if (Number(files) !== CONTEXT_FILES || sum !== String((LOOP * (LOOP - 1)) / 2) || changed !== content) {
    throw new Error(`bench: ${c.name}: the built image is not what the Dockerfile makes: ${files} files in /app (want ${CONTEXT_FILES}), sum ${sum}, changed file ${changed === content ? 'as written' : 'differs'}`)
  }
}

try {
  contextBytes = writeContext(ctx)
  console.error(`bench: context of ${(contextBytes / 1e6).toFixed(1)} MB (${CONTEXT_FILES} files) in ${ctx}`)
  ensureBusybox(tmp)
  const sinkSock = path.join(tmp, 'sink.sock')
  cleanups.push(await startSink(sinkSock))
  const clients = [['docker CLI', docker, { DOCKER_HOST: `unix://${sinkSock}`, DOCKER_BUILDKIT: '0' }], ['berth CLI', berthCli, { BERTH_HOST: `unix://${sinkSock}` }]]
  for (const d of used) {
    removeBenchImages(d) // leftovers of an interrupted run
    cleanups.push(() => removeBenchImages(d))
  }

  // warm-up: one build per column, untimed (each leaves its images for the cold build to remove)
  for (const c of columns) await build(c, ctx, tagOf(c))

  for (let n = 0; n < reps; n++) {
    for (const [name, cli, env] of clients) {
      spawnSync('sync')
      clientOnly[name] = [...(clientOnly[name] ?? []), await sendOnly(cli, env, ctx)]
    }
    for (const c of columns) {
      removeBenchImages(c.daemon)
      const cold = await build(c, ctx, tagOf(c), ['--no-cache'])
      expectCached(c, 'cold build', cold, 0)
      const cached = await build(c, ctx, tagOf(c))
      expectCached(c, 'cached rebuild', cached, STEPS)
      const content = touch(ctx, `${c.name}-${n}`)
      const touched = await build(c, ctx, tagOf(c))
      expectCached(c, 'rebuild after a change', touched, CACHED_AFTER_TOUCH)
      add('cold', c.name, cold)
      add('cached', c.name, cached)
      add('touched', c.name, touched)
      if (cold.size) sizes[c.name] = cold.size
      if (n === reps - 1) checkImage(c, content)
      console.error(`bench: rep ${n + 1}/${reps} ${c.name}: cold ${cold.total.toFixed(2)} s, cached ${cached.total.toFixed(2)} s, changed ${touched.total.toFixed(2)} s`)
    }
  }
} finally {
  cleanupAll()
}

// ---- report --------------------------------------------------------------
const names = columns.map((c) => c.name)
const fmt = formatter(2)
const med = (s, c, k) => median((samples[s]?.[c] ?? []).map((x) => x[k]))
const allCols = [['berth', 'berth (docker CLI)'], ['berth-cli', 'berth (berth CLI)'], ['docker', 'docker'], ['podman', 'podman']].filter(([n]) => names.includes(n))
const lines = [
  `| metric | ${allCols.map(([, t]) => t).join(' | ')} | berth/docker | berth CLI/docker | berth/podman | target (berth) |`,
  `|---|${allCols.map(() => '---:').join('|')}|---:|---:|---:|---|`,
]
for (const [s, label] of scenarios) {
  const v = Object.fromEntries(names.map((n) => [n, med(s, n, 'total')]))
  let verdict = ''
  if (s === 'cached') {
    const atMost = (x) => judge(x, v.docker, (a, b) => a <= b)
    verdict = `≤ 1.0 × docker: ${atMost(v.berth)}${v['berth-cli'] !== undefined ? ` (berth CLI: ${atMost(v['berth-cli']).replace(/\*/g, '')})` : ''}`
  }
  lines.push(`| ${label} (s) | ${allCols.map(([n]) => spread((samples[s]?.[n] ?? []).map((x) => x.total), fmt)).join(' | ')} | ${ratio(v.berth, v.docker)} | ${ratio(v['berth-cli'], v.docker)} | ${ratio(v.berth, v.podman)} | ${verdict} |`)
}
const table = lines.join('\n')
const phaseLines = [
  `| column | ${scenarios.map(([, l]) => `${l}: sent / step 1 / total`).join(' | ')} |`,
  `|---|${scenarios.map(() => '---:').join('|')}|`,
]
for (const [n, t] of allCols) phaseLines.push(`| ${t} | ${scenarios.map(([s]) => ['sent', 'step1', 'total'].map((k) => fmt(med(s, n, k))).join(' / ')).join(' | ')} |`)
const phaseTable = phaseLines.join('\n')
const sent = Object.entries(sizes).map(([n, s]) => `${n} ${s}`).join(', ')
const machine = machineLine() +
  `${versions(used)}; context ${(contextBytes / 1e6).toFixed(1)} MB, ${CONTEXT_FILES} files${sent ? ` (sent, as the CLIs count it: ${sent})` : ''}; ` +
  `medians (min–max) of ${reps} interleaved runs after a warm-up (bench/run build${quickMode ? ' --quick' : ''}); ${loadNote(loadAtStart)}` +
  noDockerNote(daemons.docker)
const clientTable = ['| client | send the context to a discarding server (s) |', '|---|---:|', ...Object.entries(clientOnly).map(([n, xs]) => `| ${n} | ${spread(xs, fmt)} |`)].join('\n')
const phaseText = `\n\nPhases (seconds after the CLI started; "sent": the CLI printed "Sending build context", "step 1": the daemon began step 1):\n\n${phaseTable}\n\nThe clients alone (no daemon: a server that reads the context and drops it):\n\n${clientTable}`
console.log(`${machine}\n\n${table}${phaseText}`)
if (writeWanted(quickMode)) {
  const section = [
    '',
    '## Build: the classic builder',
    '',
    'Issue 4: a reference Dockerfile (FROM busybox, three RUN steps, COPY of a',
    '~50 MB context, CMD) built cold, fully cached and after changing one file,',
    "berth beside docker's classic builder and podman in one run; target: berth's",
    "cached rebuild at most docker's. `bench/run build` (about 10 minutes) rewrites",
    'only the block between the `bench-build:begin`/`bench-build:end` markers; the',
    'header of bench/build.js says how each number is taken.',
    '',
    '',
  ].join('\n')
  writeDocBlock('bench-build', `${machine}\n\n${table}${phaseText}`, { command: 'bench/run build', section })
}
