export { OverlaySnapshotter, type OverlayOptions } from './overlay.js'
