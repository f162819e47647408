export { systemRoutes, eventJson, eventMatcher, type SystemBackend } from './routes.js'
export {
  buildCacheJson, diskUsage, diskUsageTypes, goTimeJson, imageUsageJson,
  type BuildCacheUsage, type ContainerUsage, type DiskUsageBackend, type ImageUsage, type VolumeUsage,
} from './disk-usage.js'
export { checkRoutes, type CheckBackend, type CheckProblemJson, type CheckReportJson } from './check.js'
