/**
 * The sockets the remote drivers write to: TCP (plain or TLS) and unix
 * stream connections, UDP and unix datagrams. Node has no unix datagram
 * socket, hence node-unix-socket's DgramSocket (already used for conmon's
 * seqpacket socket).
 */
import dgram from 'node:dgram'
import { statSync } from 'node:fs'
import net from 'node:net'
import tls from 'node:tls'
import { DgramSocket } from 'node-unix-socket'
import { UnsendableError, type Conn, type Transport } from './sender.js'

/** How long a connect may take before it counts as a failed attempt. */
const CONNECT_TIMEOUT_MS = 5000

class StreamConn implements Conn {
  broken = false

  constructor(private readonly sock: net.Socket) {
    const gone = () => {
      this.broken = true
    }
    sock.on('error', gone)
    sock.on('close', gone)
    sock.on('end', gone)
    // A receiver may talk back (TLS alerts, acks we don't use): read and forget.
    sock.on('data', () => {})
  }

  write(frame: Buffer): Promise<void> {
    if (this.broken) return Promise.reject(new Error('connection closed by the receiver'))
    return new Promise((resolve, reject) => {
      this.sock.write(frame, (err) => (err ? reject(err) : resolve()))
    })
  }

  close(): void {
    this.broken = true
    this.sock.destroy()
  }
}

function connectStream(make: () => net.Socket, readyEvent: 'connect' | 'secureConnect', name: string): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const sock = make()
    const timer = setTimeout(() => {
      sock.destroy()
      reject(new Error(`dial ${name}: i/o timeout`))
    }, CONNECT_TIMEOUT_MS)
    const fail = (err: Error) => {
      clearTimeout(timer)
      sock.destroy()
      reject(err)
    }
    sock.once('error', fail)
    sock.once(readyEvent, () => {
      clearTimeout(timer)
      sock.off('error', fail)
      sock.setNoDelay(true)
      resolve(new StreamConn(sock))
    })
  })
}

export function tcpTransport(host: string, port: number): Transport {
  const name = `tcp ${net.isIPv6(host) ? `[${host}]` : host}:${port}`
  return { name, connect: () => connectStream(() => net.connect({ host, port }), 'connect', name) }
}

export function tlsTransport(host: string, port: number, options: tls.ConnectionOptions): Transport {
  const name = `tcp+tls ${net.isIPv6(host) ? `[${host}]` : host}:${port}`
  // Go's tls.Dial names the server by the address's host unless it is an IP.
  const servername = net.isIP(host) ? undefined : host
  return {
    name,
    connect: () => connectStream(() => tls.connect({ ...options, host, port, ...(servername && { servername }) }), 'secureConnect', name),
  }
}

export function unixStreamTransport(path: string): Transport {
  const name = `unix ${path}`
  return { name, connect: () => connectStream(() => net.connect({ path }), 'connect', name) }
}

/** UDP, unconnected: "sent" means the kernel took the datagram, as with any UDP sender. */
export function udpTransport(host: string, port: number): Transport {
  const name = `udp ${net.isIPv6(host) ? `[${host}]` : host}:${port}`
  return {
    name,
    connect: async () => {
      const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4')
      sock.on('error', () => {})
      return {
        broken: false,
        write: (frame) =>
          new Promise<void>((resolve, reject) => {
            sock.send(frame, port, host, (err) => {
              if (!err) resolve()
              else if ((err as NodeJS.ErrnoException).code === 'EMSGSIZE') reject(new UnsendableError(`write ${name}: message too long`, { cause: err }))
              else reject(err)
            })
          }),
        close: () => sock.close(),
      }
    },
  }
}

/**
 * A unix datagram socket; each frame is one datagram to `path`. A missing or
 * dead listener fails the send (ENOENT, ECONNREFUSED), which is retried; a
 * datagram too large for the socket is not.
 */
export function unixgramTransport(path: string): Transport {
  const name = `unixgram ${path}`
  return { name, connect: async () => unixgramConn(path, name) }
}

function unixgramConn(path: string, name: string): Conn {
  const sock = new DgramSocket()
  sock.on('error', () => {})
  let closed = false
  return {
    get broken() {
      return closed
    },
    write: (frame) =>
      new Promise<void>((resolve, reject) => {
        try {
          sock.sendTo(frame, 0, frame.length, path, (err) => {
            if (!err) resolve()
            // node-unix-socket reports strerror text without a code.
            else if (/message too long/i.test(err.message)) reject(new UnsendableError(`write ${name}: message too long`, { cause: err }))
            else reject(new Error(`write ${name}: ${err.message}`, { cause: err }))
          })
        } catch (err) {
          reject(err as Error)
        }
      }),
    close() {
      if (closed) return
      closed = true
      sock.close()
    },
  }
}

/** srslog's local syslog: unixgram, then unix, on /dev/log, /var/run/syslog, /var/run/log. */
export const LOCAL_SYSLOG_PATHS = ['/dev/log', '/var/run/syslog', '/var/run/log']

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket()
  } catch {
    return false
  }
}

/** Whether any local syslog socket exists (dockerd fails the start with "Unix syslog delivery error" when none answers). */
export function localSyslogPresent(paths = LOCAL_SYSLOG_PATHS): boolean {
  return paths.some(isSocket)
}

/**
 * The local syslog daemon: the first of the paths that answers. A stream
 * dial tells the socket's type: a datagram socket refuses it with
 * EPROTOTYPE and gets datagrams, a stream listener keeps the connection.
 */
export function localSyslogTransport(paths = LOCAL_SYSLOG_PATHS): Transport {
  const name = `local syslog (${paths.join(', ')})`
  return {
    name,
    connect: async () => {
      for (const path of paths.filter(isSocket)) {
        try {
          return await connectStream(() => net.connect({ path }), 'connect', `unix ${path}`)
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EPROTOTYPE') return unixgramConn(path, `unixgram ${path}`)
        }
      }
      throw new Error('Unix syslog delivery error')
    },
  }
}
