export { findNetwork, networkRoutes } from './routes.js'
export type { NetworkDetail, NetworksBackend } from './backend.js'
export { createSpecOf, endpointConfigOf, isPredefined, toNetworkResource } from './convert.js'
