/**
 * docker commit and container diff, where containers and images meet (moby
 * daemon/commit.go CreateImageFromContainer, daemon/changes.go): the
 * container's state, pausing and the `commit` event here; the layer and the
 * image in ImageService.commit, which a build step calls directly.
 */
import type { ContainerRecord, ContainerService } from '../containers/index.js'
import { conflict } from '../errors/index.js'
import type { EventBus } from '../events/index.js'
import { applyChanges, commitTarget, mergeCommitConfig, type Change, type ImageService } from '../images/index.js'
import type { Logger } from '../lib/index.js'
import type { RunConfig } from '../oci/index.js'

export interface ContainerCommitRequest {
  container: string
  /** `repo[:tag]`; none leaves the image untagged. */
  ref?: string
  author?: string
  comment?: string
  /** Dockerfile instructions applied to the config (`-c`). */
  changes?: readonly string[]
  /** Pause a running container while its layer is read (docker's default). */
  pause?: boolean
  /** Replaces the container's config as the base of the new image's (the API body). */
  config?: RunConfig | null
}

/** The container's config as docker keeps it (container.Config after create): the image's defaults merged in. */
export function containerRunConfig(rec: ContainerRecord, image: RunConfig): RunConfig {
  const s = rec.spec
  const e = rec.effective
  const cfg: RunConfig = {
    Hostname: s.hostname,
    Domainname: s.domainname,
    User: e.user,
    AttachStdin: s.attachStdin,
    AttachStdout: s.attachStdout,
    AttachStderr: s.attachStderr,
    Tty: s.tty,
    OpenStdin: s.openStdin,
    StdinOnce: s.stdinOnce,
    Env: e.env,
    Cmd: e.cmd,
    Image: s.image,
    Volumes: e.volumes.length ? Object.fromEntries(e.volumes.map((v) => [v, {}])) : null,
    WorkingDir: s.workingDir || image.WorkingDir || '',
    Entrypoint: e.entrypoint,
    OnBuild: s.onBuild,
    Labels: e.labels,
  }
  if (e.exposedPorts.length) cfg.ExposedPorts = Object.fromEntries(e.exposedPorts.map((p) => [p, {}]))
  if (image.Healthcheck) cfg.Healthcheck = image.Healthcheck
  const stop = s.stopSignal || image.StopSignal
  if (stop) cfg.StopSignal = stop
  return cfg
}

export interface Committer {
  /** Returns the new image's ID. */
  commit(req: ContainerCommitRequest): Promise<string>
  changes(container: string): Promise<Change[]>
}

export function containerCommitter(deps: { containers: ContainerService; images: ImageService; events: EventBus; logger: Logger }): Committer {
  const { containers, images, events } = deps
  const log = deps.logger.child({ module: 'commit' })
  return {
    async commit(req) {
      const rec = containers.get(req.container)
      if (rec.state.status === 'dead') throw conflict(`You cannot commit container ${rec.id} which is Dead`)
      if (rec.state.status === 'removing') throw conflict(`You cannot commit container ${rec.id} which is being removed`)
      const target = req.ref ? commitTarget(req.ref) : undefined
      const parent = images.resolve(rec.imageId)
      const containerConfig = containerRunConfig(rec, parent.config.config ?? {})
      const config = mergeCommitConfig(applyChanges(req.config ?? containerConfig, req.changes ?? []), containerConfig)

      let paused = false
      if (req.pause !== false && rec.state.status === 'running') {
        // As docker: a container that cannot be paused is committed as it runs.
        paused = await containers.pause(rec.id).then(() => true, (err: unknown) => {
          log.debug('commit without pausing', { id: rec.id, err })
          return false
        })
      }
      let result
      try {
        result = await images.commit({
          snapshotKey: rec.id,
          parentImageId: parent.id,
          config,
          containerConfig,
          containerId: rec.id,
          author: req.author,
          comment: req.comment,
          ref: target ? req.ref : undefined,
        })
      } finally {
        if (paused) await containers.unpause(rec.id).catch((err: unknown) => log.warn('unpause after commit failed', { id: rec.id, err }))
      }
      events.publish('container', 'commit', rec.id, {
        ...rec.effective.labels,
        comment: req.comment ?? '',
        image: rec.spec.image,
        imageID: result.id,
        imageRef: result.tagged ?? '',
        name: rec.name,
      })
      return result.id
    },

    async changes(container) {
      const rec = containers.get(container)
      return images.changes(rec.id)
    },
  }
}
