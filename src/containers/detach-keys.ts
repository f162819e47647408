import { invalidArgument } from '../errors/index.js'

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q'

/** docker's detach-key syntax: comma-separated `ctrl-<x>` or single characters. */
export function parseDetachKeys(spec: string): Buffer {
  const out: number[] = []
  for (const part of spec.split(',')) {
    const k = part.trim()
    if (k.length === 1) {
      out.push(k.charCodeAt(0))
      continue
    }
    const m = /^ctrl-(.)$/i.exec(k)
    if (!m || m[1] === undefined) throw invalidArgument(`Invalid detach keys (${spec}) provided`)
    const c = m[1].toLowerCase()
    if (c >= 'a' && c <= 'z') out.push(c.charCodeAt(0) - 96)
    else if (c === '@') out.push(0)
    else if ('[\\]^_'.includes(c)) out.push(27 + '[\\]^_'.indexOf(c))
    else throw invalidArgument(`Invalid detach keys (${spec}) provided`)
  }
  return Buffer.from(out)
}

/**
 * Watches stdin for the detach sequence. Bytes that might start the sequence
 * are held back until it is clear they don't, then passed on unchanged.
 */
export class DetachScanner {
  private held: number[] = []

  constructor(private readonly keys: Buffer) {}

  /** Returns the bytes to forward and whether the sequence was completed. */
  feed(chunk: Buffer): { forward: Buffer; detach: boolean } {
    if (this.keys.length === 0) return { forward: chunk, detach: false }
    const out: number[] = []
    for (const byte of chunk) {
      if (byte === this.keys[this.held.length]) {
        this.held.push(byte)
        if (this.held.length === this.keys.length) return { forward: Buffer.from(out), detach: true }
        continue
      }
      out.push(...this.held)
      this.held = []
      if (byte === this.keys[0]) this.held.push(byte)
      else out.push(byte)
    }
    return { forward: Buffer.from(out), detach: false }
  }
}
