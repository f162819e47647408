/**
 * Resource limits of run/create: each seen where a user would look, inside
 * the container or in its cgroup on the host (cgroup v1 and hybrid hosts:
 * /sys/fs/cgroup/<controller>/berth/<id>); docker's refusals and warnings.
 */
import { existsSync, readFileSync, statSync } from 'node:fs'
import os from 'node:os'
import { describe, expect, it } from 'vitest'
import { berth, containerNames, docker, missing, ok } from '../../helpers.js'

const v1 = existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes')
const skip = missing('root', 'daemon', 'docker-cli') ?? (v1 ? undefined : 'the limit files read here are cgroup v1 ones')
if (!skip && !v1) console.warn('skipping: the limit files read here are cgroup v1 ones')

const cg = (ctl: string, id: string, file: string): string => readFileSync(`/sys/fs/cgroup/${ctl}/berth/${id}/${file}`, 'utf8').trim()

/** A block device of the host, for the blkio throttles (the cgroup files only: nothing reads the disk). */
function hostDisk(): { path: string; majMin: string } | undefined {
  for (const line of readFileSync('/proc/partitions', 'utf8').split('\n').slice(2)) {
    const [maj, min, , name] = line.trim().split(/\s+/)
    if (!name || name.startsWith('loop') || name.startsWith('ram')) continue
    const p = `/dev/${name}`
    if (existsSync(p) && statSync(p).isBlockDevice()) return { path: p, majMin: `${maj}:${min}` }
  }
  return undefined
}

describe.skipIf(skip)('resource limits', () => {
  const name = containerNames()

  it('memory, swap, CPUs, pids, ulimits and /dev/shm as the container sees them', async () => {
    const r = ok(await berth(['run', '--rm', '-m', '64m', '--memory-swap', '96m', '--cpus', '0.5', '--pids-limit', '50',
      '--ulimit', 'nofile=512:1024', '--shm-size', '32m', 'busybox', 'sh', '-c',
      'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us /sys/fs/cgroup/pids/pids.max; ulimit -n; ulimit -Hn; df -k /dev/shm | tail -1']))
    const [mem, memsw, quota, period, pids, soft, hard, shm = ''] = r.stdout.trim().split('\n')
    expect([mem, memsw, quota, period, pids, soft, hard]).toEqual([String(64 << 20), String(96 << 20), '50000', '100000', '50', '512', '1024'])
    expect(shm.split(/\s+/)[1]).toBe('32768')
  })

  it('shares, cpuset, reservation, swappiness, OOM killer and block IO throttles in the host cgroup; inspect shows them', async () => {
    const n = name('cg')
    const disk = hostDisk()
    const throttles = disk ? ['--device-read-bps', `${disk.path}:1mb`, '--device-write-iops', `${disk.path}:100`] : []
    ok(await berth(['run', '-d', '--name', n, '-c', '512', '--cpuset-cpus', '0', '-m', '64m', '--memory-reservation', '32m',
      '--memory-swappiness', '10', '--oom-kill-disable', '--oom-score-adj', '200', ...throttles, 'busybox', 'sleep', '1d']))
    const id = ok(await berth(['inspect', '-f', '{{.Id}}', n])).stdout.trim()
    expect(cg('cpu', id, 'cpu.shares')).toBe('512')
    expect(cg('cpuset', id, 'cpuset.cpus')).toBe('0')
    expect(cg('memory', id, 'memory.soft_limit_in_bytes')).toBe(String(32 << 20))
    expect(cg('memory', id, 'memory.swappiness')).toBe('10')
    expect(cg('memory', id, 'memory.oom_control')).toMatch(/^oom_kill_disable 1$/m)
    if (disk) {
      expect(cg('blkio', id, 'blkio.throttle.read_bps_device')).toBe(`${disk.majMin} 1048576`)
      expect(cg('blkio', id, 'blkio.throttle.write_iops_device')).toBe(`${disk.majMin} 100`)
    }
    const pid = ok(await berth(['inspect', '-f', '{{.State.Pid}}', n])).stdout.trim()
    expect(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8').trim()).toBe('200')
    const hc = JSON.parse(ok(await berth(['inspect', '-f', '{{json .HostConfig}}', n])).stdout) as Record<string, unknown>
    expect(hc).toMatchObject({ CpuShares: 512, CpusetCpus: '0', Memory: 64 << 20, MemorySwap: 128 << 20, MemoryReservation: 32 << 20, MemorySwappiness: 10, OomKillDisable: true, OomScoreAdj: 200 })
    if (disk) expect(hc.BlkioDeviceReadBps).toEqual([{ Path: disk.path, Rate: 1048576 }])
  })

  it('--pids-limit stops forks beyond it', async () => {
    const r = await berth(['run', '--rm', '--pids-limit', '5', 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; echo all-forked; wait'])
    expect(r.stderr).toContain("can't fork")
    expect(r.stdout).not.toContain('all-forked')
    // Without the limit the same loop forks every sleep.
    expect(ok(await berth(['run', '--rm', 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do sleep 0 & done; echo all-forked; wait'])).stdout).toContain('all-forked')
  })

  it('--device puts the host node in the container with its permissions; --device-cgroup-rule allows a node made with mknod', async () => {
    const r = ok(await berth(['run', '--rm', '--device', '/dev/null:/dev/mynull', 'busybox', 'sh', '-c', 'test -c /dev/mynull && echo hi > /dev/mynull && echo usable']))
    expect(r.stdout.trim()).toBe('usable')
    // /dev/kmsg (1:11) is outside docker's default device rules; reading it needs CAP_SYSLOG where dmesg is restricted.
    const ro = await berth(['run', '--rm', '--cap-add', 'syslog', '--device', '/dev/kmsg:/dev/xk:r', 'busybox', 'sh', '-c', 'dd if=/dev/xk of=/dev/null bs=4096 count=1 2>/dev/null && echo read-ok; exec 3>>/dev/xk && echo write-ok'])
    expect(ro.stdout).toContain('read-ok')
    expect(ro.stdout).not.toContain('write-ok')
    expect(ro.stderr).toMatch(/not permitted/i)
    const mk = 'mknod /tmp/k c 1 11 && dd if=/tmp/k of=/dev/null bs=4096 count=1 2>/dev/null && echo read-ok'
    expect((await berth(['run', '--rm', '--cap-add', 'syslog', 'busybox', 'sh', '-c', mk])).stdout).not.toContain('read-ok')
    expect(ok(await berth(['run', '--rm', '--cap-add', 'syslog', '--device-cgroup-rule', 'c 1:11 r', 'busybox', 'sh', '-c', mk])).stdout).toContain('read-ok')
  })

  it('refuses what docker refuses, with its messages and exit codes', async () => {
    const small = await berth(['run', '--rm', '-m', '4m', 'busybox', 'true'])
    expect(small.code).toBe(125)
    expect(small.stderr).toContain('Error response from daemon: Minimum memory limit allowed is 6MB')
    const swap = await docker(['create', '-m', '64m', '--memory-swap', '32m', 'busybox'])
    expect(swap.code).toBe(1)
    expect(swap.stderr).toContain('Minimum memoryswap limit should be larger than memory limit, see usage')
    const cpus = os.availableParallelism()
    const many = await berth(['run', '--rm', '--cpus', String(cpus + 1), 'busybox', 'true'])
    expect(many.stderr).toContain(`range of CPUs is from 0.01 to ${cpus}.00, as there are only ${cpus} CPUs available`)
    const set = await berth(['create', '--cpuset-cpus', String(cpus + 3), 'busybox'])
    expect(set.code).toBe(1)
    expect(set.stderr).toContain(`Requested CPUs are not available - requested ${cpus + 3}`)
    const bad = await berth(['run', '--rm', '--cpus', 'lots', 'busybox', 'true'])
    expect(bad.code).toBe(125)
    expect(bad.stderr).toContain('invalid argument "lots" for "--cpus" flag: failed to parse lots as a rational number')
  })

  it('warns as docker does, through both CLIs, and discards what this kernel cannot do', async () => {
    const n = name('warn')
    const r = ok(await docker(['create', '--name', n, '--oom-kill-disable', 'busybox']))
    expect(r.stderr).toContain('WARNING: OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.')
    if (existsSync('/sys/fs/cgroup/blkio/blkio.weight')) return
    const w = name('weight')
    const b = ok(await berth(['create', '--name', w, '--blkio-weight', '300', 'busybox']))
    expect(b.stderr).toContain('WARNING: Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.')
    expect(ok(await berth(['inspect', '-f', '{{.HostConfig.BlkioWeight}}', w])).stdout.trim()).toBe('0')
  })

  it('the docker CLI sets limits the same way', async () => {
    const r = ok(await docker(['run', '--rm', '--memory', '48m', '--cpu-quota', '20000', '--cpu-period', '50000', '--ulimit', 'nproc=64', 'busybox', 'sh', '-c',
      'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us; ulimit -u']))
    expect(r.stdout.trim().split('\n')).toEqual([String(48 << 20), '20000', '50000', '64'])
  })

  it('--cpu-shares divides one busy CPU between two containers in proportion (loosely)', async () => {
    const hi = name('shares-hi')
    const lo = name('shares-lo')
    const spin = ['busybox', 'sh', '-c', 'while :; do :; done']
    ok(await berth(['run', '-d', '--name', hi, '--cpuset-cpus', '0', '--cpu-shares', '1024', ...spin]))
    ok(await berth(['run', '-d', '--name', lo, '--cpuset-cpus', '0', '--cpu-shares', '256', ...spin]))
    const ids = await Promise.all([hi, lo].map(async (n) => ok(await berth(['inspect', '-f', '{{.Id}}', n])).stdout.trim()))
    const usage = () => ids.map((id) => Number(cg('cpuacct', id, 'cpuacct.usage')))
    const before = usage()
    await new Promise((r) => setTimeout(r, 3000))
    const after = usage()
    ok(await berth(['rm', '-f', hi, lo]))
    const [dHi = 0, dLo = 1] = after.map((a, i) => a - (before[i] ?? 0))
    expect(dLo).toBeGreaterThan(0)
    expect(dHi / dLo).toBeGreaterThan(2)
  }, 30_000)
})
