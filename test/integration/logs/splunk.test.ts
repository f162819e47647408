// The splunk logging driver against an HTTP Event Collector on loopback:
// docker's event JSON and fields, formats, gzip, https with a private CA,
// a wrong token (the container runs, dockerd's warning, nothing indexed),
// and blocking delivery when the HEC is down, through berth and the docker CLI.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, inject, test } from 'vitest'
import { berth, docker, freePort, missing, ok, uniq, waitFor } from '../../helpers.js'
import { SplunkReceiver } from './receivers/splunk.js'

const skip = missing('root', 'daemon')
const noDocker = missing('docker-cli')

describe.skipIf(skip)('splunk logging driver', () => {
  const made: string[] = []
  const receivers: SplunkReceiver[] = []
  const cname = (p: string) => {
    const n = uniq(p)
    made.push(n)
    return n
  }
  const listen = async (o: Parameters<typeof SplunkReceiver.listen>[0]) => {
    const r = await SplunkReceiver.listen(o)
    receivers.push(r)
    return r
  }
  afterAll(async () => {
    if (made.length) await berth(['rm', '-f', ...made])
    for (const r of receivers) await r.close()
  })
  const inspect = async (c: string, f: string) => ok(await berth(['inspect', '-f', f, c])).stdout.trim()
  const exited = (c: string) => waitFor(async () => (await inspect(c, '{{.State.Status}}')) === 'exited', 15_000, `${c} to exit`)
  const lineOf = (e: { event: unknown }) => (e.event as { line: unknown }).line

  test.skipIf(noDocker)('docker run posts docker\'s events: event {line, source, tag}, time, host, source, sourcetype, index', async () => {
    const r = await listen({ token: 'tok-1' })
    const c = cname('splunk-basic')
    ok(
      await docker([
        'run', '--name', c, '--log-driver', 'splunk',
        '--log-opt', `splunk-url=${r.url}`, '--log-opt', 'splunk-token=tok-1',
        '--log-opt', 'splunk-source=berth-test', '--log-opt', 'splunk-sourcetype=_json', '--log-opt', 'splunk-index=main',
        'busybox', 'sh', '-c', 'echo hello; echo oops >&2',
      ]),
    )
    const id = await inspect(c, '{{.Id}}')
    const events = await r.waitFor(2)
    const hello = events.find((e) => lineOf(e) === 'hello')
    expect(hello).toEqual({
      event: { line: 'hello', source: 'stdout', tag: id.slice(0, 12) },
      time: expect.stringMatching(/^\d{10}\.\d{6}$/),
      host: hostname(),
      source: 'berth-test',
      sourcetype: '_json',
      index: 'main',
    })
    expect(events.find((e) => lineOf(e) === 'oops')?.event).toMatchObject({ source: 'stderr' })
    const post = r.requests.find((q) => q.method === 'POST')
    expect(post?.headers.authorization).toBe('Splunk tok-1')
    expect(ok(await docker(['logs', c])).stdout).toBe('hello\n')
  })

  test('raw format with gzip, json format, and tag and attributes', async () => {
    const r = await listen({ token: 't' })
    const raw = cname('splunk-raw')
    ok(
      await berth([
        'run', '--name', raw, '--label', 'tier=web', '--log-driver', 'splunk',
        '--log-opt', `splunk-url=${r.url}`, '--log-opt', 'splunk-token=t',
        '--log-opt', 'splunk-format=raw', '--log-opt', 'splunk-gzip=true', '--log-opt', 'splunk-gzip-level=9',
        '--log-opt', 'tag={{.Name}}', '--log-opt', 'labels=tier',
        'busybox', 'echo', 'raw line',
      ]),
    )
    await r.waitFor(1)
    expect(r.events[0]?.event).toBe(`${raw} tier=web raw line`)
    expect(r.requests.find((q) => q.method === 'POST')?.headers['content-encoding']).toBe('gzip')

    const json = cname('splunk-json')
    ok(await berth(['run', '--name', json, '--log-driver', 'splunk', '--log-opt', `splunk-url=${r.url}`, '--log-opt', 'splunk-token=t', '--log-opt', 'splunk-format=json', 'busybox', 'echo', '{"a": 1}']))
    await r.waitFor(2)
    expect(lineOf(r.events[1]!)).toEqual({ a: 1 })
  })

  test('https with splunk-capath and splunk-caname', async ({ skip }) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'berth-hec-'))
    const key = path.join(dir, 'key.pem')
    const cert = path.join(dir, 'cert.pem')
    const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=hec.test', '-addext', 'subjectAltName=DNS:hec.test', '-keyout', key, '-out', cert])
    if (gen.status !== 0) {
      console.warn('skipping: openssl could not make a certificate')
      return skip()
    }
    const r = await listen({ token: 't', tls: { key: readFileSync(key), cert: readFileSync(cert) } })
    const c = cname('splunk-tls')
    ok(
      await berth([
        'run', '--name', c, '--log-driver', 'splunk', '--log-opt', `splunk-url=${r.url}`, '--log-opt', 'splunk-token=t',
        '--log-opt', `splunk-capath=${cert}`, '--log-opt', 'splunk-caname=hec.test', 'busybox', 'echo', 'over tls',
      ]),
    )
    expect(lineOf((await r.waitFor(1))[0]!)).toBe('over tls')
  })

  test('a wrong token: the container runs as usual, the HEC answers 403, berthd logs dockerd\'s warning', async () => {
    const r = await listen({ token: 'right' })
    const c = cname('splunk-token')
    ok(await berth(['run', '--name', c, '--log-driver', 'splunk', '--log-opt', `splunk-url=${r.url}`, '--log-opt', 'splunk-token=wrong', 'busybox', 'echo', 'nope']))
    expect(await inspect(c, '{{.State.ExitCode}}')).toBe('0')
    await waitFor(() => r.requests.some((q) => q.method === 'POST' && q.status === 403) || undefined, 20_000, 'a refused POST')
    expect(r.events).toHaveLength(0)
    await waitFor(() => readFileSync(inject('berthLog'), 'utf8').includes('splunk: failed to send event - 403 Forbidden') || undefined, 10_000, "berthd's warning")
    // Blocking mode keeps retrying; let the HEC take it so the container's shipping ends.
    r.token = 'wrong'
    await r.waitFor(1, 20_000)
  })

  test('with the HEC down the container exits as usual, and its output arrives once the HEC is up', async () => {
    const port = await freePort()
    const c = cname('splunk-down')
    ok(
      await berth([
        'run', '-d', '--name', c, '--log-driver', 'splunk', '--log-opt', `splunk-url=http://127.0.0.1:${port}`, '--log-opt', 'splunk-token=t',
        '--log-opt', 'splunk-verify-connection=false', 'busybox', 'sh', '-c', 'echo a; echo b',
      ]),
    )
    await exited(c)
    expect(await inspect(c, '{{.State.ExitCode}}')).toBe('0')
    const r = await listen({ token: 't', port })
    const events = await r.waitFor(2, 30_000)
    expect(events.map(lineOf)).toEqual(['a', 'b'])
  })

  test('options docker checks', async () => {
    const noUrl = await berth(['run', '--rm', '--log-driver', 'splunk', '--log-opt', 'splunk-token=t', 'busybox', 'true'])
    expect(noUrl.code).not.toBe(0)
    expect(noUrl.stderr).toContain('failed to initialize logging driver: splunk: splunk-url is expected')
    const unknown = await berth(['run', '--rm', '--log-driver', 'splunk', '--log-opt', 'splunk-nope=1', 'busybox', 'true'])
    expect(unknown.stderr).toContain("unknown log opt 'splunk-nope' for splunk log driver")
  })
})
