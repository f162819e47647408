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

const EVENT_FILTERS = new Set(['container', 'event', 'image', 'label', 'type', 'daemon', 'network', 'volume', 'plugin', 'node', 'service', 'secret', 'config', 'scope'])

/** One event as docker's JSON line; timeNano is written exactly (it exceeds a double's precision). */
export function eventJson(e: EngineEvent): string {
  const legacy = e.type === 'container' || e.type === 'image' ? { status: e.action, id: e.actor.id, ...(e.actor.attributes.image ? { from: e.actor.attributes.image } : {}) } : {}
  const body = { ...legacy, Type: e.type, Action: e.action, Actor: { ID: e.actor.id, Attributes: e.actor.attributes }, scope: e.scope, time: Number(e.timeNano / 1_000_000_000n), timeNano: 0 }
  return JSON.stringify(body).replace(/"timeNano":0/, `"timeNano":${e.timeNano.toString()}`)
}

export function eventMatcher(filters: Map<string, string[]>): (e: EngineEvent) => boolean {
  for (const k of filters.keys()) if (!EVENT_FILTERS.has(k)) throw invalidArgument(`invalid filter '${k}'`)
  const any = (k: string, pred: (v: string) => boolean) => {
    const vs = filters.get(k)
    return !vs || vs.some(pred)
  }
  return (e) =>
    any('type', (v) => v === e.type) &&
    any('event', (v) => v === e.action || e.action.startsWith(`${v}:`)) &&
    any('container', (v) => e.type === 'container' && (e.actor.id.startsWith(v) || e.actor.attributes.name === v)) &&
    any('image', (v) => (e.type === 'image' && (e.actor.id === v || e.actor.attributes.name === v)) || e.actor.attributes.image === v) &&
    any('label', (v) => {
      const i = v.indexOf('=')
      return i < 0 ? v in e.actor.attributes : e.actor.attributes[v.slice(0, i)] === v.slice(i + 1)
    }) &&
    any('scope', (v) => v === e.scope) &&
    any('network', (v) => e.type === 'network' && (e.actor.id === v || e.actor.attributes.name === v)) &&
    any('volume', (v) => e.type === 'volume' && e.actor.id === v) &&
    any('daemon', () => e.type === 'daemon')
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
    const res = ctx.stream(200, 'application/json')
    const send = (e: EngineEvent) => {
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
