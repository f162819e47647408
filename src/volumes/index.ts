export * from './types.js'
export { VolumeService, type VolumeServiceOptions } from './service.js'
