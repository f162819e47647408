/** Docker Engine API 1.50 wire types; this folder imports nothing. */
export type * from './common.js'
export type * from './container.js'
export type * from './network.js'
export type * from './volume.js'
export type * from './image.js'
export type * from './system.js'
export type * from './auth.js'
export type * from './registry.js'
export type * from './build.js'

/** The highest API version berth speaks, and the lowest it accepts. */
export const API_VERSION = '1.50'
export const MIN_API_VERSION = '1.24'
