export { buildRoutes } from './routes.js'
export { parseBuildQuery, type BuildQuery, type BuildResources } from './query.js'
