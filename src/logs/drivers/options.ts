/**
 * Log driver names and `--log-opt` validation, as dockerd does it.
 *
 * Two stages, as in moby: validateLogConfig is what `container create` (and
 * daemon.json loading) runs — daemon/logger/factory.go ValidateLogOpts plus
 * each driver's ValidateLogOpt, which for most drivers only checks the key
 * names. The parse*Options functions are the drivers' New(): they read the
 * values and fail at container start, where dockerd wraps the message as
 * "failed to initialize logging driver: …" (container/container.go).
 */
import { statSync } from 'node:fs'

import { invalidArgument } from '../../errors/index.js'
import {
  atoi,
  durationString,
  fromHumanSize,
  goQuote,
  joinHostPort,
  parseBool,
  parseDuration,
  parseInt10,
  parseUint10,
  parseURL,
  ramInBytes,
  splitHostPort,
  urlHostname,
  urlPort,
} from './go.js'

/** Drivers berthd registers, sorted as `docker info` lists "Log" plugins. */
export const LOG_DRIVERS = ['fluentd', 'gelf', 'journald', 'json-file', 'local', 'splunk', 'syslog'] as const
export type LogDriverName = (typeof LOG_DRIVERS)[number]

/** Options every driver takes, consumed by the wrappers around it and never seen by the driver. */
const BUILTIN_OPTS = new Set(['mode', 'max-buffer-size', 'cache-disabled', 'cache-max-size', 'cache-max-file', 'cache-compress'])

/** Options behind info.ExtraAttributes and the tag template, shared by most drivers. */
const ATTR_OPTS = ['env', 'env-regex', 'labels', 'labels-regex', 'tag'] as const

const DRIVER_OPTS: Record<LogDriverName, ReadonlySet<string>> = {
  'json-file': new Set(['max-file', 'max-size', 'compress', ...ATTR_OPTS]),
  local: new Set(['max-file', 'max-size', 'compress']),
  journald: new Set(ATTR_OPTS),
  syslog: new Set([
    ...ATTR_OPTS,
    'syslog-address',
    'syslog-facility',
    'syslog-tls-ca-cert',
    'syslog-tls-cert',
    'syslog-tls-key',
    'syslog-tls-skip-verify',
    'syslog-format',
  ]),
  gelf: new Set([
    ...ATTR_OPTS,
    'gelf-address',
    'gelf-compression-level',
    'gelf-compression-type',
    'gelf-tcp-max-reconnect',
    'gelf-tcp-reconnect-delay',
  ]),
  fluentd: new Set([
    ...ATTR_OPTS,
    'fluentd-address',
    'fluentd-async',
    'fluentd-async-reconnect-interval',
    'fluentd-buffer-limit',
    'fluentd-max-retries',
    'fluentd-request-ack',
    'fluentd-retry-wait',
    'fluentd-sub-second-precision',
    'fluentd-write-timeout',
  ]),
  splunk: new Set([
    ...ATTR_OPTS,
    'splunk-url',
    'splunk-token',
    'splunk-source',
    'splunk-sourcetype',
    'splunk-index',
    'splunk-capath',
    'splunk-caname',
    'splunk-insecureskipverify',
    'splunk-format',
    'splunk-verify-connection',
    'splunk-gzip',
    'splunk-gzip-level',
    'splunk-index-acknowledgment',
  ]),
}

export type LogOpts = Readonly<Record<string, string>>

export function isLogDriver(name: string): name is LogDriverName {
  return (LOG_DRIVERS as readonly string[]).includes(name)
}

/** Drivers that read back their own logs; the others get the dual-logging cache. */
export function driverReadsLogs(name: string): boolean {
  return name === 'json-file' || name === 'local' || name === 'journald'
}

export interface ValidateDeps {
  /**
   * os.Stat of a syslog unix socket path, throwing Go's error text
   * ("stat /x: no such file or directory"); dockerd checks it at create.
   */
  statPath?: (path: string) => void
}

/**
 * moby's logger.ValidateLogOpts: throws an invalid-argument EngineError with
 * docker's message. "none" accepts anything, as in docker.
 */
export function validateLogConfig(driver: string, opts: LogOpts, deps: ValidateDeps = {}): void {
  try {
    validate(driver, opts, deps)
  } catch (err) {
    throw invalidArgument(err instanceof Error ? err.message : String(err), err)
  }
}

function validate(driver: string, opts: LogOpts, deps: ValidateDeps): void {
  if (driver === 'none') return
  parseLogMode(opts)
  const cacheDisabled = opts['cache-disabled']
  if (cacheDisabled !== undefined && cacheDisabled !== '') {
    try {
      parseBool(cacheDisabled)
    } catch {
      throw new Error(`invalid value for option cache-disabled: ${cacheDisabled}`)
    }
  }
  if (!isLogDriver(driver)) throw new Error(`logger: no log driver named '${driver}' is registered`)
  const own: Record<string, string> = {}
  for (const [k, v] of Object.entries(opts)) if (!BUILTIN_OPTS.has(k)) own[k] = v
  const stat = deps.statPath ?? statOrThrow
  switch (driver) {
    case 'json-file':
    case 'syslog':
    case 'journald':
    case 'fluentd':
    case 'splunk':
      checkKeys(own, DRIVER_OPTS[driver], (k) => `unknown log opt '${k}' for ${driver} log driver`)
      break
    case 'local':
      checkKeys(own, DRIVER_OPTS.local, (k) => `unknown log opt '${k}' for log driver local`)
      break
    case 'gelf':
      validateGelf(own)
      break
  }
  if (driver === 'syslog') {
    parseSyslogAddress(own['syslog-address'] ?? '', stat)
    parseSyslogFacility(own['syslog-facility'] ?? '')
    parseSyslogFormat(own['syslog-format'] ?? '')
  } else if (driver === 'fluentd') {
    parseFluentdOptions(own)
  }
}

function checkKeys(opts: LogOpts, allowed: ReadonlySet<string>, message: (key: string) => string): void {
  for (const key of Object.keys(opts)) if (!allowed.has(key)) throw new Error(message(key))
}

function statOrThrow(path: string): void {
  try {
    statSync(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why =
      code === 'ENOENT'
        ? 'no such file or directory'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'ENOTDIR'
            ? 'not a directory'
            : (err as Error).message
    throw new Error(`stat ${path}: ${why}`)
  }
}

// ---- delivery mode and the dual-logging cache ----

export interface LogModeOptions {
  mode: 'blocking' | 'non-blocking'
  /** Ring buffer bound in bytes for non-blocking mode; moby's default is 1e6. */
  maxBufferSize: number
}

export const DEFAULT_MAX_BUFFER_SIZE = 1e6

/** The `mode` and `max-buffer-size` options, with ValidateLogOpts' messages. */
export function parseLogMode(opts: LogOpts): LogModeOptions {
  const mode = opts['mode'] ?? ''
  if (mode !== '' && mode !== 'blocking' && mode !== 'non-blocking') {
    throw new Error(`logger: logging mode not supported: ${mode}`)
  }
  let maxBufferSize = DEFAULT_MAX_BUFFER_SIZE
  const s = opts['max-buffer-size']
  if (s !== undefined) {
    if (mode !== 'non-blocking') {
      throw new Error("logger: max-buffer-size option is only supported with 'mode=non-blocking'")
    }
    try {
      maxBufferSize = ramInBytes(s)
    } catch (err) {
      throw new Error(`error parsing option max-buffer-size: ${(err as Error).message}`)
    }
  }
  return { mode: mode === 'non-blocking' ? 'non-blocking' : 'blocking', maxBufferSize }
}

export interface CacheOptions {
  /** Whether `logs` reads come from a local cache for a driver that can't read back. */
  enabled: boolean
  maxSize: number
  maxFile: number
  compress: boolean
}

/**
 * The dual-logging cache (moby loggerutils/cache) for a driver that doesn't
 * read back. An unparseable cache-disabled disables the cache, as
 * cache.ShouldUseCache does. The size options are read as docker documents
 * them; dockerd 28 accepts but ignores them and always uses local's defaults.
 */
export function parseCacheOptions(driver: string, opts: LogOpts): CacheOptions {
  let enabled = !driverReadsLogs(driver) && driver !== 'none'
  const disabled = opts['cache-disabled'] ?? ''
  if (enabled && disabled !== '') {
    try {
      enabled = !parseBool(disabled)
    } catch {
      enabled = false
    }
  }
  const local = parseLocalOptions({
    ...(opts['cache-max-size'] !== undefined && { 'max-size': opts['cache-max-size'] }),
    ...(opts['cache-max-file'] !== undefined && { 'max-file': opts['cache-max-file'] }),
    ...(opts['cache-compress'] !== undefined && { compress: opts['cache-compress'] }),
  })
  return { enabled, ...local }
}

// ---- json-file and local ----

export interface FileOptions {
  /** Bytes per file before rotation; -1 for no limit. */
  maxSize: number
  maxFile: number
  compress: boolean
}

/** jsonfilelog.New's option checks. */
export function parseJSONFileOptions(opts: LogOpts): FileOptions {
  let maxSize = -1
  const size = opts['max-size']
  if (size !== undefined) {
    maxSize = fromHumanSize(size)
    if (maxSize <= 0) throw new Error('max-size must be a positive number')
  }
  let maxFile = 1
  const files = opts['max-file']
  if (files !== undefined) {
    maxFile = atoi(files)
    if (maxFile < 1) throw new Error('max-file cannot be less than 1')
  }
  let compress = false
  const c = opts['compress']
  if (c !== undefined) {
    compress = parseBool(c)
    if (compress && (maxFile === 1 || maxSize === -1)) {
      throw new Error('compress cannot be true when max-file is less than 2 or max-size is not set')
    }
  }
  return { maxSize, maxFile, compress }
}

export const LOCAL_DEFAULTS: FileOptions = { maxSize: 20 * 1024 * 1024, maxFile: 5, compress: true }

/** local.New's option checks (defaults 20 MiB × 5 files, compressed). */
export function parseLocalOptions(opts: LogOpts): FileOptions {
  const cfg = { ...LOCAL_DEFAULTS }
  const size = opts['max-size']
  if (size !== undefined) {
    try {
      cfg.maxSize = fromHumanSize(size)
    } catch (err) {
      throw new Error(`invalid value for max-size: ${size}: ${(err as Error).message}`)
    }
  }
  const files = opts['max-file']
  if (files !== undefined) {
    try {
      cfg.maxFile = atoi(files)
    } catch (err) {
      throw new Error(`invalid value for max-file: ${files}: ${(err as Error).message}`)
    }
  }
  const c = opts['compress']
  if (c !== undefined) {
    try {
      cfg.compress = parseBool(c)
    } catch (err) {
      throw new Error(`error reading compress log option: ${(err as Error).message}`)
    }
  }
  if (cfg.maxSize < 0) throw new Error('max size should be a positive number')
  if (cfg.maxFile < 0) throw new Error('max file count cannot be less than 0')
  if (cfg.compress && cfg.maxFile <= 1) throw new Error('compression cannot be enabled when max file count is 1')
  return cfg
}

// ---- syslog ----

export type SyslogProto = '' | 'unix' | 'unixgram' | 'udp' | 'tcp' | 'tcp+tls'
export type SyslogFormat = '' | 'rfc3164' | 'rfc5424' | 'rfc5424micro'

export interface SyslogOptions {
  /** '' is the local syslog: unixgram then unix on /dev/log, /var/run/syslog, /var/run/log. */
  proto: SyslogProto
  /** A socket path for unix protocols, host:port otherwise (port 514 when omitted). */
  address: string
  /** Facility already shifted into priority bits (facility << 3). */
  facility: number
  format: SyslogFormat
  tls: { caCert?: string; cert?: string; key?: string; skipVerify: boolean }
}

export const SYSLOG_FACILITIES: Readonly<Record<string, number>> = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
}

export function parseSyslogAddress(
  address: string,
  stat: (path: string) => void = statOrThrow,
): { proto: SyslogProto; address: string } {
  if (address === '') return { proto: '', address: '' }
  const u = parseURL(address)
  if (u.scheme === 'unix' || u.scheme === 'unixgram') {
    stat(u.path)
    return { proto: u.scheme, address: u.path }
  }
  if (u.scheme !== 'udp' && u.scheme !== 'tcp' && u.scheme !== 'tcp+tls') {
    throw new Error(`unsupported scheme: '${u.scheme}'`)
  }
  let host = u.host
  try {
    splitHostPort(host)
  } catch (err) {
    if (!(err as Error).message.includes('missing port in address')) throw err
    host = joinHostPort(host, '514')
  }
  return { proto: u.scheme, address: host }
}

export function parseSyslogFacility(facility: string): number {
  if (facility === '') return SYSLOG_FACILITIES['daemon']! << 3
  const named = SYSLOG_FACILITIES[facility]
  if (named !== undefined && Object.hasOwn(SYSLOG_FACILITIES, facility)) return named << 3
  if (/^[+-]?[0-9]+$/.test(facility)) {
    const n = Number(facility)
    if (n >= 0 && n <= 23) return n << 3
  }
  throw new Error('invalid syslog facility')
}

export function parseSyslogFormat(format: string): SyslogFormat {
  switch (format) {
    case '':
    case 'rfc3164':
    case 'rfc5424':
    case 'rfc5424micro':
      return format
    default:
      throw new Error('Invalid syslog format')
  }
}

/** syslog.New's option handling (the address is stat'ed again, as dockerd does at start). */
export function parseSyslogOptions(opts: LogOpts, stat?: (path: string) => void): SyslogOptions {
  const { proto, address } = parseSyslogAddress(opts['syslog-address'] ?? '', stat)
  const facility = parseSyslogFacility(opts['syslog-facility'] ?? '')
  const format = parseSyslogFormat(opts['syslog-format'] ?? '')
  return {
    proto,
    address,
    facility,
    format,
    tls: {
      ...(opts['syslog-tls-ca-cert'] !== undefined && { caCert: opts['syslog-tls-ca-cert'] }),
      ...(opts['syslog-tls-cert'] !== undefined && { cert: opts['syslog-tls-cert'] }),
      ...(opts['syslog-tls-key'] !== undefined && { key: opts['syslog-tls-key'] }),
      // Presence alone turns it on: dockerd never reads the value.
      skipVerify: opts['syslog-tls-skip-verify'] !== undefined,
    },
  }
}

// ---- gelf ----

export type GelfCompression = 'gzip' | 'zlib' | 'none'

export interface GelfOptions {
  proto: 'udp' | 'tcp'
  host: string
  port: number
  compressionType: GelfCompression
  /** flate level: -1 default, 0 none … 9 best; go-gelf's default is 1 (best speed). */
  compressionLevel: number
  tcpMaxReconnect: number
  /** Seconds between TCP reconnect attempts. */
  tcpReconnectDelay: number
}

function parseGelfAddress(address: string): { proto: 'udp' | 'tcp'; host: string; port: number } {
  if (address === '') throw new Error('gelf-address is a required parameter')
  const u = parseURL(address)
  if (u.scheme !== 'udp' && u.scheme !== 'tcp') throw new Error('gelf: endpoint needs to be TCP or UDP')
  let host: string
  let port: string
  try {
    ;[host, port] = splitHostPort(u.host)
  } catch {
    throw new Error('gelf: please provide gelf-address as proto://host:port')
  }
  return { proto: u.scheme, host, port: Number(port) }
}

function validateGelf(opts: LogOpts): void {
  const { proto } = parseGelfAddress(opts['gelf-address'] ?? '')
  for (const [key, val] of Object.entries(opts)) {
    const badValue = () => new Error(`unknown value ${goQuote(val)} for log opt ${goQuote(key)} for gelf log driver`)
    switch (key) {
      case 'gelf-address':
      case 'tag':
      case 'labels':
      case 'labels-regex':
      case 'env':
      case 'env-regex':
        break
      case 'gelf-compression-level': {
        if (proto !== 'udp') throw new Error('compression is only supported on UDP')
        let i: number
        try {
          i = atoi(val)
        } catch {
          throw badValue()
        }
        if (i < -1 || i > 9) throw badValue()
        break
      }
      case 'gelf-compression-type':
        if (proto !== 'udp') throw new Error('compression is only supported on UDP')
        if (val !== 'gzip' && val !== 'zlib' && val !== 'none') throw badValue()
        break
      case 'gelf-tcp-max-reconnect':
      case 'gelf-tcp-reconnect-delay': {
        if (proto !== 'tcp') throw new Error(`${goQuote(key)} is only valid for TCP`)
        let ok = true
        try {
          ok = atoi(val) >= 0
        } catch {
          ok = false
        }
        if (!ok) throw new Error(`${goQuote(key)} must be a positive integer`)
        break
      }
      default:
        throw new Error(`unknown log opt ${goQuote(key)} for gelf log driver`)
    }
  }
}

/** gelf.New's option handling. */
export function parseGelfOptions(opts: LogOpts): GelfOptions {
  const addr = parseGelfAddress(opts['gelf-address'] ?? '')
  const out: GelfOptions = {
    ...addr,
    compressionType: 'gzip',
    compressionLevel: 1,
    tcpMaxReconnect: 3,
    tcpReconnectDelay: 1,
  }
  if (addr.proto === 'tcp') {
    const positive = (key: string): number | undefined => {
      const v = opts[key]
      if (v === undefined) return undefined
      let i = -1
      try {
        i = atoi(v)
      } catch {
        /* reported below */
      }
      if (i < 0) throw new Error(`${key} must be a positive integer`)
      return i
    }
    out.tcpMaxReconnect = positive('gelf-tcp-max-reconnect') ?? out.tcpMaxReconnect
    out.tcpReconnectDelay = positive('gelf-tcp-reconnect-delay') ?? out.tcpReconnectDelay
  } else {
    const t = opts['gelf-compression-type']
    if (t !== undefined) {
      if (t !== 'gzip' && t !== 'zlib' && t !== 'none') throw new Error(`gelf: invalid compression type ${goQuote(t)}`)
      out.compressionType = t
    }
    const l = opts['gelf-compression-level']
    if (l !== undefined) {
      try {
        out.compressionLevel = atoi(l)
      } catch (err) {
        throw new Error(`gelf: invalid compression level ${l}, err ${(err as Error).message}`)
      }
    }
  }
  return out
}

// ---- fluentd ----

export interface FluentdOptions {
  protocol: 'tcp' | 'tls' | 'unix'
  host: string
  port: number
  /** Socket path for unix. */
  path: string
  /** Bytes buffered in async mode before Post fails. */
  bufferLimit: number
  retryWaitMs: number
  maxRetries: number
  async: boolean
  /** 0: no periodic reconnect. */
  asyncReconnectIntervalMs: number
  subSecondPrecision: boolean
  requestAck: boolean
  /** 0: no write timeout. */
  writeTimeoutMs: number
}

function parseFluentdAddress(address: string): Pick<FluentdOptions, 'protocol' | 'host' | 'port' | 'path'> {
  const host = '127.0.0.1'
  const port = 24224
  if (address === '') return { protocol: 'tcp', host, port, path: '' }
  if (!address.includes('://')) address = 'tcp://' + address
  const u = parseURL(address)
  if (u.scheme === 'unix') {
    if (u.path.replace(/^\/+/, '') === '') throw new Error('path is empty')
    return { protocol: 'unix', host: '', port: 0, path: u.path }
  }
  if (u.scheme !== 'tcp' && u.scheme !== 'tls') throw new Error(`unsupported scheme: '${u.scheme}'`)
  if (u.path !== '') throw new Error('should not contain a path element')
  const h = urlHostname(u)
  const p = urlPort(u)
  let portNum = port
  if (p !== '') {
    try {
      portNum = parseUint10(p)
    } catch (err) {
      throw new Error(`invalid port: ${(err as Error).message}`)
    }
    if (portNum > 65535) throw new Error(`invalid port: strconv.ParseUint: parsing ${goQuote(p)}: value out of range`)
  }
  return { protocol: u.scheme, host: h || host, port: portNum, path: '' }
}

/** fluentd's parseConfig; dockerd runs it at create and at start. */
export function parseFluentdOptions(opts: LogOpts): FluentdOptions {
  const addr = opts['fluentd-address'] ?? ''
  let loc: ReturnType<typeof parseFluentdAddress>
  try {
    loc = parseFluentdAddress(addr)
  } catch (err) {
    throw new Error(`invalid fluentd-address (${addr}): ${(err as Error).message}`)
  }
  const set = (k: string) => {
    const v = opts[k]
    return v !== undefined && v !== '' ? v : undefined
  }
  let bufferLimit = 1024 * 1024
  const bl = set('fluentd-buffer-limit')
  if (bl !== undefined) bufferLimit = ramInBytes(bl)
  let retryWaitMs = 1000
  const rw = set('fluentd-retry-wait')
  if (rw !== undefined) retryWaitMs = Math.trunc(parseDuration(rw) / 1e6)
  let maxRetries = 2 ** 31 - 1
  const mr = set('fluentd-max-retries')
  if (mr !== undefined) maxRetries = parseUint10(mr)
  const async = set('fluentd-async') !== undefined ? parseBool(opts['fluentd-async']!) : false
  let asyncReconnectIntervalMs = 0
  const ri = set('fluentd-async-reconnect-interval')
  if (ri !== undefined) {
    let interval: number
    try {
      interval = parseDuration(ri)
    } catch (err) {
      throw new Error(`invalid value for fluentd-async-reconnect-interval: ${(err as Error).message}`)
    }
    if (interval !== 0) {
      if (interval < 100e6 || interval > 10e9) {
        throw new Error(
          `invalid value for fluentd-async-reconnect-interval: value (${goQuote(durationString(interval))}) must be between 100ms and 10s`,
        )
      }
      asyncReconnectIntervalMs = Math.trunc(interval / 1e6)
    }
  }
  const ssp = set('fluentd-sub-second-precision')
  const subSecondPrecision = ssp !== undefined ? parseBool(ssp) : false
  const ra = set('fluentd-request-ack')
  const requestAck = ra !== undefined ? parseBool(ra) : false
  let writeTimeoutMs = 0
  const wt = set('fluentd-write-timeout')
  if (wt !== undefined) {
    let d: number
    try {
      d = parseDuration(wt)
    } catch (err) {
      throw new Error(`invalid value for fluentd-write-timeout: value must be a duration: ${(err as Error).message}`)
    }
    if (d < 0) throw new Error('invalid value for fluentd-write-timeout: value must be a duration that is non-negative')
    writeTimeoutMs = d / 1e6
  }
  return {
    ...loc,
    bufferLimit,
    retryWaitMs,
    maxRetries,
    async,
    asyncReconnectIntervalMs,
    subSecondPrecision,
    requestAck,
    writeTimeoutMs,
  }
}

// ---- splunk ----

export type SplunkFormat = 'inline' | 'json' | 'raw'

export interface SplunkOptions {
  /** The HEC endpoint: the given scheme://host:port with path /services/collector/event/1.0. */
  url: string
  token: string
  source: string
  sourcetype: string
  index: string
  caPath?: string
  caName?: string
  insecureSkipVerify: boolean
  format: SplunkFormat
  verifyConnection: boolean
  gzip: boolean
  /** -1 (default) … 9. */
  gzipLevel: number
  indexAck: boolean
}

/** splunk.New's option handling, in its order (the hostname check aside). */
export function parseSplunkOptions(opts: LogOpts): SplunkOptions {
  const rawURL = opts['splunk-url']
  if (rawURL === undefined) throw new Error('splunk: splunk-url is expected')
  let u: ReturnType<typeof parseURL>
  try {
    u = parseURL(rawURL)
  } catch {
    throw new Error(`splunk: failed to parse ${rawURL} as url value in splunk-url`)
  }
  if (
    u.scheme === '' ||
    (u.scheme !== 'http' && u.scheme !== 'https') ||
    (u.path !== '' && u.path !== '/') ||
    u.rawQuery !== '' ||
    u.fragment !== '' ||
    u.opaque !== ''
  ) {
    throw new Error('splunk: expected format scheme://dns_name_or_ip:port for splunk-url')
  }
  const token = opts['splunk-token']
  if (token === undefined) throw new Error('splunk: splunk-token is expected')
  const insecureSkipVerify =
    opts['splunk-insecureskipverify'] !== undefined ? parseBool(opts['splunk-insecureskipverify']) : false
  const gzip = opts['splunk-gzip'] !== undefined ? parseBool(opts['splunk-gzip']) : false
  let gzipLevel = -1
  const lvl = opts['splunk-gzip-level']
  if (lvl !== undefined) {
    gzipLevel = parseInt10(lvl, 32)
    if (gzipLevel < -1 || gzipLevel > 9) {
      throw new Error(`not supported level '${lvl}' for splunk-gzip-level (supported values between -1 and 9)`)
    }
  }
  const indexAck =
    opts['splunk-index-acknowledgment'] !== undefined ? parseBool(opts['splunk-index-acknowledgment']) : false
  const verifyConnection =
    opts['splunk-verify-connection'] !== undefined ? parseBool(opts['splunk-verify-connection']) : true
  const format = opts['splunk-format'] ?? 'inline'
  if (format !== 'inline' && format !== 'json' && format !== 'raw') {
    throw new Error(`unknown format specified ${format}, supported formats are inline, json and raw`)
  }
  return {
    url: `${u.scheme}://${u.host}/services/collector/event/1.0`,
    token,
    source: opts['splunk-source'] ?? '',
    sourcetype: opts['splunk-sourcetype'] ?? '',
    index: opts['splunk-index'] ?? '',
    ...(opts['splunk-capath'] !== undefined && { caPath: opts['splunk-capath'] }),
    ...(opts['splunk-caname'] !== undefined && { caName: opts['splunk-caname'] }),
    insecureSkipVerify,
    format,
    verifyConnection,
    gzip,
    gzipLevel,
    indexAck,
  }
}

// ---- all drivers ----

export type ParsedLogConfig =
  | { driver: 'none' }
  | { driver: 'json-file'; options: FileOptions }
  | { driver: 'local'; options: FileOptions }
  | { driver: 'journald' }
  | { driver: 'syslog'; options: SyslogOptions }
  | { driver: 'gelf'; options: GelfOptions }
  | { driver: 'fluentd'; options: FluentdOptions }
  | { driver: 'splunk'; options: SplunkOptions }

/**
 * A driver's New() option handling: the typed options, or an
 * invalid-argument error with docker's message (which dockerd reports as
 * "failed to initialize logging driver: <message>").
 */
export function parseLogConfig(driver: string, opts: LogOpts, deps: ValidateDeps = {}): ParsedLogConfig {
  try {
    switch (driver) {
      case 'none':
        return { driver }
      case 'journald':
        return { driver }
      case 'json-file':
        return { driver, options: parseJSONFileOptions(opts) }
      case 'local':
        return { driver, options: parseLocalOptions(opts) }
      case 'syslog':
        return { driver, options: parseSyslogOptions(opts, deps.statPath) }
      case 'gelf':
        return { driver, options: parseGelfOptions(opts) }
      case 'fluentd':
        return { driver, options: parseFluentdOptions(opts) }
      case 'splunk':
        return { driver, options: parseSplunkOptions(opts) }
      default:
        throw new Error(`logger: no log driver named '${driver}' is registered`)
    }
  } catch (err) {
    throw invalidArgument(err instanceof Error ? err.message : String(err), err)
  }
}
