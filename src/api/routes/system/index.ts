export { systemRoutes, eventJson, eventMatcher, type SystemBackend } from './routes.js'
