import type { VolumeDetail, VolumesBackend } from '../api/routes/volumes/index.js'
import type { ContainerRecord, ContainerService, VolumePort } from '../containers/index.js'
import type { VolumeService } from '../volumes/index.js'

/** Containers (any state) whose mounts name the volume. */
export function volumeUsers(containers: ContainerRecord[], name: string, running = false): string[] {
  return containers
    .filter((c) => c.spec.host.mounts.some((m) => m.type === 'volume' && m.source === name))
    .filter((c) => !running || c.state.status === 'running' || c.state.status === 'paused' || c.state.status === 'restarting')
    .map((c) => c.id)
}

export function volumePort(v: VolumeService): VolumePort {
  return {
    ensure: async (name, o) => {
      if (!v.has(name)) await v.create({ name, driver: o?.driver ?? '', options: o?.options ?? {}, labels: o?.labels ?? {} })
    },
    createAnonymous: async () => (await v.create({ name: '', driver: 'local', options: {}, labels: {} }, true)).name,
    acquire: (name) => v.acquire(name),
    release: (name) => v.release(name),
    remove: (name) => v.remove(name),
    copyUp: (from, name) => v.copyUp(from, name),
  }
}

export function containersOf(late: { containers?: ContainerService }): ContainerRecord[] {
  return late.containers?.list() ?? []
}

export function volumesBackend(v: VolumeService, containers: () => ContainerRecord[]): VolumesBackend {
  const detail = (name: string): VolumeDetail => ({ volume: v.get(name), mountpoint: v.mountpoint(name), usedBy: volumeUsers(containers(), name) })
  return {
    list: () => v.list().map((x) => detail(x.name)),
    inspect: (name) => detail(name),
    create: async (req) => detail((await v.create(req, req.name === '')).name),
    remove: (name, force) => v.remove(name, force),
    prune: (keep) => v.prune(keep, true),
  }
}
