/**
 * berth build and docker build (the classic builder, through POST /build)
 * against the test daemon: real Dockerfiles with every instruction, the
 * resulting image's config, history, files and ownership, the cache, and
 * the errors a user meets.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, promises as fsp, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { berth, docker, dockerBin, missing, ok, uniq } from '../../helpers.js'

const skip = missing('root', 'daemon')

interface Inspect {
  Id: string
  Parent: string
  Config: { Env: string[] | null; Cmd: string[] | null; Entrypoint: string[] | null; WorkingDir: string; User: string; Labels: Record<string, string> | null; ExposedPorts?: Record<string, object>; Volumes?: Record<string, object> | null; StopSignal?: string; OnBuild?: string[] | null; Healthcheck?: { Test: string[]; Interval?: number; Retries?: number } }
  RootFS: { Layers: string[] }
  Author: string
}

function context(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-build-'))
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
    writeFileSync(path.join(dir, name), text)
  }
  return dir
}

async function inspect(ref: string): Promise<Inspect> {
  return (JSON.parse(ok(await berth(['image', 'inspect', ref])).stdout) as Inspect[])[0] as Inspect
}

async function history(ref: string): Promise<string[]> {
  return ok(await berth(['history', '--no-trunc', '--format', '{{.CreatedBy}}', ref])).stdout.trim().split('\n')
}

async function runIn(ref: string, cmd: string): Promise<string> {
  return ok(await berth(['run', '--rm', ref, 'sh', '-c', cmd])).stdout
}

describe.skipIf(skip)('berth build (classic builder)', () => {
  const dirs: string[] = []
  const images: string[] = []
  const ctx = (files: Record<string, string>) => {
    const d = context(files)
    dirs.push(d)
    return d
  }
  const tag = (name: string) => {
    const t = `${uniq(name)}:1`
    images.push(t)
    return t
  }
  afterAll(async () => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
    if (images.length) await berth(['rmi', '-f', ...images])
  })

  it('gives a scratch stage the default PATH; image prune reports the image a rebuild left dangling', async () => {
    const t = tag('path')
    const label = uniq('prune')
    ok(await berth(['build', '-q', '-t', t, ctx({ Dockerfile: 'FROM scratch\nENV E=given\n' })]))
    expect((await inspect(t)).Config.Env).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'E=given'])
    const p = tag('pruned')
    const first = ok(await berth(['build', '-q', '-t', p, ctx({ Dockerfile: `FROM busybox\nLABEL sel=${label}\nLABEL n=1\n` })])).stdout.trim()
    ok(await berth(['build', '-q', '-t', p, ctx({ Dockerfile: `FROM busybox\nLABEL sel=${label}\nLABEL n=2\n` })]))
    const r = ok(await berth(['image', 'prune', '-f', '--filter', `label=sel=${label}`]))
    expect(r.stdout).toBe(`Deleted Images:\ndeleted: ${first}\n\nTotal reclaimed space: 0B\n`)
    expect((await berth(['image', 'inspect', first])).code).toBe(1)
    expect((await inspect(p)).Config.Labels).toEqual({ sel: label, n: '2' })
  })

  it('builds every metadata instruction into the config, with docker\'s step lines and history', async () => {
    const t = tag('meta')
    const dir = ctx({
      Dockerfile: [
        'ARG BASE=busybox',
        'FROM ${BASE}',
        'MAINTAINER someone@example.com',
        'ENV A=1 B="two words"',
        'ENV LEGACY value with spaces',
        'LABEL org.example.kind=test "quoted key"=v',
        'ARG V=3',
        'WORKDIR /srv/app',
        'WORKDIR sub',
        'USER 1000:1000',
        'EXPOSE 80 53/udp 8000-8001',
        'VOLUME ["/data", "/cache"]',
        'STOPSIGNAL SIGINT',
        'HEALTHCHECK --interval=5s --retries=3 CMD true',
        'SHELL ["/bin/sh", "-e", "-c"]',
        'ONBUILD RUN echo triggered',
        'ENTRYPOINT ["/bin/echo"]',
        'CMD ["hello"]',
        '',
      ].join('\n'),
    })
    const r = ok(await berth(['build', '-t', t, dir], { timeoutMs: 120_000 }))
    expect(r.stdout).toMatch(/^Sending build context to Docker daemon {2}\S+/)
    expect(r.stdout).toContain('Step 1/18 : ARG BASE=busybox\n')
    expect(r.stdout).toContain('Step 2/18 : FROM ${BASE}\n')
    expect(r.stdout).toContain('Step 18/18 : CMD ["hello"]\n')
    expect(r.stdout).toMatch(/Successfully built [0-9a-f]{12}\n/)
    expect(r.stdout).toContain(`Successfully tagged ${t}\n`)
    const img = await inspect(t)
    expect(img.Author).toBe('someone@example.com')
    expect(img.Config.Env).toEqual(expect.arrayContaining(['A=1', 'B=two words', 'LEGACY=value with spaces']))
    expect(img.Config.Env?.some((e) => e.startsWith('V='))).toBe(false)
    expect(img.Config.Labels).toEqual({ 'org.example.kind': 'test', 'quoted key': 'v' })
    expect(img.Config.WorkingDir).toBe('/srv/app/sub')
    expect(img.Config.User).toBe('1000:1000')
    expect(Object.keys(img.Config.ExposedPorts ?? {}).sort()).toEqual(['53/udp', '80/tcp', '8000/tcp', '8001/tcp'])
    expect(Object.keys(img.Config.Volumes ?? {}).sort()).toEqual(['/cache', '/data'])
    expect(img.Config.StopSignal).toBe('SIGINT')
    expect(img.Config.Healthcheck).toMatchObject({ Test: ['CMD-SHELL', 'true'], Interval: 5_000_000_000, Retries: 3 })
    expect(img.Config.OnBuild).toEqual(['RUN echo triggered'])
    expect(img.Config.Entrypoint).toEqual(['/bin/echo'])
    expect(img.Config.Cmd).toEqual(['hello'])
    const base = await inspect('busybox')
    // Each WORKDIR made a directory: a layer each; everything else is metadata.
    expect(img.RootFS.Layers.length).toBe(base.RootFS.Layers.length + 2)
    const h = await history(t)
    expect(h[0]).toBe('/bin/sh -e -c #(nop)  CMD ["hello"]')
    expect(h).toContain('/bin/sh -c #(nop)  ENV A=1 B=two words')
    expect(h).toContain('/bin/sh -c #(nop)  WORKDIR /srv/app/sub')
    expect(h).toContain('/bin/sh -e -c #(nop)  SHELL [/bin/sh -e -c]')
    expect(h).toContain('/bin/sh -c #(nop)  LABEL org.example.kind=test quoted key=v')
    expect(h).toContain('/bin/sh -c #(nop)  VOLUME [/data /cache]')
    expect(h).toContain('/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "true"] "5s" "0s" "0s" "0s" \'\\x03\'}')
    expect(ok(await berth(['run', '--rm', t])).stdout).toBe('hello\n')
  })

  it('runs RUN in a container, commits its changes (whiteouts included) and copies files with ownership', async () => {
    const t = tag('run')
    const dir = ctx({
      Dockerfile: [
        'FROM busybox',
        'RUN mkdir -p /opt/x && echo one > /opt/x/a && echo gone > /opt/x/b',
        'RUN rm /opt/x/b && rm -r /etc/network 2>/dev/null; echo out; echo err >&2',
        'COPY --chown=1234:55 files/ /opt/files/',
        'COPY single.txt /opt/renamed.txt',
        'ADD archive.tar /opt/unpacked/',
        'RUN ["/bin/sh", "-c", "cat /opt/files/f1 /opt/renamed.txt > /opt/both"]',
        '',
      ].join('\n'),
      'files/f1': 'first\n',
      'files/sub/f2': 'second\n',
      'single.txt': 'single\n',
    })
    // A tar for ADD to unpack.
    const tarDir = ctx({ 'inner.txt': 'from the archive\n' })
    await fsp.writeFile(path.join(dir, 'archive.tar'), execFileSync('tar', ['-c', '-C', tarDir, 'inner.txt']))
    const r = ok(await berth(['build', '--no-cache', '-t', t, dir], { timeoutMs: 120_000 }))
    expect(r.stdout).toMatch(/ ---> Running in [0-9a-f]{12}\nout\nerr\n ---> Removed intermediate container [0-9a-f]{12}\n ---> [0-9a-f]{12}\n/)
    const out = await runIn(t, 'cat /opt/x/a; ls /opt/x; test -e /opt/x/b || echo no-b; stat -c "%u:%g" /opt/files/f1 /opt/files/sub/f2; cat /opt/renamed.txt /opt/unpacked/inner.txt /opt/both')
    expect(out).toBe('one\na\nno-b\n1234:55\n1234:55\nsingle\nfrom the archive\nfirst\nsingle\n')
    const h = await history(t)
    expect(h[0]).toBe('/bin/sh -c cat /opt/files/f1 /opt/renamed.txt > /opt/both')
    expect(h[1]).toMatch(/^\/bin\/sh -c #\(nop\) ADD file:[0-9a-f]{64} in \/opt\/unpacked\/ $/)
    expect(h[3]).toMatch(/^\/bin\/sh -c #\(nop\) COPY --chown=1234:55 dir:[0-9a-f]{64} in \/opt\/files\/ $/)
    // No intermediate container is left behind.
    expect(ok(await berth(['ps', '-a', '--filter', `ancestor=${t}`, '-q'])).stdout).toBe('')
  })

  it('uses the cache on a rebuild and re-runs from the first step a changed file affects', async () => {
    const t = tag('cache')
    const dir = ctx({
      Dockerfile: ['FROM busybox', 'RUN echo step1 > /s1', 'COPY a.txt /a.txt', 'RUN cat /a.txt > /copy', ''].join('\n'),
      'a.txt': 'v1\n',
    })
    const first = ok(await berth(['build', '-t', t, dir], { timeoutMs: 120_000 }))
    expect(first.stdout).not.toContain('Using cache')
    const id1 = (await inspect(t)).Id
    const again = ok(await berth(['build', '-t', t, dir], { timeoutMs: 120_000 }))
    expect(again.stdout.match(/ ---> Using cache/g)).toHaveLength(3)
    expect((await inspect(t)).Id).toBe(id1)
    writeFileSync(path.join(dir, 'a.txt'), 'v2\n')
    const changed = ok(await berth(['build', '-t', t, dir], { timeoutMs: 120_000 }))
    expect(changed.stdout.match(/ ---> Using cache/g)).toHaveLength(1)
    expect(changed.stdout).toContain('Running in')
    expect(await runIn(t, 'cat /copy')).toBe('v2\n')
    const nocache = ok(await berth(['build', '--no-cache', '-t', t, dir], { timeoutMs: 120_000 }))
    expect(nocache.stdout).not.toContain('Using cache')
  })

  it('uses --cache-from images whose intermediate images are gone (a saved and loaded image)', async () => {
    const t = tag('cachefrom')
    const dir = ctx({ Dockerfile: 'FROM busybox\nENV STAGE=one\nRUN echo built > /b\nCMD ["cat", "/b"]\n' })
    ok(await berth(['build', '-t', t, dir], { timeoutMs: 120_000 }))
    const id = (await inspect(t)).Id
    const archive = path.join(dir, 'img.tar')
    ok(await berth(['save', '-o', archive, t]))
    ok(await berth(['rmi', t]))
    ok(await berth(['load', '-i', archive]))
    // The step images went with the tag: without --cache-from nothing is cached.
    const cold = ok(await berth(['build', '-t', `${t}-cold`, dir], { timeoutMs: 120_000 }))
    images.push(`${t}-cold`)
    expect(cold.stdout).toContain('Running in')
    ok(await berth(['rmi', `${t}-cold`]))
    const warm = ok(await berth(['build', '--cache-from', t, '-t', `${t}-warm`, dir], { timeoutMs: 120_000 }))
    images.push(`${t}-warm`)
    expect(warm.stdout.match(/ ---> Using cache/g)).toHaveLength(3)
    expect(warm.stdout).not.toContain('Running in')
    expect((await inspect(`${t}-warm`)).Id).toBe(id)
  })

  it('builds multi-stage files with COPY --from, --target and build args', async () => {
    const t = tag('multi')
    const dir = ctx({
      Dockerfile: [
        'FROM busybox AS builder',
        'ARG GREETING=hi',
        'RUN echo "$GREETING" > /built',
        'FROM busybox AS other',
        'RUN echo other > /o',
        'FROM busybox',
        'COPY --from=builder /built /from-builder',
        'COPY --from=1 /o /from-other',
        'CMD ["cat", "/from-builder", "/from-other"]',
        '',
      ].join('\n'),
    })
    ok(await berth(['build', '--build-arg', 'GREETING=hello', '--build-arg', 'UNUSED=1', '-t', t, dir], { timeoutMs: 120_000 }))
    expect(ok(await berth(['run', '--rm', t])).stdout).toBe('hello\nother\n')
    const target = tag('target')
    const r = ok(await berth(['build', '--target', 'builder', '-t', target, dir], { timeoutMs: 120_000 }))
    expect(r.stdout).toContain('Step 3/3 : RUN echo "$GREETING" > /built')
    expect(await runIn(target, 'cat /built')).toBe('hi\n')
    const h = await history(target)
    expect(h[0]).toBe('|1 GREETING=hi /bin/sh -c echo "$GREETING" > /built')
  })

  it('writes -q output and --iidfile, applies --label, and runs ONBUILD triggers of the base', async () => {
    const base = tag('onbuild-base')
    ok(await berth(['build', '-t', base, ctx({ Dockerfile: 'FROM busybox\nONBUILD RUN echo triggered > /t\n' })], { timeoutMs: 120_000 }))
    const t = tag('child')
    const dir = ctx({ Dockerfile: `FROM ${base}\nRUN cat /t\n` })
    const iid = path.join(dir, 'iid')
    const r = ok(await berth(['build', '-q', '--iidfile', iid, '--label', 'a.b=c', '-t', t, dir], { timeoutMs: 120_000 }))
    // As the docker CLI with -q: the file holds what was printed, the ID and a newline.
    const id = readFileSync(iid, 'utf8').trim()
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(r.stdout).toBe(`${id}\n`)
    const img = await inspect(t)
    expect(img.Id).toBe(id)
    expect(img.Config.Labels).toMatchObject({ 'a.b': 'c' })
    expect(img.Config.OnBuild ?? []).toEqual([])
    expect(await runIn(t, 'cat /t')).toBe('triggered\n')
  })

  it('reports a failing RUN with its exit code and output, and leaves no tagged image', async () => {
    const t = tag('fail')
    const dir = ctx({ Dockerfile: 'FROM busybox\nRUN echo about to fail; exit 3\n' })
    const r = await berth(['build', '-t', t, dir], { timeoutMs: 120_000 })
    // As the docker CLI: the build's exit status is the failed command's.
    expect(r.code).toBe(3)
    expect(r.stdout).toContain('about to fail\n')
    expect(r.stderr).toContain("The command '/bin/sh -c echo about to fail; exit 3' returned a non-zero code: 3")
    expect((await berth(['image', 'inspect', t])).code).not.toBe(0)
  })

  it('refuses bad Dockerfiles and missing sources clearly', async () => {
    const bad = await berth(['build', ctx({ Dockerfile: 'FROM busybox\nFOO bar\n' })])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('unknown instruction: FOO')
    const missingSrc = await berth(['build', ctx({ Dockerfile: 'FROM busybox\nCOPY nope.txt /\n' })], { timeoutMs: 60_000 })
    expect(missingSrc.code).toBe(1)
    expect(missingSrc.stderr).toMatch(/nope\.txt/)
    const noDockerfile = await berth(['build', ctx({ 'x.txt': 'x' })])
    expect(noDockerfile.code).toBe(1)
    expect(noDockerfile.stderr).toMatch(/Dockerfile/)
    const target = await berth(['build', '--target', 'nope', ctx({ Dockerfile: 'FROM busybox\n' })])
    expect(target.code).toBe(1)
    expect(target.stderr).toContain('target stage "nope" could not be found')
  })

  it.skipIf(!dockerBin)('serves docker build (the legacy builder) with the same image shape', async () => {
    const dockerfile = 'FROM busybox\nENV X=1\nRUN echo hi > /hi\nCMD ["cat", "/hi"]\n'
    const t1 = tag('bydocker')
    const t2 = tag('byberth')
    const r = await docker(['build', '-t', t1, ctx({ Dockerfile: dockerfile })], { env: { DOCKER_BUILDKIT: '0' }, timeoutMs: 120_000 })
    ok(r)
    expect(r.stdout).toContain('Step 3/4 : RUN echo hi > /hi')
    expect(r.stdout).toContain(`Successfully tagged ${t1}`)
    ok(await berth(['build', '--no-cache', '-t', t2, ctx({ Dockerfile: dockerfile })], { timeoutMs: 120_000 }))
    expect(await history(t1)).toEqual(await history(t2))
    const [a, b] = [await inspect(t1), await inspect(t2)]
    expect(a.Config).toEqual(b.Config)
    expect(a.RootFS.Layers.length).toBe(b.RootFS.Layers.length)
    expect(ok(await docker(['run', '--rm', t1])).stdout).toBe('hi\n')
  })
})

