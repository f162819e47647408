/**
 * What the image routes need from the daemon: the daemon passes its
 * ImageService. Type-only, so routes never construct domain objects.
 */
import type { ImageService } from '../../../images/index.js'

export type ImagesBackend = Pick<ImageService,
  'resolve' | 'find' | 'list' | 'inspect' | 'driverData' | 'history' | 'tag' | 'remove' | 'prune' | 'importRootfs' | 'load' | 'save' | 'pull' | 'push'>
