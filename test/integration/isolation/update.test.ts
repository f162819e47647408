/**
 * `update`: new limits for a running container reach its cgroup (host files
 * under /sys/fs/cgroup/<controller>/berth/<id>) and inspect; a stopped one
 * gets them at its next start; docker's refusals; the restart policy.
 */
import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { berth, containerNames, docker, missing, ok } from '../../helpers.js'

const v1 = existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes')
const skip = missing('root', 'daemon', 'docker-cli') ?? (v1 ? undefined : 'the limit files read here are cgroup v1 ones')
if (!skip && !v1) console.warn('skipping: the limit files read here are cgroup v1 ones')

const cg = (ctl: string, id: string, file: string): string => readFileSync(`/sys/fs/cgroup/${ctl}/berth/${id}/${file}`, 'utf8').trim()

describe.skipIf(skip)('update', () => {
  const name = containerNames()

  it('changes a running container\'s memory and CPU limits in its cgroup and in inspect', async () => {
    const n = name('upd')
    ok(await berth(['run', '-d', '--name', n, '-m', '64m', 'busybox', 'sleep', '1d']))
    const id = ok(await berth(['inspect', '-f', '{{.Id}}', n])).stdout.trim()
    expect(cg('memory', id, 'memory.limit_in_bytes')).toBe(String(64 << 20))
    const r = ok(await berth(['update', '--memory', '100m', '--cpus', '0.5', '--cpu-shares', '256', n]))
    expect(r.stdout).toBe(`${n}\n`)
    expect(cg('memory', id, 'memory.limit_in_bytes')).toBe(String(100 << 20))
    expect(cg('cpu', id, 'cpu.cfs_quota_us')).toBe('50000')
    expect(cg('cpu', id, 'cpu.shares')).toBe('256')
    expect(ok(await berth(['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}}', n])).stdout.trim()).toBe(`${100 << 20} 500000000 256`)
    // Seen from inside too.
    expect(ok(await berth(['exec', n, 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes'])).stdout.trim()).toBe(String(100 << 20))
  })

  it('through the docker CLI: pids limit, memory with swap, restart policy', async () => {
    const n = name('dupd')
    ok(await docker(['run', '-d', '--name', n, 'busybox', 'sleep', '1d']))
    const id = ok(await docker(['inspect', '-f', '{{.Id}}', n])).stdout.trim()
    const r = ok(await docker(['update', '--pids-limit', '20', '--memory', '80m', '--memory-swap', '160m', '--restart', 'on-failure:3', n]))
    expect(r.stdout).toBe(`${n}\n`)
    expect(cg('pids', id, 'pids.max')).toBe('20')
    expect(cg('memory', id, 'memory.limit_in_bytes')).toBe(String(80 << 20))
    expect(cg('memory', id, 'memory.memsw.limit_in_bytes')).toBe(String(160 << 20))
    expect(ok(await docker(['inspect', '-f', '{{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}', n])).stdout.trim()).toBe('20 on-failure 3')
    ok(await docker(['update', '--pids-limit', '-1', n]))
    expect(cg('pids', id, 'pids.max')).toBe('max')
  })

  it('a stopped container keeps the new limits for its next start', async () => {
    const n = name('stopped')
    ok(await berth(['create', '--name', n, '-m', '64m', 'busybox', 'sleep', '1d']))
    ok(await berth(['update', '-m', '96m', '--cpuset-cpus', '0', n]))
    ok(await berth(['start', n]))
    const id = ok(await berth(['inspect', '-f', '{{.Id}}', n])).stdout.trim()
    expect(cg('memory', id, 'memory.limit_in_bytes')).toBe(String(96 << 20))
    expect(cg('cpuset', id, 'cpuset.cpus')).toBe('0')
  })

  it('refuses what docker refuses and leaves the limits as they were', async () => {
    const n = name('refuse')
    ok(await berth(['run', '-d', '--name', n, '-m', '64m', 'busybox', 'sleep', '1d']))
    const id = ok(await berth(['inspect', '-f', '{{.Id}}', n])).stdout.trim()
    // 64m gets a 128m memory+swap limit: more memory needs more swap too.
    const big = await berth(['update', '-m', '256m', n])
    expect(big.code).toBe(1)
    expect(big.stderr).toBe(`Error response from daemon: Cannot update container ${id}: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time\n`)
    const small = await docker(['update', '-m', '4m', n])
    expect(small.code).toBe(1)
    expect(small.stderr).toContain('Minimum memory limit allowed is 6MB')
    expect(cg('memory', id, 'memory.limit_in_bytes')).toBe(String(64 << 20))
    const none = await berth(['update', n])
    expect(none.code).toBe(1)
    expect(none.stderr).toBe('you must provide one or more flags when using this command\n')
    const rm = name('autorm')
    ok(await berth(['run', '-d', '--rm', '--name', rm, 'busybox', 'sleep', '1d']))
    const auto = await berth(['update', '--restart', 'always', rm])
    expect(auto.stderr).toContain('Restart policy cannot be updated because AutoRemove is enabled for the container')
    const missingOne = await berth(['update', '-m', '100m', '--memory-swap', '200m', n, 'no-such-container-upd'])
    expect(missingOne.code).toBe(1)
    expect(missingOne.stdout).toBe(`${n}\n`)
    expect(missingOne.stderr).toBe('Error response from daemon: No such container: no-such-container-upd\n')
  })
})
