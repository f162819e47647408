/**
 * POST /build, /build/prune and /build/cancel as moby's build router serves
 * them for the classic builder: the query translated once (query.ts), the
 * context streamed from the body or downloaded (remote.ts), the builder's
 * messages written as docker's JSON stream.
 */
import { invalidArgument, messageOf, notImplemented } from '../../../errors/index.js'
import { humanSize } from '../../../lib/index.js'
import type { BuildBackend, BuildMessage } from '../../../builder/index.js'
import type { Ctx, Router } from '../../server/index.js'
import type { BuildCachePruneReport, JSONMessage } from '../../types/index.js'
import { timeParamNano } from '../containers/index.js'
import { goBoolValue, parseBuildQuery, remoteKind } from './query.js'
import { fetchRemoteContext } from './remote.js'

/** jsonmessage's pre-rendered progress text, sent next to progressDetail as dockerd does. */
function progressText(current: number, total: number): string {
  if (total <= 0) return humanSize(current).padStart(8)
  const n = Math.min(50, Math.floor((50 * current) / total))
  const numbers = current > total ? humanSize(current).padStart(8) : `${humanSize(current).padStart(8)}/${humanSize(total)}`
  return `[${'='.repeat(n)}>${' '.repeat(50 - n)}] ${numbers}`
}

/** A failed RUN's error carries the command's exit status; docker reports it as errorDetail.code. */
function exitCodeOf(err: unknown): number | undefined {
  const code = (err as { exitCode?: unknown } | undefined)?.exitCode
  return typeof code === 'number' && code !== 0 ? code : undefined
}

/** streamformatter.FormatError. */
export function buildErrorMessage(err: unknown): JSONMessage {
  const message = messageOf(err)
  const code = exitCodeOf(err)
  return { errorDetail: code === undefined ? { message } : { code, message }, error: message }
}

/**
 * The response of one POST /build, as moby's postBuild writes it. The JSON
 * stream opens with the first message, so a failure before it is an HTTP
 * status with `{"message"}`; one after it ends the stream with errorDetail.
 * With `q` every message is held back: a success sends only the image ID, a
 * failure the held messages and then the error.
 */
export class BuildOutput {
  private out: ReturnType<Ctx['jsonStream']> | undefined
  private readonly held: BuildMessage[] = []

  constructor(private readonly open: () => ReturnType<Ctx['jsonStream']>, private readonly quiet: boolean, private readonly wantAux: boolean) {}

  get started(): boolean {
    return this.out !== undefined
  }

  readonly emit = (msg: BuildMessage): void => {
    // API < 1.30 clients know no aux messages.
    if (msg.aux !== undefined && !this.wantAux) return
    if (this.quiet) this.held.push(msg)
    else this.write(msg)
  }

  private write(msg: JSONMessage): void {
    this.out ??= this.open()
    const d = msg.progressDetail
    if (d?.current === undefined) {
      this.out.write(msg)
      return
    }
    // Go omits a zero total (omitempty).
    const progressDetail = d.total ? { current: d.current, total: d.total } : { current: d.current }
    this.out.write({ ...msg, progressDetail, progress: progressText(d.current, d.total ?? 0) })
  }

  succeeded(imageId: string): void {
    if (this.quiet) this.write({ stream: `${imageId}\n` })
    this.end()
  }

  /** Ends the stream with the error, or rethrows it when nothing was written yet. */
  failed(err: unknown): void {
    if (this.quiet) for (const m of this.held.splice(0)) this.write(m)
    if (!this.out) throw err
    this.write(buildErrorMessage(err))
    this.end()
  }

  private end(): void {
    this.out ??= this.open()
    this.out.end()
  }
}

async function postBuild(ctx: Ctx, b: BuildBackend): Promise<void> {
  const header = ctx.req.headers['x-registry-config']
  const q = parseBuildQuery(ctx.query, ctx.version, typeof header === 'string' && header !== '' ? header : undefined)
  // berthd never runs in experimental mode (Docker-Experimental: false).
  if (q.squash) throw invalidArgument('squash is only supported with experimental mode')
  if (q.version === '2') {
    throw notImplemented('BuildKit (builder version 2) is not supported: berth has only the classic builder; build with version=1 (DOCKER_BUILDKIT=0 for the docker CLI)')
  }
  const kind = remoteKind(q.remote)
  if (kind === 'client-session') throw invalidArgument('experimental session with v1 builder is no longer supported, use builder version v2 (BuildKit) instead')
  if (kind === 'git') throw notImplemented(`git contexts are not supported by berth: clone ${q.remote} and build the directory`)
  if (kind === 'unknown') throw invalidArgument(`remoteURL (${q.remote}) could not be recognized as URL`)

  const abort = new AbortController()
  const res = ctx.res
  res?.on('close', () => {
    if (!res.writableFinished) abort.abort(new Error('client disconnected'))
  })
  const output = new BuildOutput(() => ctx.jsonStream(), q.request.quiet, ctx.version >= 30)
  try {
    let context = ctx.body()
    if (kind === 'url') {
      const remote = await fetchRemoteContext(q.remote, q.request.dockerfile, output.emit, abort.signal)
      context = remote.context
      q.request.dockerfile = remote.dockerfile
    }
    const result = await b.build(q.request, context, output.emit, abort.signal)
    output.succeeded(result.id)
  } catch (err) {
    output.failed(err)
  }
}

/** strconv.Atoi for a byte count parameter, with moby's message. */
function bytesParam(q: URLSearchParams, name: string): number {
  const v = q.get(name) ?? ''
  if (v === '') return 0
  if (!/^[+-]?\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw invalidArgument(`${name} is in bytes and expects an integer, got ${v}: strconv.Atoi: parsing ${JSON.stringify(v)}: invalid syntax`)
  }
  return Number(v)
}

/** Filters dockerd's build prune accepts; `label`/`label!` it accepts and ignores, and so does berth. */
const pruneFilters = new Set(['until', 'unused-for', 'label', 'label!', 'id', 'parent', 'type', 'description', 'inuse', 'shared', 'private'])
/** BuildKit record fields: valid for dockerd, meaningless for a classic-builder cache. */
const recordFilters = new Set(['id', 'parent', 'type', 'description', 'inuse', 'shared', 'private'])

/**
 * The `until` (or its older name `unused-for`) filter as a cut-off in ms:
 * cache entries last used before it go. Validated as moby's
 * toBuildkitPruneInfo does.
 */
export function pruneCutoff(filters: Map<string, string[]>, now = Date.now()): number | undefined {
  for (const k of filters.keys()) if (!pruneFilters.has(k)) throw invalidArgument(`invalid filter '${k}'`)
  const unsupported = [...filters.keys()].filter((k) => recordFilters.has(k)).sort()
  if (unsupported.length > 0) throw invalidArgument(`build cache prune filters are not supported by berth: ${unsupported.join(', ')}`)
  const until = filters.get('until') ?? []
  const unusedFor = filters.get('unused-for') ?? []
  if (until.length > 0 && unusedFor.length > 0) throw invalidArgument('conflicting filters: "until" and "unused-for"')
  const key = unusedFor.length > 0 ? 'unused-for' : 'until'
  const values = [...until, ...unusedFor]
  if (values.length === 0) return undefined
  if (values.length > 1) throw invalidArgument('filters expect only one value')
  let nano: bigint | undefined
  try {
    nano = timeParamNano(values[0] ?? '', now)
  } catch (e) {
    throw invalidArgument(`"${key}" filter expects a duration (e.g., '24h') or a timestamp: ${(e as Error).message}`)
  }
  if (nano === undefined) throw invalidArgument(`"${key}" filter expects a duration (e.g., '24h') or a timestamp`)
  return Number(nano / 1_000_000n)
}

/**
 * docker builder prune (moby postPrune). berth's build cache is the
 * intermediate images of classic builds: `all` and `until` are the knobs it
 * has, so BuildKit record filters and space targets are refused rather than ignored.
 */
async function postPrune(ctx: Ctx, b: BuildBackend): Promise<void> {
  const q = ctx.query
  const filters = ctx.filters()
  const all = goBoolValue(q, 'all')
  const limits: Record<string, number> = {}
  if (ctx.version >= 48) {
    limits['reserved-space'] = bytesParam(q, 'reserved-space')
    if (limits['reserved-space'] === 0) limits['keep-storage'] = bytesParam(q, 'keep-storage')
    limits['max-used-space'] = bytesParam(q, 'max-used-space')
    limits['min-free-space'] = bytesParam(q, 'min-free-space')
  } else {
    limits['keep-storage'] = bytesParam(q, 'keep-storage')
  }
  const usedBeforeMs = pruneCutoff(filters)
  const set = Object.entries(limits).filter(([, v]) => v !== 0).map(([k]) => k)
  if (set.length > 0) throw invalidArgument(`build cache prune space limits are not supported by berth: ${set.join(', ')}`)
  const r = await b.prune({ all, ...(usedBeforeMs !== undefined ? { usedBeforeMs } : {}) })
  const report: BuildCachePruneReport = { CachesDeleted: r.deleted.length > 0 ? r.deleted : null, SpaceReclaimed: r.spaceReclaimed }
  ctx.send(200, report)
}

/**
 * The build routes (moby api/server/router/build). Builds are classic
 * (version 1) only; /build/cancel answers as dockerd does for those: the ID
 * is required and nothing is cancelled (a client cancels by hanging up).
 */
export function buildRoutes(r: Router, b: BuildBackend): void {
  r.post('/build', (ctx) => postBuild(ctx, b))
  r.post('/build/prune', (ctx) => postPrune(ctx, b))
  r.post('/build/cancel', (ctx) => {
    if (!ctx.query.get('id')) throw invalidArgument('build ID not provided')
    ctx.send(200)
  })
}
