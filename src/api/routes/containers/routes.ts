import type { ContainerRecord, WaitCondition } from '../../../containers/index.js'
import { invalidArgument, messageOf } from '../../../errors/index.js'
import { formatTimeNanoFixed } from '../../../logs/index.js'
import type { Ctx, Router } from '../../server/index.js'
import { FrameBatcher, muxWriter, writeFrame } from '../../server/index.js'
import type { ContainerCreateRequest, ContainerWaitResponse, ExecConfig, ExecInspect, ExecStartConfig } from '../../types/index.js'
import type { ContainersBackend } from './backend.js'
import { inspectOf, specFromCreate, summaryOf } from './convert.js'
import { checkCreateShape } from './shape.js'

const RAW = 'application/vnd.docker.raw-stream'
const MUX = 'application/vnd.docker.multiplexed-stream'

/** Streams are framed without a TTY; the media type says so from API 1.42. */
const streamType = (ctx: Ctx, tty: boolean) => (!tty && ctx.version >= 42 ? MUX : RAW)

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/**
 * docker's `since`/`until`: unix seconds with an optional fraction, RFC3339, or
 * (in prune filters) a Go duration such as `24h` or `1h30m`, meaning that long ago.
 */
export function timeParamNano(v: string | null, now = Date.now()): bigint | undefined {
  if (v === null || v === '' || v === '0') return undefined
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(v)
  if (m) return BigInt(m[1] ?? '0') * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'))
  if (/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v)) {
    let ms = 0
    for (const [, n, unit] of v.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(n) * (DURATION_UNITS[unit ?? 's'] ?? 0)
    return BigInt(Math.round(now - ms)) * 1_000_000n
  }
  const ms = Date.parse(v)
  if (Number.isNaN(ms)) throw invalidArgument(`invalid value for time: ${v}`)
  return BigInt(ms) * 1_000_000n
}

const FILTERS = new Set(['id', 'name', 'label', 'status', 'exited', 'ancestor', 'before', 'since', 'volume', 'network', 'health', 'isolation', 'is-task', 'publish', 'expose'])
const HEALTHS = ['none', 'starting', 'healthy', 'unhealthy']
const STATUSES = new Set(['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'])

function labelMatch(labels: Record<string, string>, f: string): boolean {
  const i = f.indexOf('=')
  if (i < 0) return f in labels
  return labels[f.slice(0, i)] === f.slice(i + 1)
}

export function containerRoutes(r: Router, b: ContainersBackend): void {
  const c = b.containers

  r.post('/containers/create', async (ctx) => {
    const body = await ctx.json<ContainerCreateRequest>()
    checkCreateShape(body)
    // KernelMemory is gone from API 1.42: dropped without a word, as dockerd does.
    if (ctx.version >= 42 && body?.HostConfig && typeof body.HostConfig === 'object') delete body.HostConfig.KernelMemory
    const spec = specFromCreate(body)
    const res = await c.create(spec, ctx.query.get('name') ?? undefined)
    ctx.send(201, { Id: res.id, Warnings: res.warnings })
  })

  r.get('/containers/json', async (ctx) => {
    const all = ctx.bool('all')
    const size = ctx.bool('size')
    const limit = ctx.int('limit', -1) ?? -1
    const filters = ctx.filters()
    for (const k of filters.keys()) if (!FILTERS.has(k)) throw invalidArgument(`invalid filter '${k}'`)
    for (const s of filters.get('status') ?? []) if (!STATUSES.has(s)) throw invalidArgument(`invalid filter 'status=${s}'`)
    for (const h of filters.get('health') ?? []) {
      if (!HEALTHS.includes(h)) throw invalidArgument(`invalid filter 'health=${h}': invalid value for health (${h}): must be one of ${HEALTHS.join(', ')}`)
    }
    let recs = c.list().sort((x, y) => (x.created < y.created ? 1 : x.created > y.created ? -1 : 0))
    const ref = (v: string) => c.get(v)
    const before = filters.get('before')?.map(ref)
    const since = filters.get('since')?.map(ref)
    const keep = (rec: ContainerRecord): boolean => {
      const st = rec.state.status
      const f = (k: string) => filters.get(k)
      if (!all && !f('status') && !f('exited') && st !== 'running' && st !== 'paused' && st !== 'restarting') {
        if (limit <= 0 && !before && !since) return false
      }
      if (f('id') && !f('id')?.some((v) => rec.id.startsWith(v))) return false
      if (f('name') && !f('name')?.some((v) => safeRegex(v).test(rec.name) || safeRegex(v).test(`/${rec.name}`))) return false
      if (f('label') && !f('label')?.every((v) => labelMatch(rec.effective.labels, v))) return false
      if (f('status') && !f('status')?.includes(st)) return false
      if (f('exited') && !(st === 'exited' && f('exited')?.includes(String(rec.state.exitCode)))) return false
      if (f('ancestor') && !f('ancestor')?.some((v) => b.isAncestor(rec, v))) return false
      if (before && !before.every((x) => rec.created < x.created)) return false
      if (since && !since.every((x) => rec.created > x.created)) return false
      if (f('network') && !f('network')?.some((v) => networkNames(rec).includes(v) || Object.values(b.networkView(rec).networkIds).includes(v))) return false
      if (f('publish') && !f('publish')?.some((v) => portMatches(v, b.networkView(rec).sandbox?.ports.map((p) => `${p.containerPort}/${p.proto}`) ?? []))) return false
      if (f('expose') && !f('expose')?.some((v) => portMatches(v, rec.effective.exposedPorts))) return false
      if (f('health') && !f('health')?.includes(rec.state.health?.status ?? 'none')) return false
      if (f('volume')) return false
      return true
    }
    recs = recs.filter(keep)
    if (limit > 0) recs = recs.slice(0, limit)
    const out = []
    for (const rec of recs) {
      const extra: Parameters<typeof summaryOf>[1] = { imageName: b.imageName(rec), network: b.networkView(rec), volumePath: (n) => b.volumePath(n) }
      if (size) {
        extra.sizeRw = await c.sizeRw(rec)
        extra.sizeRootFs = extra.sizeRw + b.imageSize(rec.imageId)
      }
      out.push(summaryOf(rec, extra))
    }
    ctx.send(200, out)
  })

  r.get('/containers/{id}/json', async (ctx) => {
    const rec = c.get(ctx.params.id ?? '')
    const x: Parameters<typeof inspectOf>[1] = { execIds: c.exec.idsFor(rec.id), graphDriver: await b.graphDriver(rec), network: b.networkView(rec), volumePath: (n) => b.volumePath(n) }
    if (ctx.bool('size')) {
      x.sizeRw = await c.sizeRw(rec)
      x.sizeRootFs = x.sizeRw + b.imageSize(rec.imageId)
    }
    ctx.send(200, inspectOf(rec, x))
  })

  r.get('/containers/{id}/top', async (ctx) => {
    const rec = c.get(ctx.params.id ?? '')
    ctx.send(200, await b.top(rec, ctx.query.get('ps_args') || '-ef'))
  })

  r.post('/containers/{id}/start', async (ctx) => {
    await c.start(ctx.params.id ?? '')
    ctx.send(204)
  })

  const stopOpts = (ctx: Ctx) => {
    const t = ctx.int('t')
    return { signal: ctx.query.get('signal') ?? undefined, timeout: t }
  }
  r.post('/containers/{id}/stop', async (ctx) => {
    await c.stop(ctx.params.id ?? '', stopOpts(ctx))
    ctx.send(204)
  })
  r.post('/containers/{id}/restart', async (ctx) => {
    await c.restart(ctx.params.id ?? '', stopOpts(ctx))
    ctx.send(204)
  })
  r.post('/containers/{id}/kill', async (ctx) => {
    await c.kill(ctx.params.id ?? '', ctx.query.get('signal') || 'SIGKILL')
    ctx.send(204)
  })
  r.post('/containers/{id}/pause', async (ctx) => {
    await c.pause(ctx.params.id ?? '')
    ctx.send(204)
  })
  r.post('/containers/{id}/unpause', async (ctx) => {
    await c.unpause(ctx.params.id ?? '')
    ctx.send(204)
  })
  r.post('/containers/{id}/rename', async (ctx) => {
    await c.rename(ctx.params.id ?? '', ctx.query.get('name') ?? '')
    ctx.send(204)
  })
  r.post('/containers/{id}/resize', async (ctx) => {
    const h = ctx.int('h', 0) ?? 0
    const w = ctx.int('w', 0) ?? 0
    await c.resize(ctx.params.id ?? '', { height: h, width: w })
    ctx.send(200)
  })

  r.delete('/containers/{id}', async (ctx) => {
    if (ctx.bool('link')) throw invalidArgument('legacy links are not supported')
    await c.remove(ctx.params.id ?? '', { force: ctx.bool('force'), volumes: ctx.bool('v') })
    ctx.send(204)
  })

  r.post('/containers/prune', async (ctx) => {
    const filters = ctx.filters()
    for (const k of filters.keys()) if (k !== 'label' && k !== 'label!' && k !== 'until') throw invalidArgument(`invalid filter '${k}'`)
    const until = filters.get('until')?.[0]
    const untilNano = until ? timeParamNano(until) : undefined
    const res = await c.prune((rec) => {
      if (filters.get('label') && !filters.get('label')?.every((v) => labelMatch(rec.effective.labels, v))) return false
      if (filters.get('label!')?.some((v) => labelMatch(rec.effective.labels, v))) return false
      if (untilNano !== undefined && BigInt(Date.parse(rec.created)) * 1_000_000n >= untilNano) return false
      return true
    })
    ctx.send(200, { ContainersDeleted: res.deleted.length ? res.deleted : null, SpaceReclaimed: res.reclaimed })
  })

  r.post('/containers/{id}/wait', async (ctx) => {
    const cond = (ctx.query.get('condition') || 'not-running') as WaitCondition
    if (!['not-running', 'next-exit', 'removed'].includes(cond)) throw invalidArgument(`invalid condition: "${cond}"`)
    const gone = new AbortController()
    const p = c.wait(ctx.params.id ?? '', cond, gone.signal)
    // Headers go out at once: the CLI registers the wait before start and blocks on it.
    const res = ctx.stream(200, 'application/json')
    // `docker run -d` abandons its wait: forget it rather than keep it until the next exit.
    res.on('close', () => gone.abort())
    const r0 = await p
    const body: ContainerWaitResponse = { StatusCode: r0.statusCode, Error: r0.error ? { Message: r0.error } : null }
    if (!res.writableEnded) res.end(JSON.stringify(body) + '\n')
  })

  r.post('/containers/{id}/attach', async (ctx) => {
    const rec = c.get(ctx.params.id ?? '')
    const h = ctx.hijack(streamType(ctx, rec.spec.tty))
    const write = muxWriter(h.socket, !rec.spec.tty)
    try {
      await c.attach(rec.id, h.socket, h.rest, {
        stdin: ctx.bool('stdin'),
        stdout: ctx.bool('stdout'),
        stderr: ctx.bool('stderr'),
        stream: ctx.bool('stream'),
        logs: ctx.bool('logs'),
        detachKeys: ctx.query.get('detachKeys') ?? '',
        write,
      })
    } catch (err) {
      // Already hijacked: report on the stream as docker does, then close.
      h.socket.end(`Error: ${messageOf(err)}\n`)
    }
  })

  r.get('/containers/{id}/logs', async (ctx) => {
    const stdout = ctx.bool('stdout')
    const stderr = ctx.bool('stderr')
    if (!stdout && !stderr) throw invalidArgument('Bad parameters: you must choose at least one stream')
    const tailQ = ctx.query.get('tail')
    const tail = !tailQ || tailQ === 'all' ? undefined : Number(tailQ)
    if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw invalidArgument(`invalid value for "tail": ${tailQ}`)
    const abort = new AbortController()
    const { rec, entries } = c.logs(ctx.params.id ?? '', {
      sinceNano: timeParamNano(ctx.query.get('since')),
      untilNano: timeParamNano(ctx.query.get('until')),
      tail,
      follow: ctx.bool('follow'),
      signal: abort.signal,
    })
    const res = ctx.stream(200, streamType(ctx, rec.spec.tty))
    res.on('close', () => abort.abort())
    const out = new FrameBatcher(res, !rec.spec.tty)
    const ts = ctx.bool('timestamps')
    const details = ctx.bool('details')
    try {
      for await (const e of entries) {
        if (res.destroyed) break
        if (e.stream === 'stdout' ? !stdout : !stderr) continue
        // moby's WriteLogStream: the attrs (sorted, query-escaped) and a space, after the time.
        const prefix = ts || details ? Buffer.from(`${ts ? `${formatTimeNanoFixed(e.timeNano)} ` : ''}${details ? `${attrsText(e.attrs)} ` : ''}`) : undefined
        out.push(e.stream, e.line, prefix)
        if (!out.writable) await out.drained()
      }
      out.flush()
    } catch (err) {
      out.flush()
      // The stream has begun: as moby, the error goes on the system-error stream (a TTY's stream takes it as text).
      const text = Buffer.from(`Error grabbing logs: ${messageOf(err)}\n`)
      if (!res.destroyed) {
        if (rec.spec.tty) res.write(text)
        else writeFrame(res, 3, text)
      }
    }
    res.end()
  })

  r.post('/containers/{id}/exec', async (ctx) => {
    const body = await ctx.json<ExecConfig>()
    if (!body || !Array.isArray(body.Cmd)) throw invalidArgument('No exec command specified')
    const id = await c.exec.create(ctx.params.id ?? '', {
      cmd: body.Cmd.map(String),
      env: Array.isArray(body.Env) ? body.Env.map(String) : [],
      user: body.User ?? '',
      workingDir: body.WorkingDir ?? '',
      tty: body.Tty === true,
      privileged: body.Privileged === true,
      attachStdin: body.AttachStdin === true,
      attachStdout: body.AttachStdout === true,
      attachStderr: body.AttachStderr === true,
      detachKeys: body.DetachKeys ?? '',
      ...(body.ConsoleSize ? { consoleSize: body.ConsoleSize } : {}),
    })
    ctx.send(201, { Id: id })
  })

  r.post('/exec/{id}/start', async (ctx) => {
    const body = (await ctx.json<ExecStartConfig>()) ?? {}
    // moby ExecExists: an unknown exec or a container not running is refused before the hijack.
    const e = c.exec.startable(ctx.params.id ?? '')
    const tty = body.Tty ?? e.config.tty
    const consoleSize = body.ConsoleSize ?? undefined
    if (body.Detach) {
      await c.exec.start(e.id, { detach: true, tty, ...(consoleSize ? { consoleSize } : {}) })
      ctx.send(200)
      return
    }
    const h = ctx.hijack(streamType(ctx, tty))
    const write = muxWriter(h.socket, !tty)
    try {
      await c.exec.start(e.id, { detach: false, tty, ...(consoleSize ? { consoleSize } : {}) }, { socket: h.socket, early: h.rest, write })
    } catch (err) {
      // After the hijack a refusal ("already run") is written on stdout, as moby's route does.
      write('stdout', Buffer.from(`${messageOf(err)}\r\n`))
      h.socket.end()
    }
  })

  r.post('/exec/{id}/resize', async (ctx) => {
    await c.exec.resize(ctx.params.id ?? '', { height: ctx.int('h', 0) ?? 0, width: ctx.int('w', 0) ?? 0 })
    ctx.send(200)
  })

  r.get('/exec/{id}/json', (ctx) => {
    const e = c.exec.get(ctx.params.id ?? '')
    const out: ExecInspect = {
      CanRemove: e.canRemove,
      DetachKeys: e.config.detachKeys,
      ID: e.id,
      Running: e.running,
      ExitCode: e.exitCode,
      ProcessConfig: { tty: e.config.tty, entrypoint: e.config.cmd[0] ?? '', arguments: e.config.cmd.slice(1), privileged: e.config.privileged, user: e.config.user },
      OpenStdin: e.config.attachStdin,
      OpenStderr: e.config.attachStderr,
      OpenStdout: e.config.attachStdout,
      ContainerID: e.containerId,
      Pid: c.exec.pidOf(e),
    }
    ctx.send(200, out)
  })
}

function safeRegex(v: string): RegExp {
  try {
    return new RegExp(v)
  } catch {
    return new RegExp(v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  }
}

function networkNames(rec: ContainerRecord): string[] {
  const m = rec.spec.host.network
  return m.kind === 'network' ? Object.keys(rec.spec.networks) : m.kind === 'container' ? [] : [m.kind]
}

/** `80`, `80/udp` or `8000-8080/tcp` against `port/proto` keys (tcp when no protocol is given). */
function portMatches(filter: string, ports: string[]): boolean {
  const [range = '', proto = 'tcp'] = filter.split('/')
  const [lo = NaN, hi = lo] = range.split('-').map(Number)
  return ports.some((p) => {
    const [port = '', pr = 'tcp'] = p.split('/')
    return pr === proto && Number(port) >= lo && Number(port) <= hi
  })
}

/** Go's url.QueryEscape. */
function queryEscape(s: string): string {
  return encodeURIComponent(s).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

/** `logs --details`: k=v pairs sorted by key, joined by commas. */
export function attrsText(attrs: Record<string, string> | undefined): string {
  return Object.keys(attrs ?? {}).sort().map((k) => `${queryEscape(k)}=${queryEscape(attrs?.[k] ?? '')}`).join(',')
}
