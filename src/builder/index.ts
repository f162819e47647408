/**
 * berth's image builder. So far its pure front end: the Dockerfile parser
 * (dockerfile/), variable expansion, stage resolution and .dockerignore
 * matching; the executor that runs the instructions builds on these types.
 */
export * from './dockerfile/index.js'
export { type MatchInfo, IgnoreMatcher, cleanPath, keepBuildFiles, parseDockerignore } from './dockerignore.js'
export type { BuildBackend, BuildContainers, BuildImage, BuildImages, BuildMessage, BuildRequest, BuildResult, StepCommit } from './ports.js'
