/** Errors the client raises; the CLI turns them into docker's messages. */

/** The daemon answered with a non-2xx status; `message` is the daemon's own text. */
export class ClientError extends Error {
  constructor(readonly statusCode: number, message: string) {
    super(message)
    this.name = 'ClientError'
  }

  get notFound(): boolean {
    return this.statusCode === 404
  }
}

/** The daemon could not be reached at all (no socket, refused, reset before a response). */
export class ConnectionError extends Error {
  constructor(readonly host: string, opts?: ErrorOptions) {
    super(`Cannot connect to the berth daemon at ${host}. Is the berth daemon running?`, opts)
    this.name = 'ConnectionError'
  }
}

/** Extracts docker's `{"message": …}`; falls back to the raw text for non-JSON bodies. */
export function errorMessageFromBody(status: number, body: string): string {
  const text = body.trim()
  if (text.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(text)
      if (parsed && typeof parsed === 'object' && 'message' in parsed && typeof parsed.message === 'string') {
        return parsed.message
      }
    } catch {
      // Not JSON after all: show it as text below.
    }
  }
  if (text) return text
  return `${status} ${statusText(status)}`
}

function statusText(status: number): string {
  const texts: Record<number, string> = {
    400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict',
    500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable',
  }
  return texts[status] ?? 'Error'
}
