/**
 * The distribution spec's error codes (distribution-spec spec.md, "Error
 * Codes") with the status each one is answered with. The server writes them as
 * `{"errors":[{code,message,detail}]}`; handlers throw, never pick a status.
 */
export type RegistryErrorCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'TAG_INVALID'
  | 'PAGINATION_NUMBER_INVALID'
  | 'SIZE_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'RANGE_INVALID'
  | 'TOO_LARGE'
  | 'UNKNOWN'

const statusOf: Record<RegistryErrorCode, number> = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  // distribution answers 400 here, not 404: the manifest is the bad request.
  MANIFEST_BLOB_UNKNOWN: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  TAG_INVALID: 400,
  PAGINATION_NUMBER_INVALID: 400,
  SIZE_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  RANGE_INVALID: 416,
  TOO_LARGE: 413,
  UNKNOWN: 500,
}

/** Codes that are ours, not the spec's, go out under the nearest spec code. */
const wireCode: Partial<Record<RegistryErrorCode, string>> = {
  RANGE_INVALID: 'BLOB_UPLOAD_INVALID',
  TOO_LARGE: 'SIZE_INVALID',
}

export class RegistryError extends Error {
  readonly status: number
  /** Response headers the error needs, e.g. an upload's Range on a refused chunk. */
  readonly headers: Record<string, string>
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    readonly detail?: unknown,
    opts?: { status?: number; cause?: unknown; headers?: Record<string, string> },
  ) {
    super(message, opts?.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'RegistryError'
    this.status = opts?.status ?? statusOf[code]
    this.headers = opts?.headers ?? {}
  }

  get wireCode(): string {
    return wireCode[this.code] ?? this.code
  }

  body(): string {
    const e: Record<string, unknown> = { code: this.wireCode, message: this.message }
    if (this.detail !== undefined) e.detail = this.detail
    return JSON.stringify({ errors: [e] })
  }
}

export const regError = (code: RegistryErrorCode, message: string, detail?: unknown) =>
  new RegistryError(code, message, detail)
