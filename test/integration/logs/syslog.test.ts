// The syslog logging driver against a real receiver on loopback and a unix
// datagram socket: berthd's sender, docker's message formats, severity per
// stream, facility and tag options, TLS with a CA, and docker's start
// errors, through berth and the docker CLI.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { berth, containerNames, docker, missing, ok } from '../../helpers.js'
import { SyslogReceiver } from './receivers/syslog.js'

const skip = missing('root', 'daemon')
const noDocker = missing('docker-cli')
const noOpenssl = spawnSync('openssl', ['version']).status === 0 ? undefined : 'openssl is not installed'
if (noOpenssl) console.warn(`skipping the syslog TLS test: ${noOpenssl}`)

describe.skipIf(skip)('syslog logging driver', () => {
  const cname = containerNames()
  let dir: string
  let rx: SyslogReceiver
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'berth-syslog-'))
    rx = await SyslogReceiver.start({ udp: true, tcp: true, unixgram: path.join(dir, 'log.sock') })
  })
  afterAll(async () => {
    await rx?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const idOf = async (c: string) => ok(await berth(['inspect', '-f', '{{.Id}}', c])).stdout.trim()
  const from = (tag: string) => rx.records.filter((r) => r.tag === tag)
  const waitTag = (tag: string, n: number) => rx.wait(() => from(tag).length >= n).then(() => from(tag))

  test('udp, rfc5424: one message per line, info for stdout and err for stderr, facility and tag from the options', async () => {
    const c = cname('syslog-udp')
    ok(await berth([
      'run', '-d', '--name', c, '--log-driver', 'syslog',
      '--log-opt', `syslog-address=udp://127.0.0.1:${rx.udpPort}`, '--log-opt', 'syslog-facility=local0',
      '--log-opt', 'syslog-format=rfc5424', '--log-opt', 'tag={{.Name}}',
      'busybox', 'sh', '-c', 'echo "hello <world>"; echo oops >&2; echo; echo bye',
    ]))
    const recs = await waitTag(c, 3)
    expect(recs.every((r) => r.transport === 'udp' && r.format === 'rfc5424' && r.facility === 16 && r.hostname === os.hostname())).toBe(true)
    expect(recs.filter((r) => r.severity === 6).map((r) => r.message)).toEqual(['hello <world>', 'bye'])
    expect(recs.filter((r) => r.severity === 3).map((r) => r.message)).toEqual(['oops'])
    // Empty lines are not sent; APP-NAME and MSGID are both the tag, as dockerd writes them.
    expect(recs).toHaveLength(3)
    expect(recs[0]?.msgid).toBe(c)
    expect(recs[0]?.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/)
    // logs reads the dual-logging cache: every line, the empty one too.
    const logs = ok(await berth(['logs', c]))
    expect(logs.stdout).toBe('hello <world>\n\nbye\n')
    expect(logs.stderr).toBe('oops\n')
  })

  test.skipIf(noDocker)('tcp, rfc3164 through the docker CLI: the default tag is the short ID, facility by number', async () => {
    const c = cname('syslog-tcp')
    ok(await docker([
      'run', '-d', '--name', c, '--log-driver', 'syslog',
      '--log-opt', `syslog-address=tcp://127.0.0.1:${rx.tcpPort}`, '--log-opt', 'syslog-format=rfc3164', '--log-opt', 'syslog-facility=3',
      'busybox', 'sh', '-c', 'for i in 1 2 3; do echo line $i; done',
    ]))
    const tag = (await idOf(c)).slice(0, 12)
    const recs = await waitTag(tag, 3)
    expect(recs.map((r) => [r.transport, r.format, r.priority, r.message])).toEqual([1, 2, 3].map((i) => ['tcp', 'rfc3164', 3 * 8 + 6, `line ${i}`]))
    expect(recs[0]?.hostname).toBe(os.hostname())
    expect(ok(await docker(['inspect', '-f', '{{json .HostConfig.LogConfig}}', c])).stdout).toContain('"Type":"syslog"')
  })

  test.skipIf(noDocker)('a unix datagram socket, default format: the local form without a hostname', async () => {
    const c = cname('syslog-unixgram')
    ok(await docker([
      'run', '-d', '--name', c, '--log-driver', 'syslog', '--log-opt', `syslog-address=unixgram://${path.join(dir, 'log.sock')}`,
      '--log-opt', 'tag=web-{{.ImageName}}', 'busybox', 'sh', '-c', 'echo via datagram; echo problem >&2',
    ]))
    const recs = await waitTag('web-busybox', 2)
    expect(recs.every((r) => r.transport === 'unixgram' && r.format === 'local' && r.facility === 3)).toBe(true)
    expect(recs.map((r) => [r.severity, r.message]).sort()).toEqual([[3, 'problem'], [6, 'via datagram']])
  })

  test.skipIf(noOpenssl)('tcp+tls with syslog-tls-ca-cert, rfc5424micro: octet-counted frames (RFC 5425)', async () => {
    const key = path.join(dir, 'key.pem')
    const cert = path.join(dir, 'cert.pem')
    const r = spawnSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert,
    ])
    if (r.status !== 0) throw new Error(`openssl: ${r.stderr.toString()}`)
    const tlsRx = await SyslogReceiver.start({ tls: { cert: readFileSync(cert), key: readFileSync(key) } })
    try {
      const c = cname('syslog-tls')
      ok(await berth([
        'run', '-d', '--name', c, '--log-driver', 'syslog',
        '--log-opt', `syslog-address=tcp+tls://127.0.0.1:${tlsRx.tlsPort}`, '--log-opt', `syslog-tls-ca-cert=${cert}`,
        '--log-opt', 'syslog-format=rfc5424micro', '--log-opt', 'tag={{.Name}}', 'busybox', 'sh', '-c', 'echo secret one; echo secret two',
      ]))
      const recs = await tlsRx.wait(2)
      expect(recs.map((x) => [x.transport, x.octetCounted, x.format, x.tag, x.message])).toEqual([
        ['tcp+tls', true, 'rfc5424', c, 'secret one'],
        ['tcp+tls', true, 'rfc5424', c, 'secret two'],
      ])
      expect(recs[0]?.timestamp).toMatch(/T\d\d:\d\d:\d\d\.\d{6}(Z|[+-])/)
    } finally {
      await tlsRx.close()
    }
  })

  test('docker\'s errors: a bad facility at create; a missing CA file and no local syslog at start', async () => {
    const fac = await berth(['run', '--rm', '--log-driver', 'syslog', '--log-opt', 'syslog-facility=bogus', 'busybox', 'true'])
    expect(fac.code).toBe(125)
    expect(fac.stderr).toContain('invalid syslog facility')
    const ca = await berth([
      'run', '--rm', '--log-driver', 'syslog', '--log-opt', 'syslog-address=tcp+tls://127.0.0.1:6514',
      '--log-opt', 'syslog-tls-ca-cert=/nonexistent/ca.pem', 'busybox', 'true',
    ])
    // The docker CLI's rule: a start error saying "no such file or directory" exits 127.
    expect(ca.code).toBe(127)
    expect(ca.stderr).toContain('failed to initialize logging driver: could not read CA certificate "/nonexistent/ca.pem"')
    const local = ['/dev/log', '/var/run/syslog', '/var/run/log'].some((p) => {
      try {
        return statSync(p).isSocket()
      } catch {
        return false
      }
    })
    if (local) {
      console.warn('skipping the no-local-syslog check: this host has a syslog socket')
      return
    }
    const none = await berth(['run', '--rm', '--log-driver', 'syslog', 'busybox', 'true'])
    expect(none.code).toBe(125)
    expect(none.stderr).toContain('failed to initialize logging driver: Unix syslog delivery error')
  })
})
