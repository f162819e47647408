/**
 * Engine errors carry one kind; the API layer maps kinds to HTTP status in one
 * table (api/server/http-status.ts), so handlers never pick status codes.
 */
export type ErrorKind =
  | 'invalid-argument'
  | 'not-found'
  | 'already-exists'
  | 'conflict'
  | 'not-modified'
  | 'unauthorized'
  | 'forbidden'
  | 'unavailable'
  | 'not-implemented'
  | 'internal'

export class EngineError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    opts?: ErrorOptions,
  ) {
    super(message, opts)
    this.name = 'EngineError'
  }
}

const make = (kind: ErrorKind) => (message: string, cause?: unknown) =>
  new EngineError(kind, message, cause === undefined ? undefined : { cause })

export const invalidArgument = make('invalid-argument')
export const notFound = make('not-found')
export const alreadyExists = make('already-exists')
export const conflict = make('conflict')
export const notModified = make('not-modified')
export const unauthorized = make('unauthorized')
export const forbidden = make('forbidden')
export const unavailable = make('unavailable')
export const notImplemented = make('not-implemented')
export const internal = make('internal')

/** Outermost kind on the cause chain; 'internal' if none. */
export function kindOf(err: unknown): ErrorKind {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 32; e = e.cause, depth++) {
    if (e instanceof EngineError) return e.kind
  }
  return 'internal'
}

export function isKind(err: unknown, kind: ErrorKind): boolean {
  return kindOf(err) === kind
}

/** A message for people: the error's own, or a string form of whatever was thrown. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
