/**
 * A fluentd forward-protocol receiver for tests: a TCP or unix-socket
 * listener decoding Message-mode entries ([tag, time, record, option]) with
 * @msgpack/msgpack, EventTime (ext 0) included, answering {"ack": chunk}
 * when asked to.
 */
import { promises as fsp } from 'node:fs'
import net from 'node:net'
import { ExtensionCodec, decodeMultiStream, encode } from '@msgpack/msgpack'

export interface FluentdEvent {
  tag: string
  /** Integer seconds, or an EventTime's seconds and nanoseconds. */
  time: number | { sec: number; nsec: number }
  record: Record<string, string>
  option: Record<string, string>
}

export interface FluentdReceiverOptions {
  /** A TCP port on 127.0.0.1 (0: any free one); ignored with path. */
  port?: number
  /** A unix socket path instead of TCP. */
  path?: string
  /** Answer chunk options with acks (fluentd-request-ack). */
  ack?: boolean
  /** Answer acks with a wrong chunk id (to see the sender retry). */
  wrongAck?: boolean
}

const codec = new ExtensionCodec()
codec.register({
  type: 0,
  encode: () => null,
  decode: (data: Uint8Array) => {
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength)
    return { sec: v.getInt32(0), nsec: v.getInt32(4) }
  },
})

export class FluentdReceiver {
  readonly events: FluentdEvent[] = []
  /** Connections accepted so far. */
  connections = 0
  private readonly sockets = new Set<net.Socket>()

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    readonly path: string | undefined,
    private readonly o: FluentdReceiverOptions,
  ) {}

  /** The fluentd-address for this receiver. */
  get address(): string {
    return this.path ? `unix://${this.path}` : `tcp://127.0.0.1:${this.port}`
  }

  static async listen(o: FluentdReceiverOptions = {}): Promise<FluentdReceiver> {
    if (o.path) await fsp.rm(o.path, { force: true })
    const server = net.createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      if (o.path) server.listen(o.path, resolve)
      else server.listen(o.port ?? 0, '127.0.0.1', resolve)
    })
    const addr = server.address()
    const r = new FluentdReceiver(server, typeof addr === 'object' && addr ? addr.port : 0, o.path, o)
    server.on('connection', (s) => r.serve(s))
    return r
  }

  private serve(socket: net.Socket): void {
    this.connections++
    this.sockets.add(socket)
    socket.on('close', () => this.sockets.delete(socket))
    socket.on('error', () => {})
    void (async () => {
      for await (const v of decodeMultiStream(socket as AsyncIterable<Uint8Array>, { extensionCodec: codec })) {
        const [tag, time, record, option] = v as [string, FluentdEvent['time'], Record<string, string>, Record<string, string> | undefined]
        this.events.push({ tag, time, record, option: option ?? {} })
        const chunk = option?.['chunk']
        if (this.o.ack && chunk !== undefined) socket.write(encode({ ack: this.o.wrongAck ? 'not-' + chunk : chunk }))
      }
    })().catch(() => socket.destroy())
  }

  /** The events once there are at least n, within ms. */
  async waitFor(n: number, ms = 15_000): Promise<FluentdEvent[]> {
    const end = Date.now() + ms
    while (this.events.length < n) {
      if (Date.now() > end) throw new Error(`fluentd receiver: ${this.events.length} of ${n} events after ${ms}ms`)
      await new Promise((r) => setTimeout(r, 25))
    }
    return this.events
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}
