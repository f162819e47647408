/** The berth CLI: docker's command tree against a berthd (or dockerd) Engine API. */
export { main } from './main.js'
