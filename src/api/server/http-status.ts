import type { ErrorKind } from '../../errors/index.js'

/** The one place error kinds become HTTP status codes; a new kind won't compile unmapped. */
export const statusOf: Record<ErrorKind, number> = {
  'invalid-argument': 400,
  'not-found': 404,
  'already-exists': 409,
  conflict: 409,
  'not-modified': 304,
  unauthorized: 401,
  forbidden: 403,
  unavailable: 503,
  'not-implemented': 501,
  internal: 500,
}
