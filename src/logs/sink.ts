/**
 * A logging driver as the shipper drives it: messages in order, `flush`
 * once a batch is handed over (the shipper saves its offset after it, so
 * a driver must not report a message flushed before it holds it durably or
 * has sent it), `close` when the container is done or berthd stops.
 */
import type { Logger } from '../lib/index.js'
import type { LogInfo, LogMessage } from './drivers/index.js'

export interface LogSink {
  log(m: LogMessage): void | Promise<void>
  /** Everything logged so far is written or sent. */
  flush(): Promise<void>
  close(): Promise<void>
}

/** What a driver is made from, at container start (moby logger.Info and its options). */
export interface SinkContext {
  info: LogInfo
  /** The container's log options (the daemon's merged in for the default driver), already validated at create. */
  opts: Readonly<Record<string, string>>
  logger: Logger
}

/**
 * Makes a driver's sink; throws docker's start-time error text for an option
 * that only a start can check (the caller prefixes "failed to initialize
 * logging driver: "). Connecting happens lazily, in log/flush, so a start
 * never waits for a receiver.
 */
export type SinkFactory = (ctx: SinkContext) => LogSink
