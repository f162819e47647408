/** What every command handler shares: the client for -H/$BERTH_HOST and the process streams. */
import { EngineClient } from '../client/index.js'
import type { Opts } from './app.js'

let client: EngineClient | undefined

export function getClient(globals: Opts): EngineClient {
  const host = typeof globals.host === 'string' ? globals.host : undefined
  client ??= new EngineClient({ host, userAgent: 'Berth-Client/0.1.0 (linux)' })
  return client
}

export const out = (s: string): void => { process.stdout.write(s) }
export const err = (s: string): void => { process.stderr.write(s) }

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined
}

export function strs(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
}

export function bool(v: unknown): boolean {
  return v === true
}

/** An integer flag, validated like pflag's: `invalid argument "x" for "-t, --timeout" flag`. */
export function int(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n)) throw new Error(`invalid argument "${String(v)}" for "${flag}" flag: strconv.ParseInt: parsing "${String(v)}": invalid syntax`)
  return n
}
