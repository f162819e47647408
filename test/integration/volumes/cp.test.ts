/**
 * `cp` and `export` as a user runs them, through berth's CLI and docker's
 * against the same berthd: the A–J cases of docker's integration-cli cp
 * tests both ways, trailing "/" and "/.", tars on stdin and stdout,
 * symlinks followed or not, owners with and without -a, stopped containers,
 * named volumes, docker's errors, what a terminal shows, and the container's
 * file system as export writes it.
 */
import { spawnSync } from 'node:child_process'
import { chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { berth, berthBin, docker, dockerBin, missing, ok, sock, uniq, type CmdOptions, type CmdResult } from '../../helpers.js'

const skip = missing('root', 'daemon')
const noDocker = missing('docker-cli')

type Cli = 'berth' | 'docker'
const clis: Cli[] = noDocker ? ['berth'] : ['berth', 'docker']
const run = (cli: Cli, args: string[], o?: CmdOptions): Promise<CmdResult> => (cli === 'berth' ? berth(args, o) : docker(args, o))

/** A shell line with the CLI as $CLI, for pipes; stdout as bytes. */
function shell(cli: Cli, line: string, input?: Buffer): { code: number; stdout: Buffer; stderr: string } {
  const env = cli === 'berth'
    ? { ...process.env, CLI: berthBin, BERTH_HOST: `unix://${sock()}` }
    : { ...process.env, CLI: dockerBin ?? 'docker', DOCKER_HOST: `unix://${sock()}`, DOCKER_CONFIG: '/tmp/berth-test-docker-config' }
  const r = spawnSync('sh', ['-c', line], { env, input, timeout: 60_000, maxBuffer: 256 << 20 })
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr.toString() }
}

const noScript = spawnSync('script', ['--version']).status === 0 ? undefined : 'util-linux script is not installed'

/** The same line on a pseudo-terminal (util-linux script): what it shows, CRs removed. */
function onTerminal(cli: Cli, line: string): string {
  return shell(cli, `script -qec ${JSON.stringify(line)} /dev/null`).stdout.toString().replace(/\r/g, '')
}

/** docker's own log lines (a tar goroutine left writing to a closed pipe), not part of what it reports. */
const withoutLogLines = (r: CmdResult): CmdResult => ({ ...r, stderr: r.stderr.replace(/^time="[^\n]*\n/gm, '') })

/** Runs args through every CLI; each must exit and complain the same way. Returns berth's result. */
async function same(args: (cli: Cli) => string[], o?: CmdOptions): Promise<CmdResult> {
  const results: CmdResult[] = []
  for (const cli of clis) results.push(withoutLogLines(await run(cli, args(cli), o)))
  const [first] = results as [CmdResult]
  for (const r of results.slice(1)) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: first.code, stderr: first.stderr })
  return first
}

const tarNames = (b: Buffer): string[] => {
  const r = spawnSync('tar', ['-t'], { input: b, maxBuffer: 64 << 20 })
  return r.stdout.toString().split('\n').filter((l) => l !== '').sort()
}

describe.skipIf(skip)('cp', () => {
  const made: string[] = []
  const vols: string[] = []
  const cname = (p: string): string => {
    const n = uniq(p)
    made.push(n)
    return n
  }
  let host = ''
  let c = ''
  const read = (p: string): string => readFileSync(p, 'utf8')
  const inC = async (ctr: string, script: string): Promise<string> => ok(await berth(['exec', ctr, 'sh', '-c', script])).stdout

  beforeAll(async () => {
    host = mkdtempSync('/var/tmp/berth-cp-')
    // Local sources: a file, a directory with a subdirectory.
    writeFileSync(`${host}/file`, 'in\n')
    mkdirSync(`${host}/dir/sub`, { recursive: true })
    writeFileSync(`${host}/dir/a`, 'a\n')
    writeFileSync(`${host}/dir/sub/b`, 'b\n')
    c = cname('cp')
    ok(await berth(['run', '-d', '--name', c, 'busybox', 'sleep', '1d']))
    await inC(c, 'mkdir -p /data/dir/sub && echo one > /data/file && echo top > /data/dir/top && echo deep > /data/dir/sub/deep && ln -s file /data/link && ln -s dir /data/dirlink')
  })

  afterAll(async () => {
    if (made.length) await berth(['rm', '-f', '-v', ...made])
    for (const v of vols) await berth(['volume', 'rm', '-f', v])
    if (host) rmSync(host, { recursive: true, force: true })
  })

  /** A fresh local directory for one CLI in one test. */
  const local = (cli: Cli, name: string): string => {
    const d = `${host}/${cli}-${name}`
    mkdirSync(d)
    return d
  }

  test('a file out: to a new name, over a file, into a directory; not into a missing one', async () => {
    for (const cli of clis) {
      const d = local(cli, 'file-out')
      ok(await run(cli, ['cp', `${c}:/data/file`, `${d}/new`]))
      expect(read(`${d}/new`)).toBe('one\n')
      writeFileSync(`${d}/old`, 'old content\n')
      ok(await run(cli, ['cp', `${c}:/data/file`, `${d}/old`]))
      expect(read(`${d}/old`)).toBe('one\n')
      ok(await run(cli, ['container', 'cp', `${c}:/data/file`, d]))
      expect(read(`${d}/file`)).toBe('one\n')
      mkdirSync(`${d}/sub`)
      ok(await run(cli, ['cp', `${c}:data/file`, `${d}/sub/`]))
      expect(read(`${d}/sub/file`)).toBe('one\n')
    }
    const r = await same((cli) => ['cp', `${c}:/data/file`, `${host}/${cli}-file-out/missing/`])
    expect(r).toMatchObject({ code: 1, stderr: 'no such directory\n' })
  })

  test('a directory out: to a new name, into a directory, its contents with "/."; never over a file', async () => {
    for (const cli of clis) {
      const d = local(cli, 'dir-out')
      ok(await run(cli, ['cp', `${c}:/data/dir`, `${d}/new`]))
      expect(read(`${d}/new/top`)).toBe('top\n')
      expect(read(`${d}/new/sub/deep`)).toBe('deep\n')
      ok(await run(cli, ['cp', `${c}:/data/dir/`, d]))
      expect(read(`${d}/dir/sub/deep`)).toBe('deep\n')
      ok(await run(cli, ['cp', `${c}:/data/dir/.`, `${d}/contents`]))
      expect(read(`${d}/contents/top`)).toBe('top\n')
      mkdirSync(`${d}/merge`, { mode: 0o700 })
      writeFileSync(`${d}/merge/kept`, 'kept\n')
      ok(await run(cli, ['cp', `${c}:/data/dir/.`, `${d}/merge`]))
      expect(read(`${d}/merge/top`)).toBe('top\n')
      expect(read(`${d}/merge/kept`)).toBe('kept\n')
      expect(statSync(`${d}/merge`).mode & 0o777).toBe(0o700)
      writeFileSync(`${d}/afile`, 'x')
    }
    for (const src of ['/data/dir', '/data/dir/.']) {
      const r = await same((cli) => ['cp', `${c}:${src}`, `${host}/${cli}-dir-out/afile`])
      expect(r).toMatchObject({ code: 1, stderr: 'cannot copy directory\n' })
    }
  })

  test('symlinks out: copied as links, followed with -L under the link name', async () => {
    for (const cli of clis) {
      const d = local(cli, 'links-out')
      ok(await run(cli, ['cp', `${c}:/data/link`, `${d}/l`]))
      expect(readlinkSync(`${d}/l`)).toBe('file')
      ok(await run(cli, ['cp', '-L', `${c}:/data/link`, `${d}/f`]))
      expect(read(`${d}/f`)).toBe('one\n')
      ok(await run(cli, ['cp', '--follow-link', `${c}:/data/dirlink`, d]))
      expect(read(`${d}/dirlink/top`)).toBe('top\n')
      // /bin/sh is an absolute link to /bin/busybox: the binary comes out named sh.
      ok(await run(cli, ['cp', '-L', `${c}:/bin/sh`, `${d}/`]))
      expect(lstatSync(`${d}/sh`).isFile()).toBe(true)
      expect(statSync(`${d}/sh`).size).toBeGreaterThan(100_000)
      // Without -L a trailing slash still goes through the link.
      ok(await run(cli, ['cp', `${c}:/data/dirlink/`, `${d}/through`]))
      expect(read(`${d}/through/top`)).toBe('top\n')
    }
  })

  test('"-" as the destination writes the tar to stdout', async () => {
    for (const cli of clis) {
      const r = shell(cli, `"$CLI" cp ${c}:/data/dir -`)
      expect(r.code).toBe(0)
      expect(tarNames(r.stdout)).toEqual(['dir/', 'dir/sub/', 'dir/sub/deep', 'dir/top'])
      expect(tarNames(shell(cli, `"$CLI" cp ${c}:/data/file -`).stdout)).toEqual(['file'])
    }
  })

  test('into a container: the same cases A–J', async () => {
    for (const cli of clis) {
      const t = `/in-${cli}`
      await inC(c, `mkdir -p ${t}/existing && echo old > ${t}/oldfile`)
      ok(await run(cli, ['cp', `${host}/file`, `${c}:${t}/new`]))
      ok(await run(cli, ['cp', `${host}/file`, `${c}:${t}/oldfile`]))
      ok(await run(cli, ['cp', `${host}/file`, `${c}:${t}/existing`]))
      ok(await run(cli, ['cp', `${host}/dir`, `${c}:${t}/newdir`]))
      ok(await run(cli, ['cp', `${host}/dir`, `${c}:${t}/existing/`]))
      ok(await run(cli, ['cp', `${host}/dir/.`, `${c}:${t}/contents`]))
      ok(await run(cli, ['cp', `${host}/dir/`, `${c}:${t}/slash`]))
      expect(await inC(c, `cat ${t}/new ${t}/oldfile ${t}/existing/file ${t}/newdir/sub/b ${t}/existing/dir/a ${t}/contents/a ${t}/slash/sub/b`)).toBe('in\nin\nin\nb\na\na\nb\n')
    }
    let r = await same((cli) => ['cp', `${host}/file`, `${c}:/in-${cli}/missing/`])
    expect(r).toMatchObject({ code: 1, stderr: 'no such directory\n' })
    r = await same((cli) => ['cp', `${host}/dir`, `${c}:/in-${cli}/oldfile`])
    expect(r).toMatchObject({ code: 1, stderr: 'cannot copy directory\n' })
  })

  test('"-" as the source reads a tar from stdin into a directory only', async () => {
    const tar = spawnSync('tar', ['-C', host, '-c', 'dir']).stdout
    for (const cli of clis) {
      await inC(c, `mkdir -p /stdin-${cli}`)
      ok(await run(cli, ['cp', '-', `${c}:/stdin-${cli}`], { input: tar }))
      expect(await inC(c, `cat /stdin-${cli}/dir/sub/b`)).toBe('b\n')
    }
    const r = await same(() => ['cp', '-', `${c}:/data/file`], { input: tar })
    expect(r).toMatchObject({ code: 1, stderr: `destination "${c}:/data/file" must be a directory\n` })
    const missingDir = await same(() => ['cp', '-', `${c}:/nowhere`], { input: tar })
    expect(missingDir).toMatchObject({ code: 1, stderr: `destination "${c}:/nowhere" must be a directory\n` })
  })

  test('a symlink destination in the container is followed, and stays a link', async () => {
    for (const cli of clis) {
      await inC(c, `mkdir -p /target-${cli} && ln -s /target-${cli} /dlink-${cli} && echo old > /tfile-${cli} && ln -s tfile-${cli} /flink-${cli}`)
      ok(await run(cli, ['cp', `${host}/file`, `${c}:/dlink-${cli}`]))
      ok(await run(cli, ['cp', `${host}/file`, `${c}:/flink-${cli}`]))
      expect(await inC(c, `cat /target-${cli}/file /tfile-${cli}; readlink /dlink-${cli}; readlink /flink-${cli}`)).toBe(`in\nin\n/target-${cli}\ntfile-${cli}\n`)
    }
  })

  test('owners: the local ones without -a, the container user\'s with -a', async () => {
    const u = cname('cp-user')
    ok(await berth(['run', '-d', '--name', u, '--user', 'www-data', 'busybox', 'sleep', '1d']))
    writeFileSync(`${host}/owned`, 'owned\n')
    chownSync(`${host}/owned`, 4321, 4322)
    for (const cli of clis) {
      ok(await run(cli, ['cp', `${host}/owned`, `${u}:/tmp/plain-${cli}`]))
      ok(await run(cli, ['cp', '-a', `${host}/owned`, `${u}:/tmp/archive-${cli}`]))
      expect(await inC(u, `stat -c %u:%g /tmp/plain-${cli} /tmp/archive-${cli}`)).toBe('4321:4322\n33:33\n')
    }
    // Out of a container, files belong to whoever runs cp.
    await inC(c, 'touch /data/theirs && chown 55:66 /data/theirs')
    for (const cli of clis) {
      const d = local(cli, 'owners')
      ok(await run(cli, ['cp', '-a', `${c}:/data/theirs`, d]))
      expect(statSync(`${d}/theirs`).uid).toBe(0)
    }
  })

  test('a container that is not running: created, or exited', async () => {
    for (const cli of clis) {
      const created = cname('cp-created')
      ok(await berth(['create', '--name', created, 'busybox', 'cat', '/in/file']))
      ok(await run(cli, ['cp', `${host}/dir`, `${created}:/in`]))
      ok(await run(cli, ['cp', `${host}/file`, `${created}:/in/file`]))
      expect(ok(await berth(['start', '-a', created])).stdout).toBe('in\n')
      const exited = cname('cp-exited')
      ok(await berth(['run', '--name', exited, 'busybox', 'sh', '-c', 'echo left > /left']))
      const d = local(cli, 'exited')
      ok(await run(cli, ['cp', `${exited}:/left`, d]))
      expect(read(`${d}/left`)).toBe('left\n')
    }
  })

  test('a named volume mounted in the container', async () => {
    const v = uniq('cp-vol')
    vols.push(v)
    const cv = cname('cp-vol')
    ok(await berth(['run', '-d', '--name', cv, '-v', `${v}:/vol`, 'busybox', 'sleep', '1d']))
    for (const cli of clis) {
      ok(await run(cli, ['cp', `${host}/file`, `${cv}:/vol/from-${cli}`]))
      const d = local(cli, 'vol')
      ok(await run(cli, ['cp', `${cv}:/vol/.`, d]))
      expect(read(`${d}/from-${cli}`)).toBe('in\n')
    }
    // Written into the volume, not the container's layer: another container sees it.
    expect(ok(await berth(['run', '--rm', '-v', `${v}:/x`, 'busybox', 'cat', '/x/from-berth'])).stdout).toBe('in\n')
    const ro = cname('cp-rovol')
    ok(await berth(['run', '-d', '--name', ro, '-v', `${v}:/vol:ro`, 'busybox', 'sleep', '1d']))
    const r = await same(() => ['cp', `${host}/file`, `${ro}:/vol/`])
    expect(r).toMatchObject({ code: 1, stderr: 'Error response from daemon: mounted volume is marked read-only\n' })
  })

  test("docker's errors", async () => {
    let r = await same((cli) => ['cp', `${c}:/nope`, `${host}/${cli}-x`])
    expect(r).toMatchObject({ code: 1, stderr: `Error response from daemon: Could not find the file /nope in container ${c}\n` })
    const gone = uniq('cp-none')
    r = await same((cli) => ['cp', `${gone}:/etc/hosts`, `${host}/${cli}-x`])
    expect(r).toMatchObject({ code: 1, stderr: `Error response from daemon: No such container: ${gone}\n` })
    r = await same(() => ['cp', `${host}/file`, `${gone}:/tmp`])
    expect(r).toMatchObject({ code: 1, stderr: `Error response from daemon: No such container: ${gone}\n` })
    r = await same(() => ['cp', `${host}/nope`, `${c}:/tmp`])
    expect(r).toMatchObject({ code: 1, stderr: `lstat ${host}/nope: no such file or directory\n` })
    r = await same(() => ['cp', `${c}:/data/file`, '/dev/null'])
    expect(r).toMatchObject({ code: 1, stderr: 'invalid output path: "/dev/null" must be a directory or a regular file: got a device\n' })
    r = await same(() => ['cp', `${c}:/data/file`, `${host}/no/such/dir`])
    expect(r).toMatchObject({ code: 1, stderr: `invalid output path: directory "${host}/no/such" does not exist\n` })
    r = await same(() => ['cp', `${c}:/data/file`, `${c}:/tmp`])
    expect(r).toMatchObject({ code: 1, stderr: 'copying between containers is not supported\n' })
    r = await same(() => ['cp', `${host}/file`, `${host}/other`])
    expect(r).toMatchObject({ code: 1, stderr: 'must specify at least one container source\n' })
    // A directory in the container is never replaced by a file.
    await inC(c, 'mkdir -p /clash/file')
    r = await same(() => ['cp', `${host}/file`, `${c}:/clash/`])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('cannot overwrite directory')
    const ro = cname('cp-ro')
    ok(await berth(['run', '-d', '--read-only', '--name', ro, 'busybox', 'sleep', '1d']))
    r = await same(() => ['cp', `${host}/file`, `${ro}:/tmp/`])
    expect(r).toMatchObject({ code: 1, stderr: 'Error response from daemon: container rootfs is marked read-only\n' })
  })

  test('on a terminal: what was copied, and nothing with -q', (ctx) => {
    if (noScript) return ctx.skip()
    const seen: string[] = []
    for (const cli of clis) {
      const d = local(cli, 'tty')
      const out = onTerminal(cli, `"$CLI" cp ${c}:/data/file ${d}/f`)
      expect(out).toMatch(new RegExp(`^Successfully copied [0-9.]+k?B to ${d}/f\n$`))
      seen.push(out.replace(d, '<dir>'))
      expect(onTerminal(cli, `"$CLI" cp ${host}/file ${c}:/tmp/`)).toBe(`Successfully copied 2.05kB to ${c}:/tmp/\n`)
      expect(onTerminal(cli, `"$CLI" cp -q ${host}/file ${c}:/tmp/`)).toBe('')
    }
    // docker 28 never draws its progress line (it asks a wrapped stream whether it is a terminal); the size counted is the daemon's tar.
    expect(new Set(seen).size).toBe(1)
  })
})

describe.skipIf(skip)('export', () => {
  const made: string[] = []
  let host = ''
  let ce = ''

  beforeAll(async () => {
    host = mkdtempSync('/var/tmp/berth-export-')
    ce = uniq('export')
    made.push(ce)
    ok(await berth(['run', '--name', ce, '-v', '/anon', 'busybox', 'sh', '-c', 'echo hi > /exported && echo v > /anon/inside']))
  })

  afterAll(async () => {
    if (made.length) await berth(['rm', '-f', '-v', ...made])
    if (host) rmSync(host, { recursive: true, force: true })
  })

  test("the container's files, not its volumes, to stdout or -o", () => {
    for (const cli of clis) {
      const r = shell(cli, `"$CLI" export ${ce}`)
      expect(r.code).toBe(0)
      const names = tarNames(r.stdout)
      expect(names).toContain('exported')
      expect(names).toContain('bin/busybox')
      expect(names).not.toContain('anon/inside')
      const o = shell(cli, `"$CLI" container export -o ${host}/${cli}.tar ${ce}`)
      expect(o.code).toBe(0)
      expect(tarNames(readFileSync(`${host}/${cli}.tar`))).toEqual(names)
      expect(statSync(`${host}/${cli}.tar`).mode & 0o777).toBe(0o600)
    }
  })

  test("docker's errors", async () => {
    for (const cli of noScript ? [] : clis) {
      expect(onTerminal(cli, `"$CLI" export ${ce}`)).toBe('cowardly refusing to save to a terminal. Use the -o flag or redirect\n')
    }
    const gone = uniq('export-none')
    let r = await same((cli) => ['export', '-o', `${host}/${cli}-none.tar`, gone])
    expect(r).toMatchObject({ code: 1, stderr: `Error response from daemon: No such container: ${gone}\n` })
    expect(() => statSync(`${host}/berth-none.tar`)).toThrow()
    r = await same(() => ['export', '-o', `${host}/no/x.tar`, ce])
    expect(r).toMatchObject({ code: 1, stderr: `failed to export container: invalid output path: stat ${host}/no: no such file or directory\n` })
  })
})
