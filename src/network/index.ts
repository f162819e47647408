export * from './types.js'
export { NetworkStore } from './store.js'
export { NetworkService, type ContainerNetworkView, type NetworkServiceOptions, type SandboxInfo, type SandboxRequest, type DefaultBridgeConfig } from './service.js'
export { Firewall } from './firewall.js'
