/**
 * The remote drivers' senders, one SinkFactory each, for the daemon to map
 * driver names to.
 */
export { syslogSink } from './syslog.js'
export { gelfSink } from './gelf.js'
export { fluentdSink, checkFluentdConnection } from './fluentd.js'
export { splunkSink, verifySplunkConnection } from './splunk.js'
export { journaldSink, journaldSinkAt } from './journald.js'
