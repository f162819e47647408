// The gelf logging driver against real receivers on loopback: berthd's
// sender, GELF documents with docker's extra fields, levels per stream, UDP
// compression and chunking, TCP framing, and blocking delivery to a TCP
// receiver that comes up late, through berth and the docker CLI.
import os from 'node:os'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { berth, containerNames, docker, freePort, missing, ok, waitFor } from '../../helpers.js'
import { GelfReceiver, type GelfRecord } from './receivers/gelf.js'

const skip = missing('root', 'daemon')
const noDocker = missing('docker-cli')

describe.skipIf(skip)('gelf logging driver', () => {
  const cname = containerNames()
  let udp: GelfReceiver
  let tcp: GelfReceiver
  beforeAll(async () => {
    udp = await GelfReceiver.start('udp')
    tcp = await GelfReceiver.start('tcp')
  })
  afterAll(async () => {
    await udp?.close()
    await tcp?.close()
  })

  const inspect = async (c: string, f: string) => ok(await berth(['inspect', '-f', f, c])).stdout.trim()
  const of = (rx: GelfReceiver, name: string) => rx.records.filter((r) => r.doc['_container_name'] === name)
  const waitFrom = (rx: GelfReceiver, name: string, n: number): Promise<GelfRecord[]> => rx.wait(() => of(rx, name).length >= n).then(() => of(rx, name))

  test('udp: gzip by default, level 6 and 3 by stream, the container fields, labels and env as extra fields', async () => {
    const c = cname('gelf-udp')
    ok(await berth([
      'run', '-d', '--name', c, '--label', 'team=infra', '--env', 'STAGE=test',
      '--log-driver', 'gelf', '--log-opt', `gelf-address=udp://127.0.0.1:${udp.port}`,
      '--log-opt', 'tag={{.Name}}', '--log-opt', 'labels=team', '--log-opt', 'env=STAGE',
      'busybox', 'sh', '-c', 'echo "to stdout"; echo "to stderr" >&2',
    ]))
    const recs = await waitFrom(udp, c, 2)
    const id = await inspect(c, '{{.Id}}')
    expect(recs.every((r) => r.compression === 'gzip' && r.chunks === 1)).toBe(true)
    const out = recs.find((r) => r.doc.short_message === 'to stdout')
    const err = recs.find((r) => r.doc.short_message === 'to stderr')
    expect(out?.doc).toMatchObject({
      version: '1.1', host: os.hostname(), level: 6, _container_id: id, _container_name: c,
      _image_name: 'busybox', _tag: c, _team: 'infra', _STAGE: 'test', _command: 'sh -c echo "to stdout"; echo "to stderr" >&2',
    })
    expect(out?.doc['_image_id']).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(out?.doc['_created']).toMatch(/^\d{4}-\d\d-\d\dT/)
    expect(typeof out?.doc.timestamp).toBe('number')
    expect(err?.doc.level).toBe(3)
  })

  test.skipIf(noDocker)('udp through the docker CLI: zlib as asked, and a long line in chunks', async () => {
    const c = cname('gelf-chunks')
    ok(await docker([
      'run', '-d', '--name', c, '--log-driver', 'gelf', '--log-opt', `gelf-address=udp://127.0.0.1:${udp.port}`,
      '--log-opt', 'gelf-compression-type=zlib', '--log-opt', 'gelf-compression-level=0',
      'busybox', 'sh', '-c', 'echo short; i=0; while [ $i -lt 600 ]; do printf "chunk%04d " $i; i=$((i+1)); done; echo',
    ]))
    const recs = await waitFrom(udp, c, 2)
    expect(recs.every((r) => r.compression === 'zlib')).toBe(true)
    const long = recs.find((r) => r.doc.short_message.startsWith('chunk0000'))
    // 6000 bytes of text stored uncompressed (level 0) need several 1420-byte datagrams.
    expect(long?.chunks).toBeGreaterThan(2)
    expect(long?.doc.short_message).toBe(Array.from({ length: 600 }, (_, i) => `chunk${String(i).padStart(4, '0')} `).join(''))
    expect(recs.find((r) => r.doc.short_message === 'short')?.doc['_tag']).toBe((await inspect(c, '{{.Id}}')).slice(0, 12))
  })

  test.skipIf(noDocker)('tcp through the docker CLI: NUL-terminated, uncompressed documents in order', async () => {
    const c = cname('gelf-tcp')
    ok(await docker([
      'run', '-d', '--name', c, '--log-driver', 'gelf', '--log-opt', `gelf-address=tcp://127.0.0.1:${tcp.port}`,
      'busybox', 'sh', '-c', 'for i in 1 2 3 4 5; do echo "message $i"; done',
    ]))
    const recs = await waitFrom(tcp, c, 5)
    expect(recs.map((r) => [r.transport, r.compression, r.doc.short_message])).toEqual([1, 2, 3, 4, 5].map((i) => ['tcp', 'none', `message ${i}`]))
  })

  test('an unreachable tcp receiver does not hold the container; once it is up the messages arrive (blocking mode)', async () => {
    const port = await freePort()
    const c = cname('gelf-late')
    const run = await berth([
      'run', '--name', c, '--log-driver', 'gelf', '--log-opt', `gelf-address=tcp://127.0.0.1:${port}`,
      '--log-opt', 'gelf-tcp-reconnect-delay=0', '--log-opt', 'gelf-tcp-max-reconnect=1',
      'busybox', 'sh', '-c', 'echo kept one; echo kept two; exit 3',
    ], { timeoutMs: 30_000 })
    expect(run.code).toBe(3)
    expect(run.stdout).toBe('kept one\nkept two\n')
    await waitFor(async () => (await inspect(c, '{{.State.Status}}')) === 'exited', 15_000, `${c} to exit`)
    // logs reads the dual-logging cache meanwhile.
    expect(ok(await berth(['logs', c])).stdout).toBe('kept one\nkept two\n')
    const late = await GelfReceiver.start('tcp', port)
    try {
      const recs = await late.wait(2, 30_000)
      expect(recs.map((r) => r.doc.short_message)).toEqual(['kept one', 'kept two'])
      expect(recs[0]?.doc['_container_name']).toBe(c)
    } finally {
      await late.close()
    }
  })

  test('docker\'s errors for gelf options', async () => {
    const noAddr = await berth(['run', '--rm', '--log-driver', 'gelf', 'busybox', 'true'])
    expect(noAddr.code).toBe(125)
    expect(noAddr.stderr).toContain('gelf-address is a required parameter')
    const comp = await berth(['run', '--rm', '--log-driver', 'gelf', '--log-opt', 'gelf-address=tcp://127.0.0.1:12201', '--log-opt', 'gelf-compression-type=gzip', 'busybox', 'true'])
    expect(comp.code).toBe(125)
    expect(comp.stderr).toContain('compression is only supported on UDP')
  })
})
