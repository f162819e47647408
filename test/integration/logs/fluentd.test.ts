// The fluentd logging driver against a forward-protocol receiver on
// loopback: docker's records and tag, the options that change the wire
// (sub-second precision, request-ack, unix sockets, extra attributes), and
// blocking delivery when the receiver is down, through berth and the docker CLI.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { berth, docker, freePort, missing, ok, uniq, waitFor } from '../../helpers.js'
import { FluentdReceiver } from './receivers/fluentd.js'

const skip = missing('root', 'daemon')
const noDocker = missing('docker-cli')

describe.skipIf(skip)('fluentd logging driver', () => {
  const made: string[] = []
  const receivers: FluentdReceiver[] = []
  const cname = (p: string) => {
    const n = uniq(p)
    made.push(n)
    return n
  }
  const listen = async (o: Parameters<typeof FluentdReceiver.listen>[0] = {}) => {
    const r = await FluentdReceiver.listen(o)
    receivers.push(r)
    return r
  }
  afterAll(async () => {
    if (made.length) await berth(['rm', '-f', ...made])
    for (const r of receivers) await r.close()
  })
  const inspect = async (c: string, f: string) => ok(await berth(['inspect', '-f', f, c])).stdout.trim()
  const exited = (c: string) => waitFor(async () => (await inspect(c, '{{.State.Status}}')) === 'exited', 15_000, `${c} to exit`)

  test.skipIf(noDocker)('docker run sends container_id, container_name, source and log, tagged with the short ID', async () => {
    const r = await listen()
    const c = cname('fluentd-basic')
    const before = Math.floor(Date.now() / 1000)
    ok(await docker(['run', '--name', c, '--log-driver', 'fluentd', '--log-opt', `fluentd-address=${r.address}`, 'busybox', 'sh', '-c', 'echo "out <1>"; echo err >&2']))
    const id = await inspect(c, '{{.Id}}')
    const events = await r.waitFor(2)
    const out = events.find((e) => e.record['source'] === 'stdout')
    expect(out?.tag).toBe(id.slice(0, 12))
    expect(out?.record).toEqual({ container_id: id, container_name: `/${c}`, source: 'stdout', log: 'out <1>' })
    expect(events.find((e) => e.record['source'] === 'stderr')?.record['log']).toBe('err')
    expect(typeof out?.time).toBe('number')
    expect(out?.time as number).toBeGreaterThanOrEqual(before - 1)
    expect(await inspect(c, '{{.HostConfig.LogConfig.Type}}')).toBe('fluentd')
    // docker logs reads the dual-logging cache.
    expect(ok(await docker(['logs', c])).stdout).toBe('out <1>\n')
  })

  test('tag template, labels and env, sub-second precision and request-ack over a unix socket', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'berth-fluentd-'))
    const r = await listen({ path: path.join(dir, 'fluentd.sock'), ack: true })
    const c = cname('fluentd-opts')
    ok(
      await berth([
        'run', '--name', c, '--label', 'tier=web', '-e', 'STAGE=test',
        '--log-driver', 'fluentd',
        '--log-opt', `fluentd-address=${r.address}`,
        '--log-opt', 'tag=docker.{{.Name}}',
        '--log-opt', 'labels=tier', '--log-opt', 'env=STAGE',
        '--log-opt', 'fluentd-sub-second-precision=true',
        '--log-opt', 'fluentd-request-ack=true',
        'busybox', 'sh', '-c', 'echo one; echo two',
      ]),
    )
    const events = await r.waitFor(2)
    expect(events.map((e) => e.record['log'])).toEqual(['one', 'two'])
    expect(events[0]?.tag).toBe(`docker.${c}`)
    expect(events[0]?.record).toMatchObject({ tier: 'web', STAGE: 'test', container_name: `/${c}` })
    expect(events[0]?.time).toEqual({ sec: expect.any(Number), nsec: expect.any(Number) })
    expect(events[0]?.option['chunk']).toMatch(/^[A-Za-z0-9+/]{22}==$/)
  })

  // dockerd (without fluentd-async) would refuse the start here; berth never makes a start wait for a receiver.
  test('with the receiver down the container exits as usual, and its output arrives once the receiver is up', async () => {
    const port = await freePort()
    const c = cname('fluentd-down')
    ok(
      await berth([
        'run', '-d', '--name', c, '--log-driver', 'fluentd',
        '--log-opt', `fluentd-address=127.0.0.1:${port}`, '--log-opt', 'fluentd-retry-wait=100ms',
        'busybox', 'sh', '-c', 'for i in 1 2 3; do echo line $i; done',
      ]),
    )
    await exited(c)
    expect(await inspect(c, '{{.State.ExitCode}}')).toBe('0')
    const r = await listen({ port })
    const events = await r.waitFor(3, 30_000)
    expect(events.map((e) => e.record['log'])).toEqual(['line 1', 'line 2', 'line 3'])
  })

  test('bad options get docker\'s errors at create', async () => {
    const bad = await berth(['run', '--rm', '--log-driver', 'fluentd', '--log-opt', 'fluentd-address=udp://127.0.0.1:1', 'busybox', 'true'])
    expect(bad.code).toBe(125)
    expect(bad.stderr).toContain("invalid fluentd-address (udp://127.0.0.1:1): unsupported scheme: 'udp'")
    const unknown = await berth(['run', '--rm', '--log-driver', 'fluentd', '--log-opt', 'fluentd-nope=1', 'busybox', 'true'])
    expect(unknown.stderr).toContain("unknown log opt 'fluentd-nope' for fluentd log driver")
  })
})
