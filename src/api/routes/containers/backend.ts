import type { ContainerRecord, ContainerService } from '../../../containers/index.js'
import type { NetworkView } from './convert.js'

/** What the container routes need; the daemon hands in the implementations. */
export interface ContainersBackend {
  containers: Pick<
    ContainerService,
    'create' | 'start' | 'stop' | 'kill' | 'restart' | 'pause' | 'unpause' | 'remove' | 'rename' | 'resize' | 'wait' | 'attach' | 'logs' | 'list' | 'get' | 'sizeRw' | 'prune' | 'exec'
  >
  /** The name a container's image is shown by in `ps` (the reference it was created from). */
  imageName(rec: ContainerRecord): string
  imageSize(imageId: string): number
  /** overlay2 directories for inspect's GraphDriver. */
  graphDriver(rec: ContainerRecord): Promise<Record<string, string>>
  /** `ps` run on the host, limited to the container's processes. */
  top(rec: ContainerRecord, psArgs: string): Promise<{ Titles: string[]; Processes: string[][] }>
  /** Where a named volume's data is on the host (inspect's Mounts Source). */
  volumePath(name: string): string
  /** The container's endpoints, sandbox and published ports. */
  networkView(rec: ContainerRecord): NetworkView
  /** True when the image reference or ID names the container's image (the `ancestor` filter). */
  isAncestor(rec: ContainerRecord, ref: string): boolean
}
