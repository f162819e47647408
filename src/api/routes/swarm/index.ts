export { NOT_A_MANAGER, swarmRoutes } from './routes.js'
