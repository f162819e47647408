export * from './mount.js'
export * from './cgroup.js'
export * from './ps.js'
export * from './cgroup-procs.js'
