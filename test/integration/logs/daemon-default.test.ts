// The daemon's default logging driver and options from daemon.json, as
// dockerd uses them (moby daemon/logs.go mergeAndVerifyLogConfig): `info`
// names the driver, a container of the default driver gets the daemon's
// options under its own, a container of another driver gets none of them,
// and a daemon.json whose options the driver does not know keeps berthd
// from starting. Its own berthd, since the default is the daemon's.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { removeDaemonLeftovers } from '../../daemon-cleanup.js'
import { missing, ok, repo, waitFor } from '../../helpers.js'
import { PrivateDaemon } from '../system/helpers.js'

const skip = missing('root', 'daemon')

describe.skipIf(skip)('daemon.json log-driver and log-opts', () => {
  const d = new PrivateDaemon({ 'log-driver': 'json-file', 'log-opts': { 'max-size': '1k', 'max-file': '2', labels: 'team' } })
  beforeAll(async () => {
    await d.start()
  }, 120_000)
  afterAll(async () => {
    await d.stop()
  }, 120_000)

  const logConfig = async (c: string) => JSON.parse(ok(await d.berth(['inspect', '-f', '{{json .HostConfig.LogConfig}}', c])).stdout) as { Type: string; Config: Record<string, string> }

  test('info shows the default driver', async () => {
    expect(ok(await d.berth(['info', '--format', '{{.LoggingDriver}}'])).stdout.trim()).toBe('json-file')
    expect(ok(await d.berth(['info'])).stdout).toContain(' Logging Driver: json-file\n')
  })

  test("a new container's LogConfig has the daemon's options; its own option wins and the rest stay; another driver gets none", async () => {
    ok(await d.berth(['create', '--name', 'plain', 'busybox', 'true']))
    expect(await logConfig('plain')).toEqual({ Type: 'json-file', Config: { 'max-size': '1k', 'max-file': '2', labels: 'team' } })
    ok(await d.berth(['create', '--name', 'own', '--log-opt', 'max-size=10m', 'busybox', 'true']))
    expect(await logConfig('own')).toEqual({ Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '2', labels: 'team' } })
    // Naming the default driver is the same as naming none.
    ok(await d.berth(['create', '--name', 'named', '--log-driver', 'json-file', '--log-opt', 'max-file=3', 'busybox', 'true']))
    expect(await logConfig('named')).toEqual({ Type: 'json-file', Config: { 'max-size': '1k', 'max-file': '3', labels: 'team' } })
    ok(await d.berth(['create', '--name', 'other', '--log-driver', 'none', 'busybox', 'true']))
    expect(await logConfig('other')).toEqual({ Type: 'none', Config: {} })
    ok(await d.berth(['rm', 'plain', 'own', 'named', 'other']))
  })

  test("the daemon's max-size and max-file rotate a container's json-file; its labels option adds attrs", async () => {
    // 60 lines of 40 bytes: about 5 KiB of json-file lines, several rotations at 1k.
    ok(await d.berth(['run', '--name', 'rot', '--label', 'team=core', 'busybox', 'sh', '-c', 'i=1; while [ $i -le 60 ]; do printf "line %02d %s\\n" $i 0123456789012345678901234567890; i=$((i+1)); done']))
    const file = ok(await d.berth(['inspect', '-f', '{{.LogPath}}', 'rot'])).stdout.trim()
    const logs = await waitFor(async () => {
      const out = ok(await d.berth(['logs', 'rot'])).stdout
      return out.includes('line 60 ') ? out : undefined
    }, 15_000, 'the last line in logs')
    expect(existsSync(file)).toBe(true)
    expect(existsSync(`${file}.1`)).toBe(true)
    // max-file 2: the current file and one rotated one.
    expect(existsSync(`${file}.2`)).toBe(false)
    for (const f of [file, `${file}.1`]) expect(statSync(f).size).toBeLessThan(2048)
    // What rotated out of the two files is gone from logs too.
    expect(logs).not.toContain('line 01 ')
    const last = readFileSync(file, 'utf8').trim().split('\n').at(-1)!
    expect(JSON.parse(last)).toMatchObject({ log: 'line 60 0123456789012345678901234567890\n', stream: 'stdout', attrs: { team: 'core' } })
    ok(await d.berth(['rm', 'rot']))
  })
})

describe.skipIf(skip)('daemon.json with a log option the driver does not know', () => {
  // Its own directories and bridge (not PrivateDaemon's: that one may still be stopping).
  const base = mkdtempSync('/var/tmp/berth-logcfg-')
  const execRoot = `/run/bl${process.pid}`
  const bridge = `bl${process.pid}`
  afterAll(async () => {
    await removeDaemonLeftovers(base, bridge, execRoot)
  }, 60_000)

  test('berthd refuses to start, with dockerd\'s message', async () => {
    mkdirSync(execRoot, { recursive: true })
    const cfg = path.join(base, 'daemon.json')
    writeFileSync(cfg, JSON.stringify({ bridge, 'log-opts': { 'max-sise': '1k' } }))
    const child = spawn(path.join(repo, 'bin/berthd'), ['--data-root', path.join(base, 'data'), '--exec-root', execRoot, '--config-file', cfg], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    child.stdout.resume()
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    // A berthd that does start is stopped again, so the test fails instead of hanging.
    const timer = setTimeout(() => child.kill('SIGTERM'), 20_000)
    const code = await exited
    clearTimeout(timer)
    expect(stderr).toContain("failed to set log opts: unknown log opt 'max-sise' for json-file log driver")
    expect(code).not.toBe(0)
  }, 60_000)
})
