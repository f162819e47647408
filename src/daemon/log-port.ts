/**
 * Containers and logging drivers meet here: which driver a new container
 * gets (moby's mergeAndVerifyLogConfig: the daemon's default, its options
 * merged in when the driver is the default one), and per driver where its
 * output is shipped and where `logs` reads it. json-file goes through the
 * shipper into docker's files; remote drivers get their sink, and `logs`
 * reads conmon's file as docker's dual-logging cache (unless
 * `cache-disabled`); `none` keeps nothing readable; berth's own `k8s-file`
 * is conmon's file as it stands.
 */
import { existsSync } from 'node:fs'
import os from 'node:os'
import type { ContainerRecord, LogPort } from '../containers/index.js'
import { invalidArgument } from '../errors/index.js'
import type { Logger } from '../lib/index.js'
import {
  JOURNAL_SOCKET,
  JSONFileWriter,
  localFormat,
  parseCacheOptions,
  parseLocalOptions,
  readLogFiles,
  RotatingLogWriter,
  jsonFileAttrs,
  LogInfo,
  LogShipper,
  NonBlockingSink,
  parseJSONFileOptions,
  parseLogMode,
  readJSONFileLogs,
  validateLogConfig,
  type FileOptions,
  type LogSink,
  type SinkFactory,
} from '../logs/index.js'
import type { DaemonConfig } from './config.js'

/**
 * conmon's file when a driver has files of its own: only the way to them.
 * conmon starts it again past this size, so only a shipper this far behind
 * (berthd down while a container writes that much) loses lines.
 */
const TRANSIT_LOG_MAX = 64 * 1024 * 1024

/** conmon's own file, read as it is: berth's driver before json-file was the default. */
const K8S_FILE = 'k8s-file'

/** Drivers whose sink is built; the others are checked as docker checks them, then refused. */
export type SinkRegistry = Readonly<Record<string, SinkFactory>>

function truthy(v: string | undefined): boolean {
  return v !== undefined && /^(1|t|true)$/i.test(v)
}

/** moby's logger.Info of a container. */
function logInfo(rec: ContainerRecord): LogInfo {
  return new LogInfo({
    config: rec.spec.host.logConfig.config,
    containerID: rec.id,
    containerName: `/${rec.name}`,
    containerEntrypoint: rec.path,
    containerArgs: rec.args,
    containerImageID: rec.imageId,
    containerImageName: rec.spec.image,
    containerCreated: new Date(rec.created),
    containerEnv: rec.effective.env,
    containerLabels: rec.effective.labels,
    logPath: rec.paths.driverLog ?? rec.paths.log,
    daemonName: 'docker',
    // moby's Info.Hostname(): the daemon's host, not the container's.
    hostname: os.hostname(),
  })
}

export function logPort(shipper: LogShipper, cfg: Pick<DaemonConfig, 'logDriver' | 'logOpts'>, sinks: SinkRegistry, logger: Logger): LogPort {
  const fileOpts = (config: Record<string, string>): FileOptions => parseJSONFileOptions(config)
  /** A driver's options that only a start checks in dockerd are checked at create here: `run` fails before anything is made. */
  const initError = (err: unknown) => invalidArgument(`failed to initialize logging driver: ${(err as Error).message}`, err)

  const sinkOf = (rec: ContainerRecord): LogSink | undefined => {
    const { type, config } = rec.spec.host.logConfig
    if (type === 'json-file') return rec.paths.driverLog ? new JSONFileWriter(rec.paths.driverLog, fileOpts(config), jsonFileAttrs(logInfo(rec))) : undefined
    if (type === 'local') return rec.paths.driverLog ? new RotatingLogWriter(rec.paths.driverLog, parseLocalOptions(config), localFormat) : undefined
    const make = sinks[type]
    if (!make) return undefined
    const log = logger.child({ container: rec.id.slice(0, 12), driver: type })
    const sink = make({ info: logInfo(rec), opts: config, logger: log })
    const mode = parseLogMode(config)
    return mode.mode === 'non-blocking' ? new NonBlockingSink(sink, mode.maxBufferSize, log) : sink
  }

  return {
    resolve: (c) => {
      const type = c.type || cfg.logDriver
      const config = { ...c.config }
      if (type === cfg.logDriver) for (const [k, v] of Object.entries(cfg.logOpts)) if (!(k in config)) config[k] = v
      if (type === K8S_FILE) return { type, config }
      validateLogConfig(type, config)
      if (type === 'json-file' || type === 'local') {
        try {
          if (type === 'json-file') fileOpts(config)
          else parseLocalOptions(config)
        } catch (err) {
          throw initError(err)
        }
      } else if (type === 'journald' && !existsSync(JOURNAL_SOCKET)) {
        // moby's journald.New (journal.Enabled), checked at create rather than start; where a journal exists the sink sends to it.
        throw initError(new Error('journald is not enabled on this host'))
      } else if (type !== 'none' && type !== 'local' && !sinks[type]) {
        throw invalidArgument(`the ${type} logging driver is not supported by berth yet: use json-file (the default), syslog, journald, gelf, fluentd, splunk or none`)
      }
      return { type, config }
    },
    start: (rec) => {
      let sink: LogSink | undefined
      try {
        sink = sinkOf(rec)
      } catch (err) {
        throw initError(err)
      }
      if (sink) shipper.start({ id: rec.id, k8sFile: rec.paths.log, sink })
    },
    conmonLogMax: (rec) => {
      const { type, config } = rec.spec.host.logConfig
      if (type === K8S_FILE) return undefined
      // For the drivers with files of their own it is only the way to them; for the others it is the cache `logs` reads.
      if (type === 'json-file' || type === 'local' || type === 'none') return TRANSIT_LOG_MAX
      const cache = parseCacheOptions(type, config)
      return cache.maxSize > 0 ? cache.maxSize * Math.max(1, cache.maxFile) : TRANSIT_LOG_MAX
    },
    finish: (id) => shipper.finish(id),
    forget: (id) => shipper.forget(id),
    read: (rec, opts) => {
      const { type, config } = rec.spec.host.logConfig
      if (type === 'none' || (type !== 'json-file' && type !== 'local' && type !== K8S_FILE && truthy(config['cache-disabled']))) {
        throw invalidArgument('configured logging driver does not support reading')
      }
      const file = rec.paths.driverLog
      const sync = () => shipper.sync(rec.id, Infinity)
      if (type === 'json-file' && file) return readJSONFileLogs(file, fileOpts(config), { ...opts, sync })
      if (type === 'local' && file) return readLogFiles(file, parseLocalOptions(config), localFormat, { ...opts, sync })
      return undefined
    },
  }
}
