/**
 * A client of conmon's attach socket. It is SOCK_SEQPACKET, which Node's net
 * module cannot open, hence node-unix-socket. Protocol (conmon conn_sock.c,
 * ctr_stdio.c): every packet conmon sends is one read of the container's
 * output prefixed by one byte naming the pipe (2 stdout, 3 stderr; a TTY is
 * all stdout); what we send is written raw to the container's stdin; our
 * half-close (EOF) makes conmon close the container's stdin unless it was
 * started with --leave-stdin-open; conmon closes the socket once the
 * container's output has ended. Any number of clients may attach; output
 * produced while nobody is attached is only in the log.
 */
import { EventEmitter } from 'node:events'
import { closeSync, openSync, constants as fsc } from 'node:fs'
import { SeqpacketSocket } from 'node-unix-socket'
import { internal, unavailable } from '../errors/index.js'

export type StdStream = 'stdout' | 'stderr'

/** conmon reads at most CONN_SOCK_BUF_SIZE - 1 bytes per packet; larger packets would be truncated. */
const maxStdinPacket = 32767
/** sun_path is 108 bytes including the terminating NUL. */
const maxSocketPath = 107

export interface AttachStream {
  onData(cb: (stream: StdStream, chunk: Buffer) => void): void
  /** Called once, when conmon closed the stream (the container's output ended) or close() was called. */
  onEnd(cb: () => void): void
  /** Resolves once the data was handed to the kernel. */
  writeStdin(buf: Buffer): Promise<void>
  /** EOF to the container's stdin (conmon closes it: StdinOnce). */
  closeStdin(): void
  close(): void
  readonly ended: Promise<void>
}

export class ConmonAttach extends EventEmitter implements AttachStream {
  private done = false
  private stdinClosed = false
  readonly ended: Promise<void>

  private constructor(
    private readonly sock: SeqpacketSocket,
    private readonly stdin: boolean,
  ) {
    super()
    this.ended = new Promise((resolve) => this.once('end', () => resolve()))
    sock.on('data', (buf: Buffer) => {
      if (buf.length < 1) return
      const stream: StdStream = buf[0] === 3 ? 'stderr' : 'stdout'
      this.emit('data', stream, buf.subarray(1))
    })
    const finish = () => {
      if (this.done) return
      this.done = true
      sock.destroy()
      this.emit('end')
    }
    sock.on('end', finish)
    sock.on('close', finish)
    sock.on('error', finish)
  }

  /**
   * Connect to the attach socket at `socketPath`. Paths longer than sun_path
   * allows go through /proc/self/fd of their directory.
   */
  static connect(socketPath: string, opts: { stdin: boolean }): Promise<ConmonAttach> {
    return new Promise((resolve, reject) => {
      let dirFd: number | undefined
      let target = socketPath
      if (Buffer.byteLength(socketPath) > maxSocketPath) {
        const slash = socketPath.lastIndexOf('/')
        dirFd = openSync(socketPath.slice(0, slash), fsc.O_RDONLY | fsc.O_DIRECTORY)
        target = `/proc/self/fd/${dirFd}/${socketPath.slice(slash + 1)}`
      }
      const sock = new SeqpacketSocket()
      const cleanup = () => {
        if (dirFd !== undefined) closeSync(dirFd)
        dirFd = undefined
      }
      const onError = (err: Error) => {
        cleanup()
        sock.destroy()
        reject(unavailable(`attach ${socketPath}: ${err.message}`, err))
      }
      sock.once('error', onError)
      try {
        sock.connect(target, () => {
          cleanup()
          sock.off('error', onError)
          resolve(new ConmonAttach(sock, opts.stdin))
        })
      } catch (err) {
        onError(err instanceof Error ? err : new Error(String(err)))
      }
    })
  }

  onData(cb: (stream: StdStream, chunk: Buffer) => void): void {
    this.on('data', cb)
  }

  onEnd(cb: () => void): void {
    if (this.done) queueMicrotask(cb)
    else this.once('end', cb)
  }

  async writeStdin(buf: Buffer): Promise<void> {
    if (!this.stdin) throw internal('attach: stdin was not requested')
    if (this.done || this.stdinClosed) throw unavailable('attach: stdin is closed')
    for (let off = 0; off < buf.length; off += maxStdinPacket) {
      const part = buf.subarray(off, Math.min(buf.length, off + maxStdinPacket))
      await new Promise<void>((resolve) => this.sock.write(part, 0, part.length, resolve))
    }
  }

  closeStdin(): void {
    if (this.done || this.stdinClosed) return
    this.stdinClosed = true
    this.sock.end()
  }

  close(): void {
    if (this.done) return
    this.done = true
    this.sock.destroy()
    this.emit('end')
  }
}
