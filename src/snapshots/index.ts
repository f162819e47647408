export type { CommitLayerOptions, DriverData, LayerInfo, Mount, Snapshotter } from './snapshotter.js'
export { OverlaySnapshotter, type OverlayOptions } from './overlay/index.js'
