/**
 * The journald driver's sender (moby daemon/logger/journald over
 * go-systemd's journal.Send): every message one native-protocol datagram to
 * the journal socket, with the container's fields, PRIORITY, the partial
 * fields and CONTAINER_LOG_ORDINAL. A journal that is away (restarting,
 * socket full) holds the shipper in blocking mode as any receiver does.
 *
 * go-systemd sends a datagram the socket refuses as too large (EMSGSIZE,
 * past the sender's SO_SNDBUF, ~208 KiB by default) through a sealed memfd
 * passed with SCM_RIGHTS. Node can't pass a descriptor over a datagram
 * socket, so such a message is dropped with a warning instead. It takes
 * container fields (labels, env attributes) of that size: MESSAGE itself
 * is at most a 16 KiB piece of a line.
 */
import { randomBytes } from 'node:crypto'
import { encodeJournalFields, JOURNAL_SOCKET, journaldContainerFields, journaldMessageFields, type LogMessage } from '../drivers/index.js'
import type { LogSink, SinkContext, SinkFactory } from '../sink.js'
import { exponentialRetry, QueuedSender } from './sender.js'
import { unixgramTransport } from './transports.js'

/** How long close keeps trying a journal that is away. */
export const JOURNALD_CLOSE_TIMEOUT_MS = 5000

export class JournaldSink implements LogSink {
  private readonly sender: QueuedSender
  private readonly fields: ReadonlyMap<string, string>
  private ordinal = 0

  constructor(socketPath: string, ctx: SinkContext, closeTimeoutMs = JOURNALD_CLOSE_TIMEOUT_MS) {
    // stringid.GenerateRandomID: 64 hex digits, new for every logger.
    this.fields = journaldContainerFields(ctx.info, randomBytes(32).toString('hex'))
    this.sender = new QueuedSender({
      transport: unixgramTransport(socketPath),
      retry: exponentialRetry(250, 5000),
      logger: ctx.logger,
      closeTimeoutMs,
    })
  }

  log(m: LogMessage): void {
    this.ordinal++
    this.sender.push(encodeJournalFields(journaldMessageFields(m, this.fields, this.ordinal)))
  }

  flush(): Promise<void> {
    return this.sender.flush()
  }

  close(): Promise<void> {
    return this.sender.close()
  }
}

/** The journald driver writing to the journal socket at `path` (tests: a listener of their own). */
export function journaldSinkAt(path: string, closeTimeoutMs?: number): SinkFactory {
  return (ctx) => new JournaldSink(path, ctx, closeTimeoutMs)
}

/** journald.New: whether a journal exists is checked at create (daemon/log-port.ts). */
export const journaldSink: SinkFactory = journaldSinkAt(JOURNAL_SOCKET)
