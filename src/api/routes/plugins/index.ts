export { pluginRoutes } from './routes.js'
