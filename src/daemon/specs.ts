import type { ExecSpecInput, NsSpec, SpecBuilder, SpecInput } from '../containers/index.js'
import { buildSpec, resolveUser, type NamespaceMode, type OciResources, type SpecOptions, type Ulimit } from '../runtime/index.js'

/**
 * Turns the container service's runtime-neutral description into OCI specs:
 * users resolved against the container's own /etc/passwd, docker's implicit
 * environment (HOSTNAME, HOME, TERM), resources in OCI units.
 */
export class OciSpecBuilder implements SpecBuilder {
  async container(i: SpecInput): Promise<unknown> {
    return buildSpec(await this.options(i))
  }

  async execProcess(i: ExecSpecInput): Promise<unknown> {
    const base = await this.options({ ...i.containerSpec, user: i.user, tty: i.tty, args: i.args, env: i.env, cwd: i.cwd, privileged: i.privileged, init: false })
    return buildSpec(base).process
  }

  private async options(i: SpecInput): Promise<SpecOptions> {
    const user = await resolveUser(i.rootfs, i.user, { groupAdd: i.groupAdd })
    const env = [...i.env]
    const has = (k: string) => env.some((e) => e.startsWith(`${k}=`))
    if (!has('HOSTNAME') && i.namespaces.uts !== 'host') env.push(`HOSTNAME=${i.hostname}`)
    if (!has('HOME')) env.push(`HOME=${user.home || '/'}`)
    if (i.tty && !has('TERM')) env.push('TERM=xterm')
    const ns = (s: NsSpec): NamespaceMode => s
    return {
      id: i.id,
      rootfs: i.rootfs,
      readonlyRootfs: i.readonlyRootfs,
      args: i.args,
      env,
      cwd: i.cwd,
      user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) },
      hostname: i.hostname,
      tty: i.tty,
      namespaces: { pid: ns(i.namespaces.pid), ipc: ns(i.namespaces.ipc), uts: ns(i.namespaces.uts), network: ns(i.namespaces.net) },
      extraMounts: i.mounts,
      capAdd: i.capAdd,
      capDrop: i.capDrop,
      privileged: i.privileged,
      init: i.init,
      shmSize: i.shmSize,
      oomScoreAdj: i.oomScoreAdj,
      sysctl: i.sysctls,
      resources: ociResources(i.resources),
      ulimits: ulimits(i.resources.Ulimits),
    }
  }
}

function ulimits(v: unknown): Ulimit[] {
  if (!Array.isArray(v)) return []
  return v.flatMap((u: { Name?: unknown; Soft?: unknown; Hard?: unknown }) =>
    typeof u?.Name === 'string' ? [{ name: u.Name, soft: Number(u.Soft ?? 0), hard: Number(u.Hard ?? 0) }] : [],
  )
}

/** docker's HostConfig resource fields → OCI linux.resources. */
export function ociResources(r: Record<string, unknown>): Omit<OciResources, 'devices'> {
  const n = (k: string) => (typeof r[k] === 'number' ? (r[k] as number) : undefined)
  const out: Omit<OciResources, 'devices'> = {}
  const memory: NonNullable<OciResources['memory']> = {}
  if (n('Memory')) memory.limit = n('Memory')
  if (n('MemoryReservation')) memory.reservation = n('MemoryReservation')
  if (n('MemorySwap')) memory.swap = n('MemorySwap')
  if (r.OomKillDisable === true) memory.disableOOMKiller = true
  if (Object.keys(memory).length) out.memory = memory
  const cpu: NonNullable<OciResources['cpu']> = {}
  if (n('CpuShares')) cpu.shares = n('CpuShares')
  const nano = n('NanoCpus')
  if (nano) {
    cpu.period = 100_000
    cpu.quota = Math.round((nano * 100_000) / 1e9)
  } else {
    if (n('CpuPeriod')) cpu.period = n('CpuPeriod')
    if (n('CpuQuota')) cpu.quota = n('CpuQuota')
  }
  if (typeof r.CpusetCpus === 'string') cpu.cpus = r.CpusetCpus
  if (typeof r.CpusetMems === 'string') cpu.mems = r.CpusetMems
  if (Object.keys(cpu).length) out.cpu = cpu
  const pids = n('PidsLimit')
  if (pids && pids > 0) out.pids = { limit: pids }
  if (n('BlkioWeight')) out.blockIO = { weight: n('BlkioWeight') }
  return out
}
