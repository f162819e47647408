import { forbidden, invalidArgument, notFound } from '../../../errors/index.js'
import type { NetworkRecord } from '../../../network/index.js'
import type { Ctx, Router } from '../../server/index.js'
import type { NetworkConnectRequest, NetworkCreateRequest, NetworkDisconnectRequest, NetworkResource } from '../../types/index.js'
import { timeParamNano } from '../containers/index.js'
import type { NetworksBackend } from './backend.js'
import { connectRequestType, createSpecOf, createRequestType, disconnectRequestType, endpointConfigOf, isPredefined, toNetworkResource } from './convert.js'
import { bodyText, decodeBody } from './decode.js'
import { matchNetwork, pruneSelector, validateListFilters, validatePruneFilters, type Filters } from './filters.js'


/** filters.FromJSON: any malformed `filters` is just "invalid filter". */
function filtersOf(ctx: Ctx): Filters {
  try {
    return ctx.filters()
  } catch {
    throw invalidArgument('invalid filter')
  }
}

/** Go's strconv.ParseBool, for query values dockerd parses strictly. */
function parseBoolParam(name: string, v: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false
  throw invalidArgument(`invalid value for ${name}: ${v}: strconv.ParseBool: parsing "${v}": invalid syntax`)
}

/**
 * A network by full ID, then exact name, then unique ID prefix, as docker's
 * network router looks them up. Inspect and delete word ambiguity differently.
 */
export function findNetwork(all: NetworkRecord[], term: string, op: 'inspect' | 'delete'): NetworkRecord {
  const byId = all.find((n) => n.id === term)
  if (byId) return byId
  const byName = all.filter((n) => n.name === term)
  const byPrefix = all.filter((n) => n.id.startsWith(term))
  const ambiguous = (n: number, by: string) => invalidArgument(op === 'inspect'
    ? `${n} matches found based on ${by}: network ${term} is ambiguous`
    : `network ${term} is ambiguous (${n} matches found based on ${by})`)
  if (byName.length === 1 && byName[0]) return byName[0]
  if (byName.length > 1) throw ambiguous(byName.length, 'name')
  if (byPrefix.length === 1 && byPrefix[0]) return byPrefix[0]
  if (byPrefix.length > 1) throw ambiguous(byPrefix.length, 'ID prefix')
  throw notFound(`network ${term} not found`)
}

/**
 * The network routes (moby api/server/router/network). Handlers decode and
 * check docker's parameters and shapes; the backend holds the semantics.
 */
export function networkRoutes(r: Router, b: NetworksBackend): void {
  const list = (ctx: Ctx) => {
    const filters = filtersOf(ctx)
    validateListFilters(filters)
    const out: NetworkResource[] = []
    for (const n of b.list()) {
      if (!matchNetwork(n, filters, (id) => b.inUse(id))) continue
      // Lists stopped carrying the attached containers in API 1.28.
      out.push(toNetworkResource(n, ctx.version < 28 ? b.inspect(n.id).endpoints : undefined))
    }
    ctx.send(200, out)
  }
  r.get('/networks', list)
  r.get('/networks/', list)

  r.post('/networks/create', async (ctx) => {
    const body = decodeBody<NetworkCreateRequest>(await bodyText(ctx), createRequestType)
    // EnableIPv4 came with API 1.48; older clients mean the default.
    if (ctx.version < 48) delete body.EnableIPv4
    const name = body.Name ?? ''
    if (isPredefined(name)) throw forbidden(`operation is not permitted on predefined ${name} network `)
    if (name.trim() === '') throw invalidArgument('invalid name: name is empty')
    const res = await b.create(createSpecOf(body))
    ctx.send(201, { Id: res.id, Warning: res.warning })
  })

  r.post('/networks/prune', async (ctx) => {
    const filters = filtersOf(ctx)
    validatePruneFilters(filters)
    const until = filters.get('until')?.[0]
    const deleted = await b.prune(pruneSelector(filters, until === undefined ? undefined : timeParamNano(until)))
    ctx.send(200, { NetworksDeleted: deleted.length ? deleted : null })
  })

  r.get('/networks/{id:.*}', (ctx) => {
    const term = ctx.params.id ?? ''
    const verbose = ctx.query.get('verbose')
    // Verbose adds swarm services, which a local engine has none of.
    if (verbose) parseBoolParam('verbose', verbose)
    const scope = ctx.query.get('scope')
    const all = b.list().filter((n) => !scope || n.scope === scope)
    const n = findNetwork(all, term, 'inspect')
    ctx.send(200, toNetworkResource(n, b.inspect(n.id).endpoints))
  })

  r.post('/networks/{id:.*}/connect', async (ctx) => {
    const body = decodeBody<NetworkConnectRequest>(await bodyText(ctx), connectRequestType)
    await b.connect(ctx.params.id ?? '', body.Container ?? '', endpointConfigOf(body.EndpointConfig))
    ctx.send(200)
  })

  r.post('/networks/{id:.*}/disconnect', async (ctx) => {
    const body = decodeBody<NetworkDisconnectRequest>(await bodyText(ctx), disconnectRequestType)
    await b.disconnect(ctx.params.id ?? '', body.Container ?? '', body.Force ?? false)
    ctx.send(200)
  })

  r.delete('/networks/{id:.*}', async (ctx) => {
    const n = findNetwork(b.list(), ctx.params.id ?? '', 'delete')
    if (isPredefined(n.name)) throw forbidden(`${n.name} is a pre-defined network and cannot be removed`)
    await b.remove(n.id)
    ctx.send(204)
  })
}
