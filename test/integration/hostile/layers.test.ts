/**
 * Hostile image tarballs through load (berth and the docker CLI) and import:
 * each one is refused with a clear error or its hostile entry stays inside
 * the layer. Sentinel files outside every root stay as they were, nothing
 * appears beside the data root, and berthd keeps answering.
 */
import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { existsSync, promises as fsp, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { createGzip } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inject } from 'vitest'
import { encodeHeader, END_OF_ARCHIVE, newHeader, padding } from '../../../src/archive/index.js'
import { berth, docker, missing, ok, uniq } from '../../helpers.js'
import { absent, dockerArchive, Sentinel, tarOf, UP, type Entry } from './tars.js'

const skip = missing('root', 'daemon')
const noDocker = skip ?? missing('docker-cli')

const id = uniq('hostile')
const sentinel = new Sentinel(`/tmp/berth-sentinel-${id}`)
const escName = `berth-escape-${id}`
const escape = `/tmp/${escName}`
const S = path.basename(sentinel.file)

type Expect = { refused: RegExp } | { contained: true; inside?: string } | { either: true }

interface Case {
  name: string
  layers: Entry[][]
  expect: Expect
}

const cases: Case[] = [
  { name: '../ names', layers: [[{ name: `${UP}tmp/${escName}`, data: 'x' }]], expect: { refused: /outside the layer/ } },
  { name: '../ over the sentinel', layers: [[{ name: `${UP}tmp/${S}`, data: 'pwned' }]], expect: { refused: /outside the layer/ } },
  { name: 'absolute names', layers: [[{ name: `/tmp/${escName}`, data: 'x' }, { name: `/tmp/${S}`, data: 'pwned' }]], expect: { contained: true, inside: escName } },
  { name: 'a file through a symlink to ../', layers: [[{ name: 'esc', type: 'symlink', linkname: `${UP}tmp` }, { name: `esc/${escName}`, data: 'x' }]], expect: { refused: /goes through symlink/ } },
  { name: 'a file through a symlink to /tmp', layers: [[{ name: 'esc', type: 'symlink', linkname: '/tmp' }, { name: `esc/${S}`, data: 'pwned' }]], expect: { refused: /goes through symlink/ } },
  {
    name: 'a symlink, a directory of its name, a file under it',
    layers: [[{ name: 'esc', type: 'symlink', linkname: '/tmp' }, { name: 'esc', type: 'dir' }, { name: `esc/${S}`, data: 'pwned' }]],
    expect: { either: true },
  },
  {
    name: 'a symlink to the sentinel, then a file of its name',
    layers: [[{ name: 'link', type: 'symlink', linkname: sentinel.file }, { name: 'link', data: 'pwned' }]],
    expect: { contained: true },
  },
  {
    name: 'a symlink to the sentinel by ../, then a file of its name',
    layers: [[{ name: 'link', type: 'symlink', linkname: `${UP}tmp/${S}` }, { name: 'link', data: 'pwned' }]],
    expect: { contained: true },
  },
  { name: 'a lone symlink out of the layer', layers: [[{ name: 'passwd', type: 'symlink', linkname: `${UP}etc/passwd` }]], expect: { contained: true } },
  {
    name: 'a symlink in one layer, a file through it in the next',
    layers: [[{ name: 'esc', type: 'symlink', linkname: '/tmp' }], [{ name: `esc/${S}`, data: 'pwned' }, { name: `esc/${escName}`, data: 'x' }]],
    expect: { contained: true, inside: escName },
  },
  { name: 'a hard link to /etc/shadow', layers: [[{ name: 'shadow', type: 'link', linkname: '/etc/shadow' }]], expect: { refused: /does not contain/ } },
  { name: 'a hard link to ../etc/shadow', layers: [[{ name: 'shadow', type: 'link', linkname: `${UP}etc/shadow` }]], expect: { refused: /outside the layer/ } },
  { name: 'a hard link to the sentinel', layers: [[{ name: 's', type: 'link', linkname: sentinel.file }, { name: 's', data: 'pwned' }]], expect: { refused: /does not contain/ } },
  {
    name: 'a hard link through a symlink',
    layers: [[{ name: 'e', type: 'symlink', linkname: '/etc' }, { name: 'shadow', type: 'link', linkname: 'e/shadow' }]],
    expect: { refused: /goes through symlink/ },
  },
  {
    name: 'device nodes and a FIFO',
    layers: [[
      { name: 'dev', type: 'dir' },
      { name: 'dev/evil-mem', type: 'char', devmajor: 1, devminor: 1, mode: 0o666 },
      { name: 'dev/evil-sda', type: 'block', devmajor: 8, devminor: 0, mode: 0o666 },
      { name: 'dev/evil-fifo', type: 'fifo', mode: 0o666 },
    ]],
    expect: { contained: true, inside: 'evil-mem' },
  },
  { name: 'a setuid root file', layers: [[{ name: 'bin/evil-su', data: '#!/bin/sh\n', mode: 0o4755 }]], expect: { contained: true, inside: 'evil-su' } },
  { name: 'a PAX header of 5 MB', layers: [[{ name: 'big', data: 'x', pax: new Map([['SCHILY.xattr.user.big', Buffer.alloc(5 << 20, 0x61)]]) }]], expect: { refused: /metadata entry too large/ } },
  { name: 'a whiteout of ../', layers: [[{ name: `${UP}tmp/.wh.${S}` }]], expect: { refused: /outside the layer/ } },
  { name: 'a whiteout of ..', layers: [[{ name: 'a', type: 'dir' }, { name: 'a/.wh...' }]], expect: { refused: /bad whiteout/ } },
  { name: 'a whiteout of the sentinel by name', layers: [[{ name: `tmp/.wh.${S}` }]], expect: { contained: true } },
]

/** Every ancestor of the data root, and the usual places: none may hold the escape file. */
function escapeCandidates(): string[] {
  const out = new Set([escape, `/${escName}`, `/etc/${escName}`, `/var/tmp/${escName}`])
  for (let d = inject('berthDataRoot'); d !== '/'; d = path.dirname(d)) out.add(path.join(path.dirname(d), escName))
  return [...out]
}

function inDataRoot(name: string): string[] {
  const out = execFileSync('find', [inject('berthDataRoot'), '-xdev', '-name', name]).toString()
  return out.split('\n').filter(Boolean)
}

type Via = 'berth load' | 'docker load' | 'berth import'

async function feed(via: Via, layers: Buffer[], tag: string): Promise<{ code: number; out: string }> {
  const file = `/var/tmp/${uniq('hostile-in')}.tar`
  await fsp.writeFile(file, via === 'berth import' ? (layers[layers.length - 1] as Buffer) : dockerArchive(layers, tag))
  try {
    const r = via === 'berth load' ? await berth(['load', '-i', file])
      : via === 'docker load' ? await docker(['load', '-i', file])
        : await berth(['import', file, tag])
    return { code: r.code, out: r.stdout + r.stderr }
  } finally {
    await fsp.rm(file, { force: true })
  }
}

beforeAll(async () => {
  if (!skip) await sentinel.make()
})
afterAll(async () => {
  await sentinel.remove()
  if (!skip) for (const f of escapeCandidates()) await fsp.rm(f, { force: true })
})

describe.skipIf(skip)('hostile layers', () => {

  for (const via of ['berth load', 'docker load', 'berth import'] as const) {
    describe.skipIf(via === 'docker load' ? noDocker : skip)(via, () => {
      for (const c of cases) {
        // import takes one layer: the multi-layer cases are load's.
        if (via === 'berth import' && c.layers.length > 1) continue
        it(c.name, async () => {
          const tag = `${uniq('hostile')}:1`
          const layers = c.layers.map(tarOf)
          const r = await feed(via, layers, tag)
          try {
            if ('refused' in c.expect) {
              expect(r.code, r.out).not.toBe(0)
              expect(r.out).toMatch(c.expect.refused)
            } else if ('contained' in c.expect) {
              expect(r.code, r.out).toBe(0)
              if (c.expect.inside) expect(inDataRoot(c.expect.inside).length).toBeGreaterThan(0)
            }
            expect(sentinel.untouched()).toBe(true)
            expect(absent(...escapeCandidates())).toEqual([])
            ok(await berth(['version']))
          } finally {
            if (r.code === 0) await berth(['rmi', '-f', tag])
          }
        })
      }
    })
  }

  it('a manifest naming files outside the archive reads nothing of the host', async () => {
    const config = JSON.stringify({ os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })
    for (const manifest of [
      [{ Config: `${UP}etc/passwd`, RepoTags: null, Layers: [] }],
      [{ Config: 'c.json', RepoTags: null, Layers: ['/etc/shadow'] }],
      [{ Config: 'c.json', RepoTags: null, Layers: [`${UP}etc/shadow`] }],
      [{ Config: 'link', RepoTags: null, Layers: [] }],
    ]) {
      const file = `/var/tmp/${uniq('hostile-manifest')}.tar`
      await fsp.writeFile(file, tarOf([
        { name: 'c.json', data: config.replace('[]', '["sha256:' + '0'.repeat(64) + '"]') },
        { name: 'link', type: 'symlink', linkname: '/etc/passwd' },
        { name: 'manifest.json', data: JSON.stringify(manifest) },
      ]))
      try {
        const r = await berth(['load', '-i', file])
        expect(r.code, r.stdout).not.toBe(0)
        expect(r.stderr).toMatch(/outside|missing/)
        expect(r.stderr).not.toMatch(/root:/)
      } finally {
        await fsp.rm(file, { force: true })
      }
    }
    ok(await berth(['version']))
  })

  it('corrupt and truncated compressed input is a clear error', async () => {
    const { gzipSync } = await import('node:zlib')
    const good = gzipSync(tarOf([{ name: 'f', data: 'x'.repeat(10000) }]))
    const flipped = Buffer.from(good)
    flipped[Math.floor(flipped.length / 2)] ^= 0xff
    const bad: Array<[string, Buffer, RegExp]> = [
      ['truncated gzip', good.subarray(0, good.length - 20), /unexpected end of file/],
      ['corrupt gzip', flipped, /invalid/],
      ['gzip magic only', Buffer.from([0x1f, 0x8b, 0x08, 0x00]), /unexpected end of file/],
      ['zstd', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]), /unsupported compression format zstd/],
      ['not a tar', Buffer.from('hello, I am not an archive\n'.repeat(100)), /invalid tar archive/],
    ]
    for (const [what, bytes, message] of bad) {
      for (const args of [['import', '-', `${uniq('hostile-gz')}:1`], ['load']]) {
        // The daemon's message, not a broken pipe: a refused upload is answered, then drained.
        const r = await berth(args, { input: bytes })
        expect(r.code, `${what} via ${args[0]}`).not.toBe(0)
        expect(r.stderr, `${what} via ${args[0]}`).toMatch(message)
      }
    }
    ok(await berth(['version']))
  })

  it('a layer with a setuid file keeps the bit inside the layer only', async () => {
    const tag = `${uniq('hostile-suid')}:1`
    const name = `suid-${id}`
    ok(await berth(['import', '-', tag], { input: tarOf([{ name: `bin/${name}`, data: '#!/bin/sh\n', mode: 0o4755 }]) }))
    try {
      const found = inDataRoot(name)
      expect(found.length).toBeGreaterThan(0)
      for (const f of found) {
        expect(f.startsWith(inject('berthDataRoot') + '/')).toBe(true)
        expect(statSync(f).mode & 0o7777).toBe(0o4755)
      }
      expect(absent(`/bin/${name}`, `/usr/bin/${name}`)).toEqual([])
    } finally {
      await berth(['rmi', '-f', tag])
    }
  })

  it('a tar bomb (200 MB of zeros in a small gzip) is unpacked in bounded memory', async () => {
    const size = 200 << 20
    const diff = createHash('sha256')
    const gz = createGzip({ level: 9 })
    const parts: Buffer[] = []
    gz.on('data', (c: Buffer) => parts.push(c))
    const finished = new Promise((r) => gz.on('end', r))
    const put = async (b: Buffer) => {
      diff.update(b)
      if (!gz.write(b)) await new Promise((r) => gz.once('drain', r))
    }
    await put(encodeHeader(newHeader('zeros', 'file', { size })))
    const mib = Buffer.alloc(1 << 20)
    for (let i = 0; i < size >> 20; i++) await put(mib)
    await put(padding(size))
    await put(END_OF_ARCHIVE)
    gz.end()
    await finished
    const layer = Buffer.concat(parts)
    expect(layer.length).toBeLessThan(1 << 20)
    // The archive names the uncompressed tar's digest, as docker save writes it.
    const diffId = 'sha256:' + diff.digest('hex')
    const tag = `${uniq('hostile-bomb')}:1`
    const archive = bombArchive(layer, diffId, tag)

    const pid = Number(readFileSync(path.join(inject('berthExecRoot'), 'berthd.pid'), 'utf8').trim())
    const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024
    const base = rss()
    let peak = base
    const timer = setInterval(() => {
      peak = Math.max(peak, rss())
    }, 20)
    try {
      const file = `/var/tmp/${uniq('bomb')}.tar`
      await fsp.writeFile(file, archive)
      try {
        ok(await berth(['load', '-i', file], { timeoutMs: 120_000 }))
      } finally {
        await fsp.rm(file, { force: true })
      }
    } finally {
      clearInterval(timer)
      await berth(['rmi', '-f', tag])
    }
    // Streamed, not buffered: the daemon's memory grows by far less than the 200 MB it unpacked.
    expect(peak - base).toBeLessThan(120 << 20)
    ok(await berth(['version']))
  }, 180_000)

  it('the daemon is still up after all of it', async () => {
    ok(await berth(['version']))
    expect(sentinel.untouched()).toBe(true)
    expect(existsSync(escape)).toBe(false)
  })
})

/** dockerArchive with a gzip layer whose diffID is given (the layer's uncompressed digest). */
function bombArchive(layer: Buffer, diffId: string, tag: string): Buffer {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] } }))
  const cname = createHash('sha256').update(config).digest('hex') + '.json'
  return tarOf([
    { name: cname, data: config },
    { name: 'layer.tar.gz', data: layer },
    { name: 'manifest.json', data: JSON.stringify([{ Config: cname, RepoTags: [tag], Layers: ['layer.tar.gz'] }]) },
  ])
}

/**
 * Build contexts with symlinks that leave the context: docker resolves a COPY
 * source's symlinks inside the context, so the host's files never enter the
 * image; a link to / names the context itself.
 */
describe.skipIf(skip)('hostile build contexts', () => {
  const hostPasswd = existsSync('/etc/passwd') ? readFileSync('/etc/passwd', 'utf8') : ''
  let ctx = ''
  const tags: string[] = []
  beforeAll(async () => {
    ctx = await fsp.mkdtemp('/var/tmp/berth-hostile-ctx-')
    await fsp.symlink('/etc/passwd', path.join(ctx, 'passwd'))
    await fsp.symlink('../../../../../../../../etc/shadow', path.join(ctx, 'shadow'))
    await fsp.symlink('/', path.join(ctx, 'root'))
    await fsp.writeFile(path.join(ctx, 'mark'), 'in the context\n')
    await fsp.symlink('/mark', path.join(ctx, 'scoped'))
  })
  afterAll(async () => {
    if (tags.length) await berth(['rmi', '-f', ...tags])
    await fsp.rm(ctx, { recursive: true, force: true })
  })

  async function build(dockerfile: string): Promise<{ code: number; out: string; tag: string }> {
    const tag = `${uniq('hostile-ctx')}:1`
    tags.push(tag)
    await fsp.writeFile(path.join(ctx, 'Dockerfile'), dockerfile)
    const r = await berth(['build', '-q', '-t', tag, ctx], { timeoutMs: 60_000 })
    return { code: r.code, out: r.stdout + r.stderr, tag }
  }

  async function cat(tag: string, file: string): Promise<string | undefined> {
    const r = await berth(['run', '--rm', tag, 'cat', file])
    return r.code === 0 ? r.stdout : undefined
  }

  it('COPY of a link to /etc/passwd resolves it inside the context, never on the host', async () => {
    // As docker's classic builder (FollowSymlinkInScope): the link names the context's etc/passwd, which is not there.
    const b = await build('FROM busybox\nCOPY passwd /copied\n')
    expect(b.code, b.out).not.toBe(0)
    expect(b.out).toMatch(/file not found in build context or excluded by \.dockerignore: stat passwd: file does not exist/)
    ok(await berth(['version']))
  })

  it('COPY of a link to ../../etc/shadow is refused the same way', async () => {
    const b = await build('FROM busybox\nCOPY shadow /copied\n')
    expect(b.code, b.out).not.toBe(0)
    expect(b.out).toMatch(/file not found in build context/)
  })

  it('COPY of an absolute link copies the context file it names', async () => {
    const b = await build('FROM busybox\nCOPY scoped /copied\n')
    expect(b.code, b.out).toBe(0)
    expect(await cat(b.tag, '/copied')).toBe('in the context\n')
    if (hostPasswd) expect(await cat(b.tag, '/copied')).not.toBe(hostPasswd)
  })

  it('COPY link/ where link → / copies the context, not the host root', async () => {
    const b = await build('FROM busybox\nCOPY root/ /y/\n')
    expect(b.code, b.out).toBe(0)
    {
      expect(await cat(b.tag, '/y/etc/shadow')).toBeUndefined()
      expect(await cat(b.tag, '/y/mark')).toBe('in the context\n')
      expect(await cat(b.tag, '/y/proc/self/status')).toBeUndefined()
      const ls = await berth(['run', '--rm', b.tag, 'ls', '-a', '/y'])
      for (const name of ['etc', 'usr', 'proc', 'var']) expect(ls.stdout.split('\n')).not.toContain(name)
    }
    ok(await berth(['version']))
  })

  it('ADD of a local tar with ../ names unpacks inside the image (chroot semantics)', async () => {
    await fsp.writeFile(path.join(ctx, 'evil.tar'), tarOf([{ name: `${UP}tmp/${escName}`, data: 'x' }, { name: `/tmp/${S}`, data: 'pwned' }]))
    const b = await build('FROM busybox\nADD evil.tar /\n')
    // docker's chrootarchive: `..` stops at the image's root, absolute names are under it.
    expect(b.code, b.out).toBe(0)
    expect(await cat(b.tag, `/tmp/${escName}`)).toBe('x')
    expect(await cat(b.tag, `/tmp/${S}`)).toBe('pwned')
    expect(sentinel.untouched()).toBe(true)
    expect(absent(...escapeCandidates())).toEqual([])
  })

  it('a build context tar with ../ names and a file through a symlink is refused', async () => {
    for (const entries of [
      [{ name: 'Dockerfile', data: 'FROM busybox\n' }, { name: `${UP}tmp/${escName}`, data: 'x' }],
      [{ name: 'Dockerfile', data: 'FROM busybox\n' }, { name: 'esc', type: 'symlink' as const, linkname: '/tmp' }, { name: `esc/${S}`, data: 'pwned' }],
      [{ name: 'Dockerfile', data: 'FROM busybox\n' }, { name: 'h', type: 'link' as const, linkname: '/etc/shadow' }],
    ]) {
      const r = await berth(['build', '-q', '-'], { input: tarOf(entries) })
      expect(r.code, r.stdout + r.stderr).not.toBe(0)
      expect(r.stderr).toMatch(/build context|outside|symlink|link/)
    }
    expect(sentinel.untouched()).toBe(true)
    expect(absent(...escapeCandidates())).toEqual([])
    ok(await berth(['version']))
  })
})
