export { imageRoutes } from './routes.js'
export type { ImagesBackend } from './backend.js'
