export { buildRoutes, buildErrorMessage, BuildOutput } from './routes.js'
export { parseBuildQuery, remoteKind, type BuildQuery, type BuildResources, type RemoteKind } from './query.js'
