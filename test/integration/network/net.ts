/**
 * Shared by the network integration tests: the suite berthd's bridge and
 * firewall chain prefix, host commands, and small TCP/UDP/HTTP clients that
 * talk only to loopback, the host's own addresses or namespaces berth or a
 * test made.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import dgram from 'node:dgram'
import { existsSync, readFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { inject } from 'vitest'
import { chainPrefix } from '../../../src/daemon/network-port.js'
import { run } from '../../../src/lib/index.js'
import { berth, freePort, ok, waitFor } from '../../helpers.js'

/** The suite berthd's default bridge (daemon.json "bridge"). */
export function bridgeName(): string {
  const cfg = JSON.parse(readFileSync(inject('berthConfigFile'), 'utf8')) as { bridge?: string }
  return cfg.bridge ?? 'berth0'
}

/** The suite berthd's iptables chain prefix, e.g. BERTH-BT1234. */
export function chains(): string {
  return chainPrefix(bridgeName())
}

/** A host command's stdout; throws on a non-zero exit. */
export async function sh(cmd: string, ...args: string[]): Promise<string> {
  return (await run(cmd, args)).stdout
}

/** A host command that may fail. */
export function quiet(cmd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(cmd, args, { check: false })
}

/** Lines of `iptables -t <table> -S` that belong to the suite berthd's chains (or jump to them). */
export async function berthRules(table = 'filter'): Promise<string[]> {
  const p = `${chains()}-`
  const out = await sh('iptables', '-w', '-t', table, '-S')
  return out.split('\n').filter((l) => l.includes(p))
}

/** The host's first global IPv4 address that is not on a bridge (berth's, docker's): its "other" address. */
export async function hostAddr4(): Promise<string | undefined> {
  const out = await sh('ip', '-4', '-o', 'addr', 'show', 'scope', 'global')
  for (const line of out.split('\n')) {
    const m = /^\d+:\s+(\S+)\s+inet\s+([\d.]+)\//.exec(line)
    if (!m?.[1] || !m[2]) continue
    const dev = m[1]
    const kind = await quiet('ip', '-d', '-o', 'link', 'show', dev)
    if (/\bbridge\b/.test(kind.stdout)) continue
    return m[2]
  }
  return undefined
}

/** Whether ::1 is usable on this host. */
export function hasIpv6(): boolean {
  if (!existsSync('/proc/net/if_inet6')) return false
  return readFileSync('/proc/net/if_inet6', 'utf8').split('\n').some((l) => l.startsWith('00000000000000000000000000000001'))
}

/** GET / over HTTP; the body, or undefined when nothing answered in time. */
export function httpGet(host: string, port: number, timeoutMs = 2000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/', timeout: timeoutMs, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve(body))
      res.on('error', () => resolve(undefined))
    })
    req.on('timeout', () => {
      req.destroy()
      resolve(undefined)
    })
    req.on('error', () => resolve(undefined))
  })
}

/** Whether a TCP connection to host:port is accepted. */
export function tcpConnects(host: string, port: number, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port })
    const done = (v: boolean) => {
      s.destroy()
      resolve(v)
    }
    s.setTimeout(timeoutMs, () => done(false))
    s.on('connect', () => done(true))
    s.on('error', () => done(false))
  })
}

/** Send one UDP datagram and return the first reply, or undefined. */
export function udpAsk(host: string, port: number, msg: string, timeoutMs = 1500): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4')
    const timer = setTimeout(() => {
      s.close()
      resolve(undefined)
    }, timeoutMs)
    s.on('message', (b) => {
      clearTimeout(timer)
      s.close()
      resolve(b.toString())
    })
    s.on('error', () => {
      clearTimeout(timer)
      s.close()
      resolve(undefined)
    })
    s.send(msg, port, host)
  })
}

/** A host port that is free for TCP on every address right now. */
export async function freeHostPort(): Promise<number> {
  for (;;) {
    const p = await freePort()
    if (await bindableAll(p)) return p
  }
}

/** Two consecutive host ports, both free. */
export async function freePortPair(): Promise<number> {
  for (;;) {
    const p = await freePort()
    if (p < 65535 && (await bindableAll(p)) && (await bindableAll(p + 1))) return p
  }
}

function bindableAll(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer()
    s.once('error', () => resolve(false))
    s.listen({ port, host: '::', exclusive: true }, () => s.close(() => resolve(true)))
  })
}

/** Shell for busybox httpd serving `body` on `port` (foreground, so the container lives as long as it). */
export function httpdScript(body: string, ...ports: number[]): string {
  const serve = ports.map((p, i) => `httpd ${i === ports.length - 1 ? '-f ' : ''}-p ${p} -h /w`).join('; ')
  return `mkdir -p /w && echo ${body} > /w/index.html && ${serve}`
}

/** Wait until host:port answers HTTP with `body`. */
export async function waitHttp(host: string, port: number, body: string, ms = 15_000): Promise<void> {
  await waitFor(async () => ((await httpGet(host, port, 1000))?.trim() === body ? true : undefined), ms, `http://${host}:${port}/ to answer ${body}`)
}

/** A container's IPv4 address on a network (inspect). */
export async function ipOf(container: string, network = 'bridge'): Promise<string> {
  return ok(await berth(['inspect', '-f', `{{ (index .NetworkSettings.Networks "${network}").IPAddress }}`, container])).stdout.trim()
}

/** The container's init pid (for nsenter into its network namespace). */
export async function pidOf(container: string): Promise<number> {
  return Number(ok(await berth(['inspect', '-f', '{{.State.Pid}}', container])).stdout.trim())
}

/**
 * A UDP echo server run from the host inside a container's network namespace
 * (busybox has no UDP listener): it answers `<prefix><datagram>`.
 */
export async function udpEchoIn(container: string, port: number, prefix: string): Promise<ChildProcess> {
  const pid = await pidOf(container)
  const script = `const s = require('dgram').createSocket('udp4'); s.on('message', (m, r) => s.send('${prefix}' + m, r.port, r.address));
    s.bind(${port}, '0.0.0.0', () => console.log('ready'))`
  const child = spawn('nsenter', [`--net=/proc/${pid}/ns/net`, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()))
  await waitFor(() => out.includes('ready') || undefined, 10_000, 'the UDP echo server in the container namespace')
  return child
}

/** An IPv4 subnet octet unique-ish to this process, for test-made addresses (198.18.0.0/15 is unused benchmarking space). */
export function testOctet(salt: number): number {
  return (process.pid * 7 + salt) % 250
}

/** `network inspect` output, the fields the tests read. */
export interface NetworkJson {
  Name: string
  Id: string
  Driver: string
  Scope: string
  EnableIPv4: boolean
  Internal: boolean
  Attachable: boolean
  IPAM: { Driver: string; Config: Array<{ Subnet: string; Gateway?: string; IPRange?: string }> }
  Containers: Record<string, { Name: string; IPv4Address: string; MacAddress: string; EndpointID: string }>
  Options: Record<string, string>
  Labels: Record<string, string>
}
