import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { applyLayer, diffUpper, encodeHeader, END_OF_ARCHIVE, layerTar, newHeader, padding, TarReader, type TarHeader } from '../../../src/archive/index.js'
import { berth, containerNames, docker, missing, ok, uniq, waitFor } from '../../helpers.js'

/** A layer tar from [header, data] pairs. */
function tarOf(entries: Array<[TarHeader, string?]>): Readable {
  const parts: Buffer[] = []
  for (const [h, data] of entries) {
    const body = Buffer.from(data ?? '')
    parts.push(encodeHeader({ ...h, size: h.type === 'file' ? body.length : 0 }), body, padding(h.type === 'file' ? body.length : 0))
  }
  parts.push(END_OF_ARCHIVE)
  return Readable.from([Buffer.concat(parts)])
}

async function collect(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const c of r) parts.push(c as Buffer)
  return Buffer.concat(parts)
}

const sh = (cmd: string, cwd?: string): string => execFileSync('sh', ['-c', cmd], { cwd, encoding: 'utf8' })

/** Every path of a tree with type, mode, owner, link target and a content hash: equal listings are equal trees. */
function listing(dir: string): string {
  return sh(`find . -mindepth 1 -printf '%p %y %m %U:%G %l\\n' | sort; find . -type f -exec md5sum {} + | sort`, dir)
}

describe.skipIf(missing('root'))('the diff of a real overlay upper dir', () => {
  let dir = ''
  const d = (p: string) => path.join(dir, p)
  const overlay = (lowers: string[], upper: string, work: string, target: string) =>
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lowers.map(d).join(':')},upperdir=${d(upper)},workdir=${d(work)}`, d(target)])
  const unmount = (target: string) => execFileSync('umount', [d(target)])

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'berth-diff-'))
    for (const p of ['l0', 'l1', 'l2', 'up', 'work', 'merged', 'work2', 'up2', 'merged2']) mkdirSync(d(p))
    const cap = Buffer.alloc(20)
    cap.writeUInt32LE(0x02000000, 0)
    cap.writeUInt32LE(0x2000, 4)
    const t = { mtime: 1_700_000_000 }
    await applyLayer(d('l0'), tarOf([
      [newHeader('a', 'dir', t)], [newHeader('a/x', 'file', t), 'x\n'], [newHeader('a/y', 'file', t), 'y\n'],
      [newHeader('bin', 'dir', t)], [newHeader('bin/cap', 'file', { ...t, mode: 0o755, pax: new Map([['SCHILY.xattr.security.capability', cap]]) }), 'elf'],
      [newHeader('d', 'dir', t)], [newHeader('d/sub', 'dir', t)], [newHeader('d/sub/z', 'file', t), 'z\n'],
      [newHeader('e', 'dir', t)], [newHeader('e/1', 'file', t), 'one\n'], [newHeader('keep', 'file', t), 'keep\n'],
    ]))
    // The image's second layer deletes `keep` and makes `e` opaque: what is under them below is gone.
    await applyLayer(d('l1'), tarOf([[newHeader('.wh.keep', 'file', t)], [newHeader('e', 'dir', t)], [newHeader('e/.wh..wh..opq', 'file', t)], [newHeader('e/2', 'file', t), 'two\n']]))
    overlay(['l1', 'l0'], 'up', 'work', 'merged')
    sh([
      'echo new > new', 'echo more >> a/x', 'rm a/y', 'rm -rf d', 'mkdir d', 'echo n > d/n', 'echo back > keep', 'echo 1 > e/1',
      'mkfifo fifo', 'ln new hl', 'ln -s new sl', 'touch bin/cap', 'mknod dev c 1 3',
    ].join(' && '), d('merged'))
    unmount('merged')
  })
  afterAll(() => {
    for (const m of ['merged', 'merged2']) {
      try {
        execFileSync('umount', [d(m)], { stdio: 'ignore' })
      } catch {
        // not mounted
      }
    }
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('lists changes as docker does, through lower whiteouts and opaque directories', async () => {
    const diff = await diffUpper({ upper: d('up'), lowers: [d('l1'), d('l0')] })
    expect(diff.changes.map((c) => `${c.kind} ${c.path}`)).toEqual([
      'C /a', 'C /a/x', 'D /a/y', 'C /bin', 'C /bin/cap', 'C /d', 'A /d/n', 'D /d/sub', 'A /dev', 'C /e', 'A /e/1', 'A /fifo', 'A /hl', 'A /keep', 'A /new', 'A /sl',
    ])
  })

  it('makes a layer that rebuilds the same tree on the image, the same bytes every time', async () => {
    const diff = await diffUpper({ upper: d('up'), lowers: [d('l1'), d('l0')] })
    const tar = await collect(layerTar(d('up'), diff.members))
    expect(createHash('sha256').update(await collect(layerTar(d('up'), diff.members))).digest('hex')).toBe(createHash('sha256').update(tar).digest('hex'))

    const headers: TarHeader[] = []
    const reader = new TarReader(Readable.from([tar]))
    for (let h = await reader.next(); h; h = await reader.next()) headers.push(h)
    const byName = new Map(headers.map((h) => [h.name, h]))
    expect(byName.get('a/.wh.y')).toMatchObject({ type: 'file', size: 0 })
    expect(byName.get('d/.wh..wh..opq')).toMatchObject({ type: 'file' })
    expect(byName.get('hl')?.type === 'link' || byName.get('new')?.type === 'link').toBe(true)
    expect(byName.get('bin/cap')?.pax.has('SCHILY.xattr.security.capability')).toBe(true)
    expect(byName.get('dev')).toMatchObject({ type: 'char', devmajor: 1, devminor: 3 })
    for (const h of headers) {
      expect(Number.isInteger(h.mtime)).toBe(true)
      expect([...h.pax.keys()].filter((k) => !k.startsWith('SCHILY.xattr.security.'))).toEqual([])
    }

    const applied = await applyLayer(d('l2'), Readable.from([tar]))
    expect(applied.diffId).toBe('sha256:' + createHash('sha256').update(tar).digest('hex'))
    overlay(['l1', 'l0'], 'up', 'work', 'merged')
    overlay(['l2', 'l1', 'l0'], 'up2', 'work2', 'merged2')
    try {
      expect(listing(d('merged2'))).toBe(listing(d('merged')))
    } finally {
      unmount('merged')
      unmount('merged2')
    }
  })

  it('an empty upper dir is the empty layer', async () => {
    mkdirSync(d('empty'))
    const diff = await diffUpper({ upper: d('empty'), lowers: [d('l0')] })
    expect(diff).toEqual({ changes: [], members: [] })
    expect(await collect(layerTar(d('empty'), []))).toEqual(END_OF_ARCHIVE)
  })
})

describe.skipIf(missing('root', 'daemon'))('berth commit and container diff', () => {
  const name = containerNames()
  const images: string[] = []
  const image = (prefix: string) => {
    const n = uniq(prefix)
    images.push(n)
    return n
  }
  afterAll(async () => {
    if (images.length) await berth(['rmi', '-f', ...images.map((i) => (i.includes(':') ? i : `${i}:1`))])
  })

  const script = [
    'echo added > /added', 'echo changed >> /etc/passwd', 'rm /etc/group',
    // Deleting a directory of the image and making it again leaves it opaque in the upper dir.
    'rm -rf /var', 'mkdir -p /var/fresh', 'echo f > /var/fresh/f',
    'mkdir /home/u', 'ln -s /added /home/u/sym',
  ].join(' && ')
  const expected = ['A /added', 'C /etc', 'D /etc/group', 'C /etc/passwd', 'C /home', 'A /home/u', 'A /home/u/sym', 'C /var', 'A /var/fresh', 'A /var/fresh/f', 'D /var/tmp']

  it('diffs and commits a stopped container; the image has its changes and a new layer', async () => {
    const c = name('commit')
    const img = image('commit-img')
    ok(await berth(['run', '--name', c, 'busybox', 'sh', '-c', script]))
    expect(ok(await berth(['container', 'diff', c])).stdout).toBe(expected.map((l) => `${l}\n`).join(''))
    expect(ok(await berth(['diff', c])).stdout).toBe(expected.map((l) => `${l}\n`).join(''))

    const id = ok(await berth(['commit', '-m', 'msg', '-a', 'me', '-c', 'ENV X=1', '-c', 'CMD ["sh"]', c, `${img}:1`])).stdout.trim()
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/)
    const seen = ok(await berth(['run', '--rm', `${img}:1`, 'sh', '-c', 'cat /added; tail -n1 /etc/passwd; ls /etc/group /var/tmp 2>&1; ls /var; readlink /home/u/sym; echo X=$X'])).stdout
    expect(seen).toBe('added\nchanged\nls: /etc/group: No such file or directory\nls: /var/tmp: No such file or directory\nfresh\n/added\nX=1\n')

    const base = JSON.parse(ok(await berth(['image', 'inspect', 'busybox'])).stdout)[0]
    const info = JSON.parse(ok(await berth(['image', 'inspect', `${img}:1`])).stdout)[0]
    expect(info.Id).toBe(id)
    expect(info.RootFS.Layers).toEqual([...base.RootFS.Layers, expect.stringMatching(/^sha256:[0-9a-f]{64}$/)])
    expect(info.Config.Env).toContain('X=1')
    expect(info.Config.Cmd).toEqual(['sh'])
    expect(info.Comment).toBe('msg')
    expect(info.Author).toBe('me')
    expect(info.Parent).toBe(base.Id)

    const hist = ok(await berth(['history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Comment}}', `${img}:1`])).stdout.trim().split('\n')
    expect(hist.length).toBe(ok(await berth(['history', '-q', 'busybox'])).stdout.trim().split('\n').length + 1)
    expect(hist[0]).toBe(`${id}|sh -c ${script}|msg`)

    // The same content with the same mtimes makes the same layer.
    const again = image('commit-again')
    ok(await berth(['commit', c, `${again}:1`]))
    const info2 = JSON.parse(ok(await berth(['image', 'inspect', `${again}:1`])).stdout)[0]
    expect(info2.RootFS.Layers).toEqual(info.RootFS.Layers)
    expect(info2.Comment).toBe('')
  })

  it('commits on top of a committed image, and an unchanged container adds no layer', async () => {
    const c = name('base')
    const img = image('commit-base')
    ok(await berth(['run', '--name', c, 'busybox', 'sh', '-c', 'mkdir -p /data/sub && echo a > /data/a && echo b > /data/sub/b']))
    ok(await berth(['commit', c, `${img}:1`]))
    const c2 = name('child')
    ok(await berth(['run', '--name', c2, `${img}:1`, 'sh', '-c', 'rm -rf /data && mkdir /data && echo n > /data/n']))
    expect(ok(await berth(['diff', c2])).stdout).toBe('C /data\nD /data/a\nA /data/n\nD /data/sub\n')
    const img2 = image('commit-child')
    ok(await berth(['commit', c2, `${img2}:1`]))
    expect(ok(await berth(['run', '--rm', `${img2}:1`, 'find', '/data'])).stdout).toBe('/data\n/data/n\n')

    const c3 = name('unchanged')
    ok(await berth(['run', '--name', c3, `${img2}:1`, 'true']))
    expect(ok(await berth(['diff', c3])).stdout).toBe('')
    const img3 = image('commit-empty')
    ok(await berth(['commit', c3, `${img3}:1`]))
    const [a, b] = await Promise.all([`${img2}:1`, `${img3}:1`].map(async (i) => JSON.parse(ok(await berth(['image', 'inspect', i])).stdout)[0]))
    expect(b.RootFS.Layers).toEqual(a.RootFS.Layers)
    expect(ok(await berth(['history', '--format', '{{.Size}}', `${img3}:1`])).stdout.split('\n')[0]).toBe('0B')
  })

  it('pauses a running container for the commit and leaves it running', async () => {
    const c = name('running')
    ok(await berth(['run', '-d', '--name', c, 'busybox', 'sh', '-c', 'echo up > /state; exec sleep 1d']))
    await waitFor(async () => (await berth(['diff', c])).stdout.includes('A /state') || undefined, 10_000, 'the file')
    const since = String(Math.floor(Date.now() / 1000) - 1)
    const img = image('commit-running')
    const id = ok(await berth(['commit', c, `${img}:1`])).stdout.trim()
    expect(ok(await berth(['inspect', '-f', '{{.State.Status}}', c])).stdout.trim()).toBe('running')
    expect(ok(await berth(['run', '--rm', `${img}:1`, 'cat', '/state'])).stdout).toBe('up\n')
    const until = String(Math.floor(Date.now() / 1000) + 1)
    const events = (filter: string, format: string) => berth(['events', '--since', since, '--until', until, '--filter', `container=${c}`, '--filter', filter, '--format', format])
    expect(ok(await events('type=container', '{{.Action}}')).stdout).toMatch(/pause\nunpause\ncommit\n$/)
    expect(ok(await events('event=commit', '{{.Actor.Attributes.imageID}} {{.Actor.Attributes.imageRef}}')).stdout).toBe(`${id} ${img}:1\n`)

    // --pause=false commits without pausing; the container runs on either way.
    const img2 = image('commit-nopause')
    ok(await berth(['commit', '--pause=false', c, `${img2}:1`]))
    expect(ok(await berth(['inspect', '-f', '{{.State.Status}}', c])).stdout.trim()).toBe('running')
  })

  it("answers docker's errors", async () => {
    const nope = uniq('nope')
    const r = await berth(['commit', nope])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(`Error response from daemon: No such container: ${nope}\n`)
    expect((await berth(['diff', nope])).stderr).toBe(`Error response from daemon: No such container: ${nope}\n`)
    const c = name('errs')
    ok(await berth(['create', '--name', c, 'busybox']))
    expect((await berth(['commit', c, 'Bad:Name'])).stderr).toBe('invalid reference format: repository name (library/Bad) must be lowercase\n')
    expect((await berth(['commit', c, 'x@sha256:' + 'a'.repeat(64)])).stderr).toBe('refusing to create a tag with a digest reference\n')
    expect((await berth(['commit', '-c', 'BOGUS x', c])).stderr).toBe('Error response from daemon: bogus is not a valid change command\n')
    // A created container has an empty writable layer.
    expect(ok(await berth(['diff', c])).stdout).toBe('')
  })
})

describe.skipIf(missing('root', 'daemon', 'docker-cli'))('docker commit and docker diff against berthd', () => {
  const name = containerNames()
  const img = uniq('docker-commit')
  afterAll(async () => {
    await berth(['rmi', '-f', `${img}:2`])
  })

  it('the docker CLI diffs and commits as with dockerd', async () => {
    const c = name('docker')
    ok(await docker(['run', '--name', c, 'busybox', 'sh', '-c', 'echo hi > /hi && rm /etc/passwd']))
    expect(ok(await docker(['diff', c])).stdout).toBe('C /etc\nD /etc/passwd\nA /hi\n')
    expect(ok(await docker(['container', 'diff', c])).stdout).toBe(ok(await berth(['diff', c])).stdout)
    const id = ok(await docker(['commit', '-m', 'from docker', '-c', 'LABEL via=docker', c, `${img}:2`])).stdout.trim()
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(ok(await docker(['image', 'inspect', '-f', '{{.Comment}} {{.Config.Labels.via}}', `${img}:2`])).stdout).toBe('from docker docker\n')
    expect(ok(await docker(['run', '--rm', `${img}:2`, 'cat', '/hi'])).stdout).toBe('hi\n')
    for (const args of [['commit', '--help'], ['container', 'diff', '--help'], ['commit']]) {
      const d = await docker(args)
      const b = await berth(args)
      expect({ code: b.code, out: (b.stdout + b.stderr).replace(/berth/g, 'PROG') }).toEqual({ code: d.code, out: (d.stdout + d.stderr).replace(/docker/g, 'PROG') })
    }
  })
})
