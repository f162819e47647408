// The json-file logging driver as a user meets it: the default driver, docker's
// lines on disk, `logs` options over rotated and compressed files, and
// docker's errors for bad options, through berth and the docker CLI.
import { existsSync, readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { afterAll, describe, expect, test } from 'vitest'
import { berth, docker, missing, ok, uniq, waitFor } from '../../helpers.js'

const skip = missing('root', 'daemon')
const noDocker = missing('docker-cli')

describe.skipIf(skip)('json-file logging driver', () => {
  const made: string[] = []
  const cname = (p: string) => {
    const n = uniq(p)
    made.push(n)
    return n
  }
  afterAll(async () => {
    if (made.length) await berth(['rm', '-f', ...made])
  })

  const inspect = async (c: string, f: string) => ok(await berth(['inspect', '-f', f, c])).stdout.trim()
  const exited = (c: string) => waitFor(async () => (await inspect(c, '{{.State.Status}}')) === 'exited', 15_000, `${c} to exit`)

  test('is the default: docker\'s lines in <id>-json.log, LogConfig and LogPath say so, logs reads them', async () => {
    const c = cname('log-default')
    ok(await berth(['run', '-d', '--name', c, 'busybox', 'sh', '-c', 'echo "out <1>"; echo err >&2; printf "no newline"']))
    await exited(c)
    expect(await inspect(c, '{{.HostConfig.LogConfig.Type}}')).toBe('json-file')
    const file = await inspect(c, '{{.LogPath}}')
    expect(file).toMatch(/\/([0-9a-f]{64})\/\1-json\.log$/)
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { log: string; stream: string; time: string })
    // Each stream in order; how conmon interleaves the two is up to the pipes, as with docker.
    expect(lines.filter((l) => l.stream === 'stdout').map((l) => l.log)).toEqual(['out <1>\n', 'no newline'])
    expect(lines.filter((l) => l.stream === 'stderr').map((l) => l.log)).toEqual(['err\n'])
    expect(lines[0]?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/)
    // Go's escaping of <>.
    expect(readFileSync(file, 'utf8')).toContain('"log":"out \\u003c1\\u003e\\n"')
    const logs = ok(await berth(['logs', c]))
    expect(logs.stdout).toBe('out <1>\nno newline')
    expect(logs.stderr).toBe('err\n')
    expect(ok(await berth(['info', '--format', '{{.LoggingDriver}}'])).stdout.trim()).toBe('json-file')
  })

  test('logs right after a short run has every line (the shipper catches up before reading)', async () => {
    const c = cname('log-quick')
    const r = ok(await berth(['run', '--name', c, 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8 9 10; do echo line $i; done']))
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(10)
    expect(ok(await berth(['logs', c])).stdout).toBe(Array.from({ length: 10 }, (_, i) => `line ${i + 1}\n`).join(''))
  })

  test('max-size and max-file rotate, compress gzips the rotated files; logs --tail and -t read across them', async () => {
    const c = cname('log-rotate')
    ok(await berth(['run', '-d', '--name', c, '--log-opt', 'max-size=1k', '--log-opt', 'max-file=3', '--log-opt', 'compress=true', 'busybox', 'sh', '-c', 'i=0; while [ $i -lt 200 ]; do echo "line $i"; i=$((i+1)); done']))
    await exited(c)
    const file = await inspect(c, '{{.LogPath}}')
    await waitFor(async () => existsSync(`${file}.2.gz`), 10_000, 'two rotated files')
    expect(existsSync(`${file}.3.gz`)).toBe(false)
    expect(gunzipSync(readFileSync(`${file}.1.gz`)).toString()).toMatch(/^\{"log":"line \d+\\n","stream":"stdout"/)
    const all = ok(await berth(['logs', c])).stdout.trim().split('\n')
    // Only what the kept files hold, in order, ending with the last line.
    expect(all.length).toBeLessThan(200)
    expect(all.at(-1)).toBe('line 199')
    expect(all.map((l) => Number(l.split(' ')[1]))).toEqual([...all.map((l) => Number(l.split(' ')[1]))].sort((a, b) => a - b))
    const tail = ok(await berth(['logs', '--tail', '2', '-t', c])).stdout.trim().split('\n')
    expect(tail).toHaveLength(2)
    expect(tail[1]).toMatch(/^\d{4}-\d\d-\d\dT\S+Z line 199$/)
  })

  test('labels, env and tag options put docker\'s attrs on every line', async () => {
    const c = cname('log-attrs')
    ok(await berth(['run', '-d', '--name', c, '--label', 'team=ops', '-e', 'STAGE=test', '--log-opt', 'labels=team', '--log-opt', 'env=STAGE', '--log-opt', 'tag={{.Name}}/{{.ImageName}}', 'busybox', 'echo', 'hi']))
    await exited(c)
    const line = JSON.parse(readFileSync(await inspect(c, '{{.LogPath}}'), 'utf8').trim()) as { attrs: Record<string, string> }
    expect(line.attrs).toEqual({ STAGE: 'test', tag: `${c}/busybox`, team: 'ops' })
    // --details puts them before the line, sorted and query-escaped, as docker.
    expect(ok(await berth(['logs', '--details', c])).stdout).toBe(`STAGE=test,tag=${c}%2Fbusybox,team=ops hi\n`)
    expect(ok(await berth(['logs', '-t', c])).stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z hi\n$/)
  })

  test('the local driver keeps docker\'s framed records under local-logs/, rotated and compressed by default; logs reads them', async () => {
    const c = cname('log-local')
    ok(await berth(['run', '-d', '--name', c, '--log-driver', 'local', '--log-opt', 'max-size=1k', 'busybox', 'sh', '-c', 'i=0; while [ $i -lt 100 ]; do echo "local $i"; i=$((i+1)); done']))
    await exited(c)
    const file = await inspect(c, '{{.LogPath}}')
    expect(file).toMatch(/\/local-logs\/container\.log$/)
    const head = readFileSync(file)
    // A big-endian length, the record, the same length again.
    const n = head.readUInt32BE(0)
    expect(head.readUInt32BE(4 + n)).toBe(n)
    await waitFor(async () => existsSync(`${file}.1.gz`), 10_000, 'a compressed rotated file')
    const lines = ok(await berth(['logs', c])).stdout.trim().split('\n')
    expect(lines.at(-1)).toBe('local 99')
    expect(lines.length).toBeGreaterThan(10)
    expect(ok(await berth(['logs', '--tail', '1', c])).stdout).toBe('local 99\n')
  })

  test('logs -f follows a running container until it stops', async () => {
    const c = cname('log-follow')
    ok(await berth(['run', '-d', '--name', c, 'busybox', 'sh', '-c', 'echo first; sleep 2; echo second']))
    const f = ok(await berth(['logs', '-f', c]))
    expect(f.stdout).toBe('first\nsecond\n')
  })

  test('bad options get docker\'s errors; none keeps nothing to read', async () => {
    const bad = await berth(['run', '--rm', '--log-opt', 'max-size=garbage', 'busybox', 'true'])
    expect(bad.code).toBe(125)
    expect(bad.stderr).toContain("failed to initialize logging driver: invalid size: 'garbage'")
    const unknown = await berth(['run', '--rm', '--log-opt', 'nope=1', 'busybox', 'true'])
    expect(unknown.stderr).toContain("unknown log opt 'nope' for json-file log driver")
    const driver = await berth(['run', '--rm', '--log-driver', 'foo', 'busybox', 'true'])
    expect(driver.stderr).toContain("logger: no log driver named 'foo' is registered")
    const journald = await berth(['run', '--rm', '--log-driver', 'journald', 'busybox', 'true'])
    if (!existsSync('/run/systemd/journal/socket')) expect(journald.stderr).toContain('failed to initialize logging driver: journald is not enabled on this host')
    const c = cname('log-none')
    ok(await berth(['run', '-d', '--name', c, '--log-driver', 'none', 'busybox', 'echo', 'x']))
    await exited(c)
    const r = await berth(['logs', c])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('configured logging driver does not support reading')
  })

  test.skipIf(noDocker)('the docker CLI: run --log-opt, logs --since/--until, inspect', async () => {
    const c = cname('log-docker')
    ok(await docker(['run', '-d', '--name', c, '--log-opt', 'max-size=10m', 'busybox', 'sh', '-c', 'echo early; sleep 2; echo late']))
    await exited(c)
    expect(ok(await docker(['inspect', '-f', '{{json .HostConfig.LogConfig}}', c])).stdout.trim()).toBe('{"Type":"json-file","Config":{"max-size":"10m"}}')
    expect(ok(await docker(['logs', c])).stdout).toBe('early\nlate\n')
    const lines = readFileSync(await inspect(c, '{{.LogPath}}'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { time: string }).time)
    const lateTime = lines[1] as string
    expect(ok(await docker(['logs', '--since', lateTime, c])).stdout).toBe('late\n')
    expect(ok(await docker(['logs', '--until', lines[0] as string, c])).stdout).toBe('early\n')
  })
})
