/** POST /containers/{id}/update: docker's UpdateConfig (resources and restart policy) to ContainerService.update. */
import type { ContainerService } from '../../../containers/index.js'
import { invalidArgument } from '../../../errors/index.js'
import type { Router } from '../../server/index.js'
import type { ContainerUpdateRequest } from '../../types/index.js'
import { restartPolicy } from './convert.js'

export interface UpdateBackend {
  containers: Pick<ContainerService, 'update'>
}

/** The resource fields docker's update applies (container_unix.go UpdateContainer reads only these). */
const UPDATABLE = [
  'BlkioWeight', 'CpuShares', 'NanoCpus', 'CpuPeriod', 'CpuQuota', 'CpusetCpus', 'CpusetMems', 'Memory', 'MemorySwap',
  'MemoryReservation', 'KernelMemory', 'CpuRealtimePeriod', 'CpuRealtimeRuntime', 'PidsLimit', 'CpuPercent',
  'IOMaximumIOps', 'IOMaximumBandwidth',
] as const

export function updateRoutes(r: Router, b: UpdateBackend): void {
  r.post('/containers/{id}/update', async (ctx) => {
    const body = await ctx.json<ContainerUpdateRequest>()
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalidArgument('invalid update config: expected an object')
    const resources: Record<string, unknown> = {}
    for (const k of UPDATABLE) {
      const v = body[k]
      if (v === undefined || v === null || v === 0 || v === '') continue
      if (k === 'CpusetCpus' || k === 'CpusetMems' ? typeof v !== 'string' : typeof v !== 'number') throw invalidArgument(`invalid ${k}: ${JSON.stringify(v)}`)
      resources[k] = v
    }
    if (ctx.version < 40) delete resources.PidsLimit
    // KernelMemory is gone from API 1.42.
    if (ctx.version >= 42) delete resources.KernelMemory
    // 0 and -1 both mean unlimited on update.
    if (typeof body.PidsLimit === 'number' && body.PidsLimit <= 0 && ctx.version >= 40) resources.PidsLimit = 0
    const policy = body.RestartPolicy && body.RestartPolicy.Name ? restartPolicy(body.RestartPolicy) : undefined
    const res = await b.containers.update(ctx.params.id ?? '', { resources, ...(policy ? { restartPolicy: policy } : {}) })
    ctx.send(200, { Warnings: res.warnings.length ? res.warnings : null })
  })
}
