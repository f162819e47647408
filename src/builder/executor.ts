/**
 * Runs a parsed Dockerfile the way docker's classic builder does (moby
 * builder/dockerfile: builder.go, dispatchers.go, internals.go): every
 * stage up to the target in file order, one image per instruction with a
 * parent link, docker's step lines and history text, and the cache probed
 * before each step. RUN runs in a real container whose changes are
 * committed; COPY, ADD and WORKDIR write into a mounted snapshot of the
 * current image; metadata instructions make a child image with no layer
 * (docker creates and commits an empty container for those; the result is
 * the same image config without the container).
 */
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { EngineError, invalidArgument } from '../errors/index.js'
import { shortId } from '../lib/index.js'
import type { HealthcheckConfig, HistoryEntry, ImageConfig, RunConfig } from '../oci/index.js'
import type { BuildCache } from './cache.js'
import { planCopy, type CopySpec } from './copy.js'
import type { ContextSums } from './tarsum.js'
import {
  envFromList, expandInstruction, parseTrigger, planRun, predefinedArgs, resolveGlobalArgs, resolveStageArg, resolveStages,
  type ArgInstruction, type Dockerfile, type EnvLookup, type LabelInstruction, type ResolvedStage, type StageInstruction,
} from './dockerfile/index.js'
import { mkdirInRoot } from './rootfs.js'
import { goHealthcheck, goList, goQuoteList } from './gofmt.js'
import type { BuildContainers, BuildImage, BuildImages, BuildMessage, BuildRequest } from './ports.js'

const DEFAULT_SHELL = ['/bin/sh', '-c']
/** oci.DefaultPathEnv for Linux: what moby puts in a stage's config when the base has no PATH. */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
const SIGNALS = new Set(['ABRT', 'ALRM', 'BUS', 'CHLD', 'CLD', 'CONT', 'FPE', 'HUP', 'ILL', 'INT', 'IO', 'IOT', 'KILL', 'PIPE', 'POLL', 'PROF', 'PWR', 'QUIT', 'SEGV', 'STKFLT', 'STOP', 'SYS', 'TERM', 'TRAP', 'TSTP', 'TTIN', 'TTOU', 'URG', 'USR1', 'USR2', 'VTALRM', 'WINCH', 'XCPU', 'XFSZ'])

export interface ExecutorDeps {
  images: BuildImages
  containers: BuildContainers
  cache: BuildCache
  /** The extracted build context, and its entries' sums (the COPY cache input). */
  contextDir: string
  contextSums?: ContextSums
  /** Scratch space for ADD downloads (under the data root). */
  tmpDir?: string
  emit: (msg: BuildMessage) => void
  signal?: AbortSignal
}

/** A failed RUN: docker's message, with the exit code as the JSON error's code. */
export class RunFailed extends EngineError {
  constructor(message: string, readonly exitCode: number) {
    super('invalid-argument', message)
  }
}

interface StageState {
  /** The current image; null until a step makes one in a stage FROM scratch. */
  imageId: string | null
  config: RunConfig
  maintainer?: string
  /** Whether CMD was set in this stage (ENTRYPOINT then keeps it). */
  cmdSet: boolean
  /** ARGs declared in the stage so far, with their values (undefined: declared, no value). */
  args: Map<string, string | undefined>
}

/** docker's nat.ParsePortSpecs for EXPOSE: `80`, `80/udp`, `8000-8002/tcp` → `80/tcp` keys. */
export function exposedPorts(specs: readonly string[]): string[] {
  const out: string[] = []
  for (const spec of specs) {
    const [range = '', proto = 'tcp'] = spec.split('/')
    if (!/^(tcp|udp|sctp)$/i.test(proto)) throw invalidArgument(`invalid proto: ${proto}`)
    const m = /^(\d+)(?:-(\d+))?$/.exec(range.includes(':') ? range.slice(range.lastIndexOf(':') + 1) : range)
    if (!m) throw invalidArgument(`invalid containerPort: ${range}`)
    const lo = Number(m[1])
    const hi = m[2] === undefined ? lo : Number(m[2])
    if (lo > 65535 || hi > 65535 || hi < lo) throw invalidArgument(`invalid containerPort: ${range}`)
    for (let p = lo; p <= hi; p++) out.push(`${p}/${proto.toLowerCase()}`)
  }
  return out
}

/** moby normalizeWorkdir: relative paths join the current one; the result is clean and absolute. */
export function normalizeWorkdir(current: string, requested: string): string {
  if (requested === '') throw invalidArgument('cannot normalize nothing')
  const joined = path.posix.isAbsolute(requested) ? requested : path.posix.join(current || '/', requested)
  return path.posix.normalize(joined).replace(/(.)\/$/, '$1')
}

function checkStopSignal(sig: string): void {
  const s = sig.toUpperCase().replace(/^SIG/, '')
  if (/^\d+$/.test(s) ? Number(s) > 0 && Number(s) < 65 : SIGNALS.has(s) || /^RTMIN(\+\d+)?$|^RTMAX(-\d+)?$/.test(s)) return
  throw invalidArgument(`Invalid signal: ${sig}`)
}

const sameHistory = (a: HistoryEntry, b: HistoryEntry): boolean =>
  a.created === b.created && a.created_by === b.created_by && a.author === b.author && a.comment === b.comment && !!a.empty_layer === !!b.empty_layer

/** moby isValidParent: the parent's history and layers begin the image's. */
function validCacheParent(img: BuildImage, parent: BuildImage | undefined): boolean {
  const ih = img.config.history ?? []
  if (ih.length === 0) return false
  const ph = parent?.config.history ?? []
  const pd = parent?.config.rootfs.diff_ids ?? []
  if (!parent || (ph.length === 0 && pd.length === 0)) return true
  if (ph.length >= ih.length || pd.length > img.config.rootfs.diff_ids.length) return false
  return ph.every((h, i) => sameHistory(h, ih[i] as HistoryEntry)) && pd.every((d, i) => d === img.config.rootfs.diff_ids[i])
}

function envKey(e: string): string {
  const i = e.indexOf('=')
  return i < 0 ? e : e.slice(0, i)
}

/** One build: a Dockerfile, a request, a context. */
export class Executor {
  private step = 1
  private total = 0
  /** Stage results by index, for FROM <stage> and COPY --from. */
  private readonly stageImages = new Map<number, string | null>()
  private globalArgs = new Map<string, string>()
  private readonly buildArgs: Map<string, string>
  /** Build args some ARG declared (the rest are reported unused at the end). */
  private readonly consumed = new Set<string>()
  /** --cache-from images found locally. */
  private sources: BuildImage[] = []

  constructor(private readonly d: ExecutorDeps, private readonly req: BuildRequest, private readonly df: Dockerfile) {
    this.buildArgs = new Map(Object.entries(req.buildArgs).filter((e): e is [string, string] => e[1] !== null))
    // As docker: a --cache-from image that is not here is skipped.
    this.sources = req.cacheFrom.flatMap((ref) => d.images.find(ref) ?? [])
  }

  private say(text: string): void {
    this.d.emit({ stream: text })
  }

  private printStep(original: string): void {
    this.say(`Step ${this.step}/${this.total} : ${original}\n`)
    this.step++
  }

  /** Runs the build; returns the final image ID. */
  async run(): Promise<string> {
    const df = this.df
    let last = df.stages.length - 1
    if (this.req.target) {
      const t = this.req.target.toLowerCase()
      const i = df.stages.findIndex((s) => s.name === t)
      if (i < 0) throw invalidArgument(`target stage "${this.req.target}" could not be found`)
      last = i
    }
    const chosen = df.stages.slice(0, last + 1)
    const labels = Object.keys(this.req.labels).sort().map((k): LabelInstruction => {
      const original = `LABEL ${k}=${this.req.labels[k]}`
      return { kind: 'label', keyword: 'LABEL', original, line: 0, endLine: 0, pairs: [{ key: k, value: this.req.labels[k] as string }], legacy: false }
    })
    this.total = df.metaArgs.length + chosen.length + chosen.reduce((n, s) => n + s.instructions.length, 0) + labels.length
    for (const w of df.warnings) this.say(`[WARNING]: ${w.message}\n`)

    for (const meta of df.metaArgs) {
      this.printStep(meta.original)
      for (const def of meta.args) this.consumed.add(def.key)
    }
    this.globalArgs = resolveGlobalArgs(df.metaArgs, { buildArgs: this.buildArgs, escapeToken: df.escapeToken })
    // The stages again, now that FROM lines can see the global ARGs.
    const resolved = resolveStages(df, this.globalArgs)

    let finalId: string | null = null
    for (let i = 0; i < chosen.length; i++) {
      const rs = resolved[i] as ResolvedStage
      const extra = i === chosen.length - 1 ? labels : []
      finalId = await this.runStage(rs, extra)
      this.stageImages.set(rs.stage.index, finalId)
      if (finalId) this.d.emit({ aux: { ID: finalId } })
    }
    const unused = [...this.buildArgs.keys()].filter((k) => !this.consumed.has(k) && !predefinedArgs.includes(k)).sort()
    if (unused.length) this.say(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`)
    if (!finalId) throw invalidArgument('No image was generated. Is your Dockerfile empty?')
    return finalId
  }

  private async runStage(rs: ResolvedStage, extra: StageInstruction[]): Promise<string | null> {
    this.printStep(rs.stage.from.original)
    const base = await this.baseImage(rs)
    const state: StageState = {
      imageId: base?.id ?? null,
      config: structuredClone(base?.config.config ?? {}),
      cmdSet: false,
      args: new Map(),
    }
    // moby setDefaultPath: a stage's config always carries a PATH, so the image it makes does too.
    if (!(state.config.Env ?? []).some((e) => envKey(e) === 'PATH')) state.config.Env = [...(state.config.Env ?? []), `PATH=${DEFAULT_PATH}`]
    this.say(` ---> ${base ? shortId(base.id) : ''}\n`)
    const triggers = state.config.OnBuild ?? []
    if (triggers.length > 0) {
      state.config.OnBuild = null
      this.say(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`)
      for (const t of triggers) {
        const instr = parseTrigger(t)
        await this.dispatch(state, instr)
      }
    }
    for (const instr of [...rs.stage.instructions, ...extra]) {
      this.d.signal?.throwIfAborted()
      this.printStep(instr.original)
      await this.dispatch(state, instr)
      this.say(` ---> ${state.imageId ? shortId(state.imageId) : ''}\n`)
    }
    return state.imageId
  }

  private async baseImage(rs: ResolvedStage): Promise<BuildImage | null> {
    const b = rs.base
    if (b.kind === 'scratch') return null
    if (b.kind === 'stage') {
      const id = this.stageImages.get(b.index)
      if (id === undefined) throw invalidArgument(`stage ${rs.baseName} has not been built`)
      return id === null ? null : (this.d.images.find(id) ?? null)
    }
    return this.image(b.ref, rs.platform)
  }

  /** A base or --from image: local unless --pull (or missing), as docker's imageSources. */
  private async image(ref: string, platform?: string): Promise<BuildImage> {
    const local = this.d.images.find(ref)
    if (local && !this.req.pull) return local
    try {
      return await this.d.images.pull(ref, {
        platform: platform ?? this.req.platform,
        encodedAuth: this.req.encodedRegistryConfig,
        progress: (m) => this.d.emit(m),
        signal: this.d.signal,
      })
    } catch (err) {
      // docker's --pull uses the local image when the registry has none (or is out of reach).
      if (local) return local
      throw err
    }
  }

  /** The environment instructions expand in: ENV first, then the ARGs in effect (moby getExpandedString). */
  private env(state: StageState): EnvLookup {
    const env = envFromList(state.config.Env ?? [])
    const lookup = new Map<string, string>()
    for (const [k, v] of state.args) if (v !== undefined) lookup.set(k, v)
    for (const [k, v] of env) lookup.set(k, v)
    return lookup
  }

  /** Build args that reach RUN: declared ARGs with values not shadowed by ENV, plus the proxy args given. */
  private runArgs(state: StageState): string[] {
    const envKeys = new Set((state.config.Env ?? []).map(envKey))
    const out: string[] = []
    for (const [k, v] of state.args) if (v !== undefined && !envKeys.has(k)) out.push(`${k}=${v}`)
    for (const k of predefinedArgs) {
      const v = this.buildArgs.get(k)
      if (v !== undefined && !state.args.has(k) && !envKeys.has(k)) out.push(`${k}=${v}`)
    }
    return out
  }

  private shell(state: StageState): string[] {
    return state.config.Shell && state.config.Shell.length > 0 ? state.config.Shell : DEFAULT_SHELL
  }

  private cmdLine(state: StageState, c: { cmdLine: string[]; prependShell: boolean }): string[] {
    return c.prependShell ? [...this.shell(state), c.cmdLine.join(' ')] : [...c.cmdLine]
  }

  private async dispatch(state: StageState, raw: StageInstruction): Promise<void> {
    const esc = this.df.escapeToken
    const instr = raw.kind === 'run' || raw.kind === 'cmd' || raw.kind === 'entrypoint' || raw.kind === 'shell' || raw.kind === 'healthcheck' || raw.kind === 'onbuild' || raw.kind === 'maintainer' || raw.kind === 'arg' || raw.line === 0
      ? raw
      : expandInstruction(raw, this.env(state), esc)
    const c = state.config
    switch (instr.kind) {
      case 'env': {
        const words: string[] = []
        for (const { key, value } of instr.pairs) {
          const entry = `${key}=${value}`
          words.push(entry)
          const env = c.Env ?? []
          const i = env.findIndex((e) => envKey(e) === key)
          if (i >= 0) env[i] = entry
          else env.push(entry)
          c.Env = env
        }
        return this.commitMeta(state, `ENV ${words.join(' ')}`)
      }
      case 'label': {
        c.Labels = c.Labels ?? {}
        const words: string[] = []
        for (const { key, value } of instr.pairs) {
          c.Labels[key] = value
          words.push(`${key}=${value}`)
        }
        return this.commitMeta(state, `LABEL ${words.join(' ')}`)
      }
      case 'maintainer':
        state.maintainer = instr.maintainer
        return this.commitMeta(state, `MAINTAINER ${instr.maintainer}`)
      case 'arg':
        return this.arg(state, instr)
      case 'cmd':
        c.Cmd = this.cmdLine(state, instr)
        c.ArgsEscaped = undefined
        await this.commitMeta(state, `CMD ${goQuoteList(c.Cmd)}`)
        if (instr.cmdLine.length > 0) state.cmdSet = true
        return
      case 'entrypoint':
        c.Entrypoint = this.cmdLine(state, instr)
        if (!state.cmdSet) c.Cmd = null
        return this.commitMeta(state, `ENTRYPOINT ${goQuoteList(c.Entrypoint)}`)
      case 'expose': {
        const ports = exposedPorts(instr.ports)
        c.ExposedPorts = c.ExposedPorts ?? {}
        for (const p of ports) c.ExposedPorts[p] = {}
        return this.commitMeta(state, `EXPOSE ${instr.ports.join(' ')}`)
      }
      case 'user':
        c.User = instr.user
        return this.commitMeta(state, `USER ${instr.user}`)
      case 'volume':
        c.Volumes = c.Volumes ?? {}
        for (const v of instr.volumes) {
          if (v === '') throw invalidArgument('VOLUME specified can not be an empty string')
          c.Volumes[v] = {}
        }
        return this.commitMeta(state, `VOLUME ${goList(instr.volumes)}`)
      case 'stopsignal':
        checkStopSignal(instr.signal)
        c.StopSignal = instr.signal
        return this.commitMeta(state, `STOPSIGNAL ${instr.signal}`)
      case 'shell':
        c.Shell = [...instr.shell]
        return this.commitMeta(state, `SHELL ${goList(c.Shell)}`)
      case 'onbuild':
        c.OnBuild = [...(c.OnBuild ?? []), instr.expression]
        return this.commitMeta(state, `ONBUILD ${instr.expression}`)
      case 'healthcheck': {
        const h = instr.health
        if (c.Healthcheck?.Test && c.Healthcheck.Test.length > 0 && c.Healthcheck.Test[0] !== 'NONE') this.say(`Note: overriding previous HEALTHCHECK: ${goList(c.Healthcheck.Test)}\n`)
        const hc: HealthcheckConfig = { Test: [...h.test] }
        if (h.interval) hc.Interval = h.interval
        if (h.timeout) hc.Timeout = h.timeout
        if (h.startPeriod) hc.StartPeriod = h.startPeriod
        if (h.startInterval) hc.StartInterval = h.startInterval
        if (h.retries) hc.Retries = h.retries
        c.Healthcheck = hc
        return this.commitMeta(state, `HEALTHCHECK ${goHealthcheck(hc)}`)
      }
      case 'workdir':
        return this.workdir(state, instr.path)
      case 'run':
        return this.runStep(state, instr)
      case 'copy':
      case 'add':
        return this.copy(state, instr)
    }
  }

  private arg(state: StageState, instr: ArgInstruction): Promise<void> {
    const words: string[] = []
    for (const def of instr.args) {
      this.consumed.add(def.key)
      const value = resolveStageArg(def, { buildArgs: this.buildArgs, globalArgs: this.globalArgs, env: this.env(state), escapeToken: this.df.escapeToken })
      state.args.set(def.key, value)
      words.push(def.value !== undefined ? `${def.key}=${def.value}` : def.key)
    }
    return this.commitMeta(state, `ARG ${words.join(' ')}`)
  }

  /** The probe config of a step that runs nothing: the stage's config with docker's `#(nop)` Cmd. */
  private nop(state: StageState, comment: string, joined = false): RunConfig {
    const cmd = joined ? [...this.shell(state), `#(nop) ${comment}`] : [...this.shell(state), '#(nop) ', comment]
    return { ...structuredClone(state.config), Cmd: cmd }
  }

  private async cached(state: StageState, probe: RunConfig): Promise<boolean> {
    if (this.req.noCache) return false
    const hit = await this.lookup(state.imageId, probe)
    if (!hit) return false
    this.say(' ---> Using cache\n')
    state.imageId = hit
    return true
  }

  /**
   * The local cache; with --cache-from, as moby's image cache: a local hit
   * only if it leads to one of the sources, else a source whose history
   * continues the parent's with this step (its image, or the step's image
   * restored from its layers and history).
   */
  private async lookup(parentId: string | null, probe: RunConfig): Promise<string | undefined> {
    const local = this.d.cache.get(parentId, probe)
    if (this.sources.length === 0) return local
    if (local && this.sources.some((s) => this.isAncestor(local, s.id))) return local
    const parent = parentId ? this.d.images.find(parentId) : undefined
    const ph = parent?.config.history ?? []
    const pd = parent?.config.rootfs.diff_ids ?? []
    const createdBy = (probe.Cmd ?? []).join(' ')
    for (const src of this.sources) {
      const sh = src.config.history ?? []
      if (!validCacheParent(src, parent)) continue
      const h = sh[ph.length]
      if (!h || h.created_by !== createdBy) continue
      if (sh.length - 1 === ph.length) return src.id
      const layers = sh.slice(0, ph.length).filter((x) => !x.empty_layer).length
      const diff = h.empty_layer ? undefined : src.config.rootfs.diff_ids[layers]
      if (!h.empty_layer && diff === undefined) continue
      const config: ImageConfig = {
        architecture: src.config.architecture,
        os: src.config.os,
        ...(src.config.author ? { author: src.config.author } : {}),
        ...(h.created ? { created: h.created } : {}),
        config: probe,
        rootfs: { type: 'layers', diff_ids: [...pd, ...(diff ? [diff] : [])] },
        history: [...ph, h],
      }
      const id = await this.d.images.createFromConfig(config, parentId)
      this.sources = [src]
      return id
    }
    return undefined
  }

  private isAncestor(id: string, of: string): boolean {
    for (let cur: string | undefined = of, n = 0; cur && n < 10_000; n++) {
      if (cur === id) return true
      cur = this.d.images.find(cur)?.parent || undefined
    }
    return false
  }

  private async commitMeta(state: StageState, comment: string): Promise<void> {
    const probe = this.nop(state, comment)
    if (await this.cached(state, probe)) return
    const id = await this.d.images.commitConfig({ parentImageId: state.imageId, config: structuredClone(state.config), containerConfig: probe, ...(state.maintainer ? { author: state.maintainer } : {}) })
    this.d.cache.put(state.imageId, probe, id)
    state.imageId = id
  }

  /** A snapshot over the current image, mounted for `fn`, committed as the step's image. */
  private async withRoot(state: StageState, probe: RunConfig, fn: (root: string) => Promise<void>): Promise<void> {
    const key = `build-${randomBytes(16).toString('hex')}`
    try {
      const root = await this.d.images.mountRoot(key, state.imageId)
      await fn(root)
      const id = await this.d.images.commit(key, { parentImageId: state.imageId, config: structuredClone(state.config), containerConfig: probe, ...(state.maintainer ? { author: state.maintainer } : {}), ...(this.d.signal ? { signal: this.d.signal } : {}) })
      this.d.cache.put(state.imageId, probe, id)
      state.imageId = id
    } finally {
      await this.d.images.releaseRoot(key)
    }
  }

  private async workdir(state: StageState, requested: string): Promise<void> {
    const dir = normalizeWorkdir(state.config.WorkingDir ?? '', requested)
    state.config.WorkingDir = dir
    const probe = this.nop(state, `WORKDIR ${dir}`)
    if (await this.cached(state, probe)) return
    await this.withRoot(state, probe, (root) => mkdirInRoot(root, dir))
  }

  private async copy(state: StageState, instr: Extract<StageInstruction, { kind: 'copy' | 'add' }>): Promise<void> {
    const name = instr.kind === 'copy' ? 'COPY' : 'ADD'
    if (instr.kind === 'copy' && instr.parents) throw invalidArgument('the --parents option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled')
    if (instr.excludes.length > 0) throw invalidArgument('the --exclude option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled')
    const from = instr.kind === 'copy' ? instr.from : undefined
    let fromKey: string | undefined
    let srcRoot = this.d.contextDir
    try {
      if (from !== undefined && from !== '') {
        const img = await this.fromSource(from)
        fromKey = `build-${randomBytes(16).toString('hex')}`
        srcRoot = await this.d.images.mountRoot(fromKey, img)
      }
      const spec: CopySpec = {
        kind: instr.kind,
        sources: instr.sources,
        contents: instr.contents.map((c) => ({ path: c.path, data: c.data })),
        dest: instr.dest,
        workdir: state.config.WorkingDir || '/',
        ...(instr.chown ? { chown: instr.chown } : {}),
        ...(instr.chmod ? { chmod: instr.chmod } : {}),
        ...(instr.kind === 'add' && instr.checksum ? { checksum: instr.checksum } : {}),
        srcRoot,
        fromContext: fromKey === undefined,
        ...(fromKey !== undefined && !instr.chown ? { preserveOwnership: true } : {}),
        ...(fromKey === undefined && this.d.contextSums ? { sums: this.d.contextSums } : {}),
      }
      // One plan for the cache probe and the copy: an ADD URL is downloaded once.
      const plan = await planCopy(spec, { ...(this.d.signal ? { signal: this.d.signal } : {}), ...(this.d.tmpDir ? { tmpDir: this.d.tmpDir } : {}) })
      try {
        const flags = `${instr.chown ? `--chown=${instr.chown} ` : ''}${instr.chmod ? `--chmod=${instr.chmod} ` : ''}`
        const probe = this.nop(state, `${name} ${flags}${plan.description} in ${instr.dest} `, true)
        if (await this.cached(state, probe)) return
        await this.withRoot(state, probe, (root) => plan.copyInto(root, this.d.signal ? { signal: this.d.signal } : {}))
      } finally {
        await plan.close()
      }
    } finally {
      if (fromKey) await this.d.images.releaseRoot(fromKey)
    }
  }

  /** COPY --from: an earlier stage (by name or index) or an image. */
  private async fromSource(from: string): Promise<string | null> {
    const lower = from.toLowerCase()
    const stage = /^\d+$/.test(lower) ? this.df.stages[Number(lower)] : this.df.stages.find((s) => s.name === lower)
    if (stage) {
      const id = this.stageImages.get(stage.index)
      if (id === undefined) throw invalidArgument(`invalid from flag value ${from}: stage not built before this one`)
      return id
    }
    try {
      return (await this.image(from)).id
    } catch (err) {
      throw invalidArgument(`invalid from flag value ${from}: ${(err as Error).message}`, err)
    }
  }

  private async runStep(state: StageState, instr: Extract<StageInstruction, { kind: 'run' }>): Promise<void> {
    if (instr.flagsUsed.length > 0) {
      throw invalidArgument(`the --${instr.flagsUsed[0]} option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled`)
    }
    const plan = planRun(instr)
    const cmd = this.cmdLine(state, plan)
    const args = this.runArgs(state)
    // moby prependEnvOnCmd: the args in effect are part of what the cache compares and history shows.
    const saved = args.length > 0 ? [`|${args.length}`, ...[...args].sort(), ...cmd] : cmd
    const probe: RunConfig = { ...structuredClone(state.config), Cmd: saved, Entrypoint: null }
    if (await this.cached(state, probe)) return
    const runConfig: RunConfig = {
      ...structuredClone(state.config),
      Cmd: cmd,
      Env: [...(state.config.Env ?? []), ...args],
      Entrypoint: [],
      Healthcheck: null,
    }
    if (!state.imageId) throw invalidArgument('Please provide a source image with `from` prior to run')
    const id = await this.d.containers.create(state.imageId, runConfig, { networkMode: this.req.networkMode })
    this.say(` ---> Running in ${shortId(id)}\n`)
    let ok = false
    try {
      const code = await this.d.containers.run(id, (text) => this.say(text), this.d.signal)
      if (code !== 0) throw new RunFailed(`The command '${cmd.join(' ')}' returned a non-zero code: ${code}`, code)
      const image = await this.d.images.commit(id, { parentImageId: state.imageId, config: structuredClone(state.config), containerConfig: probe, ...(state.maintainer ? { author: state.maintainer } : {}) })
      this.d.cache.put(state.imageId, probe, image)
      state.imageId = image
      ok = true
    } finally {
      if ((ok && this.req.rm) || this.req.forceRm) {
        await this.d.containers.remove(id)
        this.say(` ---> Removed intermediate container ${shortId(id)}\n`)
      }
    }
  }
}

