/**
 * Container accounting: GET /containers/{id}/stats with docker's JSON, and
 * `stats` through the berth and docker CLIs, against the real cgroups.
 */
import { spawn } from 'node:child_process'
import http from 'node:http'
import os from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { StatsResponse } from '../../../src/api/types/index.js'
import { berth, berthBin, containerNames, docker, missing, ok, sock, waitFor } from '../../helpers.js'

const skip = missing('root', 'daemon')
const skipDocker = skip ?? missing('docker-cli')
const MiB = 1024 * 1024
const ZERO_TIME = '0001-01-01T00:00:00Z'

/** One stats request; resolves with the records once the daemon ends the response or `take` of them came. */
function statsRequest(name: string, query: string, take = Infinity): Promise<{ status: number; records: StatsResponse[]; endedByServer: boolean; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: sock(), path: `/v1.50/containers/${name}/stats?${query}` }, (res) => {
      let buf = ''
      const records: StatsResponse[] = []
      const done = (endedByServer: boolean): void => resolve({ status: res.statusCode ?? 0, records, endedByServer, text: buf })
      res.on('data', (c: Buffer) => {
        buf += c.toString()
        let i: number
        while ((i = buf.indexOf('\n')) >= 0 && res.statusCode === 200) {
          const line = buf.slice(0, i)
          buf = buf.slice(i + 1)
          if (line.trim()) records.push(JSON.parse(line) as StatsResponse)
          if (records.length >= take) {
            req.destroy()
            done(false)
            return
          }
        }
      })
      res.on('end', () => done(true))
    })
    req.on('error', (e) => (req.destroyed ? undefined : reject(e)))
    req.end()
  })
}

async function oneShot(name: string): Promise<StatsResponse> {
  const r = await statsRequest(name, 'stream=false&one-shot=true')
  expect(r.status).toBe(200)
  expect(r.records).toHaveLength(1)
  return r.records[0] as StatsResponse
}

const sum = (entries: StatsResponse['blkio_stats']['io_service_bytes_recursive'], op: string): number =>
  (entries ?? []).filter((e) => e.op.toLowerCase() === op).reduce((a, e) => a + e.value, 0)

describe.skipIf(skip)('container stats', () => {
  const name = containerNames()
  const busy = name('busy')
  const web = name('web')
  const client = name('client')
  const idle = name('idle')
  let webIp = ''

  beforeAll(async () => {
    // Three sleepers and a busy shell: four processes, CPU time that grows, a memory limit.
    ok(await berth(['run', '-d', '--name', busy, '--memory', '64m', 'busybox', 'sh', '-c', 'for i in 1 2 3; do sleep 1d & done; while :; do :; done']))
    ok(await berth(['run', '-d', '--name', web, 'busybox', 'sh', '-c', 'mkdir /www && dd if=/dev/zero of=/www/big bs=1k count=300 2>/dev/null && exec httpd -f -p 80 -h /www']))
    ok(await berth(['run', '-d', '--name', client, 'busybox', 'sleep', '1d']))
    ok(await berth(['create', '--name', idle, 'busybox', 'true']))
    webIp = ok(await berth(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', web])).stdout.trim()
  })

  afterAll(async () => {
    // The busy loop would otherwise spin until the file's other containers go.
    await berth(['rm', '-f', busy])
  })

  it("has the fields docker's CLI reads, with the container's memory limit and processes", async () => {
    const s = await oneShot(busy)
    const id = ok(await berth(['inspect', '-f', '{{.Id}}', busy])).stdout.trim()
    expect(s.name).toBe(`/${busy}`)
    expect(s.id).toBe(id)
    expect(s.read).not.toBe(ZERO_TIME)
    // one-shot: no previous sample.
    expect(s.preread).toBe(ZERO_TIME)
    expect(s.precpu_stats.cpu_usage.total_usage).toBe(0)
    expect(s.memory_stats.limit).toBe(64 * MiB)
    expect(s.memory_stats.usage).toBeGreaterThan(0)
    expect(s.memory_stats.usage).toBeLessThanOrEqual(64 * MiB)
    expect(s.memory_stats.stats).toBeDefined()
    expect(s.pids_stats.current).toBe(4)
    expect(s.cpu_stats.online_cpus).toBe(os.cpus().length)
    expect(s.cpu_stats.system_cpu_usage).toBeGreaterThan(0)
    expect(s.networks?.eth0).toBeDefined()
    expect(s.networks?.lo).toBeUndefined()
  })

  it('without a memory limit shows the machine memory', async () => {
    const s = await oneShot(client)
    expect(s.memory_stats.limit).toBe(os.totalmem())
    expect(s.pids_stats.current).toBe(1)
  })

  it('counts CPU time of a busy container, and stream=false fills precpu_stats from a second sample', async () => {
    const a = await oneShot(busy)
    const r = await statsRequest(busy, 'stream=false')
    expect(r.records).toHaveLength(1)
    const b = r.records[0] as StatsResponse
    expect(b.precpu_stats.cpu_usage.total_usage).toBeGreaterThan(a.cpu_stats.cpu_usage.total_usage)
    expect(b.cpu_stats.cpu_usage.total_usage).toBeGreaterThan(b.precpu_stats.cpu_usage.total_usage)
    expect(b.cpu_stats.system_cpu_usage ?? 0).toBeGreaterThan(b.precpu_stats.system_cpu_usage ?? 0)
    expect(b.preread).not.toBe(ZERO_TIME)
  })

  it('counts network traffic between two containers on both sides', async () => {
    const before = { web: await oneShot(web), client: await oneShot(client) }
    ok(await berth(['exec', client, 'wget', '-qO', '/dev/null', `http://${webIp}/big`]))
    const after = { web: await oneShot(web), client: await oneShot(client) }
    const size = 300 * 1024
    expect((after.web.networks?.eth0?.tx_bytes ?? 0) - (before.web.networks?.eth0?.tx_bytes ?? 0)).toBeGreaterThanOrEqual(size)
    expect((after.client.networks?.eth0?.rx_bytes ?? 0) - (before.client.networks?.eth0?.rx_bytes ?? 0)).toBeGreaterThanOrEqual(size)
    expect(after.web.networks?.eth0?.rx_bytes ?? 0).toBeGreaterThan(before.web.networks?.eth0?.rx_bytes ?? 0)
  })

  it('counts bytes written to disk with a sync', async () => {
    const before = await oneShot(web)
    ok(await berth(['exec', web, 'dd', 'if=/dev/zero', 'of=/written', 'bs=1M', 'count=4', 'conv=fsync']))
    const after = await oneShot(web)
    expect(sum(after.blkio_stats.io_service_bytes_recursive, 'write') - sum(before.blkio_stats.io_service_bytes_recursive, 'write')).toBeGreaterThanOrEqual(4 * MiB)
  })

  it("gives docker's zeroed record for a container that is not running", async () => {
    const r = await statsRequest(idle, 'stream=false')
    expect(r.records).toHaveLength(1)
    const s = r.records[0] as StatsResponse
    expect(s.name).toBe(`/${idle}`)
    expect(s.read).toBe(ZERO_TIME)
    expect(s.memory_stats).toEqual({})
    expect(s.cpu_stats.cpu_usage.total_usage).toBe(0)
  })

  it('refuses an unknown container and stream with one-shot as docker does', async () => {
    const r = await statsRequest(`${idle}-nope`, 'stream=false')
    expect(r.status).toBe(404)
    expect(r.text).toContain(`No such container: ${idle}-nope`)
    const both = await statsRequest(busy, 'stream=true&one-shot=true')
    expect(both.status).toBe(400)
    expect(both.text).toContain('cannot have stream=true and one-shot=true')
  })

  it('streams records, each with the previous one as precpu, until the client closes', async () => {
    const r = await statsRequest(client, 'stream=true', 3)
    expect(r.endedByServer).toBe(false)
    expect(r.records).toHaveLength(3)
    const [x, y, z] = r.records as [StatsResponse, StatsResponse, StatsResponse]
    expect(y.preread).toBe(x.read)
    expect(z.preread).toBe(y.read)
    expect(z.precpu_stats).toEqual(y.cpu_stats)
  })

  it('ends a stream when its container is removed', async () => {
    const gone = name('gone')
    ok(await berth(['run', '-d', '--name', gone, 'busybox', 'sleep', '1d']))
    const pending = statsRequest(gone, 'stream=true')
    await waitFor(async () => (await oneShot(gone)).read !== ZERO_TIME, 10_000, 'a first sample')
    ok(await berth(['rm', '-f', gone]))
    const r = await pending
    expect(r.endedByServer).toBe(true)
    expect(r.records.length).toBeGreaterThan(0)
  })

  it('berth stats --no-stream --format prints the container with its limit, -a adds stopped ones', async () => {
    const r = ok(await berth(['stats', '--no-stream', '--format', '{{.Name}}|{{.MemUsage}}|{{.PIDs}}', busy, client]))
    const lines = r.stdout.trim().split('\n')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(new RegExp(`^${busy}\\|[\\d.]+[KM]iB / 64MiB\\|4$`))
    expect(lines[1]).toMatch(new RegExp(`^${client}\\|`))
    const running = ok(await berth(['stats', '--no-stream', '--format', '{{.Name}}'])).stdout.split('\n')
    expect(running).toContain(busy)
    expect(running).not.toContain(idle)
    const all = ok(await berth(['container', 'stats', '-a', '--no-stream', '--format', 'json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>)
    expect(all.find((x) => x.Name === idle)).toMatchObject({ CPUPerc: '0.00%', MemUsage: '0B / 0B', PIDs: '0' })
  })

  it('berth stats refuses an unknown container with the daemon message', async () => {
    const r = await berth(['stats', '--no-stream', `${idle}-nope`])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(`Error response from daemon: No such container: ${idle}-nope\n`)
  })

  it('berth stats streams one table after another into a pipe', async () => {
    const r = await berth(['stats', client], { timeoutMs: 4000 })
    const headers = r.stdout.split('\n').filter((l) => l.startsWith('CONTAINER ID'))
    expect(headers.length).toBeGreaterThanOrEqual(2)
    expect(r.stdout).toContain(client)
    expect(r.stdout).not.toContain('\x1b[')
  })

  it('berth stats without names follows containers as they start and stop', async () => {
    const late = name('late')
    const child = spawn(berthBin, ['stats', '--format', 'table {{.Name}}'], { env: { ...process.env, BERTH_HOST: `unix://${sock()}` }, stdio: ['ignore', 'pipe', 'pipe'] })
    let text = ''
    child.stdout.on('data', (c: Buffer) => { text += c.toString() })
    /** The tables printed since `from` (an offset in the output), each as its list of names. */
    const tablesSince = (from: number): string[][] => text.slice(from).split('NAME\n').slice(1).map((t) => t.split('\n').filter(Boolean))
    try {
      await waitFor(() => tablesSince(0).length > 0, 15_000, 'a first table')
      const mark = text.length
      ok(await berth(['run', '-d', '--name', late, 'busybox', 'sleep', '1d']))
      await waitFor(() => tablesSince(mark).some((t) => t.includes(late)), 15_000, `${late} in a table`)
      const stopped = text.length
      ok(await berth(['kill', late]))
      // A table drawn after the stop (and followed by another, so complete) no longer lists it.
      await waitFor(() => tablesSince(stopped).slice(0, -1).some((t) => !t.includes(late)), 15_000, `${late} gone from a table`)
    } finally {
      child.kill()
    }
  })

  it('samples a paused container as a running one', async () => {
    ok(await berth(['pause', client]))
    try {
      const s = await oneShot(client)
      expect(s.read).not.toBe(ZERO_TIME)
      expect(s.pids_stats.current).toBe(1)
    } finally {
      ok(await berth(['unpause', client]))
    }
  })

  it.skipIf(skipDocker)('docker stats --no-stream prints the container with a plausible MEM LIMIT', async () => {
    const r = ok(await docker(['stats', '--no-stream', busy]))
    const [head, row] = r.stdout.trim().split('\n')
    expect(head?.split(/\s{2,}/)).toEqual(['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'])
    const cols = row?.split(/\s{2,}/) ?? []
    expect(cols[1]).toBe(busy)
    expect(cols[3]).toMatch(/ \/ 64MiB$/)
    expect(cols[7]).toBe('4')
    const json = JSON.parse(ok(await docker(['stats', '--no-stream', '--format', 'json', client])).stdout) as Record<string, string>
    expect(json.Name).toBe(client)
    expect(json.NetIO).toMatch(/^[\d.]+[kMG]?B \/ [\d.]+[kMG]?B$/)
  })
})
