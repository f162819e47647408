import { execFile } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { get } from 'node:http'
import { freePort, missing, ok, waitFor } from '../../helpers.js'
import { PrivateDaemon } from '../system/helpers.js'

const skip = missing('root', 'daemon', 'docker-cli')

/** busybox httpd serving `body` on port 80, in the foreground. */
const httpd = (body: string) => `mkdir -p /w && echo ${body} > /w/index.html && httpd -f -p 80 -h /w`

function httpGet(url: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = get(url, { timeout: 1000 }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (text += c))
      res.on('end', () => resolve(text))
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(undefined))
  })
}

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr }))
  })
}

/** The host ids berthremap's root gets: its first range in /etc/subuid and /etc/subgid. */
function remappedRoot(): { uid: number; gid: number } {
  const first = (file: string) => {
    const line = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith('berthremap:'))
    if (!line) throw new Error(`berthd did not give berthremap a range in ${file}`)
    return Number(line.split(':')[1])
  }
  return { uid: first('/etc/subuid'), gid: first('/etc/subgid') }
}

describe.skipIf(skip)('berthd --userns-remap default', () => {
  const d = new PrivateDaemon({ 'userns-remap': 'default' })
  // A directory every container may write to, so ownership is the kernel's answer, not a permission error.
  const bind = mkdtempSync('/var/tmp/berth-userns-bind-')
  let root = { uid: -1, gid: -1 }
  beforeAll(async () => {
    // As dockerd, berthd refuses a data root the remapped root cannot get through.
    chmodSync(d.base, 0o711)
    chmodSync(bind, 0o777)
    await d.start()
    root = remappedRoot()
  })
  afterAll(async () => {
    await d.stop()
    rmSync(bind, { recursive: true, force: true })
  })

  it('runs root in the container as the remapped uid on the host', async () => {
    const out = ok(await d.docker(['run', '--rm', '-v', `${bind}:/b`, 'busybox', 'sh', '-c', 'id -u; cat /proc/self/uid_map; echo hi > /b/by-docker'])).stdout
    const [uid, map] = out.split('\n')
    expect(uid).toBe('0')
    expect(map?.trim().split(/\s+/)).toEqual(['0', String(root.uid), '65536'])
    expect(root.uid).toBeGreaterThan(0)
    const st = statSync(`${bind}/by-docker`)
    expect([st.uid, st.gid]).toEqual([root.uid, root.gid])
    ok(await d.berth(['run', '--rm', '-v', `${bind}:/b`, 'busybox', 'touch', '/b/by-berth']))
    expect(statSync(`${bind}/by-berth`).uid).toBe(root.uid)
  })

  it('shows the container its own network devices in /sys, read-only', async () => {
    const out = ok(await d.docker(['run', '--rm', 'busybox', 'sh', '-c', 'ls /sys/class/net; touch /sys/x 2>/dev/null || echo read-only'])).stdout
    expect(out.trim().split('\n')).toEqual(['eth0', 'lo', 'read-only'])
  })

  it('sets docker\'s default and the user\'s net sysctls in the container\'s network namespace', async () => {
    const out = ok(await d.docker(['run', '--rm', '--sysctl', 'net.ipv4.tcp_syncookies=0', 'busybox', 'cat', '/proc/sys/net/ipv4/ip_unprivileged_port_start', '/proc/sys/net/ipv4/tcp_syncookies'])).stdout
    expect(out.trim().split('\n')).toEqual(['0', '0'])
  })

  it('lets the remapped root write its rootfs and a new named volume, owned by it', async () => {
    const out = ok(await d.docker(['run', '--rm', '-v', 'uvol:/v', 'busybox', 'sh', '-c', 'echo x > /etc/new && echo y > /v/f && stat -c "%u %g" /etc/new /v /v/f'])).stdout
    expect(out.trim().split('\n')).toEqual(['0 0', '0 0', '0 0'])
    const mp = ok(await d.docker(['volume', 'inspect', '-f', '{{.Mountpoint}}', 'uvol'])).stdout.trim()
    expect(statSync(mp).uid).toBe(root.uid)
    expect(statSync(`${mp}/f`).uid).toBe(root.uid)
  })

  it('runs --userns=host containers without the user namespace', async () => {
    const out = ok(await d.docker(['run', '--name', 'hostns', '-v', `${bind}:/b`, '--userns=host', 'busybox', 'sh', '-c', 'cat /proc/self/uid_map; touch /b/from-host-ns'])).stdout
    expect(out.trim().split(/\s+/)).toEqual(['0', '0', '4294967295'])
    expect(statSync(`${bind}/from-host-ns`).uid).toBe(0)
    expect(ok(await d.docker(['inspect', '-f', '{{.HostConfig.UsernsMode}}', 'hostns'])).stdout.trim()).toBe('host')
  })

  it('commits a remapped container with the container\'s owners (uid 0, not the host\'s)', async () => {
    ok(await d.docker(['run', '--name', 'tocommit', 'busybox', 'sh', '-c', 'echo made > /made && touch /owned5 && chown 5:6 /owned5']))
    expect(ok(await d.docker(['diff', 'tocommit'])).stdout).toContain('A /made')
    ok(await d.docker(['commit', 'tocommit', 'userns-committed']))
    // Outside the user namespace the image's files show their stored owners.
    const plain = ok(await d.docker(['run', '--rm', '--userns=host', 'userns-committed', 'stat', '-c', '%n %u %g', '/made', '/owned5'])).stdout
    expect(plain.trim().split('\n')).toEqual(['/made 0 0', '/owned5 5 6'])
    // And a remapped container of the new image sees the same.
    const remapped = ok(await d.berth(['run', '--rm', 'userns-committed', 'stat', '-c', '%n %u %g', '/made', '/owned5'])).stdout
    expect(remapped.trim().split('\n')).toEqual(['/made 0 0', '/owned5 5 6'])
  })

  it('exports and copies with the container\'s owners, both ways', async () => {
    const tar = `${bind}/export.tar`
    ok(await d.docker(['export', '-o', tar, 'tocommit']))
    const list = ok(await run('tar', ['-tvf', tar, '--numeric-owner', 'made', 'owned5'])).stdout
    expect(list).toMatch(/^-\S+ 0\/0 .* made$/m)
    expect(list).toMatch(/^-\S+ 5\/6 .* owned5$/m)
    ok(await d.docker(['cp', 'tocommit:/made', `${bind}/copied-out`]))
    expect(readFileSync(`${bind}/copied-out`, 'utf8')).toBe('made\n')
    // Copied in as root on the host, the file is root's inside the container (not nobody's).
    ok(await d.docker(['create', '--name', 'cpin', 'busybox', 'stat', '-c', '%u %g', '/copied-in']))
    ok(await d.docker(['cp', `${bind}/copied-out`, 'cpin:/copied-in']))
    expect(ok(await d.docker(['start', '-a', 'cpin'])).stdout.trim()).toBe('0 0')
  })

  it('refuses what needs the host\'s namespaces unless --userns=host, with docker\'s errors', async () => {
    const priv = await d.docker(['run', '--rm', '--privileged', 'busybox', 'true'])
    expect(priv.code).not.toBe(0)
    expect(priv.stderr).toContain('privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode')
    expect((await d.docker(['run', '--rm', '--net=host', 'busybox', 'true'])).stderr).toContain("cannot share the host's network namespace when user namespaces are enabled")
    expect((await d.docker(['run', '--rm', '--pid=host', 'busybox', 'true'])).stderr).toContain('cannot share the host PID namespace when user namespaces are enabled')
    expect(ok(await d.docker(['run', '--rm', '--privileged', '--userns=host', 'busybox', 'echo', 'ok'])).stdout.trim()).toBe('ok')
  })

  /** The container's files under berthd's netns dir, and mounts of that dir left behind. */
  const netnsLeft = (id: string) => {
    const dir = `${d.execRoot}/netns/${id.slice(0, 12)}`
    const mounted = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === dir)
    return { exists: existsSync(dir), mounted }
  }

  it('runs exec, --pid and --ipc container:x in a remapped container (the runtime makes its network namespace)', async () => {
    ok(await d.docker(['run', '-d', '--name', 'ux', 'busybox', 'sleep', '1d']))
    expect(ok(await d.docker(['exec', 'ux', 'id', '-u'])).stdout.trim()).toBe('0')
    const map = ok(await d.berth(['exec', 'ux', 'cat', '/proc/self/uid_map'])).stdout
    expect(map.trim().split(/\s+/)).toEqual(['0', String(root.uid), '65536'])
    // The network namespace berth keeps for it is the container's own.
    const id = ok(await d.docker(['inspect', '-f', '{{.Id}}', 'ux'])).stdout.trim()
    const key = ok(await d.docker(['inspect', '-f', '{{.NetworkSettings.SandboxKey}}', 'ux'])).stdout.trim()
    expect(key).toBe(`${d.execRoot}/netns/${id.slice(0, 12)}`)
    const pid = Number(ok(await d.docker(['inspect', '-f', '{{.State.Pid}}', 'ux'])).stdout.trim())
    expect(statSync(key).ino).toBe(statSync(`/proc/${pid}/ns/net`).ino)
    const ps = ok(await d.docker(['run', '--rm', '--pid', 'container:ux', '--ipc', 'container:ux', 'busybox', 'ps', '-o', 'args'])).stdout
    expect(ps).toContain('sleep 1d')
    expect(ok(await d.berth(['run', '--rm', '--network', 'container:ux', 'busybox', 'cat', '/sys/class/net/eth0/address'])).stdout.trim()).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/)
  })

  it('gives a remapped container a new network namespace at each start, and leaves no mount behind', async () => {
    const id = ok(await d.docker(['inspect', '-f', '{{.Id}}', 'ux'])).stdout.trim()
    const pidOf = async () => Number(ok(await d.docker(['inspect', '-f', '{{.State.Pid}}', 'ux'])).stdout.trim())
    const before = await pidOf()
    ok(await d.docker(['restart', '-t', '0', 'ux']))
    const after = await pidOf()
    expect(after).not.toBe(before)
    // Namespace inode numbers are reused once freed: the file is compared with the new process's namespace.
    expect(statSync(`${d.execRoot}/netns/${id.slice(0, 12)}`).ino).toBe(statSync(`/proc/${after}/ns/net`).ino)
    expect(ok(await d.docker(['exec', 'ux', 'ls', '/sys/class/net'])).stdout.trim().split('\n')).toEqual(['eth0', 'lo'])
    ok(await d.docker(['stop', '-t', '0', 'ux']))
    expect(netnsLeft(id)).toEqual({ exists: false, mounted: false })
    ok(await d.docker(['start', 'ux']))
    expect(netnsLeft(id)).toEqual({ exists: true, mounted: true })
    ok(await d.docker(['rm', '-f', 'ux']))
    expect(netnsLeft(id)).toEqual({ exists: false, mounted: false })
  })

  it('networks remapped containers: names on a user network and a port published on 127.0.0.1', async () => {
    ok(await d.docker(['network', 'create', 'unet']))
    ok(await d.docker(['run', '-d', '--name', 'usrv', '--network', 'unet', 'busybox', 'sh', '-c', httpd('from-usrv')]))
    let last = ''
    const got = await waitFor(async () => {
      const r = await d.docker(['run', '--rm', '--network', 'unet', 'busybox', 'timeout', '5', 'wget', '-q', '-O', '-', 'http://usrv/'])
      last = r.stdout + r.stderr
      return r.code === 0 && r.stdout.trim() === 'from-usrv' ? r.stdout.trim() : undefined
    }, 20_000, 'usrv to answer by name').catch((err: unknown) => {
      throw new Error(`${String(err)}: ${last}`)
    })
    expect(got).toBe('from-usrv')
    const port = await freePort()
    ok(await d.docker(['run', '-d', '--name', 'upub', '-p', `127.0.0.1:${port}:80`, 'busybox', 'sh', '-c', httpd('from-upub')]))
    await waitFor(async () => ((await httpGet(`http://127.0.0.1:${port}/`))?.trim() === 'from-upub' ? true : undefined), 15_000, 'the published port to answer')
    // After a crash of berthd the containers run on; the new berthd finds their namespaces and ports.
    const id = ok(await d.docker(['inspect', '-f', '{{.Id}}', 'upub'])).stdout.trim()
    await d.kill()
    await d.restart()
    expect(netnsLeft(id)).toEqual({ exists: true, mounted: true })
    await waitFor(async () => ((await httpGet(`http://127.0.0.1:${port}/`))?.trim() === 'from-upub' ? true : undefined), 15_000, 'the published port to answer')
    expect(ok(await d.docker(['exec', 'upub', 'ls', '/sys/class/net'])).stdout.trim().split('\n')).toEqual(['eth0', 'lo'])
    // Connected while it runs, a remapped container gets the new interface in its (runtime-made) namespace.
    ok(await d.docker(['network', 'connect', 'unet', 'upub']))
    expect(ok(await d.docker(['exec', 'upub', 'ls', '/sys/class/net'])).stdout.trim().split('\n')).toEqual(['eth0', 'eth1', 'lo'])
    expect(ok(await d.docker(['exec', 'upub', 'timeout', '5', 'wget', '-q', '-O', '-', 'http://usrv/'])).stdout.trim()).toBe('from-usrv')
    ok(await d.docker(['rm', '-f', 'usrv', 'upub']))
    expect(netnsLeft(id)).toEqual({ exists: false, mounted: false })
    ok(await d.docker(['network', 'rm', 'unet']))
  })

  it('sets --sysctl net.ipv4.ip_forward and has no network with --network none', async () => {
    expect(ok(await d.docker(['run', '--rm', '--sysctl', 'net.ipv4.ip_forward=1', 'busybox', 'cat', '/proc/sys/net/ipv4/ip_forward'])).stdout.trim()).toBe('1')
    expect(ok(await d.docker(['run', '--rm', '--network', 'none', 'busybox', 'ls', '/sys/class/net'])).stdout.trim()).toBe('lo')
    expect(ok(await d.docker(['run', '--rm', '--network', 'host', '--userns', 'host', 'busybox', 'cat', '/proc/self/uid_map'])).stdout.trim().split(/\s+/)).toEqual(['0', '0', '4294967295'])
  })

  it('says so in info', async () => {
    const sec = JSON.parse(ok(await d.docker(['info', '--format', '{{json .SecurityOptions}}'])).stdout) as string[]
    expect(sec).toContain('name=userns')
  })
})
