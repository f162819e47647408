/**
 * The builder's edges: what a build is asked to do (BuildRequest, from
 * POST /build or the CLI), what it says while doing it (BuildMessage, docker's
 * JSON stream), and what it needs from the rest of the engine (BuildPorts,
 * wired by daemon/). The builder owns no image or container state itself.
 */
import type { Readable } from 'node:stream'
import type { ImageConfig, RunConfig } from '../oci/index.js'

export interface BuildRequest {
  /** Path of the Dockerfile inside the context (docker's `dockerfile` query; default `Dockerfile`). */
  dockerfile: string
  /** `-t` names, normalized by the caller or not; tagged after a successful build. */
  tags: string[]
  /** `--build-arg`: a null value means "declared without a value" (docker's `{"A": null}`). */
  buildArgs: Record<string, string | null>
  labels: Record<string, string>
  noCache: boolean
  /** Always try to pull a newer version of the base images. */
  pull: boolean
  /** Remove intermediate containers after a successful build (default true). */
  rm: boolean
  /** Always remove intermediate containers, also after a failure. */
  forceRm: boolean
  /** Suppress the step output; only the image ID is reported. */
  quiet: boolean
  target?: string
  platform?: string
  /** Images whose layers may be used as cache (docker's `cachefrom`). */
  cacheFrom: string[]
  /** RUN's network: `default`, `bridge`, `host`, `none`. */
  networkMode: string
  /** X-Registry-Config as sent (base64url JSON map of registry → auth). */
  encodedRegistryConfig?: string
}

/**
 * One jsonmessage.JSONMessage of a build: `stream` text lines (`Step 1/3 :
 * FROM busybox\n`), `aux` (`{"ID": "sha256:…"}`), or the progress of a pull
 * a FROM needed (status/id/progressDetail).
 */
export interface BuildMessage {
  stream?: string
  aux?: { ID: string }
  status?: string
  id?: string
  progressDetail?: { current: number; total: number }
}

export interface BuildResult {
  /** The image built (`sha256:…`). */
  id: string
  tags: string[]
}

/** The build service as the API route sees it. */
export interface BuildBackend {
  build(req: BuildRequest, context: Readable, emit: (msg: BuildMessage) => void, signal?: AbortSignal): Promise<BuildResult>
  /** docker builder prune: drop the build cache (intermediate images no tag or container uses); returns bytes freed. */
  /** `usedBeforeMs`: only entries no build has used since then (the `until` filter). */
  prune(opts: { all: boolean; usedBeforeMs?: number }): Promise<{ deleted: string[]; spaceReclaimed: number }>
}

/** A local image as the builder sees it. */
export interface BuildImage {
  id: string
  config: ImageConfig
  /** The local parent image ('' when none). */
  parent: string
}

/** What a committed step records: docker's CommitConfig of a build step. */
export interface StepCommit {
  /** null for a stage started FROM scratch. */
  parentImageId: string | null
  /** The stage's run config after the step: the new image's config. */
  config: RunConfig
  /** The probe config (Cmd = the step as history shows it): the image's container_config and history. */
  containerConfig: RunConfig
  /** MAINTAINER of the stage, as history's author. */
  author?: string
  signal?: AbortSignal
}

/** The image side of a build (wired to ImageService by daemon/). */
export interface BuildImages {
  /** A local image by reference or ID; undefined when there is none. */
  find(refOrId: string): BuildImage | undefined
  pull(ref: string, o: { platform?: string; encodedAuth?: string; progress: (m: BuildMessage) => void; signal?: AbortSignal }): Promise<BuildImage>
  /** A writable snapshot `key` over the image (null: empty), mounted; returns its root. */
  mountRoot(key: string, imageId: string | null): Promise<string>
  /** Unmount and drop a snapshot mountRoot made. */
  releaseRoot(key: string): Promise<void>
  /** The snapshot `key` (a build root or a RUN container's) as a child image: its changes become a layer, none when empty. */
  commit(key: string, c: StepCommit): Promise<string>
  /** A child image with no new layer: a metadata-only step. */
  commitConfig(c: StepCommit): Promise<string>
  /** Tag the image; returns the name as docker prints it (`myimg:latest`). */
  tag(imageId: string, ref: string): string
  /**
   * An image from a config alone, its layers already local (a --cache-from
   * step restored from another image's history); parent linked when given.
   */
  createFromConfig(config: ImageConfig, parentImageId: string | null): Promise<string>
}

/** The container side of a build: RUN steps (wired to ContainerService by daemon/). */
export interface BuildContainers {
  /** Create a container for a RUN step from the image, with this exact config; returns its ID. */
  create(imageId: string, config: RunConfig, o: { networkMode: string }): Promise<string>
  /** Start it, pass its output on as it comes, and resolve with its exit code. */
  run(id: string, output: (text: string) => void, signal?: AbortSignal): Promise<number>
  remove(id: string): Promise<void>
}
