/**
 * berth's CLI against docker's: the same arguments through both against the
 * same berthd must print the same stdout and stderr and exit the same, once
 * IDs, the names each side creates, relative times and the program name are
 * normalised. Stateful cases give each side its own fresh objects.
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { berth, berthBin, dockerBin, docker, missing, ok, repo, sock, uniq, type CmdOptions, type CmdResult } from '../../helpers.js'

const skip = missing('root', 'daemon', 'docker-cli')

type Side = 'docker' | 'berth'
type Cli = (args: string[], o?: CmdOptions) => Promise<CmdResult>

/** Replacements that make two runs comparable. `names` are per-side names, replaced by their key. */
function normalize(r: CmdResult, names: Record<string, string> = {}): CmdResult {
  const n = (s: string): string => {
    let t = s
    for (const [key, value] of Object.entries(names)) t = t.split(value).join(`<${key}>`)
    return t
      .replace(/\b(docker|berth)\b/gi, 'PROG')
      .replace(/(sha256:)?[0-9a-f]{64}/g, '<ID>')
      .replace(/\b[0-9a-f]{12}\b/g, '<SHORTID>')
      .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)/g, '<TS>')
      .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \w+/g, '<TS>')
      .replace(/\b(\d+|About an?|Less than a) (second|minute|hour)s?\b/g, '<DURATION>')
      // Columns move with the width of the normalised values.
      .replace(/ {2,}/g, '  ')
      .replace(/ +$/gm, '')
  }
  return { code: r.code, stdout: n(r.stdout), stderr: n(r.stderr) }
}

/** Runs `fn` through docker, then berth; expects the same normalised result and returns docker's. */
async function same(fn: (cli: Cli, side: Side) => Promise<CmdResult>, names: (side: Side) => Record<string, string> = () => ({})): Promise<CmdResult> {
  const d = await fn(docker, 'docker')
  const b = await fn(berth, 'berth')
  expect(normalize(b, names('berth'))).toEqual(normalize(d, names('docker')))
  return d
}

/** The same arguments through both CLIs. */
const both = (args: string[], o?: CmdOptions): Promise<CmdResult> => same((cli) => cli(args, o))

describe.skipIf(skip)('berth CLI output matches docker 28', () => {
  const containers: string[] = []
  const images: string[] = []
  let dir = ''
  let running = ''

  /** A container name for one side, removed after the run. */
  const cname = (base: string, side: Side): string => {
    const n = `${base}-${side[0] ?? ''}`
    containers.push(n)
    return n
  }
  const perSide = (base: string) => (side: Side): Record<string, string> => ({ NAME: `${base}-${side[0] ?? ''}` })

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'berth-parity-'))
    writeFileSync(path.join(dir, 'rootfs.tar'), execFileSync(path.join(repo, 'scripts/busybox-rootfs'), { maxBuffer: 64 << 20 }))
    running = uniq('parity-run')
    containers.push(running)
    ok(await berth(['run', '-d', '--name', running, '-l', 'k=v', '-e', 'A=1', 'busybox', 'sleep', '1d']))
  })

  afterAll(async () => {
    if (containers.length) await berth(['rm', '-f', ...containers])
    if (images.length) await berth(['rmi', '-f', ...images])
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('run --rm: output streams and the exit code', async () => {
    const r = await both(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3'])
    expect(r.code).toBe(3)
  })

  it('run with -e, --env-file, -w, -u, -h, -l, --entrypoint and --init', async () => {
    const env = path.join(dir, 'env.list')
    writeFileSync(env, '# comment\nX=1\nY=two\n')
    await both(['run', '--rm', '-e', 'A=1', '--env-file', env, '-w', '/tmp', '-u', '1:2', '-h', 'hh', '-l', 'a=b', 'busybox',
      'sh', '-c', 'echo $A $X $Y; pwd; id; hostname'])
    await both(['run', '--rm', '--entrypoint', 'echo', 'busybox', 'a', 'b'])
    await both(['run', '--rm', '--init', 'busybox', 'true'])
  })

  it('run -d and --name conflicts', async () => {
    const base = uniq('parity-d')
    await same(async (cli, side) => {
      const n = cname(base, side)
      const r = await cli(['run', '-d', '--name', n, '--restart', 'always', 'busybox', 'sleep', '1d'])
      expect(r.code).toBe(0)
      return cli(['run', '--name', n, 'busybox', 'true'])
    }, perSide(base))
  })

  it('run failures: missing image, bad command, bad restart policy', async () => {
    expect((await both(['run', '--rm', '127.0.0.1:9/parity-nosuch:1'])).code).toBe(125)
    expect((await both(['run', '--rm', 'busybox', 'parity-nosuchcmd'])).code).toBe(127)
    expect((await both(['run', '--rm', '--restart', 'bogus', 'busybox'])).code).toBe(125)
  })

  it('run and create: usage errors', async () => {
    expect((await both(['run', '--bogus', 'busybox'])).code).toBe(125)
    expect((await both(['create', '-x', 'busybox'])).code).toBe(125)
    expect((await both(['run', '-e', '=x', 'busybox'])).code).toBe(125)
    expect((await both(['run', '--name'])).code).toBe(125)
    expect((await both(['run'])).code).toBe(1)
    expect((await both(['create'])).code).toBe(1)
  })

  it('create errors are plain daemon errors', async () => {
    expect((await both(['create', '--name', running, 'busybox'])).code).toBe(1)
    expect((await both(['create', '127.0.0.1:9/parity-nosuch:1'])).code).toBe(1)
  })

  it('run -t through a terminal', async () => {
    const r = await same((_cli, side) => runScript(`${side === 'docker' ? dockerBin ?? 'docker' : berthBin} run --rm -t busybox sh -c 'echo tty; exit 3'`))
    expect(r.stdout).toBe('tty\r\r\n')
    expect(r.code).toBe(3)
  })

  it('create, start -a and the exit status', async () => {
    const base = uniq('parity-start')
    const r = await same(async (cli, side) => {
      const n = cname(base, side)
      ok(await cli(['create', '--name', n, 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 4']))
      return cli(['start', '-a', n])
    }, perSide(base))
    expect(r.code).toBe(4)
  })

  it('start, stop, kill, restart and rm with a missing name', async () => {
    await both(['start', running, 'parity-nosuch'])
    await both(['stop', 'parity-nosuch'])
    await both(['kill', '-s', 'BOGUS', running])
    const base = uniq('parity-life')
    await same(async (cli, side) => {
      const n = cname(base, side)
      ok(await cli(['run', '-d', '--name', n, 'busybox', 'sleep', '1d']))
      const out: CmdResult[] = [
        await cli(['kill', '-s', 'TERM', n]),
        await cli(['restart', '-t', '0', n]),
        await cli(['stop', '-t', '1', n]),
        await cli(['rm', n, 'parity-nosuch']),
      ]
      return { code: out.map((o) => o.code).reduce((a, c) => a * 10 + c, 0), stdout: out.map((o) => o.stdout).join('|'), stderr: out.map((o) => o.stderr).join('|') }
    }, perSide(base))
    expect((await both(['rm', '-f', 'parity-nosuch'])).code).toBe(0)
  })

  it('ps with filters, formats and truncation', async () => {
    const f = ['-f', `name=${running}`]
    await both(['ps', ...f])
    await both(['ps', '-a', '-q', ...f])
    await both(['ps', '-s', ...f])
    await both(['container', 'ls', '--no-trunc', ...f])
    await both(['ps', '-f', 'label=k=v', '-f', 'status=running', '--format', 'table {{.Names}}\t{{.Label "k"}}\t{{.Status}}'])
    await both(['ps', ...f, '--format', 'json'])
    await both(['ps', ...f, '--format', '{{json .}}'])
    await both(['ps', '-a', '-f', 'ancestor=busybox', '-f', `name=${running}`, '--format', '{{.Names}} {{.Image}} {{.State}} {{.Labels}}'])
    await both(['ps', '-n', '2', '--format', '{{.Image}}'])
    await both(['ps', '-l', '-q', '--no-trunc'])
  })

  it('ps: template and flag errors', async () => {
    expect((await both(['ps', '--format', '{{.Foo}}'])).code).toBe(1)
    expect((await both(['ps', '--format', '{{.Names'])).code).toBe(1)
    expect((await both(['ps', '-n', 'x'])).code).toBe(125)
    expect((await both(['ps', '-f', 'bogus'])).code).toBe(125)
    expect((await both(['ps', 'extra'])).code).toBe(1)
  })

  it('wait prints exit codes', async () => {
    const base = uniq('parity-wait')
    await same(async (cli, side) => {
      const n = cname(base, side)
      await cli(['run', '--name', n, 'busybox', 'sh', '-c', 'exit 5'])
      return cli(['wait', n, 'parity-nosuch'])
    }, perSide(base))
  })

  it('exec: env, workdir, user, stdin, detach and exit codes', async () => {
    expect((await both(['exec', running, 'sh', '-c', 'echo hi; echo err >&2; exit 3'])).code).toBe(3)
    await both(['exec', '-e', 'B=2', '-w', '/tmp', '-u', '5', running, 'sh', '-c', 'echo $A $B; pwd; id -u'])
    await both(['exec', '-i', running, 'cat'], { input: 'stdin data\n' })
    await both(['exec', '-d', running, 'sleep', '1'])
    expect((await both(['exec', running, 'parity-nosuchcmd'])).code).toBe(127)
    expect((await both(['exec', running, '/etc/passwd'])).code).toBe(126)
    await both(['exec', 'parity-nosuch', 'true'])
    expect((await both(['exec', '-e', '=x', running, 'true'])).code).toBe(125)
  })

  it('logs: --tail, -t, --since, --until and bad values', async () => {
    const n = uniq('parity-logs')
    containers.push(n)
    ok(await berth(['run', '--name', n, 'busybox', 'sh', '-c', 'for i in 1 2 3; do echo line$i; echo e$i >&2; done']))
    await both(['logs', n])
    await both(['logs', '--tail', '2', n])
    await both(['logs', '-t', n])
    await both(['logs', '--since', '10m', n])
    await both(['logs', '--until', '10m', n])
    await both(['logs', '--since', 'bogus', n])
    await both(['logs', 'parity-nosuch'])
  })

  it('inspect -f templates, types and missing objects', async () => {
    await both(['inspect', '-f', '{{.State.Running}} {{.Config.Image}}', running])
    await both(['inspect', '-f', '{{json .Config}}', running])
    await both(['inspect', '-f', '{{range .Config.Env}}{{println .}}{{end}}', running])
    await both(['inspect', '-f', '{{index .Config.Labels "k"}}', running])
    await both(['inspect', '--type', 'image', '-f', '{{.Os}}', 'busybox'])
    await both(['inspect', '--type', 'image', running])
    await both(['inspect', '-f', '{{.Id}}', running, 'busybox', 'parity-nosuch'])
    expect((await both(['inspect', 'parity-nosuch'])).stderr).toBe('Error: No such object: parity-nosuch\n')
    await both(['inspect', '--type', 'bogus', 'x'])
    expect((await both(['inspect', '-f', '{{.Name', running])).code).toBe(64)
    await both(['container', 'inspect', 'parity-nosuch'])
    await both(['image', 'inspect', '-f', '{{.Architecture}}', 'busybox'])
  })

  it('top, port and rename', async () => {
    await both(['top', running])
    await both(['port', running])
    await both(['port', running, '80'])
    await both(['rename', 'parity-nosuch', 'x'])
    await both(['rename', running, ''])
    const base = uniq('parity-ren')
    await same(async (cli, side) => {
      const n = cname(base, side)
      ok(await cli(['create', '--name', n, 'busybox']))
      containers.push(`${n}-new`)
      return cli(['rename', n, `${n}-new`])
    }, perSide(base))
  })

  it('events over a closed range, with filters and formats', async () => {
    const n = uniq('parity-ev')
    containers.push(n)
    ok(await berth(['run', '--name', n, '-l', 'ev=1', 'busybox', 'true']))
    // --until 0s is the current whole second: let the events fall before it for both CLIs.
    await new Promise((r) => setTimeout(r, 1100))
    const range = ['--since', '5m', '--until', '0s', '-f', `container=${n}`]
    await both(['events', ...range])
    await both(['events', ...range, '-f', 'event=die', '--format', '{{.ID}} {{.Status}} {{.Actor.Attributes.exitCode}} {{.TimeNano}}'])
    await both(['system', 'events', ...range, '--format', 'json'])
    expect((await both(['events', '--format', '{{.Foo}}'])).code).toBe(64)
  })

  it('images and history', async () => {
    await both(['images', 'busybox'])
    await both(['image', 'ls', '-q', '--no-trunc', 'busybox'])
    await both(['images', '--digests', '-f', 'reference=busybox'])
    await both(['images', '--format', 'json', 'busybox'])
    await both(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}', 'busybox'])
    await both(['images', '-f', 'dangling=true', '-f', 'reference=parity-none'])
    await both(['images', '--format', '{{.Foo}}', 'busybox'])
    await both(['history', 'busybox'])
    await both(['history', '-H=false', 'busybox'])
    await both(['history', '--no-trunc', '-q', 'busybox'])
    await both(['history', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Size}}|{{.Comment}}', 'busybox'])
    await both(['history', 'parity-nosuch'])
  })

  it('tag and rmi with several names', async () => {
    const t = uniq('parity-tag')
    await same(async (cli) => {
      ok(await cli(['tag', 'busybox', `${t}:a`]))
      ok(await cli(['tag', 'busybox', `${t}:b`]))
      return cli(['rmi', `${t}:a`, `${t}:b`, 'parity-nosuch'])
    })
    await both(['rmi', '-f', 'parity-nosuch'])
    await both(['tag', 'busybox', 'BAD:x'])
    await both(['tag', 'parity-nosuch', `${t}:c`])
  })

  it('import with -c and -m, from a file and from stdin', async () => {
    const tar = path.join(dir, 'rootfs.tar')
    const t = uniq('parity-imp')
    images.push(`${t}:1`, `${t}:2`)
    await same(async (cli) => {
      await cli(['rmi', '-f', `${t}:1`])
      return cli(['import', '-c', 'CMD ["sh"]', '-m', 'hello', tar, `${t}:1`])
    })
    await same(async (cli) => {
      await cli(['rmi', '-f', `${t}:2`])
      return cli(['import', '-', `${t}:2`], { input: readFileSync(tar) })
    })
    await both(['history', '--format', '{{.CreatedBy}}|{{.Comment}}', `${t}:1`])
    await both(['inspect', '-f', '{{json .Config.Cmd}}', `${t}:1`])
    await both(['import', path.join(dir, 'nosuch.tar')])
    // Not compared: `import -c 'BOGUS x' file` races berthd closing the upload early (EPIPE), see the CLI report.
    await both(['import', tar, 'BAD'])
  })

  it('save and load, to files and through pipes', async () => {
    const out = { docker: path.join(dir, 'save-d.tar'), berth: path.join(dir, 'save-b.tar') }
    await same((cli, side) => cli(['save', '-o', out[side], 'busybox']))
    await same((cli, side) => cli(['load', '-i', out[side]]))
    await both(['load', '-q'], { input: readFileSync(out.docker) })
    await both(['load'], { input: readFileSync(out.berth) })
    await both(['save', 'parity-nosuch'])
    await both(['save', '-o', '/parity-nonexistent/x.tar', 'busybox'])
    await both(['load', '-i', path.join(dir, 'nosuch.tar')])
    const piped = await berth(['save', 'busybox'])
    expect(piped.code).toBe(0)
    expect(piped.stdout.length).toBeGreaterThan(0)
  })

  it('image prune and container prune', async () => {
    const label = uniq('parity-prune')
    await same(async (cli, side) => {
      ok(await cli(['create', '-l', `pq=${label}`, '--name', cname(label, side), 'busybox']))
      return cli(['container', 'prune', '-f', '--filter', `label=pq=${label}`])
    })
    const t = uniq('parity-dangling')
    await same(async (cli, side) => {
      // Importing twice under one tag leaves the first image dangling.
      const tar = path.join(dir, 'rootfs.tar')
      const tag = `${t}-${side}:1`
      images.push(tag)
      ok(await cli(['import', '-m', 'one', tar, tag]))
      ok(await cli(['import', '-m', 'two', tar, tag]))
      return cli(['image', 'prune', '-f'])
    })
    await both(['image', 'prune'], { input: 'n\n' })
  })

  it('version and info with --format', async () => {
    await both(['version', '--format', '{{.Server.Version}} {{.Server.APIVersion}} {{json .Server.Components}}'])
    expect((await both(['version', '--format', '{{.Foo'])).code).toBe(64)
    await both(['info', '--format', '{{.Driver}} {{.Images}} {{json .RegistryConfig}}'])
    await both(['system', 'info', '--format', '{{.Foo}}'])
  })

  it('help text of each command and group', async () => {
    for (const cmd of [['stop'], ['kill'], ['rm'], ['ps'], ['wait'], ['logs'], ['exec'], ['attach'], ['top'], ['rename'], ['port'],
      ['events'], ['tag'], ['history'], ['rmi'], ['save'], ['load'], ['import'], ['version'], ['info'], ['inspect'],
      ['container', 'ls'], ['container', 'inspect'], ['container', 'prune'], ['image', 'rm'], ['system', 'info']]) {
      await both([...cmd, '--help'])
    }
  })

  it('unknown commands and flags', async () => {
    await both(['parity-bogus'])
    await both(['container', 'parity-bogus'])
    await both(['--bogus'])
    await both(['images', 'a', 'b'])
    await both(['port', 'a', 'b', 'c'])
    await both(['logs'])
  })

  it('attach to a TTY container and detach with ctrl-p ctrl-q', async () => {
    const n = uniq('parity-att')
    containers.push(n)
    ok(await berth(['run', '-dit', '--name', n, 'busybox', 'sh']))
    await same(async (_cli, side) => {
      const bin = side === 'docker' ? dockerBin ?? 'docker' : berthBin
      const r = await runScript(`${bin} attach ${n}`, [[800, 'echo hi$((1+1))\r'], [800, '\x10\x11']])
      const running = await berth(['inspect', '-f', '{{.State.Running}}', n])
      return { ...r, stdout: `${r.stdout.replace(/^[\s\S]*?hi2/, 'hi2')}|${running.stdout}` }
    })
  })
})

/**
 * Runs a shell command line under script(1), so it has a terminal, feeding
 * `keys` after the given delays; the environment points both CLIs at the test daemon.
 */
function runScript(command: string, keys: Array<[number, string]> = []): Promise<CmdResult> {
  return new Promise((resolve, reject) => {
    {
      const env = { ...process.env, BERTH_HOST: `unix://${sock()}`, DOCKER_HOST: `unix://${sock()}`, DOCKER_CONFIG: '/tmp/berth-test-docker-config' }
      const child = spawn('script', ['-qec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] })
      const out: Buffer[] = []
      const err: Buffer[] = []
      child.stdout.on('data', (b: Buffer) => out.push(b))
      child.stderr.on('data', (b: Buffer) => err.push(b))
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
      let delay = 0
      for (const [ms, text] of keys) {
        delay += ms
        setTimeout(() => child.stdin.write(text), delay)
      }
      child.on('error', reject)
      child.on('close', (code) => {
        clearTimeout(timer)
        child.stdin.destroy()
        resolve({ code: code ?? 128, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() })
      })
    }
  })
}
