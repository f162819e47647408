import { describe, expect, it } from 'vitest'
import { berth, containerNames, missing, ok, waitFor } from '../../helpers.js'

const skip = missing('root', 'daemon')

describe.skipIf(skip)('container lifecycle through the berth CLI', () => {
  const name = containerNames()

  it('runs a command and prints its output', async () => {
    const r = ok(await berth(['run', '--rm', 'busybox', 'echo', 'hello']))
    expect(r.stdout).toBe('hello\n')
  })

  it('exits with the container status', async () => {
    const r = await berth(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3'])
    expect(r.code).toBe(3)
    expect(r.stdout).toBe('out\n')
    expect(r.stderr).toBe('err\n')
  })

  it('reports a missing command with exit 127 and a missing image with 125', async () => {
    const r = await berth(['run', '--rm', 'busybox', 'no-such-cmd'])
    expect(r.code).toBe(127)
    expect(r.stderr).toMatch(/executable file not found|no such file/)
    const r2 = await berth(['run', '--rm', '127.0.0.1:9/no-such-image-here:1'])
    expect(r2.code).toBe(125)
    expect(r2.stderr).toContain("Unable to find image '127.0.0.1:9/no-such-image-here:1' locally")
  })

  it('passes stdin to -i containers', async () => {
    const r = ok(await berth(['run', '--rm', '-i', 'busybox', 'cat'], { input: 'data\nmore\n' }))
    expect(r.stdout).toBe('data\nmore\n')
  })

  it('runs detached, lists, inspects, logs, execs, stops and removes', async () => {
    const web = name('web')
    const id = ok(await berth(['run', '-d', '--name', web, 'busybox', 'sh', '-c', 'echo started; exec sleep 1d'])).stdout.trim()
    expect(id).toMatch(/^[0-9a-f]{64}$/)

    const ps = ok(await berth(['ps'])).stdout
    expect(ps.split('\n')[0]).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/)
    const row = ps.split('\n').find((l) => l.includes(web))
    expect(row).toMatch(new RegExp(`^${id.slice(0, 12)}\\s+busybox\\s+"sh -c 'echo started…"\\s+.*Up .*${web}$`))

    const pid = Number(ok(await berth(['inspect', '-f', '{{.State.Pid}}', web])).stdout.trim())
    expect(pid).toBeGreaterThan(1)
    expect(ok(await berth(['inspect', '-f', '{{.State.Status}} {{.Name}} {{.Config.Image}}', web])).stdout.trim()).toBe(`running /${web} busybox`)

    // any unique prefix of the ID works, as docker's "best match"
    expect(ok(await berth(['inspect', '-f', '{{.Id}}', id.slice(0, 8)])).stdout.trim()).toBe(id)

    await waitFor(async () => (await berth(['logs', web])).stdout.includes('started') || undefined, 5000, 'log line')
    expect(ok(await berth(['logs', web])).stdout).toBe('started\n')

    const ex = ok(await berth(['exec', web, 'sh', '-c', 'echo $HOSTNAME; cat /etc/hostname']))
    expect(ex.stdout).toBe(`${id.slice(0, 12)}\n${id.slice(0, 12)}\n`)
    expect((await berth(['exec', web, 'sh', '-c', 'exit 7'])).code).toBe(7)

    const top = ok(await berth(['top', web])).stdout
    expect(top).toMatch(/PID/)
    expect(top).toMatch(/sleep 1d/)

    const sized = ok(await berth(['container', 'ls', '-s', '--filter', `name=${web}`])).stdout
    expect(sized.split('\n')[0]).toMatch(/SIZE$/)
    expect(sized).toMatch(/\(virtual [\d.]+[kM]B\)/)

    const rmRunning = await berth(['rm', web])
    expect(rmRunning.code).toBe(1)
    expect(rmRunning.stderr).toMatch(/stop the container before removing or force remove/)

    ok(await berth(['stop', '-t', '1', web]))
    expect(ok(await berth(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', web])).stdout.trim()).toBe('exited 137')
    expect(ok(await berth(['ps', '-a', '--format', '{{.Names}} {{.Status}}', '--filter', `name=${web}`])).stdout).toMatch(/Exited \(137\)/)
    ok(await berth(['rm', web]))
    const gone = await berth(['inspect', web])
    expect(gone.code).toBe(1)
    expect(gone.stderr).toMatch(`No such object: ${web}`)
  })

  it('stops with SIGTERM when the process handles it', async () => {
    const n = name('term')
    ok(await berth(['run', '-d', '--name', n, 'busybox', 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done']))
    ok(await berth(['stop', n]))
    expect(ok(await berth(['inspect', '-f', '{{.State.ExitCode}}', n])).stdout.trim()).toBe('0')
  })

  it('refuses a duplicate name with docker conflict message (exit 1, as docker create)', async () => {
    const n = name('dup')
    ok(await berth(['create', '--name', n, 'busybox', 'true']))
    const r = await berth(['create', '--name', n, 'busybox', 'true'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(`Conflict. The container name "/${n}" is already in use by container`)
  })

  it('creates, starts, waits, restarts, renames and kills', async () => {
    const n = name('cycle')
    const id = ok(await berth(['create', '--name', n, '-e', 'A=1', '-w', '/tmp', '-u', 'nobody', '--hostname', 'boxy', 'busybox', 'sh', '-c', 'echo $A $(pwd) $(id -u) $(hostname)'])).stdout.trim()
    expect(ok(await berth(['ps', '-a', '--filter', `id=${id}`, '--format', '{{.Status}}'])).stdout.trim()).toBe('Created')
    ok(await berth(['start', n]))
    expect(ok(await berth(['wait', n])).stdout.trim()).toBe('0')
    expect(ok(await berth(['logs', n])).stdout).toBe('1 /tmp 65534 boxy\n')
    const n2 = name('renamed')
    ok(await berth(['rename', n, n2]))
    expect(ok(await berth(['inspect', '-f', '{{.Name}}', id])).stdout.trim()).toBe(`/${n2}`)

    const k = name('kill')
    ok(await berth(['run', '-d', '--name', k, 'busybox', 'sleep', '1000']))
    ok(await berth(['kill', '-s', 'KILL', k]))
    expect(ok(await berth(['wait', k])).stdout.trim()).toBe('137')
    ok(await berth(['restart', '-t', '0', k]))
    expect(ok(await berth(['inspect', '-f', '{{.State.Running}}', k])).stdout.trim()).toBe('true')
    const notRunning = await berth(['kill', n2])
    expect(notRunning.code).toBe(1)
    expect(notRunning.stderr).toMatch(/is not running/)
  })

  it('follows logs with timestamps and tails them', async () => {
    const n = name('logs')
    ok(await berth(['run', '-d', '--name', n, 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5; do echo line $i; done; sleep 0.3; echo late']))
    const f = ok(await berth(['logs', '-f', n]))
    expect(f.stdout).toBe('line 1\nline 2\nline 3\nline 4\nline 5\nlate\n')
    const p = name('partial')
    ok(await berth(['run', '--name', p, 'busybox', 'printf', 'no newline']))
    expect(ok(await berth(['logs', p])).stdout).toBe('no newline')
    const t = ok(await berth(['logs', '--tail', '2', '-t', n])).stdout.split('\n').filter(Boolean)
    expect(t).toHaveLength(2)
    expect(t[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z line 5$/)
    expect(t[1]).toMatch(/Z late$/)
  })

  it('restarts on failure as the policy says', async () => {
    const n = name('restart')
    ok(await berth(['run', '-d', '--name', n, '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 1']))
    await waitFor(async () => {
      const out = ok(await berth(['inspect', '-f', '{{.RestartCount}} {{.State.Status}}', n])).stdout.trim()
      return out === '2 exited' || undefined
    }, 15_000, 'two restarts')
  })

  it('runs with --init as PID 1 and host namespaces on request', async () => {
    const r = ok(await berth(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "']))
    expect(r.stdout).toMatch(/^\/sbin\/docker-init -- sh/)
    const pid1 = ok(await berth(['run', '--rm', 'busybox', 'sh', '-c', 'echo $$']))
    expect(pid1.stdout.trim()).toBe('1')
    expect(ok(await berth(['run', '--rm', '--privileged', 'busybox', 'sh', '-c', 'grep -c . /proc/self/status >/dev/null && echo ok'])).stdout).toBe('ok\n')
    const hostPid = ok(await berth(['run', '--rm', '--pid', 'host', 'busybox', 'sh', '-c', 'echo $$']))
    expect(Number(hostPid.stdout.trim())).toBeGreaterThan(1)
    const none = ok(await berth(['run', '--rm', '--network', 'none', 'busybox', 'ip', '-o', 'link']))
    expect(none.stdout).toMatch(/lo:/)
    expect(none.stdout).not.toMatch(/eth0/)
  })

  it('shares namespaces with the host and with other containers on request', async () => {
    const { readlinkSync, readFileSync } = await import('node:fs')
    const host = (kind: string) => readlinkSync(`/proc/self/ns/${kind}`)
    expect(ok(await berth(['run', '--rm', '--uts', 'host', 'busybox', 'hostname'])).stdout.trim()).toBe(readFileSync('/proc/sys/kernel/hostname', 'utf8').trim())
    expect(ok(await berth(['run', '--rm', '--network', 'host', 'busybox', 'readlink', '/proc/self/ns/net'])).stdout.trim()).toBe(host('net'))
    expect(ok(await berth(['run', '--rm', '--ipc', 'host', 'busybox', 'readlink', '/proc/self/ns/ipc'])).stdout.trim()).toBe(host('ipc'))
    const src = name('nsrc')
    ok(await berth(['run', '-d', '--name', src, '--ipc', 'shareable', 'busybox', 'sleep', '1d']))
    const srcIpc = ok(await berth(['exec', src, 'readlink', '/proc/self/ns/ipc'])).stdout.trim()
    const srcNet = ok(await berth(['exec', src, 'readlink', '/proc/self/ns/net'])).stdout.trim()
    expect(srcIpc).not.toBe(host('ipc'))
    expect(ok(await berth(['run', '--rm', '--ipc', `container:${src}`, 'busybox', 'readlink', '/proc/self/ns/ipc'])).stdout.trim()).toBe(srcIpc)
    expect(ok(await berth(['run', '--rm', '--network', `container:${src}`, 'busybox', 'readlink', '/proc/self/ns/net'])).stdout.trim()).toBe(srcNet)
    expect(ok(await berth(['run', '--rm', '--pid', `container:${src}`, 'busybox', 'ps'])).stdout).toMatch(/sleep 1d/)
  })

  it('prunes stopped containers', async () => {
    const n = name('prune')
    ok(await berth(['run', '--name', n, 'busybox', 'true']))
    const r = ok(await berth(['container', 'prune', '-f', '--filter', `label!=keep`]))
    expect(r.stdout).toMatch(/Deleted Containers:/)
    expect((await berth(['inspect', n])).code).toBe(1)
  })
})
