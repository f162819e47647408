#!/usr/bin/env node
// The compatibility scoreboard (issue 9): every case of bench/compat-cases.yaml
// runs through the same docker CLI against berthd and against dockerd, and
// the exit code, stdout and stderr are compared after normalisation; then the
// Python Docker SDK flows of bench/sdk/ run against both. Prints a table per
// area and writes the block between the compat markers of docs/compat.md.
//
//   bench/compat                 the corpus and the SDK flows, berthd beside dockerd
//   bench/compat --quick         the cases marked `quick`, against berthd only, no
//                                dockerd: checks that the corpus and this script
//                                still run (exit codes against `exit:`), for CI
//   bench/compat --only REGEX    the cases whose area/id matches (no docs/compat.md)
//   bench/compat --no-sdk        skip the SDK flows
//
// Environment: BERTH_SOCK, DOCKERD_SOCK (as bench/lib.js), BENCH_WRITE=0 to
// leave docs/compat.md alone, COMPAT_JSON=FILE to also write every case's raw
// and normalised output there.
//
// A case (the header of cases.yaml says it in full): argv (or argvs, several
// commands whose outputs are concatenated), setup/teardown argv lists, stdin,
// env, files (a build context written per engine), normalise rules, keep (a
// line filter), sort, difference (documented) and cause (dockerd-20.10 when
// the difference comes from dockerd's older version, not from berth).
// Placeholders in every string: {run} (this run's id), {name} (the case's
// unique name, compat-<run>-<id>), {ctx} (its build context), {tmp}, {registry}
// (the loopback registry host:port), {t0} (unix seconds when the case began),
// {time} (unix seconds when the command is built, plus one), {outN} (stdout of
// setup step N, trimmed) and {outN:K} (its first K characters).
//
// Hand-written (no dependency beyond the yaml package berth already has):
// the bench scripts are plain Node so they run wherever Node is set up.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parse as parseYaml } from 'yaml'
import { berthSock, docker, dockerSock, freePort, machineLine, quiet, repo } from './lib.js'

// ---- arguments -------------------------------------------------------------
const argv = process.argv.slice(2)
const quick = argv.includes('--quick')
const noSdk = argv.includes('--no-sdk') || quick
const onlyIdx = argv.indexOf('--only')
const onlyRe = onlyIdx >= 0 ? new RegExp(argv[onlyIdx + 1]) : undefined
const writeDoc = !quick && !onlyRe && process.env.BENCH_WRITE !== '0'

// ---- the corpus --------------------------------------------------------------
const corpusFile = path.join(repo, 'bench/compat-cases.yaml')
const corpus = parseYaml(readFileSync(corpusFile, 'utf8'))
const areaTitles = corpus.areas ?? {}
let cases = corpus.cases
{
  const seen = new Set()
  for (const c of cases) {
    if (!c.id || !c.area || !(c.argv || c.argvs)) throw new Error(`compat: a case needs id, area and argv: ${JSON.stringify(c)}`)
    if (seen.has(c.id)) throw new Error(`compat: duplicate case id ${c.id}`)
    seen.add(c.id)
  }
}
if (quick) cases = cases.filter((c) => c.quick)
if (onlyRe) cases = cases.filter((c) => onlyRe.test(`${c.area}/${c.id}`))

// ---- engines -----------------------------------------------------------------
// A CLI config directory of our own: the user's (credentials, aliases, formats) must not colour the output.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'compat-'))
const dockerConfig = path.join(tmp, 'docker-config')
mkdirSync(dockerConfig)
const baseEnv = { DOCKER_CONFIG: dockerConfig, DOCKER_CLI_HINTS: 'false', NO_COLOR: '1' }
const engines = [{ name: 'berth', sock: berthSock }]
if (!quick) engines.push({ name: 'docker', sock: dockerSock })
for (const e of engines) {
  e.env = { ...baseEnv, DOCKER_HOST: `unix://${e.sock}` }
  if (!existsSync(e.sock) || !quiet(docker, ['version'], e.env)) {
    console.error(`compat: ${e.name === 'berth' ? 'berthd' : 'dockerd'} is not answering on ${e.sock}; run ${e.name === 'berth' ? 'scripts/setup' : 'bench/setup'} first`)
    process.exit(1)
  }
  const v = JSON.parse(spawnSync(docker, ['version', '--format', '{{json .}}'], { env: { ...process.env, ...e.env } }).stdout.toString())
  e.version = v.Server.Version
  e.api = v.Server.ApiVersion
  e.minApi = v.Server.MinAPIVersion
  e.client = v.Client.Version
  const info = JSON.parse(spawnSync(docker, ['info', '--format', '{{json .}}'], { env: { ...process.env, ...e.env } }).stdout.toString())
  e.root = info.DockerRootDir
  e.bridge = spawnSync(docker, ['network', 'inspect', '-f', '{{index .Options "com.docker.network.bridge.name"}}', 'bridge'], { env: { ...process.env, ...e.env }, encoding: 'utf8' }).stdout.trim()
  e.runtime = info.DefaultRuntime
}

// A run id from letters outside [0-9a-f], so the ID normalisers never touch it.
const run = Array.from({ length: 6 }, () => 'ghijkmnpqrstuvwxyz'[Math.floor(Math.random() * 18)]).join('')

// ---- cleanup -------------------------------------------------------------------
const cleanups = []
let cleaned = false
function cleanupAll() {
  if (cleaned) return
  cleaned = true
  while (cleanups.length) {
    try {
      cleanups.pop()()
    } catch (err) {
      console.error(`compat: cleanup: ${err.message}`)
    }
  }
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    console.error(`compat: ${sig}, cleaning up`)
    cleanupAll()
    process.exit(130)
  })
}
cleanups.push(() => rmSync(tmp, { recursive: true, force: true }))

// Removes whatever still carries this run's id in an engine: containers, then networks, volumes, images.
function sweep(e) {
  const d = (...args) => spawnSync(docker, args, { env: { ...process.env, ...e.env }, encoding: 'utf8', timeout: 60_000 })
  const lines = (r) => (r.stdout ?? '').split('\n').map((s) => s.trim()).filter(Boolean)
  const ctrs = lines(d('ps', '-aq', '--filter', `name=${run}`))
  if (ctrs.length) d('rm', '-f', '-v', ...ctrs)
  const nets = lines(d('network', 'ls', '-q', '--filter', `name=${run}`))
  if (nets.length) d('network', 'rm', ...nets)
  const vols = lines(d('volume', 'ls', '-q', '--filter', `name=${run}`))
  if (vols.length) d('volume', 'rm', '-f', ...vols)
  const imgs = lines(d('images', '--format', '{{.Repository}}:{{.Tag}}')).filter((r) => r.includes(run))
  if (imgs.length) d('rmi', '-f', ...imgs)
  const dangling = lines(d('images', '-q', '--filter', `label=compat.run=${run}`))
  if (dangling.length) d('rmi', '-f', ...dangling)
}
cleanups.push(() => engines.forEach(sweep))

// ---- the loopback registry -------------------------------------------------------
// docker-registry on 127.0.0.1:<free port>, as bench/registry.js starts it, holding
// busybox pushed from dockerd as compat/redis (the seed's pull), when a case needs it.
async function startRegistry() {
  if (spawnSync('docker-registry', ['--version']).status !== 0) return undefined
  const port = await freePort()
  const dir = mkdtempSync(path.join(tmp, 'registry-'))
  mkdirSync(path.join(dir, 'data'))
  const cfg = path.join(dir, 'config.yml')
  writeFileSync(cfg, `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${path.join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n`)
  const child = spawn('docker-registry', ['serve', cfg], { stdio: 'ignore' })
  cleanups.push(() => child.exitCode === null && child.kill('SIGTERM'))
  const host = `127.0.0.1:${port}`
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://${host}/v2/`)).status === 200) break
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  // Seeded from the reference engine when it runs, else from berthd (the quick mode).
  const seeder = engines.find((e) => e.name === 'docker') ?? engines[0]
  const d = (...args) => spawnSync(docker, args, { env: { ...process.env, ...seeder.env }, encoding: 'utf8' })
  // A layer of its own on top of busybox, so that each engine downloads one layer and finds the other.
  const ctx = mkdtempSync(path.join(tmp, 'registry-ctx-'))
  writeFileSync(path.join(ctx, 'Dockerfile'), `FROM busybox\nLABEL compat.run=${run}\nRUN echo ${run} > /registry-layer\n`)
  const built = spawnSync(docker, ['build', '-q', '-t', `${host}/compat/redis:latest`, ctx], { env: { ...process.env, ...seeder.env, DOCKER_BUILDKIT: '0' }, encoding: 'utf8' })
  if (built.status !== 0) throw new Error(`compat: building the registry's image failed: ${built.stderr}`)
  d('tag', `${host}/compat/redis:latest`, `${host}/compat/busybox:latest`)
  for (const repoName of ['compat/redis', 'compat/busybox']) {
    const r = d('push', `${host}/${repoName}:latest`)
    if (r.status !== 0) throw new Error(`compat: seeding the loopback registry failed: ${r.stderr}`)
  }
  d('rmi', `${host}/compat/redis:latest`, `${host}/compat/busybox:latest`)
  return host
}
const registry = cases.some((c) => JSON.stringify(c).includes('{registry}')) ? await startRegistry() : undefined

// ---- running a case --------------------------------------------------------------
function expand(s, vars) {
  return String(s).replace(/\{(\w+)(?::(\d+))?\}/g, (m, k, n) => {
    if (k === 'time') return String(Math.floor(Date.now() / 1000) + 1)
    const v = vars[k]
    if (v === undefined) return m
    return n ? String(v).slice(0, Number(n)) : String(v)
  })
}

/** Runs one docker CLI invocation; resolves to { code, stdout, stderr }. */
function exec(args, env, { stdin, timeout = 60_000, cwd = tmp } = {}) {
  return new Promise((resolve) => {
    const child = spawn(docker, args, { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
    const out = []
    const err = []
    child.stdout.on('data', (b) => out.push(b))
    child.stderr.on('data', (b) => err.push(b))
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeout)
    child.stdin.on('error', () => {}) // a command that never reads its stdin
    child.stdin.end(stdin ?? '')
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const stderr = Buffer.concat(err).toString() + (timedOut ? `\n[compat: killed after ${timeout / 1000} s]` : '')
      resolve({ code: code ?? (signal ? 128 : -1), stdout: Buffer.concat(out).toString(), stderr })
    })
  })
}

async function runCase(c, e) {
  const name = `compat-${run}-${c.id}`
  const ctx = path.join(tmp, `ctx-${c.id}`) // the same path in both engines: it shows in messages
  const vars = { run, name, ctx, tmp, registry: registry ?? '127.0.0.1:1', t0: Math.floor(Date.now() / 1000) - 1 }
  if (c.files) {
    mkdirSync(ctx, { recursive: true })
    for (const [f, content] of Object.entries(c.files)) {
      mkdirSync(path.dirname(path.join(ctx, f)), { recursive: true })
      writeFileSync(path.join(ctx, f), expand(content, vars))
    }
  }
  const env = { ...e.env, ...Object.fromEntries(Object.entries(c.env ?? {}).map(([k, v]) => [k, expand(v, vars)])) }
  const notes = []
  const cwd = c.files ? ctx : tmp
  try {
    for (const [i, step] of (c.setup ?? []).entries()) {
      const r = await exec(step.map((a) => expand(a, vars)), env, { timeout: 120_000, cwd })
      vars[`out${i}`] = r.stdout.trim()
      if (r.code !== 0 && !c.setupMayFail) notes.push(`setup step ${i} (${step.join(' ')}) exited ${r.code}: ${r.stderr.trim().split('\n')[0]}`)
    }
    if (c.sleep) await new Promise((r) => setTimeout(r, c.sleep * 1000))
    const steps = c.argvs ?? [c.argv]
    const results = []
    for (const step of steps) {
      results.push(await exec(step.map((a) => expand(a, vars)), env, { stdin: c.stdin !== undefined ? expand(c.stdin, vars) : undefined, timeout: (c.timeout ?? 60) * 1000, cwd }))
    }
    const joined = steps.length === 1
      ? results[0]
      : {
          code: results[results.length - 1].code,
          stdout: results.map((r, i) => `[${i}: exit ${r.code}]\n${r.stdout}`).join(''),
          stderr: results.map((r, i) => `[${i}]\n${r.stderr}`).join(''),
        }
    return { ...joined, notes, vars }
  } finally {
    for (const step of c.teardown ?? []) await exec(step.map((a) => expand(a, vars)), env, { timeout: 60_000, cwd })
    rmSync(ctx, { recursive: true, force: true })
  }
}

// ---- normalisation -----------------------------------------------------------------
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
// Defaults, in order: what differs between two engines or two runs without being a difference.
const defaults = [
  [/sha256:[0-9a-f]{64}/g, 'sha256:<digest>'],
  [/\b[0-9a-f]{64}\b/g, '<id>'],
  [/\b[0-9a-f]{12}\b/g, '<id12>'],
  [/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)/g, '<time>'],
  [/\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?( [+-]\d{4})?( [A-Z]{2,5})?/g, '<time>'],
  [/\b(About |Less than )?(an?|\d+) (second|minute|hour|day|week|month|year)s?\b/g, '<duration>'],
  [/\b\d+(\.\d+)? ?(B|kB|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\b/g, '<size>'],
  [/\b([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}\b/g, '<mac>'],
  [/\b(?!0\.0\.0\.0\b)(?!127\.0\.0\.1\b)(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\b/g, '<ip>'],
  // Ports an engine picked (the ephemeral range); ports a case asked for stay.
  [/(0\.0\.0\.0|127\.0\.0\.1|<ip>|::|\[::\]):(\d{4,5})\b/g, (m, h, p) => (Number(p) >= 32768 ? `${h}:<port>` : m)],
  // Progress lines a pull or push prints or skips depending on timing.
  [/^<id12>: (Waiting|Verifying Checksum|Downloading|Extracting|Preparing|Pushing)\b.*\n/gm, ''],
  // Event times as numbers ({{json .}}).
  [/"(time|timeNano)":\d+/g, '"$1":<n>'],
  // The classic builder's wording changed after dockerd 20.10: it said "Removing intermediate
  // container X" where today's says " ---> Removed intermediate container X", and it ran a container
  // even for steps that only change the config (LABEL, CMD). Both engines' output is mapped to
  // today's, and a container that ran without printing anything is dropped from both.
  [/^Removing intermediate container (\S+)$/gm, ' ---> Removed intermediate container $1'],
  [/^ ---> Running in <id12>\n ---> Removed intermediate container <id12>\n/gm, ''],
]

/** The engine-specific strings each output has, and what they become. */
function literalsOf(e) {
  const pairs = [
    [e.sock, '<engine-socket>'],
    [e.root, '<engine-root>'],
    [`(minimum version ${e.minApi})`, '(minimum version <api>)'],
    [e.version, '<engine-version>'],
    [e.bridge, '<bridge>'],
  ]
  if (registry) pairs.push([registry, '<registry>'])
  pairs.push([run, '<run>'])
  return pairs.filter(([s]) => s)
}

function normalise(text, c, e, vars) {
  let t = text.replace(/\r\n/g, '\n')
  if (c.keep) {
    const re = new RegExp(expand(c.keep, vars))
    t = t.split('\n').filter((l) => re.test(l)).join('\n')
  }
  for (const rule of c.normalise ?? []) {
    t = t.replace(new RegExp(expand(rule.re, vars), rule.flags ?? 'g'), rule.to ?? '')
  }
  for (const [s, to] of literalsOf(e)) t = t.replace(new RegExp(escapeRe(s), 'g'), to)
  for (const [re, to] of defaults) t = t.replace(re, to)
  // Table cells, not spaces: widths follow the content.
  t = t.split('\n').map((l) => l.replace(/(\S)[ \t]{2,}(?=\S)/g, '$1   ').replace(/[ \t]+$/, '')).join('\n')
  if (c.sort) {
    const ls = t.split('\n').filter(Boolean)
    const head = c.sort === 'body' ? ls.splice(0, 1) : []
    t = [...head, ...ls.sort()].join('\n')
  }
  return t.replace(/\n+$/, '')
}

// ---- the SDK flows ---------------------------------------------------------------------
const sdkDir = path.join(repo, 'bench/sdk')
const python = '/usr/bin/python3' // Debian's python3-docker lives with Debian's python
function sdkFlows() {
  const flows = readdirSync(sdkDir).filter((f) => /^flow_.*\.py$/.test(f)).sort()
  const rows = []
  // Each flow as a user pins the SDK to dockerd 20.10's API (1.41), and with the version negotiated ("auto": berth's 1.50).
  for (const [f, api] of flows.flatMap((fl) => ['1.41', 'auto'].map((a) => [fl, a]))) {
    const row = { flow: `${f.replace(/^flow_|\.py$/g, '')} (API ${api})`, results: {} }
    for (const e of engines) {
      const r = spawnSync(python, [path.join(sdkDir, f)], { env: { ...process.env, ...e.env, COMPAT_RUN: run, COMPAT_SDK_API: api, PYTHONDONTWRITEBYTECODE: '1' }, encoding: 'utf8', timeout: 180_000 })
      const line = (r.stdout ?? '').trim().split('\n').filter((l) => /^(PASS|FAIL)/.test(l)).pop() ?? ''
      row.results[e.name] = { pass: r.status === 0 && line.startsWith('PASS'), line: line || `FAIL ${row.flow}: exit ${r.status}: ${(r.stderr ?? '').trim().split('\n').slice(-1)[0]}` }
    }
    rows.push(row)
    console.error(`compat: sdk ${row.flow}: ${engines.map((e) => `${e.name} ${row.results[e.name].pass ? 'pass' : 'FAIL'}`).join(', ')}`)
  }
  return rows
}
const sdkVersion = () => spawnSync(python, ['-c', 'import docker; print(docker.__version__)'], { encoding: 'utf8' }).stdout?.trim()

// ---- the run -----------------------------------------------------------------------------
const results = []
let exitCode = 0
try {
  for (const c of cases) {
    const outs = {}
    for (const e of engines) {
      const r = await runCase(c, e)
      outs[e.name] = { ...r, n: { stdout: normalise(r.stdout, c, e, r.vars), stderr: normalise(r.stderr, c, e, r.vars) } }
    }
    const b = outs.berth
    let verdict
    let why = ''
    if (quick) {
      verdict = c.exit === undefined || c.exit === b.code ? 'pass' : 'fail'
      if (verdict === 'fail') why = `exit ${b.code}, expected ${c.exit}: ${b.stderr.trim().split('\n')[0]}`
    } else {
      const d = outs.docker
      const compare = c.compare ?? ['exit', 'stdout', 'stderr']
      const diffs = []
      if (compare.includes('exit') && b.code !== d.code) diffs.push(`exit ${b.code} vs ${d.code}`)
      if (compare.includes('stdout') && b.n.stdout !== d.n.stdout) diffs.push('stdout')
      if (compare.includes('stderr') && b.n.stderr !== d.n.stderr) diffs.push('stderr')
      if (b.notes.length || d.notes.length) diffs.push(...b.notes.map((n) => `berth ${n}`), ...d.notes.map((n) => `docker ${n}`))
      why = diffs.join('; ')
      verdict = diffs.length === 0 ? 'pass' : c.difference ? 'documented' : 'fail'
    }
    results.push({ c, verdict, why, outs })
    const mark = { pass: 'ok  ', documented: 'doc ', fail: 'FAIL' }[verdict]
    console.error(`compat: ${mark} ${c.area}/${c.id}${why ? `  (${why})` : ''}`)
  }
} finally {
  cleanupAll()
}
const sdk = noSdk || !existsSync(python) ? [] : sdkFlows()

// ---- report ----------------------------------------------------------------------------------
const areas = [...new Set(results.map((r) => r.c.area))]
const count = (rs, v) => rs.filter((r) => r.verdict === v).length
const argvText = (c) => (c.argvs ?? [c.argv]).map((a) => `docker ${a.map((x) => (/[\s"'{}|$]/.test(x) || x === '' ? `'${x}'` : x)).join(' ')}`).join(' ; ')
const md = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ')
const clip = (s, n = 1500) => (s.length > n ? `${s.slice(0, n)}\n[… ${s.length - n} more characters]` : s)

const areaRows = areas.map((a) => {
  const rs = results.filter((r) => r.c.area === a)
  return { a, total: rs.length, pass: count(rs, 'pass'), doc: count(rs, 'documented'), fail: count(rs, 'fail') }
})
const total = { total: results.length, pass: count(results, 'pass'), doc: count(results, 'documented'), fail: count(results, 'fail') }
const pct = (n, d) => (d ? `${((100 * n) / d).toFixed(0)}%` : '—')

// Terminal: one table of areas, then the failures.
const pad = (s, n) => String(s).padEnd(n)
console.log(`\n${pad('area', 16)} ${pad('cases', 6)} ${pad('pass', 5)} ${pad('doc', 5)} ${pad('fail', 5)}`)
for (const r of areaRows) console.log(`${pad(r.a, 16)} ${pad(r.total, 6)} ${pad(r.pass, 5)} ${pad(r.doc, 5)} ${pad(r.fail, 5)}`)
console.log(`${pad('total', 16)} ${pad(total.total, 6)} ${pad(total.pass, 5)} ${pad(total.doc, 5)} ${pad(total.fail, 5)}   pass ${pct(total.pass, total.total)}, pass or documented ${pct(total.pass + total.doc, total.total)}`)
if (sdk.length) {
  console.log(`\nSDK flows (python3-docker ${sdkVersion()}):`)
  for (const row of sdk) console.log(`  ${pad(row.flow, 22)} ${engines.map((e) => `${e.name}: ${row.results[e.name].line}`).join('   ')}`)
}
if (quick) {
  const bad = results.filter((r) => r.verdict === 'fail')
  if (bad.length) exitCode = 1
  console.log(`\ncompat --quick: ${results.length} cases against berthd, ${bad.length} with an unexpected exit code`)
}

if (process.env.COMPAT_JSON) {
  writeFileSync(process.env.COMPAT_JSON, JSON.stringify(results.map((r) => ({
    id: r.c.id, area: r.c.area, verdict: r.verdict, why: r.why,
    outs: Object.fromEntries(Object.entries(r.outs).map(([k, v]) => [k, { code: v.code, stdout: v.stdout, stderr: v.stderr, n: v.n, notes: v.notes }])),
  })), null, 1))
}

if (writeDoc) {
  const [berthE, dockerE] = engines
  const lines = []
  lines.push(`${machineLine()}docker CLI ${berthE.client}; berth ${berthE.version} (API ${berthE.api}, runtime ${berthE.runtime}); dockerd ${dockerE.version} (API ${dockerE.api}, the CLI negotiates down to it; runtime ${dockerE.runtime})${sdk.length ? `; python3-docker ${sdkVersion()}` : ''}. Run \`${run}\` of bench/compat.`)
  lines.push('')
  lines.push(`**${total.pass} of ${total.total} cases pass (${pct(total.pass, total.total)})**, ${total.doc} more differ as documented (pass or documented: ${pct(total.pass + total.doc, total.total)}), ${total.fail} fail.`)
  lines.push('')
  lines.push('| area | cases | pass | documented difference | fail |')
  lines.push('|---|---:|---:|---:|---:|')
  for (const r of areaRows) lines.push(`| ${areaTitles[r.a] ? `${r.a} (${areaTitles[r.a]})` : r.a} | ${r.total} | ${r.pass} | ${r.doc} | ${r.fail} |`)
  lines.push(`| **total** | ${total.total} | ${total.pass} | ${total.doc} | ${total.fail} |`)
  if (sdk.length) {
    lines.push('', '### Second client: the Python Docker SDK', '', `python3-docker ${sdkVersion()} (Debian), the scripts in bench/sdk/; each flow asserts what the SDK returns.`, '')
    lines.push(`| flow | ${engines.map((e) => e.name).join(' | ')} |`, `|---|${engines.map(() => '---').join('|')}|`)
    for (const row of sdk) lines.push(`| ${row.flow} | ${engines.map((e) => (row.results[e.name].pass ? 'pass' : `**fail**: ${md(row.results[e.name].line.replace(/^FAIL \S+: /, ''))}`)).join(' | ')} |`)
    const sp = sdk.filter((r) => r.results.berth.pass).length
    lines.push('', `berth passes ${sp} of ${sdk.length} flows; dockerd ${sdk.filter((r) => r.results.docker?.pass).length} of ${sdk.length}.`)
  }
  for (const a of areas) {
    lines.push('', `### ${a}${areaTitles[a] ? `: ${areaTitles[a]}` : ''}`, '', '| case | command | result | note |', '|---|---|---|---|')
    for (const r of results.filter((x) => x.c.area === a)) {
      const res = { pass: 'pass', documented: 'documented difference', fail: '**fail**' }[r.verdict]
      const note = [
        r.c.difference ? `${r.c.cause === 'dockerd-20.10' ? '(dockerd 20.10) ' : ''}${r.c.difference}` : '',
        r.c.note ? `_${r.c.note}_` : '',
        r.verdict !== 'pass' ? `differs in: ${r.why}` : '',
      ].filter(Boolean).join(' — ')
      lines.push(`| ${r.c.id} | \`${md(argvText(r.c)).replace(/`/g, "'")}\` | ${res} | ${md(note)} |`)
    }
  }
  const failed = results.filter((r) => r.verdict === 'fail')
  if (failed.length) {
    lines.push('', '### Failures, normalised output side by side', '')
    for (const r of failed) {
      const b = r.outs.berth
      const d = r.outs.docker
      const block = (label, o) => `${label}: exit ${o.code}\n--- stdout\n${clip(o.n.stdout)}\n--- stderr\n${clip(o.n.stderr)}`
      lines.push(`<details><summary>${r.c.area}/${r.c.id}: ${md(r.why)}</summary>`, '', '```', block('berth', b), '', block('docker', d), '```', '', '</details>', '')
    }
  }
  const file = path.join(repo, 'docs/compat.md')
  const block = `<!-- compat:begin (written by bench/compat; edit the text around it, not this block) -->\n${lines.join('\n')}\n<!-- compat:end -->`
  const re = /<!-- compat:begin[\s\S]*?<!-- compat:end -->/
  const old = existsSync(file) ? readFileSync(file, 'utf8') : undefined
  const doc = old !== undefined && re.test(old) ? old.replace(re, () => block) : `${(old ?? '# Compatibility\n').replace(/\n*$/, '\n')}\n${block}\n`
  writeFileSync(file, doc)
  console.error(`compat: wrote ${path.relative(process.cwd(), file)}`)
}
process.exit(exitCode)
