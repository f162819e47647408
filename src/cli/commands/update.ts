/** `berth update` / `berth container update`: new limits and restart policy for containers, as docker's update.go. */
import type { ContainerUpdateRequest, ContainerUpdateResponse } from '../../api/types/index.js'
import type { Handler, Opts } from '../app.js'
import { err, getClient, out, str } from '../context.js'
import { parseRestartPolicy } from '../opts.js'
import { parseBytes, parseInt64, sharedResourceFields } from '../resource-opts.js'
import { daemonMessage } from './container.js'

/** The body docker's CLI sends: every Resources field (Go zero values), the restart policy. */
export function buildUpdateRequest(o: Opts): ContainerUpdateRequest {
  const num = (v: unknown, parse: (x: string) => number): number => (typeof v === 'string' ? parse(v) : 0)
  const restart = str(o.restart)
  const kernel = num(o.kernelMemory, parseBytes)
  const pids = num(o.pidsLimit, parseInt64)
  const shared = sharedResourceFields(o)
  return {
    CpuShares: shared.CpuShares,
    Memory: shared.Memory,
    NanoCpus: shared.NanoCpus,
    CgroupParent: '',
    BlkioWeight: shared.BlkioWeight,
    BlkioWeightDevice: null,
    BlkioDeviceReadBps: null,
    BlkioDeviceWriteBps: null,
    BlkioDeviceReadIOps: null,
    BlkioDeviceWriteIOps: null,
    CpuPeriod: shared.CpuPeriod,
    CpuQuota: shared.CpuQuota,
    CpuRealtimePeriod: shared.CpuRealtimePeriod,
    CpuRealtimeRuntime: shared.CpuRealtimeRuntime,
    CpusetCpus: shared.CpusetCpus,
    CpusetMems: shared.CpusetMems,
    Devices: null,
    DeviceCgroupRules: null,
    DeviceRequests: null,
    ...(kernel ? { KernelMemory: kernel } : {}),
    MemoryReservation: shared.MemoryReservation,
    MemorySwap: shared.MemorySwap,
    MemorySwappiness: null,
    OomKillDisable: null,
    // Only a non-zero --pids-limit is sent: null leaves the limit as it is.
    PidsLimit: pids !== 0 ? pids : null,
    Ulimits: null,
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    RestartPolicy: restart ? parseRestartPolicy(restart) : { Name: '', MaximumRetryCount: 0 },
  }
}

export const updateCommand: Handler = async (names, opts, ctx) => {
  const given = Object.entries(opts).filter(([, v]) => v !== undefined)
  if (given.length === 0) {
    err('you must provide one or more flags when using this command\n')
    return 1
  }
  const body = buildUpdateRequest(opts)
  const client = getClient(ctx.globals)
  const warnings: string[] = []
  const errors: string[] = []
  for (const n of names) {
    try {
      const res = await client.json<ContainerUpdateResponse>('POST', `/containers/${encodeURIComponent(n)}/update`, { body })
      out(`${n}\n`)
      warnings.push(...(res.Warnings ?? []))
    } catch (e) {
      errors.push(daemonMessage(e))
    }
  }
  if (warnings.length) out(`${warnings.join('\n')}\n`)
  if (errors.length) {
    err(`${errors.join('\n')}\n`)
    return 1
  }
  return 0
}
