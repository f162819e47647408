export * from './log.js'
export * from './fs.js'
export * from './ids.js'
export * from './spawn.js'
