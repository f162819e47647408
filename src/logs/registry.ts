/** The remote drivers berth has a sink for, by docker's driver name. */
import type { SinkFactory } from './sink.js'

export const logSinks: Readonly<Record<string, SinkFactory>> = {}
