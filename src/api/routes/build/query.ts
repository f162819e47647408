/**
 * POST /build's query as moby's newImageBuildOptions reads it
 * (api/server/router/build/build_routes.go): the same defaults, the same
 * leniency (a bad `memory` is 0) and the same refusals, with its messages.
 * JSON parameters are checked against the Go types docker decodes them into,
 * so `{"A": 1}` as build args fails as it does with dockerd.
 */
import { invalidArgument } from '../../../errors/index.js'
import { parseNormalizedNamed } from '../../../oci/index.js'
import type { BuildRequest } from '../../../builder/index.js'
import type { BuilderVersion, ImageBuildOutput, Ulimit } from '../../types/index.js'

/** Everything POST /build's query says: the builder's request plus what only the route or nobody uses yet. */
export interface BuildQuery {
  request: BuildRequest
  version: BuilderVersion
  /** `remote`: a URL to fetch the context from instead of the body. */
  remote: string
  squash: boolean
  /** Parsed and checked, not applied by berth's builder yet. */
  resources: BuildResources
  outputs: ImageBuildOutput[]
  session: string
  buildId: string
}

/** The RUN containers' limits and extras docker's classic builder applies; berth parses them only. */
export interface BuildResources {
  memory: number
  memorySwap: number
  cpuShares: number
  cpuPeriod: number
  cpuQuota: number
  cpuSetCpus: string
  cpuSetMems: string
  cgroupParent: string
  shmSize: number
  ulimits: Ulimit[]
  extraHosts: string[]
  isolation: string
}

/** httputils.BoolValue: anything but "", 0, no, false, none (any case, trimmed) is true. */
export function goBoolValue(q: URLSearchParams, name: string): boolean {
  const s = (q.get(name) ?? '').trim().toLowerCase()
  return !(s === '' || s === '0' || s === 'no' || s === 'false' || s === 'none')
}

/** httputils.Int64ValueOrZero: a value strconv.ParseInt refuses counts as 0. */
export function int64OrZero(q: URLSearchParams, name: string): number {
  const v = q.get(name) ?? ''
  return parseGoInt(v) ?? 0
}

/** strconv.ParseInt(v, 10, 64) within a double's exact range; undefined where Go fails. */
function parseGoInt(v: string): number | undefined {
  if (!/^[+-]?\d+$/.test(v)) return undefined
  const n = Number(v)
  return Number.isSafeInteger(n) ? n : undefined
}

/** Go's name for a JSON value's kind, as in "cannot unmarshal number into …". */
function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'boolean') return 'bool'
  return typeof v
}

const mismatch = (v: unknown, goType: string): Error =>
  new Error(`json: cannot unmarshal ${jsonKind(v)} into Go value of type ${goType}`)

/**
 * JSON.parse with encoding/json's wording for the common failures. Syntax
 * errors keep V8's detail after Go's prefix where Go's exact text would need
 * its scanner.
 */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    const msg = (err as Error).message
    const pos = Number(/at position (\d+)/.exec(msg)?.[1] ?? -1)
    if (/end of JSON input|Unterminated/.test(msg) || pos >= text.trimEnd().length) throw new Error('unexpected end of JSON input')
    const ch = /Unexpected token '?(.)'?/.exec(msg)?.[1] ?? /Unexpected (?:non-whitespace )?character/.exec(msg)?.[0]
    throw new Error(ch && ch.length === 1 ? `invalid character '${ch}' looking for beginning of value` : `invalid JSON: ${msg}`)
  }
}

/** map[string]T with T decoded by `elem`; null is an empty map, as Go leaves it. */
function decodeMap<T>(v: unknown, goType: string, elem: (x: unknown) => T): Record<string, T> {
  if (v === null) return {}
  if (typeof v !== 'object' || Array.isArray(v)) throw mismatch(v, goType)
  const out: Record<string, T> = {}
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = elem(x)
  return out
}

function decodeArray<T>(v: unknown, goType: string, elem: (x: unknown) => T): T[] {
  if (v === null) return []
  if (!Array.isArray(v)) throw mismatch(v, goType)
  return v.map(elem)
}

/** A Go string: null decodes to "" (a no-op on the zero value). */
function goString(x: unknown): string {
  if (x === null) return ''
  if (typeof x !== 'string') throw mismatch(x, 'string')
  return x
}

function goInt64(x: unknown, field: string): number {
  if (x === null) return 0
  if (typeof x !== 'number') throw new Error(`json: cannot unmarshal ${jsonKind(x)} into Go struct field ${field} of type int64`)
  if (!Number.isInteger(x)) throw new Error(`json: cannot unmarshal number ${x} into Go struct field ${field} of type int64`)
  return x
}

/** A struct's fields by name, matched case-insensitively as encoding/json does. */
function fields(x: unknown, goType: string): Map<string, unknown> {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) throw mismatch(x, goType)
  return new Map(Object.entries(x as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), v]))
}

function decodeUlimit(x: unknown): Ulimit {
  if (x === null) return { Name: '', Soft: 0, Hard: 0 }
  const f = fields(x, 'container.Ulimit')
  return { Name: goString(f.get('name') ?? null), Soft: goInt64(f.get('soft') ?? null, 'Ulimit.Soft'), Hard: goInt64(f.get('hard') ?? null, 'Ulimit.Hard') }
}

function decodeOutput(x: unknown): ImageBuildOutput {
  const f = fields(x, 'build.ImageBuildOutput')
  const attrs = decodeMap(f.get('attrs') ?? null, 'map[string]string', goString)
  return { Type: goString(f.get('type') ?? null), Attrs: attrs }
}

/** A JSON query parameter decoded into `decode`'s Go type; errors read "<what>: <json error>". */
function jsonParam<T>(q: URLSearchParams, name: string, what: string, dflt: T, decode: (v: unknown) => T): T {
  const raw = q.get(name) ?? ''
  if (raw === '') return dflt
  try {
    return decode(parseJson(raw))
  } catch (err) {
    throw invalidArgument(`${what}: ${(err as Error).message}`, err)
  }
}

/** container.Isolation.IsValid on Linux: only the default. */
function validIsolation(i: string): boolean {
  const l = i.toLowerCase()
  return l === '' || l === 'default'
}

/**
 * The build's options from POST /build's query and headers. `minor` is the
 * request's API version (1.minor): `platform` counts from 1.32, `outputs`
 * from 1.40, as in moby.
 */
export function parseBuildQuery(q: URLSearchParams, minor: number, registryConfig?: string): BuildQuery {
  // Linux daemons refuse every security option (they are Windows' credential specs).
  if (q.has('securityopt')) throw invalidArgument('security options are not supported on linux')

  const forceRm = goBoolValue(q, 'forcerm')
  const rm = forceRm || (q.get('rm') ?? '') === '' || goBoolValue(q, 'rm')

  let shmSize = 0
  const shm = q.get('shmsize') ?? ''
  if (shm !== '') {
    const n = parseGoInt(shm)
    if (n === undefined) throw invalidArgument(`strconv.ParseInt: parsing ${JSON.stringify(shm)}: invalid syntax`)
    shmSize = n
  }

  const isolation = q.get('isolation') ?? ''
  if (isolation !== '' && !validIsolation(isolation)) throw invalidArgument(`unsupported isolation: ${JSON.stringify(isolation)}`)

  const ulimits = jsonParam(q, 'ulimits', 'error reading ulimit settings', [] as Ulimit[], (v) => decodeArray(v, '[]*container.Ulimit', decodeUlimit))
  const buildArgs = jsonParam(q, 'buildargs', 'error reading build args', {} as Record<string, string | null>, (v) =>
    decodeMap(v, 'map[string]*string', (x) => (x === null ? null : goString(x))))
  const labels = jsonParam(q, 'labels', 'error reading labels', {} as Record<string, string>, (v) => decodeMap(v, 'map[string]string', goString))
  const cacheFrom = jsonParam(q, 'cachefrom', 'error reading cache-from', [] as string[], (v) => decodeArray(v, '[]string', goString))
  const outputs = minor >= 40 ? jsonParam(q, 'outputs', 'invalid outputs specified', [] as ImageBuildOutput[], (v) => decodeArray(v, '[]build.ImageBuildOutput', decodeOutput)) : []

  let version: BuilderVersion = '1'
  const bv = q.get('version') ?? ''
  if (bv !== '') {
    if (bv !== '1' && bv !== '2') throw invalidArgument(`invalid version ${JSON.stringify(bv)}`)
    version = bv
  }

  const tags = q.getAll('t')
  checkTags(tags)

  const request: BuildRequest = {
    dockerfile: q.get('dockerfile') || 'Dockerfile',
    tags: tags.filter((t) => t !== ''),
    buildArgs,
    labels,
    noCache: goBoolValue(q, 'nocache'),
    pull: goBoolValue(q, 'pull'),
    rm,
    forceRm,
    quiet: goBoolValue(q, 'q'),
    cacheFrom,
    networkMode: q.get('networkmode') || 'default',
  }
  const target = q.get('target') ?? ''
  if (target !== '') request.target = target
  const platform = minor >= 32 ? q.get('platform') ?? '' : ''
  if (platform !== '') request.platform = platform
  if (registryConfig) request.encodedRegistryConfig = registryConfig

  return {
    request,
    version,
    remote: q.get('remote') ?? '',
    squash: goBoolValue(q, 'squash'),
    resources: {
      memory: int64OrZero(q, 'memory'),
      memorySwap: int64OrZero(q, 'memswap'),
      cpuShares: int64OrZero(q, 'cpushares'),
      cpuPeriod: int64OrZero(q, 'cpuperiod'),
      cpuQuota: int64OrZero(q, 'cpuquota'),
      cpuSetCpus: q.get('cpusetcpus') ?? '',
      cpuSetMems: q.get('cpusetmems') ?? '',
      cgroupParent: q.get('cgroupparent') ?? '',
      shmSize,
      ulimits,
      extraHosts: q.getAll('extrahosts'),
      isolation,
    },
    outputs,
    session: q.get('session') ?? '',
    buildId: q.get('buildid') ?? '',
  }
}

/**
 * sanitizeRepoAndTags (api/server/backend/build/tag.go): each `t` must parse
 * as a reference without a digest; empty ones are skipped.
 */
function checkTags(tags: string[]): void {
  for (const t of tags) {
    if (t === '') continue
    const ref = parseNormalizedNamed(t)
    if (ref.digest !== undefined) throw invalidArgument('build tag cannot contain a digest')
  }
}

/** `remote` kinds, as moby's urlutil tells them apart. */
export type RemoteKind = 'none' | 'client-session' | 'git' | 'url' | 'unknown'

export function remoteKind(remote: string): RemoteKind {
  if (remote === '') return 'none'
  if (remote === 'client-session') return 'client-session'
  const isURL = remote.startsWith('http://') || remote.startsWith('https://')
  if ((isURL && /\.git(?:#.+)?$/.test(remote)) || remote.startsWith('git://') || remote.startsWith('git@') || remote.startsWith('github.com/')) return 'git'
  if (isURL) return 'url'
  return 'unknown'
}
