/**
 * Rotation decisions for json-file and local (moby loggerutils/logfile.go),
 * without the file I/O: when to rotate, and which renames a rotation does.
 */

/** Rotation happens before a write, once the current file has reached max-size (-1: never). */
export function shouldRotate(currentSize: number, maxSize: number): boolean {
  return maxSize !== -1 && currentSize >= maxSize
}

/** The name of rotated file n (1 is the newest): "x-json.log.1", "x-json.log.2.gz". */
export function rotatedName(path: string, n: number, compressed: boolean): string {
  return `${path}.${n}${compressed ? '.gz' : ''}`
}

export interface RotationPlan {
  /** Removed first: the oldest rotated file, if any. */
  remove?: string
  /** Then these renames, in order (missing sources are skipped). */
  renames: [from: string, to: string][]
  /**
   * The live file's fate: renamed to .1 (then compressed in the background
   * when compress is on), or unlinked when max-file is 1.
   */
  current: { rename: string } | 'unlink'
  /** The file to gzip into `<compress>.gz` afterwards (then unlink), when compressing. */
  compress?: string
}

/** What rotating `path` does with max-file files kept. */
export function planRotation(path: string, maxFiles: number, compress: boolean): RotationPlan {
  if (maxFiles < 2) return { renames: [], current: 'unlink' }
  const renames: [string, string][] = []
  for (let i = maxFiles - 1; i > 1; i--) {
    renames.push([rotatedName(path, i - 1, compress), rotatedName(path, i, compress)])
  }
  return {
    remove: rotatedName(path, maxFiles - 1, compress),
    renames,
    current: { rename: `${path}.1` },
    ...(compress && { compress: `${path}.1` }),
  }
}

/**
 * The files to read for `logs`, oldest first: rotated files from .N down
 * to .1 (a compressed one as .gz), then the live file.
 */
export function logFiles(path: string, maxFiles: number, compress: boolean): string[] {
  const out: string[] = []
  for (let i = maxFiles - 1; i >= 1; i--) out.push(rotatedName(path, i, compress))
  out.push(path)
  return out
}

/**
 * The gzip header's Extra field dockerd writes on a compressed rotated file:
 * {"lastTime": RFC3339Nano of the file's last entry}, used to skip whole
 * files for --since.
 */
export function rotatedFileExtra(lastTime: string): Buffer {
  return Buffer.from(`{"lastTime":"${lastTime}"}`)
}
