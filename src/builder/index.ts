/**
 * berth's image builder (docker's classic builder behind POST /build): the
 * Dockerfile front end (dockerfile/: parser, variable expansion, stages), the
 * build context and COPY/ADD, the executor that runs each instruction as a
 * step image, and the build cache. What it needs of images and containers
 * comes through ports.ts.
 */
export * from './dockerfile/index.js'
export { type MatchInfo, IgnoreMatcher, cleanPath, keepBuildFiles, parseDockerignore } from './dockerignore.js'
export type { BuildBackend, BuildContainers, BuildImage, BuildImages, BuildMessage, BuildRequest, BuildResult, StepCommit } from './ports.js'
export { Builder, type BuilderDeps } from './builder.js'
export { type BuildContext, extractContext, readDockerfile, removeIgnoredBuildFiles } from './context.js'
export { type CopyPlan, type CopySpec, type PlanOptions, copyInto, describeSources, normalizeDest, parseChmod, planCopy } from './copy.js'
export type { ContextSums } from './tarsum.js'
// Unpacking into a root with docker's chrootarchive rules: also docker cp's PUT.
export { extractTar, type ExtractOptions } from './untar.js'
export { resolveInRoot } from './rootfs.js'
export { RootDir, type DirRef, type OpenDirOptions } from './rootfd.js'
