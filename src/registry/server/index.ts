export { startRegistry, parseAddr, type RegistryServer, type RegistryServerOptions } from './server.js'
export { RegistryStorage, type StorageOptions } from './storage.js'
export { collectGarbage, pushesInFlightSince, type GcEvent, type GcOptions, type GcResult } from './gc.js'
export { runRegistryCommand } from './command.js'
