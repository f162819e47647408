import type { EngineEvent, EventBus } from '../../../events/index.js'
import { invalidArgument } from '../../../errors/index.js'
import type { Router } from '../../server/index.js'
import type { SystemInfo, VersionResponse } from '../../types/index.js'
import { timeParamNano } from '../containers/index.js'
import { diskUsage, diskUsageTypes, type DiskUsageBackend } from './disk-usage.js'

/** What the system routes need; the daemon computes info and version. */
export interface SystemBackend {
  info(): Promise<SystemInfo>
  version(): Promise<VersionResponse>
  events: Pick<EventBus, 'history' | 'subscribe'>
  /** GET /system/df; without it the route is not served. */
  diskUsage?: DiskUsageBackend
}

/** One event as docker's JSON line; timeNano is written exactly (it exceeds a double's precision). */
export function eventJson(e: EngineEvent): string {
  const legacy = e.type === 'container' || e.type === 'image' ? { status: e.action, id: e.actor.id, ...(e.actor.attributes.image ? { from: e.actor.attributes.image } : {}) } : {}
  const body = { ...legacy, Type: e.type, Action: e.action, Actor: { ID: e.actor.id, Attributes: e.actor.attributes }, scope: e.scope, time: Number(e.timeNano / 1_000_000_000n), timeNano: 0 }
  return JSON.stringify(body).replace(/"timeNano":0/, `"timeNano":${e.timeNano.toString()}`)
}

/** The Actor types whose filter key matches an actor ID or name prefix (moby fuzzyMatchName). */
const NAME_FILTERS = ['daemon', 'container', 'plugin', 'volume', 'network', 'service', 'node', 'secret', 'config'] as const

/** The repository of a reference without tag or digest, as docker's familiar name (moby stripTag). */
function stripTag(ref: string): string {
  let r = ref.split('@')[0] ?? ref
  const slash = r.lastIndexOf('/')
  const colon = r.lastIndexOf(':')
  if (colon > slash) r = r.slice(0, colon)
  if (r.startsWith('docker.io/')) r = r.slice('docker.io/'.length)
  if (r.startsWith('library/') && r.indexOf('/', 'library/'.length) < 0) r = r.slice('library/'.length)
  return r
}

/**
 * moby daemon/events/filter.go: every key given must match (values of one key
 * are alternatives, label values must all match). Unknown keys are ignored,
 * as dockerd does.
 */
export function eventMatcher(filters: Map<string, string[]>): (e: EngineEvent) => boolean {
  const get = (k: string) => filters.get(k) ?? []
  const exact = (k: string, v: string) => !filters.has(k) || get(k).includes(v)
  const fuzzy = (k: string, v: string) => !filters.has(k) || get(k).some((p) => v.startsWith(p))
  // moby #25798: these actions carry the command after a colon, so they match by prefix.
  const fuzzyEvents = get('event').some((v) => v === 'health_status' || v === 'exec_create' || v === 'exec_start')
  return (e) => {
    const attrs = e.actor.attributes
    if (!(fuzzyEvents ? fuzzy('event', e.action) : exact('event', e.action))) return false
    if (!exact('type', e.type) || !exact('scope', e.scope)) return false
    for (const k of NAME_FILTERS) if (filters.has(k) && !(fuzzy(k, e.actor.id) || fuzzy(k, attrs.name ?? ''))) return false
    if (filters.has('image')) {
      const name = (e.type === 'image' ? attrs.name : attrs.image) ?? ''
      if (![e.actor.id, name, stripTag(e.actor.id), stripTag(name)].some((v) => get('image').includes(v))) return false
    }
    for (const l of get('label')) {
      const i = l.indexOf('=')
      const key = i < 0 ? l : l.slice(0, i)
      if (!(key in attrs) || (i >= 0 && attrs[key] !== l.slice(i + 1))) return false
    }
    return true
  }
}

export function systemRoutes(r: Router, b: SystemBackend): void {
  const ping = (ctx: Parameters<Parameters<Router['get']>[1]>[0]) => {
    ctx.sendText(200, 'OK')
  }
  r.get('/_ping', ping)
  r.head('/_ping', ping)

  r.get('/version', async (ctx) => ctx.send(200, await b.version()))
  r.get('/info', async (ctx) => ctx.send(200, await b.info()))
  const du = b.diskUsage
  if (du) r.get('/system/df', async (ctx) => ctx.send(200, await diskUsage(du, ctx.version, diskUsageTypes(ctx.version, ctx.query))))

  r.get('/events', async (ctx) => {
    const match = eventMatcher(ctx.filters())
    const since = timeParamNano(ctx.query.get('since'))
    const until = timeParamNano(ctx.query.get('until'))
    if (until !== undefined && until < (since ?? 0n)) {
      throw invalidArgument(`\`since\` time (${ctx.query.get('since') ?? ''}) cannot be after \`until\` time (${ctx.query.get('until') ?? ''})`)
    }
    // Image create events came with API 1.46.
    const old = ctx.version < 46
    const res = ctx.stream(200, 'application/json')
    const send = (e: EngineEvent) => {
      if (old && e.type === 'image' && e.action === 'create') return
      if (!res.writableEnded && match(e)) res.write(eventJson(e) + '\n')
    }
    const nowNano = BigInt(Date.now()) * 1_000_000n
    // Subscribe first so nothing between the replay and the live stream is lost.
    const queued: EngineEvent[] = []
    let live = false
    const unsubscribe = b.events.subscribe((e) => {
      if (until !== undefined && e.timeNano > until) return
      if (live) send(e)
      else queued.push(e)
    })
    if (since !== undefined) for (const e of b.events.history(since)) if (until === undefined || e.timeNano <= until) send(e)
    for (const e of queued) send(e)
    live = true
    const finish = () => {
      unsubscribe()
      if (!res.writableEnded) res.end()
    }
    res.on('close', finish)
    if (until !== undefined) {
      const wait = Number((until - nowNano) / 1_000_000n)
      if (wait <= 0) finish()
      else setTimeout(finish, Math.min(wait, 2 ** 31 - 1)).unref()
    }
  })
}
