export type { BlobInfo, ContentStore, IngestOptions, Ingester, Manager, Provider } from './store.js'
export { LocalContentStore } from './local.js'
