import type { ImagesPort } from '../containers/index.js'
import type { ImageService } from '../images/index.js'

/** What the container service needs of the image service. */
export function imagesPort(images: ImageService): ImagesPort {
  return {
    resolveForContainer: (ref) => {
      const img = images.resolve(ref)
      const c = img.config.config ?? {}
      return { id: img.id, config: c }
    },
    rootfsFor: (containerId, imageId) => images.rootfsFor(containerId, imageId),
    rootfsMountpoint: (containerId) => images.rootfsMountpoint(containerId),
    releaseRootfs: (containerId) => images.releaseRootfs(containerId),
    rootfsOwners: () => images.rootfsOwners(),
    rootfsUsage: (containerId) => images.rootfsUsage(containerId),
    imageSize: (id) => images.imageSize(id),
  }
}
