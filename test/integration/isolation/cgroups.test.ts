import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { berth, containerNames, docker, missing, ok, repo } from '../../helpers.js'
import { PrivateDaemon } from '../system/helpers.js'

const skip = missing('root', 'daemon', 'docker-cli')
const CGROUP2_SUPER_MAGIC = 0x63677270
const v2 = !skip && statfsSync('/sys/fs/cgroup').type === CGROUP2_SUPER_MAGIC
/** Where a container's cgroup.procs is: the memory controller on v1, the one tree on v2. */
const procsFile = (cgroup: string) => (v2 ? `/sys/fs/cgroup${cgroup}/cgroup.procs` : `/sys/fs/cgroup/memory${cgroup}/cgroup.procs`)
const pidsIn = (cgroup: string) => readFileSync(procsFile(cgroup), 'utf8').split('\n').filter(Boolean).map(Number)

/** cgroup directories a parent leaves behind (runc removes only the container's own), deepest first. */
function removeParents(...dirs: string[]): void {
  for (const d of dirs) {
    for (const ctl of v2 ? [''] : ['memory', 'pids', 'cpu,cpuacct', 'cpu', 'cpuacct', 'cpuset', 'blkio', 'devices', 'freezer', 'net_cls,net_prio', 'perf_event', 'hugetlb', 'systemd', 'unified']) {
      const p = path.join('/sys/fs/cgroup', ctl, d)
      if (existsSync(p)) {
        try {
          rmdirSync(p)
        } catch {
          // a container still in it, or shared with another controller's link
        }
      }
    }
  }
}

describe.skipIf(skip)('cgroup layout', () => {
  const name = containerNames()
  const parent = `berth-cgtest-${process.pid}`
  afterAll(() => removeParents(`${parent}/nested`, parent))

  it('puts a container with --cgroup-parent at <parent>/<id>, relative parents from the root', async () => {
    const n = name('cgp')
    const id = ok(await docker(['run', '-d', '--name', n, '--cgroup-parent', parent, 'busybox', 'sleep', '60'])).stdout.trim()
    const pid = Number(ok(await docker(['inspect', '-f', '{{.State.Pid}}', n])).stdout.trim())
    expect(pidsIn(`/${parent}/${id}`)).toContain(pid)
    expect(ok(await docker(['inspect', '-f', '{{.HostConfig.CgroupParent}}', n])).stdout.trim()).toBe(parent)
    // The pids berth reads back for top come from the same place.
    expect(ok(await berth(['top', n])).stdout).toContain('sleep 60')
    ok(await berth(['rm', '-f', n]))
  })

  it('takes an absolute, nested parent from the berth CLI too', async () => {
    const n = name('cgp2')
    const id = ok(await berth(['run', '-d', '--name', n, '--cgroup-parent', `/${parent}/nested`, 'busybox', 'sleep', '60'])).stdout.trim()
    const pid = Number(ok(await berth(['inspect', '-f', '{{.State.Pid}}', n])).stdout.trim())
    expect(pidsIn(`/${parent}/nested/${id}`)).toContain(pid)
    ok(await berth(['rm', '-f', n]))
  })

  it('refuses a parent that climbs out of the hierarchy', async () => {
    const r = await docker(['run', '--rm', '--cgroup-parent', '../escape', 'busybox', 'true'])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('invalid cgroup parent')
  })

  it('reports the cgroup driver and version as docker does', async () => {
    const out = ok(await docker(['info', '--format', '{{.CgroupDriver}} {{.CgroupVersion}}'])).stdout.trim()
    expect(out).toBe(`cgroupfs ${v2 ? '2' : '1'}`)
    const table = ok(await berth(['info'])).stdout
    expect(table).toContain('Cgroup Driver: cgroupfs')
    expect(table).toContain(`Cgroup Version: ${v2 ? '2' : '1'}`)
  })
})

describe.skipIf(skip)('daemon cgroup-parent and exec-opts', () => {
  const parent = `/berth-daemon-cg-${process.pid}`
  const d = new PrivateDaemon({ 'cgroup-parent': parent, 'exec-opts': ['native.cgroupdriver=cgroupfs'] })
  beforeAll(async () => {
    await d.start()
  })
  afterAll(async () => {
    await d.stop()
    removeParents(parent.slice(1), 'berth-own-parent')
  })

  it('puts containers under the daemon\'s cgroup-parent unless they name their own', async () => {
    const id = ok(await d.docker(['run', '-d', 'busybox', 'sleep', '60'])).stdout.trim()
    const pid = Number(ok(await d.docker(['inspect', '-f', '{{.State.Pid}}', id])).stdout.trim())
    expect(pidsIn(`${parent}/${id}`)).toContain(pid)
    const own = ok(await d.docker(['run', '-d', '--cgroup-parent', 'berth-own-parent', 'busybox', 'sleep', '60'])).stdout.trim()
    const ownPid = Number(ok(await d.docker(['inspect', '-f', '{{.State.Pid}}', own])).stdout.trim())
    expect(pidsIn(`/berth-own-parent/${own}`)).toContain(ownPid)
    ok(await d.docker(['rm', '-f', id, own]))
  })

  it('refuses native.cgroupdriver=systemd at start when systemd is not running', async () => {
    if (existsSync('/run/systemd/system')) {
      console.warn('skipping: systemd runs on this host')
      return
    }
    const dir = mkdtempSync('/var/tmp/berth-cg-systemd-')
    try {
      const cfg = path.join(dir, 'daemon.json')
      writeFileSync(cfg, JSON.stringify({ 'exec-opts': ['native.cgroupdriver=systemd'] }))
      const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
        execFile(path.join(repo, 'bin/berthd'), ['--config-file', cfg, '--data-root', path.join(dir, 'data'), '--exec-root', path.join(dir, 'run')], { timeout: 20_000 }, (err, _out, stderr) => {
          resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stderr })
        })
      })
      expect(r.code).not.toBe(0)
      expect(r.stderr).toContain('native.cgroupdriver=systemd')
      expect(r.stderr).toContain('systemd is not running')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
