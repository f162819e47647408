export { containerRoutes, timeParamNano } from './routes.js'
export type { ContainersBackend } from './backend.js'
export { commitReference, commitRoutes, type CommitBackend } from './commit.js'
export { specFromCreate, type NetworkView } from './convert.js'
