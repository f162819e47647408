// Drives ConmonRuntime against real runc and crun with a busybox rootfs.
// Needs root, conmon and the runtimes; skips with the reason otherwise.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { execFileSync } from 'node:child_process'
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  ConmonRuntime,
  StartError,
  buildSpec,
  resolveUser,
  type AttachStream,
  type ExitInfo,
  type SpecOptions,
} from '../../../src/runtime/index.js'
import { nullLogger } from '../../../src/lib/index.js'

const runtimes: Record<string, string> = { runc: '/usr/bin/runc', crun: '/usr/bin/crun' }
const isRoot = process.getuid?.() === 0
const hasConmon = existsSync('/usr/bin/conmon')

let tmp = ''
let rootfs = ''

beforeAll(() => {
  if (!isRoot || !hasConmon) return
  tmp = mkdtempSync(path.join(os.tmpdir(), 'berth-rt-'))
  rootfs = path.join(tmp, 'rootfs')
  mkdirSync(path.join(rootfs, 'bin'), { recursive: true })
  copyFileSync('/usr/bin/busybox', path.join(rootfs, 'bin/busybox'))
  chmodSync(path.join(rootfs, 'bin/busybox'), 0o755)
  execFileSync('chroot', [rootfs, '/bin/busybox', '--install', '-s', '/bin'])
  mkdirSync(path.join(rootfs, 'etc'))
  writeFileSync(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n')
  writeFileSync(path.join(rootfs, 'etc/group'), 'root:x:0:\nstaff:x:50:nobody\nnogroup:x:65534:\n')
  mkdirSync(path.join(rootfs, 'tmp'))
  chmodSync(path.join(rootfs, 'tmp'), 0o1777)
  for (const d of ['proc', 'sys', 'dev', 'root']) mkdirSync(path.join(rootfs, d))
})

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true })
})

function collect(a: AttachStream) {
  const out = { stdout: '', stderr: '' }
  a.onData((s, c) => {
    out[s] += c.toString('utf8')
  })
  return out
}

let seq = 0
for (const [name, bin] of Object.entries(runtimes)) {
  const reason = !isRoot ? 'needs root' : !hasConmon ? 'conmon not installed' : !existsSync(bin) ? `${bin} not installed` : ''
  if (reason) console.log(`skipping ${name} runtime tests: ${reason}`)

  describe.skipIf(reason !== '')(`runtime ${name}`, () => {
    let rt: ConmonRuntime
    let execRoot: string

    beforeAll(() => {
      execRoot = path.join(tmp, `run-${name}`)
      rt = newRuntime()
    })
    afterAll(() => rt.close())

    const newRuntime = () => new ConmonRuntime({ execRoot, logger: nullLogger, runtimes: { [name]: { path: bin } } })
    const newId = (label: string) => `t${++seq}-${label}-${name}`
    const logPath = (id: string) => path.join(tmp, 'logs', `${id}.log`)

    async function create(id: string, args: string[], o: Partial<SpecOptions> & { stdin?: boolean; stdinOnce?: boolean } = {}, r = rt) {
      const spec = buildSpec({ id, rootfs, args, ...o })
      return r.create({
        id,
        spec,
        runtime: name,
        tty: o.tty ?? false,
        openStdin: o.stdin ?? false,
        stdinOnce: o.stdinOnce ?? false,
        logPath: logPath(id),
      })
    }

    /** create, attach, start, wait: the `docker run` path. */
    async function runIt(label: string, args: string[], o: Partial<SpecOptions> & { stdin?: boolean } = {}) {
      const id = newId(label)
      await create(id, args, o)
      const a = await rt.attach(id, { stdin: false })
      const out = collect(a)
      const exited = rt.wait(id)
      await rt.start(id)
      const exit = await exited
      await a.ended
      await rt.delete(id)
      expectGone(id)
      return { ...out, exit, id }
    }

    function expectGone(id: string) {
      expect(existsSync(path.join(execRoot, 'containers', id))).toBe(false)
      expect(existsSync(path.join(execRoot, 'exits', id))).toBe(false)
      expect(existsSync(path.join(execRoot, 'runtime', name, id))).toBe(false)
      for (const ctl of ['memory', 'pids', 'cpu', 'devices', 'freezer']) {
        expect(existsSync(`/sys/fs/cgroup/${ctl}/berth/${id}`)).toBe(false)
      }
      const conmons = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
        try {
          const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8')
          return cmd.includes('conmon') && cmd.split('\0').includes(id)
        } catch {
          return false
        }
      })
      expect(conmons).toEqual([])
    }

    test('echo hello: attach before start, exit 0, k8s-file log', async () => {
      const r = await runIt('echo', ['echo', 'hello'])
      expect(r.stdout).toBe('hello\n')
      expect(r.stderr).toBe('')
      expect(r.exit.exitCode).toBe(0)
      expect(r.exit.exitedAt.getTime()).toBeGreaterThan(Date.now() - 60_000)
      const log = readFileSync(logPath(r.id), 'utf8')
      expect(log).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+[+-]\d\d:\d\d stdout F hello\n$/)
    })

    test('exit code and stderr', async () => {
      const r = await runIt('exit3', ['sh', '-c', 'echo out; echo err >&2; exit 3'])
      expect(r.exit.exitCode).toBe(3)
      expect(r.stdout).toBe('out\n')
      expect(r.stderr).toBe('err\n')
      const log = readFileSync(logPath(r.id), 'utf8').trim().split('\n')
      expect(log.map((l) => l.split(' ').slice(1).join(' ')).sort()).toEqual(['stderr F err', 'stdout F out'])
    })

    test('a command that does not exist fails create with 127 and leaves nothing', async () => {
      const id = newId('enoent')
      const err = await create(id, ['/no/such/binary']).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(StartError)
      expect((err as StartError).exitCode).toBe(127)
      expect((err as StartError).message).toMatch(/OCI runtime create failed: .*(no such file|not found)/i)
      expectGone(id)
    })

    test('tty container output arrives, resize applies', async () => {
      const id = newId('tty')
      await create(id, ['sh', '-c', 'tty; sleep 0.3; stty size'], { tty: true, consoleSize: { height: 24, width: 80 } })
      const a = await rt.attach(id, { stdin: false })
      const out = collect(a)
      const exited = rt.wait(id)
      await rt.start(id)
      await rt.resize(id, { height: 40, width: 100 })
      expect((await exited).exitCode).toBe(0)
      await a.ended
      expect(out.stdout).toMatch(/^\/dev\/pts\/\d+\r\n40 100\r\n$/)
      await rt.delete(id)
      expectGone(id)
    })

    test('stdin: cat gets data and exits when stdin closes (StdinOnce)', async () => {
      const id = newId('cat')
      await create(id, ['cat'], { stdin: true, stdinOnce: true })
      const a = await rt.attach(id, { stdin: true })
      const out = collect(a)
      const exited = rt.wait(id)
      await rt.start(id)
      await a.writeStdin(Buffer.from('ping\n'))
      await a.writeStdin(Buffer.alloc(100_000, 'x'))
      a.closeStdin()
      expect((await exited).exitCode).toBe(0)
      await a.ended
      expect(out.stdout).toBe('ping\n' + 'x'.repeat(100_000))
      await rt.delete(id)
      expectGone(id)
    })

    test('several attach clients see the same output', async () => {
      const id = newId('multi')
      await create(id, ['sh', '-c', 'echo one; echo two >&2'])
      const a = await rt.attach(id, { stdin: false })
      const b = await rt.attach(id, { stdin: false })
      const oa = collect(a)
      const ob = collect(b)
      await rt.start(id)
      await Promise.all([a.ended, b.ended])
      expect(oa).toEqual({ stdout: 'one\n', stderr: 'two\n' })
      expect(ob).toEqual(oa)
      expect((await rt.wait(id)).exitCode).toBe(0)
      await rt.delete(id)
    })

    test('user from /etc/passwd with supplementary groups, and --init', async () => {
      const user = await resolveUser(rootfs, 'nobody')
      const r = await runIt('user', ['sh', '-c', 'id -u; id -G; tr "\\0" " " < /proc/1/cmdline'], { user, init: true })
      expect(r.exit.exitCode).toBe(0)
      const [uid, groups, cmdline] = r.stdout.split('\n')
      expect(uid).toBe('65534')
      expect(groups!.split(' ').sort()).toEqual(['50', '65534'])
      expect(cmdline).toMatch(/^\/sbin\/docker-init -- sh -c/)
    })

    test('kill with SIGTERM (trapped) and SIGKILL; states', async () => {
      const t = newId('term')
      await create(t, ['sh', '-c', 'trap "exit 7" TERM; while :; do sleep 0.05; done'])
      expect((await rt.state(t)).status).toBe('created')
      await rt.start(t)
      const st = await rt.state(t)
      expect(st.status).toBe('running')
      expect(st.pid).toBeGreaterThan(1)
      await expect(rt.delete(t)).rejects.toThrow(/running/)
      await rt.kill(t, 'TERM')
      expect((await rt.wait(t)).exitCode).toBe(7)
      expect((await rt.state(t)).status).toBe('stopped')
      await rt.delete(t)
      expectGone(t)

      const k = newId('kill')
      await create(k, ['sleep', '1000'])
      await rt.start(k)
      await rt.kill(k, 9)
      expect((await rt.wait(k)).exitCode).toBe(137)
      await rt.delete(k)
      expectGone(k)
    })

    test('delete --force of a running container and delete of a created one', async () => {
      const a = newId('force')
      await create(a, ['sleep', '1000'])
      await rt.start(a)
      await rt.delete(a, { force: true })
      expectGone(a)
      const b = newId('created')
      await create(b, ['sleep', '1000'])
      await rt.delete(b)
      expectGone(b)
    })

    describe('exec', () => {
      let id: string
      beforeAll(async () => {
        id = newId('execbox')
        await create(id, ['sleep', '1000'])
        await rt.start(id)
      })
      afterAll(async () => {
        await rt.delete(id, { force: true })
        expectGone(id)
      })
      const proc = (args: string[], terminal = false) => ({
        args,
        env: ['PATH=/bin', 'HOME=/root'],
        cwd: '/',
        user: { uid: 0, gid: 0 },
        terminal,
      })

      test('non-tty: output and exit code', async () => {
        const t0 = performance.now()
        const s = await rt.exec(id, { execId: 'e1', process: proc(['sh', '-c', 'echo out; echo err >&2; exit 3']), tty: false, stdin: false })
        const out = collect(s.stream!)
        expect(await s.exit).toBe(3)
        const ms = performance.now() - t0
        await s.stream!.ended
        expect(out).toEqual({ stdout: 'out\n', stderr: 'err\n' })
        expect(s.pid).toBeGreaterThan(0)
        console.log(`${name}: exec end to end ${ms.toFixed(1)} ms`)
        expect(existsSync(path.join(execRoot, 'containers', id, 'exec', 'e1'))).toBe(false)
      })

      test('tty with resize', async () => {
        const s = await rt.exec(id, {
          execId: 'e2',
          process: proc(['sh', '-c', 'tty; sleep 0.3; stty size'], true),
          tty: true,
          stdin: false,
          consoleSize: { height: 10, width: 20 },
        })
        const out = collect(s.stream!)
        await s.resize({ height: 30, width: 90 })
        expect(await s.exit).toBe(0)
        await s.stream!.ended
        expect(out.stdout).toMatch(/^\/dev\/pts\/\d+\r\n30 90\r\n$/)
      })

      test('stdin', async () => {
        const s = await rt.exec(id, { execId: 'e3', process: proc(['cat']), tty: false, stdin: true })
        const out = collect(s.stream!)
        await s.stream!.writeStdin(Buffer.from('hello exec\n'))
        s.stream!.closeStdin()
        expect(await s.exit).toBe(0)
        await s.stream!.ended
        expect(out.stdout).toBe('hello exec\n')
      })

      test('not found → 127, not executable → 126', async () => {
        const nf = await rt.exec(id, { execId: 'e4', process: proc(['nosuchcmd']), tty: false, stdin: false })
        const nfOut = collect(nf.stream!)
        expect(await nf.exit).toBe(127)
        // docker 28 (moby postContainerExecStart) writes the reason on stdout, CRLF-terminated
        expect(nfOut.stdout).toMatch(/^OCI runtime exec failed: .*nosuchcmd.*\r\n$/)
        expect(nfOut.stderr).toBe('')
        const ne = await rt.exec(id, { execId: 'e5', process: proc(['/etc/passwd']), tty: false, stdin: false })
        const neOut = collect(ne.stream!)
        expect(await ne.exit).toBe(126)
        expect(neOut.stdout).toMatch(/permission denied/i)
        // Under conmon (a TTY exec) the reason comes back as the session's error.
        const nt = await rt.exec(id, { execId: 'e6', process: proc(['nosuchcmd'], true), tty: true, stdin: false })
        expect(await nt.exit).toBe(127)
        expect(nt.error).toMatch(/OCI runtime exec failed: .*nosuchcmd.*/)
      })

      test('exec timing (median of 10)', async () => {
        const times: number[] = []
        for (let i = 0; i < 10; i++) {
          const t0 = performance.now()
          const s = await rt.exec(id, { execId: `t${i}`, process: proc(['true']), tty: false, stdin: false })
          await s.exit
          times.push(performance.now() - t0)
        }
        times.sort((a, b) => a - b)
        console.log(`${name}: exec true median ${times[5]!.toFixed(1)} ms (min ${times[0]!.toFixed(1)})`)
      })
    })

    test('run timing: create+start+exit+delete of true (median of 10)', async () => {
      const times: number[] = []
      for (let i = 0; i < 10; i++) {
        const id = newId('bench')
        const t0 = performance.now()
        await create(id, ['true'])
        const exited = rt.wait(id)
        await rt.start(id)
        await exited
        await rt.delete(id)
        times.push(performance.now() - t0)
      }
      times.sort((a, b) => a - b)
      console.log(`${name}: run --rm true median ${times[5]!.toFixed(1)} ms (min ${times[0]!.toFixed(1)})`)
    })

    test('live restore: a container survives a new runtime instance', async () => {
      const keep = newId('survive')
      const quit = newId('quits')
      await create(keep, ['sleep', '1000'])
      await rt.start(keep)
      await create(quit, ['sh', '-c', 'sleep 0.3; exit 5'])
      await rt.start(quit)
      const pid = (await rt.state(keep)).pid
      rt.close() // berthd goes away; conmon stays

      await new Promise((r) => setTimeout(r, 600))
      const rt2 = newRuntime()
      const events: Array<[string, ExitInfo]> = []
      rt2.onExit((cid, info) => events.push([cid, info]))
      const found = await rt2.restore()
      const k = found.find((c) => c.id === keep)
      const q = found.find((c) => c.id === quit)
      expect(k).toMatchObject({ status: 'running', pid, monitored: true, runtime: name })
      expect(q).toMatchObject({ status: 'stopped', exit: { exitCode: 5 } })

      const a = await rt2.attach(keep, { stdin: false })
      const s = await rt2.exec(keep, {
        execId: 'after-restore',
        process: { args: ['sh', '-c', 'echo restored'], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'] },
        tty: false,
        stdin: false,
      })
      const out = collect(s.stream!)
      expect(await s.exit).toBe(0)
      await s.stream!.ended
      expect(out.stdout).toBe('restored\n')

      await rt2.kill(keep, 'KILL')
      expect((await rt2.wait(keep)).exitCode).toBe(137)
      await a.ended
      await new Promise((r) => setTimeout(r, 50))
      expect(events.map(([cid]) => cid)).toEqual([keep])
      await rt2.delete(keep)
      await rt2.delete(quit)
      expectGone(keep)
      expectGone(quit)
      rt2.close()
      rt = newRuntime()
    })
  })
}
