/**
 * Hostile tarballs made by hand, header by header, for the hostile-input
 * tests: names, link targets and types a well-behaved tar writer never
 * emits. Plus sentinels: host files the tests make outside every root and
 * check afterwards.
 */
import { createHash } from 'node:crypto'
import { existsSync, promises as fsp, readFileSync } from 'node:fs'
import path from 'node:path'
import { encodeHeader, END_OF_ARCHIVE, newHeader, padding, type EntryType, type TarHeader } from '../../../src/archive/index.js'

export interface Entry extends Partial<TarHeader> {
  name: string
  type?: EntryType
  data?: string | Buffer
}

/** One tar member: header (with PAX records when asked) and padded data. */
export function member(e: Entry): Buffer {
  const data = e.data === undefined ? Buffer.alloc(0) : Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data)
  const { data: _d, ...fields } = e
  const h = newHeader(e.name, e.type ?? 'file', { ...fields, size: data.length })
  const head = encodeHeader(h)
  // encodeHeader adds '/' to directory names; hostile names are kept as written otherwise.
  return Buffer.concat([head, data, padding(data.length)])
}

export function tarOf(entries: Entry[]): Buffer {
  return Buffer.concat([...entries.map(member), END_OF_ARCHIVE])
}

export const sha256 = (b: Buffer): string => 'sha256:' + createHash('sha256').update(b).digest('hex')

/** A docker-archive (docker save's format) of one image made of the given layer tars. */
export function dockerArchive(layers: Buffer[], tag: string): Buffer {
  const config = Buffer.from(JSON.stringify({
    architecture: process.arch === 'x64' ? 'amd64' : process.arch,
    os: 'linux',
    config: { Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: layers.map(sha256) },
    history: layers.map(() => ({ created_by: 'hostile' })),
  }))
  const configName = `${sha256(config).slice(7)}.json`
  const layerNames = layers.map((l, i) => `${i}-${sha256(l).slice(7)}/layer.tar`)
  const manifest = Buffer.from(JSON.stringify([{ Config: configName, RepoTags: [tag], Layers: layerNames }]))
  return tarOf([
    { name: configName, data: config },
    ...layers.flatMap((l, i) => [{ name: path.posix.dirname(layerNames[i] as string), type: 'dir' as const }, { name: layerNames[i] as string, data: l }]),
    { name: 'manifest.json', data: manifest },
  ])
}

/** Enough `../` to climb from any data root to `/`. */
export const UP = '../'.repeat(24)

/** A host file outside every root, with known content; check() says it is untouched. */
export class Sentinel {
  readonly content = `sentinel ${Math.random()}\n`
  constructor(readonly file: string) {}
  async make(): Promise<void> {
    await fsp.writeFile(this.file, this.content, { mode: 0o644 })
  }
  untouched(): boolean {
    try {
      return readFileSync(this.file, 'utf8') === this.content
    } catch {
      return false
    }
  }
  async remove(): Promise<void> {
    await fsp.rm(this.file, { force: true })
  }
}

/** Paths outside every root that no test may create: their absence is asserted. */
export function absent(...files: string[]): string[] {
  return files.filter((f) => existsSync(f))
}
