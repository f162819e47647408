/**
 * docker cp's local failures worded as Go words them: go-archive's copy
 * errors, and os.PathError ("lstat /x: no such file or directory") with
 * Go's errno texts, which are not libuv's (ELOOP, EEXIST differ).
 */

/** An error the docker CLI prints as is (no "Error response from daemon"). */
export class CopyError extends Error {}

export const errNotDirectory = (): CopyError => new CopyError('not a directory')
export const errDirNotExists = (): CopyError => new CopyError('no such directory')
export const errCannotCopyDir = (): CopyError => new CopyError('cannot copy directory')

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'file exists',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EINVAL: 'invalid argument',
  EIO: 'input/output error',
  ENOTEMPTY: 'directory not empty',
  EXDEV: 'invalid cross-device link',
  EBUSY: 'device or resource busy',
  EMFILE: 'too many open files',
}

/** Go's text for an errno (syscall.Errno.Error()). */
export function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException
  const known = ERRNO_TEXT[err.code ?? '']
  if (known) return known
  // libuv's message is "CODE: text, op 'path'".
  const m = /^[A-Z0-9]+: ([^,]+)/.exec(err.message ?? '')
  return m?.[1] ?? err.message ?? String(e)
}

/** os.PathError: "op path: text", keeping the errno code for callers that test it. */
export function pathError(op: string, p: string, e: unknown): CopyError {
  const out = new CopyError(`${op} ${p}: ${errnoText(e)}`, { cause: e })
  return Object.assign(out, { code: (e as NodeJS.ErrnoException).code })
}

export function errnoCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code
}

export const isNotExist = (e: unknown): boolean => errnoCode(e) === 'ENOENT'
