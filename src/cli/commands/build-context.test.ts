import { promises as fsp, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TarReader, type TarHeader } from '../../archive/index.js'
import {
  compressContext, contextFromReader, contextTar, ContextError, dockerfileRelPath, isArchive, prepareLocalContext, randomDockerfileName,
} from './build-context.js'

interface Entry {
  name: string
  type: TarHeader['type']
  mode: number
  uid: number
  gid: number
  linkname: string
  body?: string
}

async function entries(src: Readable): Promise<Entry[]> {
  const r = new TarReader(src as AsyncIterable<Uint8Array>)
  const out: Entry[] = []
  for (let h = await r.next(); h; h = await r.next()) {
    const e: Entry = { name: h.name, type: h.type, mode: h.mode, uid: h.uid, gid: h.gid, linkname: h.linkname }
    if (h.type === 'file') {
      const parts: Buffer[] = []
      for await (const c of r.body()) parts.push(c)
      e.body = Buffer.concat(parts).toString()
    }
    out.push(e)
  }
  return out
}

const names = (es: Entry[]) => es.map((e) => e.name)

describe('build context', () => {
  let root: string
  let ctx: string
  const noStdin = (): Promise<Buffer> => { throw new Error('stdin not expected') }

  async function write(rel: string, body: string, mode = 0o644): Promise<void> {
    const p = path.join(ctx, rel)
    await fsp.mkdir(path.dirname(p), { recursive: true })
    await fsp.writeFile(p, body)
    await fsp.chmod(p, mode)
  }

  beforeAll(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'berth-build-ctx-'))
    ctx = path.join(root, 'ctx')
    await write('Dockerfile', 'FROM busybox\n')
    await write('run.sh', '#!/bin/sh\n', 0o755)
    await write('secret', 's', 0o600)
    await write('suid', 'x', 0o4755)
    await write('b/c.txt', 'c')
    await write('node_modules/drop/x.js', 'x')
    await write('node_modules/keep/y.js', 'y')
    await write('logs/a.log', 'l')
    await write('ü.txt', 'unicode')
    await fsp.symlink('run.sh', path.join(ctx, 'link'))
    await fsp.symlink('/etc/passwd', path.join(ctx, 'outside-link'))
    await fsp.link(path.join(ctx, 'b/c.txt'), path.join(ctx, 'hard'))
    await fsp.writeFile(path.join(root, 'other.Dockerfile'), 'FROM outside\n')
  })
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  it('tars the directory in lexical order with modes, owner 0:0, symlinks and hard links kept', async () => {
    const es = await entries(contextTar(ctx, { excludes: [] }))
    expect(names(es)).toEqual([
      'Dockerfile', 'b/', 'b/c.txt', 'hard', 'link', 'logs/', 'logs/a.log', 'node_modules/', 'node_modules/drop/', 'node_modules/drop/x.js',
      'node_modules/keep/', 'node_modules/keep/y.js', 'outside-link', 'run.sh', 'secret', 'suid', Buffer.from('ü.txt').toString('latin1'),
    ])
    const by = new Map(es.map((e) => [e.name, e]))
    expect(by.get('run.sh')).toMatchObject({ type: 'file', mode: 0o755, uid: 0, gid: 0, body: '#!/bin/sh\n' })
    expect(by.get('secret')?.mode).toBe(0o600)
    expect(by.get('suid')?.mode).toBe(0o4755)
    expect(by.get('b/')).toMatchObject({ type: 'dir', mode: 0o755 })
    expect(by.get('link')).toMatchObject({ type: 'symlink', linkname: 'run.sh' })
    expect(by.get('outside-link')).toMatchObject({ type: 'symlink', linkname: '/etc/passwd' })
    expect(by.get('hard')).toMatchObject({ type: 'link', linkname: 'b/c.txt' })
  })

  it('applies .dockerignore with exceptions, keeping the Dockerfile and .dockerignore', async () => {
    await write('.dockerignore', 'node_modules\n!node_modules/keep\n**/*.log\nDockerfile\n.dockerignore\nb\n')
    try {
      const local = await prepareLocalContext(ctx, '', noStdin)
      expect(local.dockerfile).toBe('Dockerfile')
      expect(local.tarOptions.excludes).toEqual(['node_modules', '!node_modules/keep', '**/*.log', 'Dockerfile', '.dockerignore', 'b', '!.dockerignore', '!Dockerfile'])
      const es = await entries(contextTar(local.contextDir, local.tarOptions))
      expect(names(es)).toEqual(['.dockerignore', 'Dockerfile', 'hard', 'link', 'logs/', 'node_modules/keep/', 'node_modules/keep/y.js', 'outside-link', 'run.sh', 'secret', 'suid', Buffer.from('ü.txt').toString('latin1')])
    } finally {
      await fsp.rm(path.join(ctx, '.dockerignore'))
    }
  })

  it('adds a Dockerfile from outside the context under a random name, listed in a new .dockerignore', async () => {
    const local = await prepareLocalContext(ctx, path.join(root, 'other.Dockerfile'), noStdin)
    expect(local.dockerfile).toMatch(/^\.dockerfile\.[0-9a-f]{20}$/)
    const es = await entries(contextTar(local.contextDir, { ...local.tarOptions, now: 1700000000 }))
    expect(es.slice(-2)).toEqual([
      { name: local.dockerfile, type: 'file', mode: 0o600, uid: 0, gid: 0, linkname: '', body: 'FROM outside\n' },
      { name: '.dockerignore', type: 'file', mode: 0o600, uid: 0, gid: 0, linkname: '', body: `.dockerignore\n${local.dockerfile}\n` },
    ])
  })

  it('appends the added name to an existing .dockerignore in place', async () => {
    await write('.dockerignore', 'logs\n')
    try {
      const local = await prepareLocalContext(ctx, '-', async () => Buffer.from('FROM stdin\n'))
      const es = await entries(contextTar(local.contextDir, local.tarOptions))
      expect(es[0]).toMatchObject({ name: '.dockerignore', mode: 0o644, body: `logs\n\n${local.dockerfile}\n` })
      expect(es.at(-1)).toMatchObject({ name: local.dockerfile, body: 'FROM stdin\n' })
      // `-f -`: the context's own Dockerfile is not kept against the patterns.
      expect(local.tarOptions.excludes).toEqual(['logs'])
    } finally {
      await fsp.rm(path.join(ctx, '.dockerignore'))
    }
  })

  it('finds the Dockerfile as docker does, and names what is missing', async () => {
    expect(await dockerfileRelPath(ctx, '')).toBe('Dockerfile')
    expect(await dockerfileRelPath(ctx, path.join(ctx, 'b/c.txt'))).toBe('b/c.txt')
    expect(await dockerfileRelPath(ctx, '-')).toBe('-')
    const lower = path.join(root, 'lower')
    await fsp.mkdir(lower)
    await fsp.writeFile(path.join(lower, 'dockerfile'), 'FROM x\n')
    expect(await dockerfileRelPath(lower, '')).toBe('dockerfile')
    const empty = path.join(root, 'empty')
    await fsp.mkdir(empty)
    await expect(dockerfileRelPath(empty, '')).rejects.toThrow(`unable to evaluate symlinks in Dockerfile path: lstat ${empty}/Dockerfile: no such file or directory`)
    await expect(dockerfileRelPath(empty, path.join(root, 'no/such/Dockerfile'))).rejects.toThrow(`lstat ${root}/no: no such file or directory`)
    await expect(prepareLocalContext(path.join(root, 'other.Dockerfile'), '', noStdin)).rejects.toThrow(`context must be a directory: ${root}/other.Dockerfile`)
  })

  it('compresses with --compress', async () => {
    const chunks: Buffer[] = []
    for await (const c of compressContext(contextTar(ctx, { excludes: ['node_modules', 'b'] })) as AsyncIterable<Buffer>) chunks.push(c)
    const gz = Buffer.concat(chunks)
    expect(gz.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]))
  })
})

describe('context from stdin', () => {
  const tarOf = async (dir: string) => {
    const chunks: Buffer[] = []
    for await (const c of contextTar(dir, { excludes: [] }) as AsyncIterable<Buffer>) chunks.push(c)
    return Buffer.concat(chunks)
  }
  let dir: string
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'berth-build-stdin-'))
    await fsp.writeFile(path.join(dir, 'Dockerfile'), 'FROM a\n')
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('passes a tar, plain or compressed, through unchanged', async () => {
    const tar = await tarOf(dir)
    expect(isArchive(tar)).toBe(true)
    expect(isArchive(gzipSync(tar))).toBe(true)
    const r = await contextFromReader(Readable.from([tar.subarray(0, 100), tar.subarray(100)]), 'sub/Dockerfile')
    expect(r.dockerfile).toBe('sub/Dockerfile')
    const chunks: Buffer[] = []
    for await (const c of r.context as AsyncIterable<Buffer>) chunks.push(c)
    expect(Buffer.concat(chunks).equals(tar)).toBe(true)
  })

  it('makes anything else the Dockerfile of a one-file context', async () => {
    expect(isArchive(Buffer.from('FROM busybox\n'))).toBe(false)
    const r = await contextFromReader(Readable.from([Buffer.from('FROM busybox\nRUN true\n')]), '', 1700000000)
    expect(r.dockerfile).toBe('Dockerfile')
    expect(await entries(r.context)).toEqual([{ name: 'Dockerfile', type: 'file', mode: 0o644, uid: 0, gid: 0, linkname: '', body: 'FROM busybox\nRUN true\n' }])
    // An empty stdin is an empty Dockerfile, as docker sends it.
    expect(await entries((await contextFromReader(Readable.from([]), '')).context)).toMatchObject([{ name: 'Dockerfile', body: '' }])
  })

  it('refuses a Dockerfile on stdin when -f names one too', async () => {
    await expect(contextFromReader(Readable.from([Buffer.from('FROM x\n')]), '-')).rejects.toThrow(new ContextError('build context is not an archive'))
    await expect(contextFromReader(Readable.from([Buffer.from('FROM x\n')]), 'Dockerfile')).rejects.toThrow('ambiguous Dockerfile source: both stdin and flag correspond to Dockerfiles')
  })

  it('names added Dockerfiles as docker does', () => {
    expect(randomDockerfileName()).toMatch(/^\.dockerfile\.[0-9a-f]{20}$/)
  })
})
