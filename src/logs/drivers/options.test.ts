import { describe, expect, it } from 'vitest'

import { kindOf } from '../../errors/index.js'
import {
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
} from './options.js'

const noStat = { statPath: () => {} }
const missing = {
  statPath: (p: string) => {
    throw new Error(`stat ${p}: no such file or directory`)
  },
}

describe('validateLogConfig', () => {
  const bad: [string, Record<string, string>, string][] = [
    ['foo', {}, "logger: no log driver named 'foo' is registered"],
    ['k8s-file', {}, "logger: no log driver named 'k8s-file' is registered"],
    ['json-file', { mode: 'fast' }, 'logger: logging mode not supported: fast'],
    ['json-file', { 'max-buffer-size': '4m' }, "logger: max-buffer-size option is only supported with 'mode=non-blocking'"],
    ['json-file', { mode: 'blocking', 'max-buffer-size': '4m' }, "logger: max-buffer-size option is only supported with 'mode=non-blocking'"],
    ['json-file', { mode: 'non-blocking', 'max-buffer-size': 'lots' }, "error parsing option max-buffer-size: invalid size: 'lots'"],
    ['json-file', { mode: 'non-blocking', 'max-buffer-size': '4x' }, "error parsing option max-buffer-size: invalid suffix: 'x'"],
    ['gelf', { 'cache-disabled': 'maybe' }, 'invalid value for option cache-disabled: maybe'],
    ['json-file', { x: '1' }, "unknown log opt 'x' for json-file log driver"],
    ['json-file', { 'syslog-address': 'udp://a:1' }, "unknown log opt 'syslog-address' for json-file log driver"],
    ['local', { labels: 'a' }, "unknown log opt 'labels' for log driver local"],
    ['journald', { 'max-size': '1m' }, "unknown log opt 'max-size' for journald log driver"],
    ['splunk', { 'splunk-foo': '1' }, "unknown log opt 'splunk-foo' for splunk log driver"],
    ['fluentd', { 'fluentd-foo': '1' }, "unknown log opt 'fluentd-foo' for fluentd log driver"],
    ['syslog', { 'syslog-foo': '1' }, "unknown log opt 'syslog-foo' for syslog log driver"],
    ['syslog', { 'syslog-address': 'http://h:1' }, "unsupported scheme: 'http'"],
    ['syslog', { 'syslog-address': 'udp://a:b:1' }, 'address a:b:1: too many colons in address'],
    ['syslog', { 'syslog-address': 'udp://a:b:c' }, 'parse "udp://a:b:c": invalid port ":c" after host'],
    ['syslog', { 'syslog-address': 'tcp://h:x1' }, 'parse "tcp://h:x1": invalid port ":x1" after host'],
    ['syslog', { 'syslog-facility': 'nope' }, 'invalid syslog facility'],
    ['syslog', { 'syslog-facility': '24' }, 'invalid syslog facility'],
    ['syslog', { 'syslog-format': 'rfc9999' }, 'Invalid syslog format'],
    ['gelf', {}, 'gelf-address is a required parameter'],
    ['gelf', { 'gelf-address': 'http://h:1' }, 'gelf: endpoint needs to be TCP or UDP'],
    ['gelf', { 'gelf-address': 'udp://h' }, 'gelf: please provide gelf-address as proto://host:port'],
    ['gelf', { 'gelf-address': 'udp://h:1', foo: '1' }, 'unknown log opt "foo" for gelf log driver'],
    ['gelf', { 'gelf-address': 'tcp://h:1', 'gelf-compression-type': 'gzip' }, 'compression is only supported on UDP'],
    ['gelf', { 'gelf-address': 'udp://h:1', 'gelf-compression-type': 'lz4' }, 'unknown value "lz4" for log opt "gelf-compression-type" for gelf log driver'],
    ['gelf', { 'gelf-address': 'udp://h:1', 'gelf-compression-level': '10' }, 'unknown value "10" for log opt "gelf-compression-level" for gelf log driver'],
    ['gelf', { 'gelf-address': 'udp://h:1', 'gelf-compression-level': '-2' }, 'unknown value "-2" for log opt "gelf-compression-level" for gelf log driver'],
    ['gelf', { 'gelf-address': 'udp://h:1', 'gelf-tcp-max-reconnect': '3' }, '"gelf-tcp-max-reconnect" is only valid for TCP'],
    ['gelf', { 'gelf-address': 'tcp://h:1', 'gelf-tcp-reconnect-delay': '-1' }, '"gelf-tcp-reconnect-delay" must be a positive integer'],
    ['fluentd', { 'fluentd-address': 'udp://h:1' }, "invalid fluentd-address (udp://h:1): unsupported scheme: 'udp'"],
    ['fluentd', { 'fluentd-address': 'tcp://h:1/x' }, 'invalid fluentd-address (tcp://h:1/x): should not contain a path element'],
    ['fluentd', { 'fluentd-address': 'unix:///' }, 'invalid fluentd-address (unix:///): path is empty'],
    ['fluentd', { 'fluentd-address': 'h:99999' }, 'invalid fluentd-address (h:99999): invalid port: strconv.ParseUint: parsing "99999": value out of range'],
    ['fluentd', { 'fluentd-async': 'yes' }, 'strconv.ParseBool: parsing "yes": invalid syntax'],
    ['fluentd', { 'fluentd-buffer-limit': 'big' }, "invalid size: 'big'"],
    ['fluentd', { 'fluentd-retry-wait': '5' }, 'time: missing unit in duration "5"'],
    ['fluentd', { 'fluentd-retry-wait': '5y' }, 'time: unknown unit "y" in duration "5y"'],
    ['fluentd', { 'fluentd-max-retries': '-1' }, 'strconv.ParseUint: parsing "-1": invalid syntax'],
    ['fluentd', { 'fluentd-async-reconnect-interval': '50ms' }, 'invalid value for fluentd-async-reconnect-interval: value ("50ms") must be between 100ms and 10s'],
    ['fluentd', { 'fluentd-async-reconnect-interval': '1m30s' }, 'invalid value for fluentd-async-reconnect-interval: value ("1m30s") must be between 100ms and 10s'],
    ['fluentd', { 'fluentd-async-reconnect-interval': 'x' }, 'invalid value for fluentd-async-reconnect-interval: time: invalid duration "x"'],
    ['fluentd', { 'fluentd-write-timeout': '-1s' }, 'invalid value for fluentd-write-timeout: value must be a duration that is non-negative'],
  ]
  it.each(bad)('%s %j → %s', (driver, opts, message) => {
    let err: unknown
    try {
      validateLogConfig(driver, opts, noStat)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(Error)
    expect((err as Error).message).toBe(message)
    expect(kindOf(err)).toBe('invalid-argument')
  })

  const good: [string, Record<string, string>][] = [
    ['none', { anything: 'goes', mode: 'weird' }],
    ['json-file', {}],
    ['json-file', { 'max-size': 'garbage', 'max-file': 'x' }], // values are checked at start
    ['json-file', { mode: 'non-blocking', 'max-buffer-size': '4m', 'cache-disabled': 'true', 'cache-max-size': '1m' }],
    ['local', { 'max-size': '10m', 'max-file': '3', compress: 'false' }],
    ['journald', { tag: '{{.Name}}', labels: 'a', env: 'B' }],
    ['syslog', {}],
    ['syslog', { 'syslog-address': 'udp://127.0.0.1', 'syslog-facility': 'local3', 'syslog-format': 'rfc5424micro' }],
    ['syslog', { 'syslog-address': 'tcp+tls://h:6514', 'syslog-facility': '23', 'syslog-tls-skip-verify': '' }],
    ['syslog', { 'syslog-address': 'unixgram:///dev/log' }],
    ['gelf', { 'gelf-address': 'udp://127.0.0.1:12201', 'gelf-compression-type': 'none', 'gelf-compression-level': '-1' }],
    ['gelf', { 'gelf-address': 'tcp://127.0.0.1:12201', 'gelf-tcp-max-reconnect': '0', 'gelf-tcp-reconnect-delay': '2' }],
    ['fluentd', { 'fluentd-address': 'localhost:24224', 'fluentd-async': 'true', 'fluentd-sub-second-precision': 'true' }],
    ['fluentd', { 'fluentd-address': 'unix:///var/run/fluent.sock', 'fluentd-async-reconnect-interval': '0' }],
    ['splunk', {}], // url and token are required only at start
  ]
  it.each(good)('%s %j is accepted', (driver, opts) => {
    expect(() => validateLogConfig(driver, opts, noStat)).not.toThrow()
  })

  it('stats a syslog unix socket at create', () => {
    expect(() => validateLogConfig('syslog', { 'syslog-address': 'unix:///no/such' }, missing)).toThrow(
      'stat /no/such: no such file or directory',
    )
    expect(() => validateLogConfig('syslog', { 'syslog-address': 'unix:///definitely/not/here.sock' })).toThrow(
      'stat /definitely/not/here.sock: no such file or directory',
    )
  })
})

describe('start-time option parsing', () => {
  it('json-file', () => {
    expect(parseJSONFileOptions({})).toEqual({ maxSize: -1, maxFile: 1, compress: false })
    expect(parseJSONFileOptions({ 'max-size': '10m', 'max-file': '3', compress: 'true' })).toEqual({
      maxSize: 10_000_000,
      maxFile: 3,
      compress: true,
    })
    expect(parseJSONFileOptions({ 'max-size': '1.5k' }).maxSize).toBe(1500)
    expect(parseJSONFileOptions({ 'max-size': '2 MiB' }).maxSize).toBe(2_000_000)
    expect(() => parseJSONFileOptions({ 'max-size': 'ten' })).toThrow("invalid size: 'ten'")
    expect(() => parseJSONFileOptions({ 'max-size': '10q' })).toThrow("invalid suffix: 'q'")
    expect(() => parseJSONFileOptions({ 'max-size': '0' })).toThrow('max-size must be a positive number')
    expect(() => parseJSONFileOptions({ 'max-size': '-1m' })).toThrow("invalid size: '-1m'")
    expect(() => parseJSONFileOptions({ 'max-file': 'two' })).toThrow('strconv.Atoi: parsing "two": invalid syntax')
    expect(() => parseJSONFileOptions({ 'max-file': '0' })).toThrow('max-file cannot be less than 1')
    expect(() => parseJSONFileOptions({ compress: 'yes' })).toThrow('strconv.ParseBool: parsing "yes": invalid syntax')
    expect(() => parseJSONFileOptions({ compress: 'true', 'max-size': '1m' })).toThrow(
      'compress cannot be true when max-file is less than 2 or max-size is not set',
    )
    expect(() => parseJSONFileOptions({ compress: 'true', 'max-file': '3' })).toThrow(
      'compress cannot be true when max-file is less than 2 or max-size is not set',
    )
  })

  it('local', () => {
    expect(parseLocalOptions({})).toEqual({ maxSize: 20 * 1024 * 1024, maxFile: 5, compress: true })
    expect(() => parseLocalOptions({ 'max-file': '1' })).toThrow('compression cannot be enabled when max file count is 1')
    expect(parseLocalOptions({ 'max-file': '1', compress: 'false' }).maxFile).toBe(1)
    expect(() => parseLocalOptions({ 'max-size': 'x' })).toThrow("invalid value for max-size: x: invalid size: 'x'")
    expect(() => parseLocalOptions({ 'max-file': 'x' })).toThrow(
      'invalid value for max-file: x: strconv.Atoi: parsing "x": invalid syntax',
    )
    expect(() => parseLocalOptions({ 'max-file': '-1', compress: 'false' })).toThrow('max file count cannot be less than 0')
    expect(() => parseLocalOptions({ compress: 'x' })).toThrow(
      'error reading compress log option: strconv.ParseBool: parsing "x": invalid syntax',
    )
  })

  it('mode and cache', () => {
    expect(parseLogMode({})).toEqual({ mode: 'blocking', maxBufferSize: 1e6 })
    expect(parseLogMode({ mode: 'non-blocking', 'max-buffer-size': '4m' })).toEqual({
      mode: 'non-blocking',
      maxBufferSize: 4 * 1024 * 1024,
    })
    expect(parseCacheOptions('gelf', {})).toEqual({ enabled: true, maxSize: 20 * 1024 * 1024, maxFile: 5, compress: true })
    expect(parseCacheOptions('json-file', {}).enabled).toBe(false)
    expect(parseCacheOptions('none', {}).enabled).toBe(false)
    expect(parseCacheOptions('syslog', { 'cache-disabled': 'true' }).enabled).toBe(false)
    expect(parseCacheOptions('syslog', { 'cache-disabled': 'garbage' }).enabled).toBe(false)
    expect(parseCacheOptions('syslog', { 'cache-max-size': '1m', 'cache-max-file': '2' })).toMatchObject({
      maxSize: 1_000_000,
      maxFile: 2,
    })
  })

  it('syslog', () => {
    expect(parseSyslogOptions({}, noStat.statPath)).toEqual({
      proto: '',
      address: '',
      facility: 3 << 3,
      format: '',
      tls: { skipVerify: false },
    })
    expect(
      parseSyslogOptions({ 'syslog-address': 'udp://10.0.0.1', 'syslog-facility': 'local7', 'syslog-tls-skip-verify': 'false' }),
    ).toMatchObject({ proto: 'udp', address: '10.0.0.1:514', facility: 23 << 3, tls: { skipVerify: true } })
    expect(parseSyslogOptions({ 'syslog-address': 'tcp://[::1]:601' }).address).toBe('[::1]:601')
    expect(parseSyslogOptions({ 'syslog-address': 'unix:///dev/log' }, noStat.statPath)).toMatchObject({
      proto: 'unix',
      address: '/dev/log',
    })
  })

  it('gelf', () => {
    expect(parseGelfOptions({ 'gelf-address': 'udp://127.0.0.1:12201' })).toEqual({
      proto: 'udp',
      host: '127.0.0.1',
      port: 12201,
      compressionType: 'gzip',
      compressionLevel: 1,
      tcpMaxReconnect: 3,
      tcpReconnectDelay: 1,
    })
    expect(parseGelfOptions({ 'gelf-address': 'tcp://h:1', 'gelf-tcp-max-reconnect': '5' })).toMatchObject({
      proto: 'tcp',
      tcpMaxReconnect: 5,
    })
    expect(() => parseGelfOptions({ 'gelf-address': 'udp://h:1', 'gelf-compression-level': 'x' })).toThrow(
      'gelf: invalid compression level x, err strconv.Atoi: parsing "x": invalid syntax',
    )
  })

  it('fluentd', () => {
    expect(parseFluentdOptions({})).toEqual({
      protocol: 'tcp',
      host: '127.0.0.1',
      port: 24224,
      path: '',
      bufferLimit: 1024 * 1024,
      retryWaitMs: 1000,
      maxRetries: 2 ** 31 - 1,
      async: false,
      asyncReconnectIntervalMs: 0,
      subSecondPrecision: false,
      requestAck: false,
      writeTimeoutMs: 0,
    })
    expect(
      parseFluentdOptions({
        'fluentd-address': 'tls://fluent.example:24225',
        'fluentd-retry-wait': '1.5s',
        'fluentd-buffer-limit': '8m',
        'fluentd-async-reconnect-interval': '250ms',
        'fluentd-write-timeout': '2s',
      }),
    ).toMatchObject({
      protocol: 'tls',
      host: 'fluent.example',
      port: 24225,
      retryWaitMs: 1500,
      bufferLimit: 8 * 1024 * 1024,
      asyncReconnectIntervalMs: 250,
      writeTimeoutMs: 2000,
    })
    expect(parseFluentdOptions({ 'fluentd-address': 'unix:///run/f.sock' })).toMatchObject({
      protocol: 'unix',
      path: '/run/f.sock',
    })
    expect(parseFluentdOptions({ 'fluentd-address': 'tcp://:9000' })).toMatchObject({ host: '127.0.0.1', port: 9000 })
  })

  it('splunk', () => {
    expect(() => parseSplunkOptions({})).toThrow('splunk: splunk-url is expected')
    expect(() => parseSplunkOptions({ 'splunk-url': 'https://h:8088' })).toThrow('splunk: splunk-token is expected')
    for (const url of ['h:8088', 'ftp://h', 'https://h:8088/x', 'https://h:8088/?a=1', 'https://h#f']) {
      expect(() => parseSplunkOptions({ 'splunk-url': url, 'splunk-token': 't' })).toThrow(
        'splunk: expected format scheme://dns_name_or_ip:port for splunk-url',
      )
    }
    expect(() => parseSplunkOptions({ 'splunk-url': 'https://h', 'splunk-token': 't', 'splunk-format': 'xml' })).toThrow(
      'unknown format specified xml, supported formats are inline, json and raw',
    )
    expect(() => parseSplunkOptions({ 'splunk-url': 'https://h', 'splunk-token': 't', 'splunk-gzip-level': '11' })).toThrow(
      "not supported level '11' for splunk-gzip-level (supported values between -1 and 9)",
    )
    expect(parseSplunkOptions({ 'splunk-url': 'https://h:8088/', 'splunk-token': 't', 'splunk-index': 'main' })).toEqual({
      url: 'https://h:8088/services/collector/event/1.0',
      token: 't',
      source: '',
      sourcetype: '',
      index: 'main',
      insecureSkipVerify: false,
      format: 'inline',
      verifyConnection: true,
      gzip: false,
      gzipLevel: -1,
      indexAck: false,
    })
  })

  it('parseLogConfig wraps errors as invalid-argument', () => {
    expect(parseLogConfig('none', {})).toEqual({ driver: 'none' })
    expect(parseLogConfig('json-file', { 'max-size': '1k' })).toEqual({
      driver: 'json-file',
      options: { maxSize: 1000, maxFile: 1, compress: false },
    })
    try {
      parseLogConfig('gelf', {})
      expect.unreachable()
    } catch (err) {
      expect(kindOf(err)).toBe('invalid-argument')
      expect((err as Error).message).toBe('gelf-address is a required parameter')
    }
  })
})
