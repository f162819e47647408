export { Daemon, BERTH_VERSION } from './daemon.js'
export { loadConfig, defaults, DEFAULT_CONFIG_FILE, type DaemonConfig, type FlagValues } from './config.js'
export { dropMallocPreload } from './malloc.js'
