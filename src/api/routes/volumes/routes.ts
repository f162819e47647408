import { invalidArgument, unavailable } from '../../../errors/index.js'
import type { Ctx, Router } from '../../server/index.js'
import type { VolumeCreateOptions, VolumeListResponse } from '../../types/index.js'
import { bodyText, decodeBody } from '../networks/decode.js'
import { NOT_A_MANAGER } from '../swarm/index.js'
import type { VolumesBackend } from './backend.js'
import { createOptionsType, createSpecOf, toVolume } from './convert.js'
import { listSelector, pruneSelector, type Filters } from './filters.js'

/** Cluster (CSI) volumes came with API 1.42; dockerd sends them to swarm only from then on. */
const CLUSTER_VOLUMES = 42


/** filters.FromJSON: any malformed `filters` is "invalid filter", with the router's prefix when it adds one. */
function filtersOf(ctx: Ctx, prefix = ''): Filters {
  try {
    return ctx.filters()
  } catch {
    throw invalidArgument(`${prefix}invalid filter`)
  }
}

/** httputils.BoolValue: anything but '', 0, no, false and none (any case, trimmed) is true. */
function boolValue(v: string | null): boolean {
  const s = (v ?? '').trim().toLowerCase()
  return !['', '0', 'no', 'false', 'none'].includes(s)
}


/**
 * The volume routes (moby api/server/router/volume). berth is never a swarm
 * manager, so cluster volumes are refused as dockerd refuses them on a
 * standalone node; the rest goes to the volume service.
 */
export function volumeRoutes(r: Router, b: VolumesBackend): void {
  r.get('/volumes', (ctx) => {
    const keep = listSelector(filtersOf(ctx, 'error reading volume filters: '))
    const body: VolumeListResponse = { Volumes: b.list().filter(keep).map((d) => toVolume(d)), Warnings: null }
    ctx.send(200, body)
  })

  r.post('/volumes/create', async (ctx) => {
    const body = decodeBody<VolumeCreateOptions>(await bodyText(ctx), createOptionsType)
    if (body.ClusterVolumeSpec && ctx.version >= CLUSTER_VOLUMES) throw unavailable(NOT_A_MANAGER)
    ctx.send(201, toVolume(await b.create(createSpecOf(body))))
  })

  r.post('/volumes/prune', async (ctx) => {
    const keep = pruneSelector(filtersOf(ctx), ctx.version)
    const res = await b.prune(keep)
    // dockerd starts from an empty slice: `[]`, never null.
    ctx.send(200, { VolumesDeleted: res.deleted, SpaceReclaimed: res.reclaimed })
  })

  r.get('/volumes/{name:.*}', (ctx) => {
    ctx.send(200, toVolume(b.inspect(ctx.params.name ?? '')))
  })

  r.put('/volumes/{name:.*}', () => {
    // dockerd answers before reading the version or the body.
    throw unavailable('volume update only valid for cluster volumes, but swarm is unavailable')
  })

  r.delete('/volumes/{name:.*}', async (ctx) => {
    await b.remove(ctx.params.name ?? '', boolValue(ctx.query.get('force')))
    ctx.send(204)
  })
}
