export { ContainerFs, type ContainerFsDeps, type PathStat } from './service.js'
