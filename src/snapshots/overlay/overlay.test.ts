import { nullLogger } from '../../lib/index.js'
import { snapshotterSuite } from '../testsuite.js'
import { OverlaySnapshotter } from './overlay.js'

snapshotterSuite('overlay', (root) => OverlaySnapshotter.open({ root, logger: nullLogger }))
