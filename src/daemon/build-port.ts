/**
 * What the builder needs of images and containers, wired here (the builder
 * owns no image or container state): local lookup and pull, writable build
 * roots mounted for COPY/ADD/WORKDIR, commits of snapshots as step images,
 * and RUN containers whose output streams back into the build.
 */
import { promises as fsp } from 'node:fs'
import { specFromCreate } from '../api/routes/containers/index.js'
import type { BuildContainers, BuildImages, StepCommit } from '../builder/index.js'
import type { ContainerService } from '../containers/index.js'
import type { ImageService } from '../images/index.js'
import { chainIds, familiarString, parseNormalizedNamed } from '../oci/index.js'
import { registryConfigAuth } from '../registry/index.js'
import { isMountpoint, mount as sysMount, unmount as sysUnmount } from '../sys/index.js'

export function buildImagesPort(images: ImageService): BuildImages {
  const find = (ref: string) => {
    const img = images.find(ref)
    return img ? { id: img.id, config: img.config, parent: img.parent } : undefined
  }
  const unmount = async (key: string) => {
    const target = images.rootfsMountpoint(key)
    if (await isMountpoint(target)) await sysUnmount(target)
  }
  const commit = async (key: string, c: StepCommit): Promise<string> => {
    await unmount(key)
    const res = await images.commit({
      snapshotKey: key,
      ...(c.parentImageId ? { parentImageId: c.parentImageId } : {}),
      config: c.config,
      containerConfig: c.containerConfig,
      createdBy: (c.containerConfig.Cmd ?? []).join(' '),
      ...(c.author ? { author: c.author } : {}),
      ...(c.signal ? { signal: c.signal } : {}),
    })
    return res.id
  }
  const mountRoot = async (key: string, imageId: string | null): Promise<string> => {
    const mounts = await images.buildRootFor(key, imageId)
    const target = images.rootfsMountpoint(key)
    await fsp.mkdir(target, { recursive: true })
    if (!(await isMountpoint(target))) {
      for (const m of mounts) await sysMount({ type: m.type, source: m.source, options: m.options }, target, m.cwd ? { cwd: m.cwd } : {})
    }
    return target
  }
  const releaseRoot = async (key: string): Promise<void> => {
    await unmount(key)
    await images.releaseRootfs(key)
  }
  return {
    find,
    async pull(ref, o) {
      const auth = registryConfigAuth(o.encodedAuth, parseNormalizedNamed(ref).domain)
      const res = await images.pull(ref, { ...(o.platform ? { platform: o.platform } : {}), ...(auth ? { auth } : {}), progress: o.progress, ...(o.signal ? { signal: o.signal } : {}) })
      const img = find(res.id)
      if (!img) throw new Error(`pulled image ${res.id} is missing`)
      return img
    },
    mountRoot,
    releaseRoot,
    commit,
    async commitConfig(c) {
      // An empty snapshot committed: no layer, the same child config and history a build step gets.
      const key = `build-meta-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`
      try {
        await images.buildRootFor(key, c.parentImageId)
        return await commit(key, c)
      } finally {
        await images.releaseRootfs(key)
      }
    },
    tag(imageId, ref) {
      return familiarString(images.tag(imageId, ref))
    },
    createFromConfig(config, parentImageId) {
      return images.createImage(Buffer.from(JSON.stringify(config)), chainIds(config.rootfs.diff_ids), parentImageId ?? '')
    },
  }
}

export function buildContainersPort(containers: ContainerService): BuildContainers {
  return {
    async create(imageId, config, o) {
      const spec = specFromCreate({
        Image: imageId,
        Cmd: config.Cmd ?? null,
        Entrypoint: config.Entrypoint ?? [],
        Env: config.Env ?? [],
        WorkingDir: config.WorkingDir ?? '',
        User: config.User ?? '',
        Labels: config.Labels ?? {},
        AttachStdout: true,
        AttachStderr: true,
        HostConfig: { NetworkMode: o.networkMode === 'default' || o.networkMode === '' ? 'bridge' : o.networkMode },
      })
      return (await containers.create(spec)).id
    },
    async run(id, output, signal) {
      const exited = containers.wait(id, 'next-exit')
      const onAbort = () => void containers.kill(id).catch(() => {})
      signal?.addEventListener('abort', onAbort, { once: true })
      try {
        await containers.start(id)
        const { entries } = containers.logs(id, { follow: true })
        for await (const e of entries) output(e.line.toString('utf8'))
        const { statusCode } = await exited
        signal?.throwIfAborted()
        return statusCode
      } finally {
        signal?.removeEventListener('abort', onAbort)
      }
    },
    async remove(id) {
      await containers.remove(id, { force: true, volumes: true })
    },
  }
}
