/**
 * An exec that cannot start, as dockerd 28 reports it (moby daemon/exec.go
 * ContainerExecStart and errors.go setExitCodeFromError): the reason on the
 * stream's stdout with CRLF and the exit code in the exec's inspect (126
 * cannot be invoked, 127 missing program or working directory), which is
 * what `docker exec` exits with; an unknown -u, a paused or a stopped
 * container fail the exec's create instead (exit 1, the daemon's error).
 * Each case runs through the berth CLI and, when installed, the docker CLI,
 * which must agree byte for byte. The words are the runtime's: runc's here.
 */
import http from 'node:http'
import type { Duplex } from 'node:stream'
import { beforeAll, describe, expect, it } from 'vitest'
import { berth, type CmdResult, containerNames, docker, dockerBin, missing, ok, sock, stdcopyFrames } from '../../helpers.js'

const skip = missing('root', 'daemon')

const unknown = ': unknown'
const mountHint = ': Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type'

interface ApiResult {
  status: number
  json: Record<string, unknown>
}

function request(method: string, path: string, body?: unknown): Promise<ApiResult> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body)
    const req = http.request({ socketPath: sock(), method, path, headers: data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {} }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} })
      })
    })
    req.on('error', reject)
    req.end(data)
  })
}

/** POST /exec/{id}/start attached, as the docker CLI does; resolves to the stream's bytes, or the plain response when not upgraded. */
function startAttached(id: string): Promise<{ status: number; data: Buffer }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ Detach: false, Tty: false })
    const req = http.request({
      socketPath: sock(),
      method: 'POST',
      path: `/v1.50/exec/${id}/start`,
      headers: { Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
    })
    const collect = (status: number, s: Duplex | http.IncomingMessage) => {
      const chunks: Buffer[] = []
      s.on('data', (c: Buffer) => chunks.push(c))
      s.on('end', () => resolve({ status, data: Buffer.concat(chunks) }))
      s.on('close', () => resolve({ status, data: Buffer.concat(chunks) }))
    }
    req.on('upgrade', (res, socket) => collect(res.statusCode ?? 0, socket))
    req.on('response', (res) => collect(res.statusCode ?? 0, res))
    req.on('error', reject)
    req.end(body)
  })
}

const demux = stdcopyFrames

/** The berth CLI, and the docker CLI when installed, with the same arguments: the same output and status. */
async function both(args: string[]): Promise<CmdResult> {
  const b = await berth(args)
  if (dockerBin) {
    const d = await docker(args)
    expect({ code: b.code, stdout: b.stdout, stderr: b.stderr }, `berth ${args.join(' ')} against docker`).toEqual({ code: d.code, stdout: d.stdout, stderr: d.stderr })
  }
  return b
}

describe.skipIf(skip)('exec start failures', () => {
  const name = containerNames()
  let c = ''
  let cid = ''
  beforeAll(async () => {
    c = name('execfail')
    // runc's words are the ones checked word for word (a BERTH_TEST_RUNTIME=crun run included).
    cid = ok(await berth(['run', '-d', '--runtime', 'runc', '--name', c, 'busybox', 'sleep', '1d'])).stdout.trim()
    ok(await berth(['exec', c, 'sh', '-c', 'mkdir /adir && echo x > /plain && chmod 644 /plain']))
  })

  const started = (program: string) => `OCI runtime exec failed: exec failed: unable to start container process: exec: "${program}"`

  it('a missing program: 127, the runtime\'s words on stdout', async () => {
    const r = await both(['exec', c, 'berthnosuchprog'])
    expect(r).toEqual({ code: 127, stdout: `${started('berthnosuchprog')}: executable file not found in $PATH${unknown}\r\n`, stderr: '' })
  })

  it('a directory as the program: 126 (cannot be invoked)', async () => {
    const r = await both(['exec', c, '/adir'])
    expect(r.code).toBe(126)
    // runc built with Go before 1.20 says EACCES, later ones EISDIR, to which moby adds EACCES's words.
    expect(r.stdout).toMatch(new RegExp(`^${escape(started('/adir'))}: (permission denied${unknown}|is a directory${unknown}: permission denied)\\r\\n$`))
    expect(r.stderr).toBe('')
  })

  it('a file without the execute bit: 126', async () => {
    const r = await both(['exec', c, '/plain'])
    expect(r).toEqual({ code: 126, stdout: `${started('/plain')}: permission denied${unknown}\r\n`, stderr: '' })
  })

  it('-w naming a file: 127, with moby\'s hint about mounts (ENOTDIR)', async () => {
    const r = await both(['exec', '-w', '/plain', c, 'true'])
    expect(r.code).toBe(127)
    expect(r.stdout).toMatch(/^OCI runtime exec failed: .*\/plain.*not a directory.*\r\n$/i)
    expect(r.stdout.endsWith(`${unknown}${mountHint}\r\n`)).toBe(true)
    expect(r.stderr).toBe('')
  })

  it('-w naming nothing: 127', async () => {
    const r = await both(['exec', '-w', '/berth-no-such-dir', c, 'true'])
    expect(r.code).toBe(127)
    expect(r.stdout).toMatch(/^OCI runtime exec failed: .*\/berth-no-such-dir.*no such file or directory: unknown\r\n$/i)
  })

  it('a TTY exec (under its monitor) of a missing program: 127 and the same words', async () => {
    const r = await both(['exec', '-t', c, 'berthnosuchprog'])
    expect(r.code).toBe(127)
    expect(r.stdout).toBe(`${started('berthnosuchprog')}: executable file not found in $PATH${unknown}\r\n`)
  })

  it.skipIf(missing('crun'))('crun: a missing program is 127 too, in the foreground and under the monitor', async () => {
    const cr = name('execfail-crun')
    ok(await berth(['run', '-d', '--runtime', 'crun', '--name', cr, 'busybox', 'sleep', '1d']))
    for (const args of [['exec', cr, 'berthnosuchprog'], ['exec', '-t', cr, 'berthnosuchprog']]) {
      const r = await both(args)
      expect(r.code).toBe(127)
      expect(r.stdout).toMatch(/^OCI runtime exec failed: .*"berthnosuchprog": executable file not found in \$PATH: unknown\r\n$/)
    }
  })

  it('detached: the start request fails with the reason (exit 1)', async () => {
    const r = await both(['exec', '-d', c, 'berthnosuchprog'])
    expect(r).toEqual({ code: 1, stdout: '', stderr: `Error response from daemon: ${started('berthnosuchprog')}: executable file not found in $PATH${unknown}\n` })
  })

  it('-u nosuchuser: the create fails (400), nothing runs', async () => {
    const r = await both(['exec', '-u', 'berthnosuchuser', c, 'true'])
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'Error response from daemon: unable to find user berthnosuchuser: no matching entries in passwd file\n' })
    const api = await request('POST', `/v1.50/containers/${c}/exec`, { Cmd: ['true'], User: 'berthnosuchuser' })
    expect(api.status).toBe(400)
    const group = await request('POST', `/v1.50/containers/${c}/exec`, { Cmd: ['true'], User: '0:berthnosuchgroup' })
    expect(group).toEqual({ status: 400, json: { message: 'unable to find group berthnosuchgroup: no matching entries in group file' } })
  })

  it('a paused container: the create is refused, naming the container as given', async () => {
    ok(await berth(['pause', c]))
    try {
      const r = await both(['exec', c, 'true'])
      expect(r).toEqual({ code: 1, stdout: '', stderr: `Error response from daemon: Container ${c} is paused, unpause the container before exec\n` })
      const short = cid.slice(0, 12)
      expect((await both(['exec', short, 'true'])).stderr).toBe(`Error response from daemon: Container ${short} is paused, unpause the container before exec\n`)
    } finally {
      ok(await berth(['unpause', c]))
    }
  })

  it('an exec made before the pause: its start is refused before the stream is hijacked', async () => {
    const made = await request('POST', `/v1.50/containers/${c}/exec`, { Cmd: ['true'], AttachStdout: true })
    expect(made.status).toBe(201)
    const id = String(made.json.Id)
    ok(await berth(['pause', c]))
    try {
      const r = await startAttached(id)
      expect(r.status).toBe(409)
      expect(JSON.parse(r.data.toString())).toEqual({ message: `Container ${cid} is paused, unpause the container before exec` })
    } finally {
      ok(await berth(['unpause', c]))
    }
    // Refused, it has not run: it starts now.
    const later = await startAttached(id)
    expect(later.status).toBe(101)
    expect((await request('GET', `/v1.50/exec/${id}/json`)).json.ExitCode).toBe(0)
  })

  it('a stopped container: the create is refused with its full ID', async () => {
    const s = name('execfail-stopped')
    const id = ok(await berth(['run', '-d', '--name', s, 'busybox', 'true'])).stdout.trim()
    ok(await berth(['wait', s]))
    const r = await both(['exec', s, 'true'])
    expect(r).toEqual({ code: 1, stdout: '', stderr: `Error response from daemon: container ${id} is not running\n` })
  })

  it('the exec\'s inspect after a failed start: not running, the code, no pid; gone from ExecIDs; exec_start but no exec_die', async () => {
    const since = String(Math.floor(Date.now() / 1000) - 1)
    const ids: string[] = []
    const cases: Array<[string[], number]> = [[['berthnosuchprog'], 127], [['/plain'], 126]]
    for (const [cmd, code] of cases) {
      const made = await request('POST', `/v1.50/containers/${c}/exec`, { Cmd: cmd, AttachStdout: true, AttachStderr: true })
      const id = String(made.json.Id)
      ids.push(id)
      const r = await startAttached(id)
      expect(r.status).toBe(101)
      const frames = demux(r.data)
      expect(frames.map(([s]) => s)).toEqual([1])
      expect(frames[0]?.[1]).toMatch(/^OCI runtime exec failed: .*: unknown\r\n$/)
      const ins = (await request('GET', `/v1.50/exec/${id}/json`)).json
      expect({ Running: ins.Running, ExitCode: ins.ExitCode, Pid: ins.Pid, CanRemove: ins.CanRemove }).toEqual({ Running: false, ExitCode: code, Pid: 0, CanRemove: false })
      const ctr = (await request('GET', `/v1.50/containers/${c}/json`)).json
      expect((ctr.ExecIDs as string[] | null) ?? []).not.toContain(id)
      // Started once, it cannot start again.
      const again = await request('POST', `/v1.50/exec/${id}/start`, { Detach: true })
      expect(again).toEqual({ status: 409, json: { message: `exec command ${id} has already run` } })
    }
    // Detached: the request's status says what kind of failure it was (moby startInvalidConfigError: 400).
    const made = await request('POST', `/v1.50/containers/${c}/exec`, { Cmd: ['/adir'] })
    const id = String(made.json.Id)
    ids.push(id)
    const d = await request('POST', `/v1.50/exec/${id}/start`, { Detach: true })
    expect(d.status).toBe(400)
    expect(String(d.json.message)).toMatch(/^OCI runtime exec failed: .*\/adir/)
    expect((await request('GET', `/v1.50/exec/${id}/json`)).json.ExitCode).toBe(126)

    const until = String(Math.floor(Date.now() / 1000) + 1)
    const ev = ok(await berth(['events', '--since', since, '--until', until, '--filter', `container=${c}`, '--format', '{{.Actor.Attributes.execID}} {{.Action}}']))
    const mine = ev.stdout.split('\n').filter((l) => ids.includes(l.split(' ')[0] ?? '')).map((l) => l.slice(l.indexOf(' ') + 1))
    expect(mine).toEqual(['exec_create: berthnosuchprog', 'exec_start: berthnosuchprog', 'exec_create: /plain', 'exec_start: /plain', 'exec_create: /adir', 'exec_start: /adir'])
  })
})

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
