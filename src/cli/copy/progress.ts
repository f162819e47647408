/**
 * What docker cp reports once a copy is over, unless quiet: "Successfully
 * copied 2.05kB to PATH", the size being the tar's bytes that went through,
 * printed before the copy's error if there is one. docker 28's CLI also has
 * a progress line for terminals, but its check asks the wrapped stream, not
 * the file, whether it is a terminal, so the line never shows; berth draws
 * none either.
 */
import { humanSizeWithPrecision } from '../../lib/index.js'

/** HumanSizeWithPrecision(n, 3): 2.05kB. */
export const progressHumanSize = (n: number): string => humanSizeWithPrecision(n, 3)

/** Bytes seen so far. */
export class ByteCount {
  n = 0

  /** src passed through, each chunk counted as it is read. */
  async *counted<T extends Uint8Array>(src: AsyncIterable<T>): AsyncGenerator<T> {
    for await (const c of src) {
      this.n += c.length
      yield c
    }
  }
}

export function successLine(n: number, dest: string): string {
  return `Successfully copied ${progressHumanSize(n)} to ${dest}\n`
}
