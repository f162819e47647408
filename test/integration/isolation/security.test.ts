/**
 * docker's security defaults, seen from inside containers: capabilities,
 * seccomp, no-new-privileges, masked and read-only paths, sysctls, groups,
 * read-only root. scripts/test runs this file again with crun as the default
 * runtime: both must behave the same.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { removeDaemonLeftovers } from '../../daemon-cleanup.js'
import { berth, containerNames, docker, missing, ok, repo, waitFor, type CmdResult } from '../../helpers.js'

const skip = missing('root', 'daemon')
const noDocker = missing('docker-cli')
/** docker's default capability set as /proc/<pid>/status shows it. */
const DOCKER_CAPS = '00000000a80425fb'
const hasBuiltinProfile = existsSync('/usr/share/containers/seccomp.json')

const status = (out: string, field: string) => new RegExp(`^${field}:\\s*(\\S+)`, 'm').exec(out)?.[1]
const run = (args: string[]) => berth(['run', '--rm', ...args])

describe.skipIf(skip)('security defaults', () => {
  const name = containerNames()

  it("runs with docker's capabilities, seccomp filter and no no-new-privileges", async () => {
    const out = ok(await run(['busybox', 'cat', '/proc/self/status'])).stdout
    expect(status(out, 'CapEff')).toBe(DOCKER_CAPS)
    expect(status(out, 'CapBnd')).toBe(DOCKER_CAPS)
    expect(status(out, 'NoNewPrivs')).toBe('0')
    if (hasBuiltinProfile) expect(status(out, 'Seccomp')).toBe('2')
  })

  it('--cap-add/--cap-drop with ALL, any case, with or without CAP_; unknown ones refused as docker', async () => {
    const only = ok(await run(['--cap-drop', 'ALL', '--cap-add', 'net_admin', '--cap-add', 'CAP_Kill', 'busybox', 'cat', '/proc/self/status'])).stdout
    expect(status(only, 'CapEff')).toBe('0000000000001020')
    const less = ok(await run(['--cap-drop', 'chown', '--cap-drop', 'CAP_NET_RAW', 'busybox', 'cat', '/proc/self/status'])).stdout
    expect(status(less, 'CapEff')).toBe('00000000a80405fa')
    const bad = await run(['--cap-add', 'foo', 'busybox', 'true'])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain('invalid CapAdd: unknown capability: "CAP_FOO"')
  })

  it('mount is denied by default, allowed with --privileged and with --cap-add SYS_ADMIN', async () => {
    const script = 'mkdir -p /m && mount -t tmpfs none /m && echo mounted'
    const denied = await run(['busybox', 'sh', '-c', script])
    expect(denied.code).not.toBe(0)
    expect(denied.stderr).toMatch(/permission denied/)
    expect(ok(await run(['--privileged', 'busybox', 'sh', '-c', script])).stdout).toBe('mounted\n')
    expect(ok(await run(['--cap-add', 'SYS_ADMIN', '--security-opt', 'seccomp=unconfined', 'busybox', 'sh', '-c', script])).stdout).toBe('mounted\n')
  })

  it.skipIf(!hasBuiltinProfile)('seccomp refuses unshare without CAP_SYS_ADMIN; seccomp=unconfined lifts it', async () => {
    // A user namespace needs no capability: only the profile stands in the way, as in docker.
    const script = 'grep Seccomp: /proc/self/status; unshare -U true && echo unshared'
    const filtered = await run(['busybox', 'sh', '-c', script])
    expect(filtered.code).not.toBe(0)
    expect(filtered.stderr).toContain('Operation not permitted')
    const free = ok(await run(['--security-opt', 'seccomp=unconfined', 'busybox', 'sh', '-c', script])).stdout
    expect(free).toMatch(/Seccomp:\s*0\nunshared\n/)
  })

  it.skipIf(!hasBuiltinProfile)('--privileged: every capability, no seccomp, no masked paths, writable /sys', async () => {
    const out = ok(await run(['--privileged', 'busybox', 'sh', '-c', 'cat /proc/self/status; grep " /sys " /proc/mounts; ls /dev'])).stdout
    // The host's devices, which a default container does not see.
    if (existsSync('/dev/kmsg')) expect(out.split('\n')).toContain('kmsg')
    expect(BigInt(`0x${status(out, 'CapEff')}`) & BigInt(`0x${DOCKER_CAPS}`)).toBe(BigInt(`0x${DOCKER_CAPS}`))
    expect(BigInt(`0x${status(out, 'CapEff')}`) > BigInt(`0x${DOCKER_CAPS}`)).toBe(true)
    expect(status(out, 'Seccomp')).toBe('0')
    expect(out).toMatch(/ \/sys sysfs rw,/)
  })

  it('no-new-privileges, in the container and in its execs', async () => {
    const n = name('nnp')
    ok(await berth(['run', '-d', '--name', n, '--security-opt', 'no-new-privileges', 'busybox', 'sleep', '1d']))
    expect(status(ok(await berth(['exec', n, 'cat', '/proc/self/status'])).stdout, 'NoNewPrivs')).toBe('1')
    if (hasBuiltinProfile) {
      const e = await berth(['exec', n, 'unshare', '-U', 'true'])
      expect(e.code).not.toBe(0)
    }
    expect(status(ok(await run(['--security-opt', 'no-new-privileges=false', 'busybox', 'cat', '/proc/self/status'])).stdout, 'NoNewPrivs')).toBe('0')
  })

  it('masks /proc and /sys paths and keeps /proc/sys read-only; systempaths=unconfined and --privileged lift both', async () => {
    const script = 'wc -c < /proc/timer_list; ls /sys/firmware | wc -l; echo 1 > /proc/sys/kernel/shmmni && echo wrote'
    const confined = await run(['busybox', 'sh', '-c', script])
    const [size, firmware] = confined.stdout.split('\n')
    expect(confined.stderr).toContain('Read-only file system')
    expect(size?.trim()).toBe('0')
    expect(firmware?.trim()).toBe('0')
    expect(confined.stdout).not.toContain('wrote')
    const hostHasTimerList = existsSync('/proc/timer_list')
    for (const opt of [['--security-opt', 'systempaths=unconfined'], ['--privileged']]) {
      const open = ok(await run([...opt, 'busybox', 'sh', '-c', script])).stdout.split('\n')
      if (hostHasTimerList) expect(Number(open[0]), opt.join(' ')).toBeGreaterThan(0)
      expect(open).toContain('wrote')
    }
  })

  it('--sysctl: namespaced ones apply, others are refused with runc\'s message under either runtime', async () => {
    expect(ok(await run(['--sysctl', 'net.ipv4.ip_forward=1', 'busybox', 'cat', '/proc/sys/net/ipv4/ip_forward'])).stdout).toBe('1\n')
    expect(ok(await run(['--sysctl', 'kernel.shmmni=1234', 'busybox', 'cat', '/proc/sys/kernel/shmmni'])).stdout).toBe('1234\n')
    // docker's own defaults for a container with its own network namespace.
    expect(ok(await run(['busybox', 'cat', '/proc/sys/net/ipv4/ip_unprivileged_port_start'])).stdout).toBe('0\n')
    const host = await run(['--network', 'host', '--sysctl', 'net.ipv4.ip_forward=1', 'busybox', 'true'])
    expect(host.code).not.toBe(0)
    expect(host.stderr).toContain('sysctl "net.ipv4.ip_forward" not allowed in host network namespace')
    const ipc = await run(['--ipc', 'host', '--sysctl', 'kernel.shmmax=4096', 'busybox', 'true'])
    expect(ipc.code).not.toBe(0)
    expect(ipc.stderr).toContain('sysctl "kernel.shmmax" is not allowed in the hosts ipc namespace')
  })

  it('--group-add by name from the image\'s /etc/group or by number; an unknown name is refused', async () => {
    expect(ok(await run(['--group-add', 'daemon', '--group-add', '4242', 'busybox', 'id'])).stdout).toBe('uid=0(root) gid=0(root) groups=0(root),1(daemon),10(wheel),4242\n')
    expect(ok(await run(['-u', 'nobody', '--group-add', 'staff', 'busybox', 'id'])).stdout).toBe('uid=65534(nobody) gid=65534(nogroup) groups=50(staff),65534(nogroup)\n')
    const bad = await run(['--group-add', 'nosuch', 'busybox', 'true'])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain('Unable to find group nosuch: no matching entries in group file')
  })

  it('--read-only: the root filesystem refuses writes, /dev/shm and tmpfs mounts do not', async () => {
    const r = await run(['--read-only', '--tmpfs', '/scratch', 'busybox', 'sh', '-c', 'touch /x; touch /dev/shm/x && touch /scratch/x && echo ok'])
    expect(r.stderr).toContain("touch: /x: Read-only file system")
    expect(r.stdout).toBe('ok\n')
  })

  it('--security-opt: docker\'s errors; apparmor and label accepted on a host without them', async () => {
    const bad = await run(['--security-opt', 'foo=bar', 'busybox', 'true'])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain('invalid --security-opt 2: "foo=bar"')
    const nnp = await run(['--security-opt', 'no-new-privileges=maybe', 'busybox', 'true'])
    expect(nnp.stderr).toContain('invalid --security-opt 2: "no-new-privileges=maybe"')
    expect(ok(await run(['--security-opt', 'apparmor=unconfined', '--security-opt', 'label=disable', 'busybox', 'echo', 'ok'])).stdout).toBe('ok\n')
  })
})

describe.skipIf(skip || noDocker)('security through the docker CLI', () => {
  it('info reports the seccomp profile', async () => {
    const opts = JSON.parse(ok(await docker(['info', '--format', '{{json .SecurityOptions}}'])).stdout) as string[]
    if (hasBuiltinProfile) expect(opts).toContain('name=seccomp,profile=builtin')
    else expect(opts.some((o) => o.startsWith('name=seccomp'))).toBe(false)
  })

  it('seccomp=<file>: the CLI sends the profile inline and the container runs under it', async () => {
    const dir = mkdtempSync('/tmp/berth-seccomp-')
    const file = path.join(dir, 'no-mkdir.json')
    writeFileSync(file, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] }))
    try {
      for (const cli of [docker, berth]) {
        const r = await cli(['run', '--rm', '--security-opt', `seccomp=${file}`, 'busybox', 'sh', '-c', 'mkdir /x || echo refused'])
        expect(r.stdout).toBe('refused\n')
        expect(r.stderr).toContain("can't create directory '/x': Permission denied")
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('systempaths=unconfined arrives as empty MaskedPaths; --privileged shows none; sysctls refused by the CLI', async () => {
    const out = ok(await docker(['run', '--rm', '--security-opt', 'systempaths=unconfined', 'busybox', 'sh', '-c', 'echo 1 > /proc/sys/kernel/shmmni && echo wrote'])).stdout
    expect(out).toBe('wrote\n')
    const c = ok(await docker(['create', '--privileged', 'busybox'])).stdout.trim()
    try {
      expect(ok(await docker(['inspect', '-f', '{{json .HostConfig.MaskedPaths}} {{json .HostConfig.ReadonlyPaths}}', c])).stdout.trim()).toBe('null null')
    } finally {
      await docker(['rm', c])
    }
    const bad = await docker(['run', '--rm', '--sysctl', 'kernel.pid_max=100', 'busybox', 'true'])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain("sysctl 'kernel.pid_max=100' is not allowed")
  })
})

/** A berthd of this file's own, for daemon.json settings the suite's daemon must not get. */
describe.skipIf(skip)('daemon.json seccomp-profile and no-new-privileges', () => {
  const base = mkdtempSync('/var/tmp/berth-sec-')
  const execRoot = `/run/bsec${process.pid}`
  const bridge = `bsc${process.pid % 100000}`
  const sock = path.join(execRoot, 'berth.sock')
  const own = (args: string[]): Promise<CmdResult> =>
    new Promise((resolve) => {
      const child = spawn(path.join(repo, 'bin/berth'), args, { env: { ...process.env, BERTH_HOST: `unix://${sock}` } })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()))
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
      child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }))
    })
  let pid = 0

  beforeAll(async () => {
    mkdirSync(execRoot, { recursive: true })
    const cfg = path.join(base, 'daemon.json')
    writeFileSync(cfg, JSON.stringify({ bridge, 'seccomp-profile': 'unconfined', 'no-new-privileges': true }))
    const runtime = process.env.BERTH_TEST_RUNTIME
    const out = openSync(path.join(base, 'berthd.log'), 'a')
    const child = spawn(path.join(repo, 'bin/berthd'), ['--data-root', path.join(base, 'data'), '--exec-root', execRoot, '--config-file', cfg, ...(runtime ? ['--default-runtime', runtime] : [])], {
      stdio: ['ignore', out, out],
      detached: true,
    })
    child.unref()
    pid = child.pid ?? 0
    await waitFor(async () => ((await own(['version'])).code === 0 ? true : undefined), 20_000, 'the second berthd')
    await new Promise<void>((resolve, reject) => {
      const sh = spawn('sh', ['-c', `"${repo}/scripts/busybox-rootfs" | "${repo}/bin/berth" import -c 'CMD ["sh"]' - busybox:latest`], { env: { ...process.env, BERTH_HOST: `unix://${sock}` }, stdio: 'ignore' })
      sh.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`busybox import exited ${code}`))))
    })
  })

  afterAll(async () => {
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGTERM')
        await waitFor(() => {
          try {
            process.kill(pid, 0)
            return undefined
          } catch {
            return true
          }
        }, 15_000, 'the second berthd to stop')
      } catch {
        // already gone
      }
    }
    await removeDaemonLeftovers(base, bridge, execRoot)
  })

  it('info says so; containers run unconfined with no-new-privileges unless they opt out', async () => {
    const info = JSON.parse(ok(await own(['info', '--format', '{{json .}}'])).stdout) as { SecurityOptions: string[]; Warnings: string[] | null }
    expect(info.SecurityOptions).toEqual(['name=seccomp,profile=unconfined', 'name=no-new-privileges'])
    expect(info.Warnings).toContain('WARNING: daemon is not using the default seccomp profile')
    const out = ok(await own(['run', '--rm', '--network', 'none', 'busybox', 'cat', '/proc/self/status'])).stdout
    expect(status(out, 'Seccomp')).toBe('0')
    expect(status(out, 'NoNewPrivs')).toBe('1')
    const optOut = ok(await own(['run', '--rm', '--network', 'none', '--security-opt', 'no-new-privileges=false', '--security-opt', 'seccomp=builtin', 'busybox', 'cat', '/proc/self/status'])).stdout
    expect(status(optOut, 'NoNewPrivs')).toBe('0')
    if (hasBuiltinProfile) expect(status(optOut, 'Seccomp')).toBe('2')
  })
})
