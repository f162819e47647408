export { volumeRoutes } from './routes.js'
export type { VolumeDetail, VolumesBackend } from './backend.js'
export { ANONYMOUS_LABEL, labelsOf, toVolume } from './convert.js'
