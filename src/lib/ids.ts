import { randomBytes } from 'node:crypto'

/** A 64-hex object ID, as docker's container and exec IDs. */
export function newId(): string {
  return randomBytes(32).toString('hex')
}

export const shortId = (id: string): string => id.replace(/^sha256:/, '').slice(0, 12)
