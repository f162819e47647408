export { ImageService, type ImageServiceDeps } from './service.js'
export { migrations as imageMigrations } from './store.js'
export { applyChanges } from './changes.js'
export { commitTarget, mergeCommitConfig, RUNTIME_MOUNTPOINTS, type CommitOptions, type CommitResult } from './commit.js'
export type { Change, ChangeKind } from '../archive/index.js'
export type {
  DeleteItem, HistoryItem, ImageProgress, ImageRecord, ImageSummary, ImportOptions, ListOptions, LoadOptions, PruneReport, RemoveOptions,
} from './types.js'
export { MAX_CONCURRENT_DOWNLOADS, pullingFrom, pullStatus, type PullOptions, type PullProgress, type PullResult } from './pull.js'
export { MAX_CONCURRENT_UPLOADS, pushDone, pushRefersTo, type PushedTag, type PushOptions, type PushProgress } from './push.js'
