/** The remote drivers berth has a sink for, by docker's driver name. */
import type { SinkFactory } from './sink.js'
import { fluentdSink, gelfSink, journaldSink, splunkSink, syslogSink } from './sinks/index.js'

export const logSinks: Readonly<Record<string, SinkFactory>> = { syslog: syslogSink, gelf: gelfSink, fluentd: fluentdSink, splunk: splunkSink, journald: journaldSink }
