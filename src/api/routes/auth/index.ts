export { authRoutes, parseAuthBody } from './routes.js'
export type { AuthBackend } from './backend.js'
