export { containerRoutes, timeParamNano } from './routes.js'
export type { ContainersBackend } from './backend.js'
