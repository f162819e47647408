/**
 * berth build and berth builder prune: docker's legacy-builder CLI
 * (docker/cli cli/command/image/build.go, cli/command/builder/prune.go)
 * against POST /build. berth's builder is the classic one and not
 * deprecated, so docker's "DEPRECATED: The legacy builder…" banner is not
 * printed; BuildKit-only flags are refused.
 */
import { promises as fsp } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { isIP } from 'node:net'
import { Readable, Transform } from 'node:stream'
import type { AuthConfig, BuildResult, ImageBuildOptions, JSONMessage, Ulimit } from '../../api/types/index.js'
import { readJSONStream } from '../../client/index.js'
import { humanSize, ramInBytes } from '../../lib/index.js'
import type { Handler, Opts } from '../app.js'
import { bool, err, getClient, out, str, strs } from '../context.js'
import { CredentialStore, type DockerConfig } from '../credentials.js'
import { normalizeEnv, parseFilters, UsageError } from '../opts.js'
import { JSONMessageError, ProgressRenderer } from '../output/progress.js'
import { parseReference, referenceProblem } from '../reference.js'
import { compressContext, contextFromReader, contextTar, ContextError, prepareLocalContext } from './build-context.js'
import { confirm } from './container.js'

/** A flag value pflag would refuse while parsing: printed with the usage, exit 125. */
class FlagError extends Error {
  constructor(readonly flag: string, readonly value: string, readonly problem: string) {
    super(`invalid argument "${value}" for "${flag}" flag: ${problem}`)
  }
}

const BUILDKIT_ONLY: [string, string][] = [['progress', 'progress'], ['secret', 'secret'], ['ssh', 'ssh'], ['output', 'output']]

export { ramInBytes }

const ULIMIT_NAMES = new Set(['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack'])

/** go-units ParseUlimit: name=soft[:hard]. */
export function parseUlimit(v: string): Ulimit {
  const eq = v.indexOf('=')
  if (eq < 0) throw new Error(`invalid ulimit argument: ${v}`)
  const name = v.slice(0, eq)
  if (!ULIMIT_NAMES.has(name)) throw new Error(`invalid ulimit type: ${name}`)
  const [softText = '', hardText] = v.slice(eq + 1).split(/:(.*)/s)
  const int = (t: string): number => {
    if (!/^[+-]?\d+$/.test(t)) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(t)}: invalid syntax`)
    return Number(t)
  }
  const hard = hardText === undefined ? undefined : int(hardText)
  const soft = int(softText)
  const h = hard ?? soft
  if (h !== -1 && soft > h) throw new Error(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${h}`)
  return { Name: name, Soft: soft, Hard: h }
}

/** opts.ValidateLabel. */
function validateLabel(v: string): string {
  const key = v.split('=')[0]?.replace(/^[ \t\n\v\f\r]+/, '') ?? ''
  if (key === '') throw new Error(`invalid label '${v}': empty name`)
  if (/[ \t\n\v\f\r]/.test(key)) throw new Error(`label '${key}' contains whitespaces`)
  return v
}

/** opts.ValidateExtraHost: host:ip or host=ip, sent as host:ip. */
export function validateExtraHost(v: string): string {
  let i = v.indexOf('=')
  if (i < 0) i = v.indexOf(':')
  const k = i < 0 ? '' : v.slice(0, i)
  let ip = i < 0 ? '' : v.slice(i + 1)
  if (i < 0 || k === '' || k.includes(':')) throw new Error(`bad format for add-host: ${JSON.stringify(v)}`)
  if (ip !== 'host-gateway') {
    if (ip.length > 2 && ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1)
    if (isIP(ip) === 0) throw new Error(`invalid IP address in add-host: ${JSON.stringify(ip)}`)
  }
  return `${k}:${ip}`
}

/** opts.ConvertKVStringsToMapWithNil: `K=V` → V, a bare `K` → null. */
function kvWithNil(values: string[]): Record<string, string | null> {
  const out: Record<string, string | null> = {}
  for (const v of values) {
    const i = v.indexOf('=')
    if (i < 0) out[v] = null
    else out[v.slice(0, i)] = v.slice(i + 1)
  }
  return out
}

/** StringSlice flags (`--cache-from a,b`): comma-separated, repeatable. */
function commaList(values: string[]): string[] {
  return values.flatMap((v) => (v === '' ? [] : v.split(',')))
}

/** Runs each flag value through its validator, as pflag does while parsing. */
function checked<T>(values: string[], flag: string, check: (v: string) => T): T[] {
  return values.map((v) => {
    try {
      return check(v)
    } catch (e) {
      throw new FlagError(flag, v, (e as Error).message)
    }
  })
}

function bytesFlag(v: unknown, flag: string, swap = false): number | undefined {
  const s = str(v)
  if (s === undefined) return undefined
  if (swap && s === '-1') return -1
  return checked([s], flag, ramInBytes)[0]
}

/**
 * configFile.ParseProxyConfig: the proxies of config.json ("default", or the
 * daemon host's entry) become build args unless given.
 */
export function withProxyArgs(cfg: DockerConfig, host: string, args: Record<string, string | null>): Record<string, string | null> {
  const proxies = (cfg.proxies ?? {}) as Record<string, Record<string, unknown>>
  const p = proxies[host] ?? proxies.default
  if (!p) return args
  const out = { ...args }
  const keys: [string, string][] = [['HTTP_PROXY', 'httpProxy'], ['HTTPS_PROXY', 'httpsProxy'], ['NO_PROXY', 'noProxy'], ['FTP_PROXY', 'ftpProxy'], ['ALL_PROXY', 'allProxy']]
  for (const [k, field] of keys) {
    const v = p[field]
    if (typeof v !== 'string' || v === '') continue
    if (!(k in out)) out[k] = v
    if (!(k.toLowerCase() in out)) out[k.toLowerCase()] = v
  }
  return out
}

/** GetAllCredentials: every stored login, for X-Registry-Config (FROM images may need any of them). */
async function allAuthConfigs(store: CredentialStore, cfg: DockerConfig): Promise<Record<string, AuthConfig>> {
  const keys = new Set([...Object.keys(cfg.auths ?? {}), ...Object.keys(cfg.credHelpers ?? {})])
  const out: Record<string, AuthConfig> = {}
  for (const key of keys) {
    // As docker: credentials that cannot be read are left out, not fatal.
    const c = await store.get(key).catch(() => undefined)
    if (!c) continue
    const a: AuthConfig = { username: c.username, password: c.password, serveraddress: c.serverAddress }
    if (c.identityToken) a.identitytoken = c.identityToken
    out[key] = a
  }
  return out
}

function isGitURL(s: string): boolean {
  const url = s.startsWith('http://') || s.startsWith('https://')
  return (url && /\.git(?:#.+)?$/.test(s)) || s.startsWith('git://') || s.startsWith('git@') || s.startsWith('github.com/')
}

async function readAllStdin(): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin as AsyncIterable<Buffer>) chunks.push(c)
  return Buffer.concat(chunks)
}

/**
 * progress.NewProgressReader over the upload with "Sending build context to
 * Docker daemon": on a terminal redrawn as bytes go, elsewhere only the
 * final count (lastProgressOutput).
 */
export function uploadProgress(write: (s: string) => void, tty: boolean): Transform {
  let current = 0
  let lastBytes = 0
  let lastTime = 0
  const line = (): string => `Sending build context to Docker daemon ${humanSize(current).padStart(8)}\r`
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      current += chunk.length
      const now = Date.now()
      if (tty && current - lastBytes > 512 * 1024 && now - lastTime >= 100) {
        lastBytes = current
        lastTime = now
        write(line())
      }
      cb(null, chunk)
    },
    flush(cb) {
      write(`${line()}\r\n`)
      cb()
    },
  })
}

interface Prepared {
  body?: Readable
  dockerfile: string
  remote?: string
}

async function prepareContext(specified: string, dockerfileFlag: string): Promise<Prepared> {
  if (specified === '-') {
    const { context, dockerfile } = await contextFromReader(process.stdin, dockerfileFlag)
    return { body: context, dockerfile }
  }
  if (await fsp.stat(specified).then(() => true, () => false)) {
    const local = await prepareLocalContext(specified, dockerfileFlag, readAllStdin)
    return { body: contextTar(local.contextDir, local.tarOptions), dockerfile: local.dockerfile }
  }
  if (isGitURL(specified)) throw new ContextError(`berth does not clone git repositories: clone ${specified} and build its directory`)
  if (specified.startsWith('http://') || specified.startsWith('https://')) {
    // The daemon downloads it (POST /build?remote=…).
    return { remote: specified, dockerfile: dockerfileFlag }
  }
  throw new ContextError(`path ${JSON.stringify(specified)} not found`)
}

function optionsFrom(opts: Opts): ImageBuildOptions {
  const tags = checked(strs(opts.tag), '-t, --tag', (v) => {
    if (!parseReference(v)) throw new Error(referenceProblem(v))
    return v
  })
  const buildArgs = checked(strs(opts.buildArg), '--build-arg', (v) => {
    try {
      return normalizeEnv(v)
    } catch (e) {
      throw new Error(e instanceof UsageError ? e.message : String(e))
    }
  })
  const labels = checked(strs(opts.label), '--label', validateLabel)
  const extraHosts = checked(strs(opts.addHost), '--add-host', validateExtraHost)
  const ulimits = new Map<string, Ulimit>()
  for (const u of checked(strs(opts.ulimit), '--ulimit', parseUlimit)) ulimits.set(u.Name, u)
  const labelMap: Record<string, string> = {}
  for (const l of labels) {
    const i = l.indexOf('=')
    if (i < 0) labelMap[l] = ''
    else labelMap[l.slice(0, i)] = l.slice(i + 1)
  }
  const int = (v: unknown): number | undefined => (v === undefined ? undefined : Number(v))
  return {
    Tags: tags,
    SuppressOutput: bool(opts.quiet),
    NoCache: opts.cache === false,
    Remove: opts.rm !== false,
    ForceRemove: bool(opts.forceRm),
    PullParent: bool(opts.pull),
    Isolation: str(opts.isolation),
    CPUSetCPUs: str(opts.cpusetCpus),
    CPUSetMems: str(opts.cpusetMems),
    CPUShares: int(opts.cpuShares),
    CPUQuota: int(opts.cpuQuota),
    CPUPeriod: int(opts.cpuPeriod),
    Memory: bytesFlag(opts.memory, '-m, --memory'),
    MemorySwap: bytesFlag(opts.memorySwap, '--memory-swap', true),
    ShmSize: bytesFlag(opts.shmSize, '--shm-size'),
    CgroupParent: str(opts.cgroupParent),
    Ulimits: [...ulimits.values()],
    BuildArgs: kvWithNil(buildArgs),
    Labels: labelMap,
    CacheFrom: commaList(strs(opts.cacheFrom)),
    SecurityOpt: commaList(strs(opts.securityOpt)),
    NetworkMode: str(opts.network) ?? 'default',
    Squash: bool(opts.squash),
    ExtraHosts: extraHosts,
    Target: str(opts.target),
    Platform: str(opts.platform) ?? (process.env.DOCKER_DEFAULT_PLATFORM || undefined),
    Version: '1',
  }
}

function flagErrorStatus(e: FlagError, path: string): number {
  err(`${e.message}\n\nUsage:  ${path} [OPTIONS] PATH | URL | -\n\nRun '${path} --help' for more information\n`)
  return 125
}

export const buildCommand: Handler = async ([specified = ''], opts, ctx) => {
  for (const [key, flag] of BUILDKIT_ONLY) {
    if (opts[key] !== undefined) {
      err(`"--${flag}" requires BuildKit, which berth does not have: berth builds with the classic builder\n`)
      return 1
    }
  }
  let options: ImageBuildOptions
  try {
    options = optionsFrom(opts)
  } catch (e) {
    if (e instanceof FlagError) return flagErrorStatus(e, ctx.path)
    throw e
  }
  const dockerfileFlag = str(opts.file) ?? ''
  const quiet = bool(opts.quiet)
  if (dockerfileFlag === '-' && specified === '-') {
    err("invalid argument: can't use stdin for both build context and dockerfile\n")
    return 1
  }
  // -q keeps both the upload progress and the build output back: shown only on failure.
  let progBuff = ''
  let buildBuff = ''
  const progress = quiet ? (s: string) => { progBuff += s } : out
  const build = quiet ? (s: string) => { buildBuff += s } : out

  const iidfile = str(opts.iidfile)
  if (iidfile) {
    try {
      await fsp.rm(iidfile)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`Removing image ID file: ${(e as Error).message}`)
    }
  }

  let prepared: Prepared
  try {
    prepared = await prepareContext(specified, dockerfileFlag)
  } catch (e) {
    if (e instanceof ContextError) {
      err(`unable to prepare context: ${e.message}\n`)
      return 1
    }
    throw e
  }

  const client = getClient(ctx.globals)
  const store = new CredentialStore()
  const cfg = await store.load().catch((): DockerConfig => ({}))
  options.BuildArgs = withProxyArgs(cfg, client.host, options.BuildArgs ?? {})
  options.AuthConfigs = await allAuthConfigs(store, cfg)
  options.Dockerfile = prepared.dockerfile
  options.RemoteContext = prepared.remote

  let body = prepared.body
  if (body && bool(opts.compress)) body = compressContext(body)
  if (body) {
    const counter = uploadProgress(progress, !!process.stdout.isTTY && !quiet)
    body.on('error', (e) => counter.destroy(e))
    body = body.pipe(counter)
  }

  let res: IncomingMessage
  try {
    res = await client.build(body, options)
  } catch (e) {
    if (quiet) err(progBuff)
    throw e
  }

  let imageId = ''
  const renderer = new ProgressRenderer(build, {
    isTerminal: !!process.stdout.isTTY && !quiet,
    width: process.stdout.columns,
    onAux: (aux) => {
      const id = (aux as Partial<BuildResult> | null)?.ID
      if (typeof id === 'string') imageId = id
      else err('Failed to parse aux message: unexpected aux payload')
    },
  })
  try {
    for await (const msg of readJSONStream<JSONMessage>(res)) renderer.render(msg)
  } catch (e) {
    if (e instanceof JSONMessageError) {
      if (quiet) err(`${progBuff}${buildBuff}`)
      err(`${e.message}\n`)
      return e.code || 1
    }
    throw e
  }

  if (quiet) {
    imageId = buildBuff
    out(imageId)
  }
  if (iidfile) {
    if (imageId === '') throw new Error(`Server did not provide an image ID. Cannot write ${iidfile}`)
    await fsp.writeFile(iidfile, imageId, { mode: 0o666 })
  }
  return 0
}

/** docker builder prune. */
export const builderPruneCommand: Handler = async (_args, opts, ctx) => {
  let keepStorage: number | undefined
  try {
    keepStorage = bytesFlag(opts.keepStorage, '--keep-storage')
  } catch (e) {
    if (e instanceof FlagError) {
      err(`${e.message}\n\nUsage:  ${ctx.path} [OPTIONS]\n\nRun '${ctx.path} --help' for more information\n`)
      return 125
    }
    throw e
  }
  const all = bool(opts.all)
  if (!bool(opts.force)) {
    const warning = all ? 'WARNING! This will remove all build cache.' : 'WARNING! This will remove all dangling build cache.'
    if (!(await confirm(`${warning} Are you sure you want to continue? [y/N] `))) return 0
  }
  const report = await getClient(ctx.globals).buildPrune({ all, filters: parseFilters(strs(opts.filter)), keepStorage })
  const deleted = report.CachesDeleted ?? []
  if (deleted.length > 0) out(`Deleted build cache objects:\n${deleted.map((id) => `${id}\n`).join('')}\n`)
  out(`Total reclaimed space: ${humanSize(report.SpaceReclaimed ?? 0)}\n`)
}
