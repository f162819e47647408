export * from './oci-spec.js'
export * from './spec.js'
export * from './seccomp.js'
export * from './security.js'
export * from './user.js'
export { ConmonRuntime, StartError, startErrorCode } from './runtime.js'
export type {
  ConmonRuntimeOptions,
  CreateOptions,
  ContainerState,
  RestoredContainer,
  ExecOptions,
  ExecSession,
} from './runtime.js'
export type { AttachStream, StdStream } from './attach.js'
export type { ExitInfo, ExitListener } from './exits.js'
export type { RuntimeConfig, RuntimeStatus } from './oci-cli.js'
