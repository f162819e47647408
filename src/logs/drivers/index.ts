/**
 * The pure parts of berth's log drivers: option validation with docker's
 * messages, the Info a driver sees and its tag template, and each driver's
 * wire encoding. The daemon-side shipper owns sockets, files and timing.
 */
export type { LogMessage, PartialMeta, Timestamp } from './message.js'
export { formatRFC3339Nano, parseRFC3339Nano, unixNano, fromHumanSize, ramInBytes } from './go.js'
export {
  LOG_DRIVERS,
  LOCAL_DEFAULTS,
  DEFAULT_MAX_BUFFER_SIZE,
  SYSLOG_FACILITIES,
  driverReadsLogs,
  isLogDriver,
  parseCacheOptions,
  parseFluentdOptions,
  parseGelfOptions,
  parseJSONFileOptions,
  parseLocalOptions,
  parseLogConfig,
  parseLogMode,
  parseSplunkOptions,
  parseSyslogOptions,
  validateLogConfig,
  type CacheOptions,
  type FileOptions,
  type FluentdOptions,
  type GelfCompression,
  type GelfOptions,
  type LogDriverName,
  type LogModeOptions,
  type LogOpts,
  type ParsedLogConfig,
  type SplunkFormat,
  type SplunkOptions,
  type SyslogFormat,
  type SyslogOptions,
  type SyslogProto,
  type ValidateDeps,
} from './options.js'
export { DEFAULT_TAG_TEMPLATE, LogInfo, parseLogTag, type LogInfoInit } from './info.js'
export { encodeJSONFileLine, jsonFileAttrs, parseJSONFileLine, type JSONFileEntry } from './jsonfile.js'
export {
  GELF_CHUNK_SIZE,
  GELF_MAX_CHUNKS,
  chunkGelf,
  compressGelf,
  encodeGelfMessage,
  frameGelfTCP,
  gelfChunkCount,
  gelfExtra,
} from './gelf.js'
export { encodeSyslogMessage, syslogPriority, type SyslogEncodeOptions } from './syslog.js'
export {
  decodeFluentdAck,
  encodeFluentdMessage,
  fluentdChunkID,
  fluentdRecord,
  unixSeconds,
  type FluentdEncodeOptions,
} from './fluentd.js'
export {
  SPLUNK_BATCH_SIZE,
  SPLUNK_BUFFER_MAXIMUM,
  SPLUNK_POST_INTERVAL_MS,
  encodeSplunkEvent,
  splunkBody,
  splunkHeaders,
  splunkTime,
  type SplunkEventOptions,
} from './splunk.js'
export {
  JOURNAL_SOCKET,
  encodeJournalFields,
  journaldContainerFields,
  journaldMessageFields,
  sanitizeJournalKey,
} from './journald.js'
export { MessageRing } from './ring.js'
export { logFiles, planRotation, rotatedFileExtra, rotatedName, shouldRotate, type RotationPlan } from './rotate.js'
export { decodeLocalEntries, encodeLocalEntry, type LocalEntry } from './local.js'
