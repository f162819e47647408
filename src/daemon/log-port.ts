/**
 * Containers and logging drivers meet here: which driver a new container
 * gets (moby's mergeAndVerifyLogConfig: the daemon's default, its options
 * merged in when the driver is the default one), and per driver where its
 * output is shipped and where `logs` reads it. json-file goes through the
 * shipper into docker's files; `none` keeps nothing readable; berth's own
 * `k8s-file` is conmon's file as it stands. The remote drivers are checked
 * as docker checks them, then refused until they are built.
 */
import type { LogPort } from '../containers/index.js'
import { invalidArgument } from '../errors/index.js'
import { JSONFileWriter, LogShipper, readJSONFileLogs, validateLogConfig, parseJSONFileOptions, type FileOptions } from '../logs/index.js'
import type { DaemonConfig } from './config.js'

/** conmon's own file, read as it is: berth's driver before json-file was the default. */
const K8S_FILE = 'k8s-file'

export function logPort(shipper: LogShipper, cfg: Pick<DaemonConfig, 'logDriver' | 'logOpts'>): LogPort {
  const fileOpts = (config: Record<string, string>): FileOptions => parseJSONFileOptions(config)
  return {
    resolve: (c) => {
      const type = c.type || cfg.logDriver
      const config = { ...c.config }
      if (type === cfg.logDriver) for (const [k, v] of Object.entries(cfg.logOpts)) if (!(k in config)) config[k] = v
      if (type === K8S_FILE) return { type, config }
      validateLogConfig(type, config)
      if (type === 'json-file') {
        // Checked here, not at start as dockerd does: `run` fails before anything is made.
        try {
          fileOpts(config)
        } catch (err) {
          throw invalidArgument(`failed to initialize logging driver: ${(err as Error).message}`, err)
        }
      }
      if (type !== 'json-file' && type !== 'none') throw invalidArgument(`the ${type} logging driver is not supported by berth yet: use json-file (the default) or none`)
      return { type, config }
    },
    start: (rec) => {
      const file = rec.paths.driverLog
      if (rec.spec.host.logConfig.type !== 'json-file' || !file) return
      shipper.start({ id: rec.id, k8sFile: rec.paths.log, sink: new JSONFileWriter(file, fileOpts(rec.spec.host.logConfig.config)) })
    },
    finish: (id) => shipper.finish(id),
    forget: (id) => shipper.forget(id),
    read: (rec, opts) => {
      const { type, config } = rec.spec.host.logConfig
      if (type === 'none') throw invalidArgument('configured logging driver does not support reading')
      const file = rec.paths.driverLog
      if (type !== 'json-file' || !file) return undefined
      return readJSONFileLogs(file, fileOpts(config), { ...opts, sync: () => shipper.sync(rec.id, Infinity) })
    },
  }
}
