export { imageRoutes } from './routes.js'
export type { ImagesBackend } from './backend.js'
export { parseLimit, searchRoutes, toSearchResult } from './search.js'
export type { SearchBackend, SearchRequest } from './search.js'
