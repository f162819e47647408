/**
 * One message as a driver receives it (moby logger.Message): a line of a
 * container's output without its newline, or a piece of a longer line.
 */
import type { Timestamp } from './go.js'

export type { Timestamp } from './go.js'

/** A piece of a line longer than the runtime's buffer (moby backend.PartialLogMetaData). */
export interface PartialMeta {
  /** Shared by every piece of one line. */
  id: string
  /** 1-based position of this piece. */
  ordinal: number
  /** Whether this piece ends the line. */
  last: boolean
}

export interface LogMessage {
  /** The bytes, without the trailing newline. */
  line: Uint8Array
  source: 'stdout' | 'stderr'
  timestamp: Timestamp
  partial?: PartialMeta
}

