import type { Duplex } from 'node:stream'
import { DetachScanner, parseDetachKeys, DEFAULT_DETACH_KEYS } from './detach-keys.js'
import type { AttachStream } from './ports.js'

export interface AttachOptions {
  stdin: boolean
  stdout: boolean
  stderr: boolean
  tty: boolean
  stdinOnce: boolean
  detachKeys?: string
  /** Write one output chunk to the client, framed or raw as the API version and TTY require. */
  write: (stream: 'stdout' | 'stderr', data: Buffer) => void
  /**
   * Hold the connection open after the output ends until this settles: an exec
   * client asks for the exit code as soon as its stream closes.
   */
  closeAfter?: Promise<unknown>
}

/**
 * Wire a hijacked client to a process's attach stream: output out, stdin in,
 * detach keys watched, and the connection closed once the output ends.
 */
export function attachClient(stream: AttachStream, socket: Duplex, early: Buffer, o: AttachOptions, onDetach?: () => void): void {
  let closed = false
  const finish = (detached = false) => {
    if (closed) return
    closed = true
    stream.close()
    const end = () => {
      if (!socket.destroyed) socket.end()
    }
    if (o.closeAfter && !detached) o.closeAfter.then(end, end)
    else end()
  }
  stream.onData((which, chunk) => {
    if (closed) return
    if (which === 'stdout' ? o.stdout : o.stderr) o.write(which, chunk)
  })
  stream.onEnd(() => finish())
  socket.on('error', () => finish())
  socket.on('close', () => {
    if (!closed) {
      closed = true
      stream.close()
    }
  })
  if (!o.stdin) {
    // Drain and ignore whatever the client sends; its half-close means nothing here.
    socket.on('data', () => {})
    socket.on('end', () => {})
    socket.resume()
    return
  }
  const scanner = new DetachScanner(parseDetachKeys(o.detachKeys || DEFAULT_DETACH_KEYS))
  const onInput = (chunk: Buffer) => {
    const { forward, detach } = scanner.feed(chunk)
    if (forward.length > 0) stream.writeStdin(forward)
    if (detach) {
      onDetach?.()
      finish(true)
    }
  }
  if (early.length > 0) onInput(early)
  socket.on('data', onInput)
  socket.on('end', () => {
    // The client half-closed: with StdinOnce the process sees EOF; output keeps flowing.
    if (o.stdinOnce) stream.closeStdin()
  })
  // Reading the request body may have paused the socket.
  socket.resume()
}
