/**
 * Wires a hijacked attach/exec stream to the terminal as docker's
 * hijackedIOStreamer does: raw mode for TTYs, stdin copied then half-closed,
 * output demultiplexed when there is no TTY.
 */
import { spawnSync } from 'node:child_process'
import { finished, Writable, type Duplex } from 'node:stream'
import { demuxStream } from '../client/index.js'

export interface StreamOptions {
  socket: Duplex
  tty: boolean
  stdin: boolean
  stdout: boolean
  stderr: boolean
}

/** Resolves when the output side ends; restores the terminal first. */
export async function pumpHijacked(o: StreamOptions): Promise<void> {
  const input = process.stdin
  const rawMode = o.stdin && o.tty && input.isTTY
  if (rawMode) input.setRawMode(true)
  const restoreOutput = rawMode ? rawOutput() : undefined
  const onData = (chunk: Buffer): void => { o.socket.write(chunk) }
  const onEnd = (): void => { endWrite(o.socket) }
  if (o.stdin) {
    input.on('data', onData)
    input.on('end', onEnd)
    input.resume()
  } else {
    // No stdin: tell the daemon at once, as docker's CloseWrite does.
    endWrite(o.socket)
  }
  try {
    if (o.tty) {
      await new Promise<void>((resolve, reject) => {
        o.socket.on('data', (c: Buffer) => { if (o.stdout) process.stdout.write(c) })
        o.socket.resume()
        // finished() also answers for a socket that already ended (a container that exited at once).
        finished(o.socket, (e) => (!e || (e as NodeJS.ErrnoException).code === 'ECONNRESET' || (e as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE' ? resolve() : reject(e)))
      })
    } else {
      const discard = new Writable({ write: (_c, _e, cb) => cb() })
      await demuxStream(o.socket, o.stdout ? process.stdout : discard, o.stderr ? process.stderr : discard)
    }
  } finally {
    if (o.stdin) {
      input.off('data', onData)
      input.off('end', onEnd)
      input.pause()
    }
    if (rawMode) input.setRawMode(false)
    restoreOutput?.()
    o.socket.destroy()
  }
}

/**
 * Turns off output post-processing (OPOST) on the stdout terminal, as docker's
 * SetRawTerminal does, so the container's own "\r\n" is not written as
 * "\r\r\n". Node's setRawMode leaves ONLCR on, hence stty. Returns the restore function.
 */
function rawOutput(): (() => void) | undefined {
  if (!process.stdout.isTTY) return undefined
  const saved = spawnSync('stty', ['-g'], { stdio: [process.stdout.fd, 'pipe', 'ignore'] })
  if (saved.status !== 0) return undefined
  const state = saved.stdout.toString().trim()
  spawnSync('stty', ['-opost'], { stdio: [process.stdout.fd, 'ignore', 'ignore'] })
  return () => { spawnSync('stty', [state], { stdio: [process.stdout.fd, 'ignore', 'ignore'] }) }
}

function endWrite(socket: Duplex): void {
  if (!socket.writableEnded) socket.end()
}

/** Terminal size of stdout, or undefined when stdout is not a terminal. */
export function consoleSize(): [number, number] | undefined {
  const s = process.stdout
  if (!s.isTTY || !s.rows || !s.columns) return undefined
  return [s.rows, s.columns]
}

/** Sends the size now and on every SIGWINCH; returns the unsubscribe function. */
export function monitorResize(resize: (h: number, w: number) => Promise<void>): () => void {
  const send = (): void => {
    const size = consoleSize()
    if (size) resize(size[0], size[1]).catch(() => {})
  }
  send()
  process.on('SIGWINCH', send)
  return () => { process.off('SIGWINCH', send) }
}

/** Forwards catchable signals to the container (docker's --sig-proxy); returns the unsubscribe function. */
export function proxySignals(kill: (signal: string) => Promise<void>): () => void {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2']
  const handlers = signals.map((sig) => {
    const h = (): void => { kill(sig).catch(() => {}) }
    process.on(sig, h)
    return [sig, h] as const
  })
  return () => { for (const [sig, h] of handlers) process.off(sig, h) }
}
