/**
 * Host-side listeners for published ports. IPv4 traffic is forwarded by the
 * kernel (DNAT), so these sockets mostly hold the port: they make a host port
 * that another program uses fail at `run` with docker's error instead of
 * silently losing to NAT, and they relay what NAT does not carry — connections
 * to [::]:port for a container that has only IPv4, as docker-proxy does.
 * Hand-written: a relay is a few lines over node:net and node:dgram.
 */
import dgram from 'node:dgram'
import net from 'node:net'
import type { Logger } from '../lib/index.js'
import type { Proto } from './types.js'

export interface ProxySpec {
  proto: Proto
  hostIp: string
  hostPort: number
  targetIp: string
  targetPort: number
}

export interface Proxy {
  close(): Promise<void>
}

const UDP_IDLE_MS = 30_000

/** Bind the host port and relay to the container; rejects with the bind error (EADDRINUSE, ...). */
export async function startProxy(spec: ProxySpec, log: Logger): Promise<Proxy> {
  if (spec.proto === 'tcp') return tcpProxy(spec, log)
  if (spec.proto === 'udp') return udpProxy(spec, log)
  return { close: async () => {} }
}

function tcpProxy(spec: ProxySpec, log: Logger): Promise<Proxy> {
  const conns = new Set<net.Socket>()
  const server = net.createServer({ pauseOnConnect: true }, (client) => {
    const upstream = net.connect({ host: spec.targetIp, port: spec.targetPort })
    conns.add(client).add(upstream)
    const done = () => {
      client.destroy()
      upstream.destroy()
      conns.delete(client)
      conns.delete(upstream)
    }
    client.on('error', done).on('close', done)
    upstream.on('error', done).on('close', done)
    upstream.on('connect', () => {
      client.pipe(upstream)
      upstream.pipe(client)
      client.resume()
    })
  })
  server.on('error', (err) => log.warn('port proxy error', { port: spec.hostPort, err }))
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host: spec.hostIp, port: spec.hostPort, ipv6Only: net.isIPv6(spec.hostIp), exclusive: true }, () => {
      server.off('error', reject)
      resolve({
        close: () =>
          new Promise<void>((r) => {
            for (const c of conns) c.destroy()
            server.close(() => r())
          }),
      })
    })
  })
}

function udpProxy(spec: ProxySpec, log: Logger): Promise<Proxy> {
  const v6 = net.isIPv6(spec.hostIp)
  const sock = dgram.createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6 })
  // One upstream socket per client address, so replies find their way back.
  const flows = new Map<string, { s: dgram.Socket; timer: NodeJS.Timeout }>()
  const targetType = net.isIPv6(spec.targetIp) ? 'udp6' : 'udp4'
  sock.on('message', (msg, rinfo) => {
    const key = `${rinfo.address}:${rinfo.port}`
    let f = flows.get(key)
    if (!f) {
      const s = dgram.createSocket(targetType)
      s.on('message', (reply) => sock.send(reply, rinfo.port, rinfo.address))
      s.on('error', () => s.close())
      const entry = { s, timer: setTimeout(() => {}, 0) }
      flows.set(key, entry)
      f = entry
    }
    const flow = f
    clearTimeout(flow.timer)
    flow.timer = setTimeout(() => {
      flows.delete(key)
      flow.s.close()
    }, UDP_IDLE_MS)
    flow.s.send(msg, spec.targetPort, spec.targetIp)
  })
  sock.on('error', (err) => log.warn('port proxy error', { port: spec.hostPort, err }))
  return new Promise((resolve, reject) => {
    sock.once('error', reject)
    sock.bind({ address: spec.hostIp, port: spec.hostPort, exclusive: true }, () => {
      sock.off('error', reject)
      resolve({
        close: async () => {
          for (const f of flows.values()) {
            clearTimeout(f.timer)
            f.s.close()
          }
          flows.clear()
          await new Promise<void>((r) => sock.close(() => r()))
        },
      })
    })
  })
}
