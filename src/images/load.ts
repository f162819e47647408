import { randomBytes } from 'node:crypto'
import { createReadStream, promises as fsp } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { cleanMemberName, decompress, detectCompression, TarReader } from '../archive/index.js'
import { EngineError, invalidArgument } from '../errors/index.js'
import { shortId } from '../lib/index.js'
import { chainId as makeChainId, familiarString, isDigest, parseNormalizedNamed, sha256, type ImageConfig, type Index, type Manifest } from '../oci/index.js'
import type { ImageService } from './service.js'
import type { ImageProgress, LoadOptions } from './types.js'

const MAX_JSON = 16 << 20
const MAX_ENTRIES = 1_000_000

interface ManifestItem {
  Config: string
  RepoTags: string[] | null
  Layers: string[]
  Parent?: string
}

/** The archive spooled to disk: member name → file, and links to resolve. */
class Spool {
  readonly files = new Map<string, string>()
  readonly links = new Map<string, string>()
  constructor(readonly dir: string) {}

  /** The file behind a member name, following the archive's own links (never the host's). */
  resolve(name: string): string | undefined {
    let p = cleanMemberName(name)
    for (let hops = 0; hops < 40; hops++) {
      const f = this.files.get(p)
      if (f) return f
      const l = this.links.get(p)
      if (l === undefined) return undefined
      p = l.startsWith('/') ? cleanMemberName(l) : cleanMemberName(path.posix.join(path.posix.dirname(p), l))
    }
    return undefined
  }

  async readJson(name: string, what: string): Promise<{ raw: Buffer; value: unknown }> {
    const f = this.resolve(name)
    if (!f) throw invalidArgument(`invalid archive: ${what} ${JSON.stringify(name)} is missing`)
    const st = await fsp.stat(f)
    if (st.size > MAX_JSON) throw invalidArgument(`invalid archive: ${what} is larger than ${MAX_JSON} bytes`)
    const raw = await fsp.readFile(f)
    try {
      return { raw, value: JSON.parse(raw.toString('utf8')) }
    } catch (err) {
      throw invalidArgument(`invalid archive: ${what} is not JSON: ${(err as Error).message}`)
    }
  }
}

/** Unpack the archive's regular files under dir with names we choose; order in the archive is arbitrary. */
async function spool(input: Readable, dir: string, signal?: AbortSignal): Promise<Spool> {
  const s = new Spool(dir)
  const reader = new TarReader(await decompress(input))
  let n = 0
  for (let h = await reader.next(); h; h = await reader.next()) {
    signal?.throwIfAborted()
    if (++n > MAX_ENTRIES) throw invalidArgument('invalid archive: too many entries')
    const name = cleanMemberName(h.name)
    if (name === '') continue
    if (h.type === 'file') {
      const file = path.join(dir, String(n))
      const fh = await fsp.open(file, 'wx', 0o600)
      try {
        for await (const c of reader.body()) await fh.write(c)
      } finally {
        await fh.close()
      }
      s.files.set(name, file)
      s.links.delete(name)
    } else if (h.type === 'symlink') {
      s.links.set(name, h.linkname)
      s.files.delete(name)
    } else if (h.type === 'link') {
      s.links.set(name, '/' + cleanMemberName(h.linkname))
      s.files.delete(name)
    }
  }
  return s
}

function asManifest(v: unknown): ManifestItem[] {
  const bad = () => invalidArgument('invalid archive: manifest.json is not a docker save manifest')
  if (!Array.isArray(v)) throw bad()
  return v.map((m: unknown) => {
    if (!m || typeof m !== 'object') throw bad()
    const o = m as Record<string, unknown>
    if (typeof o.Config !== 'string' || !Array.isArray(o.Layers) || !o.Layers.every((l) => typeof l === 'string')) throw bad()
    const tags = o.RepoTags
    if (tags !== null && tags !== undefined && !(Array.isArray(tags) && tags.every((t) => typeof t === 'string'))) throw bad()
    return { Config: o.Config, Layers: o.Layers as string[], RepoTags: (tags as string[] | null | undefined) ?? null, Parent: typeof o.Parent === 'string' ? o.Parent : undefined }
  })
}

function asConfig(v: unknown): ImageConfig {
  const c = v as Partial<ImageConfig> | null
  if (!c || typeof c !== 'object' || !c.rootfs || !Array.isArray(c.rootfs.diff_ids) || !c.rootfs.diff_ids.every((d) => typeof d === 'string' && isDigest(d))) {
    throw invalidArgument('invalid archive: image config has no valid rootfs.diff_ids')
  }
  return c as ImageConfig
}

/** An OCI layout without manifest.json (skopeo, buildx): manifests from index.json, names from annotations. */
async function manifestFromIndex(s: Spool): Promise<ManifestItem[]> {
  const blob = (d: string) => `blobs/${d.replace(':', '/')}`
  const { value } = await s.readJson('index.json', 'index.json')
  const out: ManifestItem[] = []
  const visit = async (descs: Index['manifests'], name: string | undefined, depth: number): Promise<void> => {
    for (const d of descs) {
      if (!isDigest(d.digest)) continue
      const ref = d.annotations?.['io.containerd.image.name'] ?? name ?? d.annotations?.['org.opencontainers.image.ref.name']
      const { value: doc } = await s.readJson(blob(d.digest), `manifest ${d.digest}`)
      const m = doc as Partial<Manifest & Index>
      if (Array.isArray(m.manifests) && depth < 2) {
        const linux = m.manifests.filter((x) => !x.platform || (x.platform.os === 'linux' && ['amd64', process.arch === 'x64' ? 'amd64' : process.arch].includes(x.platform.architecture)))
        await visit(linux.slice(0, 1), ref, depth + 1)
      } else if (m.config && Array.isArray(m.layers)) {
        let tags: string[] | null = null
        if (ref) {
          try {
            const r = parseNormalizedNamed(ref)
            if (r.tag !== undefined) tags = [familiarString({ domain: r.domain, path: r.path, tag: r.tag })]
          } catch {
            // A bare ref.name such as "latest" names no repository: load untagged.
          }
        }
        out.push({ Config: blob(m.config.digest), Layers: m.layers.map((l) => blob(l.digest)), RepoTags: tags })
      }
    }
  }
  await visit((value as Index).manifests ?? [], undefined, 0)
  return out
}

/** Counts bytes for "Loading layer" progress. */
/** An uncompressed layer in the archive (docker save's layer.tar, an OCI layout's plain tar blob). */
async function isPlain(file: string): Promise<boolean> {
  const fh = await fsp.open(file, 'r')
  try {
    const head = Buffer.alloc(6)
    const { bytesRead } = await fh.read(head, 0, 6, 0)
    return detectCompression(head.subarray(0, bytesRead)) === 'none'
  } finally {
    await fh.close()
  }
}

function counting(file: string, total: number, id: string, progress?: (ev: ImageProgress) => void): Readable {
  const src = createReadStream(file)
  if (!progress) return src
  async function* gen(): AsyncGenerator<Buffer> {
    let current = 0
    let last = -Infinity
    for await (const c of src as AsyncIterable<Buffer>) {
      current += c.length
      if (current - last >= 1 << 20 || current === total) {
        last = current
        progress?.({ kind: 'layer', id, action: 'Loading layer', current, total })
      }
      yield c
    }
  }
  return Readable.from(gen(), { objectMode: false })
}

/**
 * docker load (moby image/tarexport/load.go): spool the archive, read
 * manifest.json (or an OCI index.json), then for each image unpack missing
 * layers, verify them against the config's diff_ids, store the config and
 * apply its tags. A tag taken from another image leaves that one dangling.
 */
export async function loadArchive(svc: ImageService, input: Readable, opts: LoadOptions): Promise<string[]> {
  const lines: string[] = []
  const say = (text: string) => {
    lines.push(text)
    opts.progress?.({ kind: 'message', text })
  }
  const dir = path.join(svc.tmpDir, `load-${randomBytes(8).toString('hex')}`)
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 })
  try {
    const s = await spool(input, dir, opts.signal)
    let items: ManifestItem[]
    if (s.resolve('manifest.json')) items = asManifest((await s.readJson('manifest.json', 'manifest.json')).value)
    else if (s.resolve('index.json')) items = await manifestFromIndex(s)
    else throw invalidArgument('invalid archive: no manifest.json or index.json (archives from docker before 1.10 are not supported)')
    if (items.length === 0) throw invalidArgument('invalid archive: it holds no images')

    const ids: string[] = []
    let tagged = 0
    for (const m of items) {
      opts.signal?.throwIfAborted()
      const { raw } = await s.readJson(m.Config, 'image config')
      const config = asConfig(JSON.parse(raw.toString('utf8')))
      if ((config.os ?? 'linux') !== 'linux') throw invalidArgument(`cannot load ${config.os} image on linux`)
      const diffIds = config.rootfs.diff_ids
      if (m.Layers.length !== diffIds.length) throw invalidArgument(`invalid manifest, layers length mismatch: expected ${m.Layers.length}, got ${diffIds.length}`)
      const chains: string[] = []
      let parent: string | null = null
      for (let i = 0; i < diffIds.length; i++) {
        const diffId = diffIds[i] as string
        const chain = makeChainId(parent, diffId)
        // A layer unpacked by other means may have no stored tar (neither its diffID tar nor a
        // pull's compressed blob): take it from the archive so save and push work.
        const missing = !svc.store.layer(chain) || !(await svc.snapshotter.hasLayer(chain)) || !(await svc.layerTarSource(diffId))
        if (missing) {
          const file = s.resolve(m.Layers[i] as string)
          if (!file) throw invalidArgument(`invalid archive: layer ${JSON.stringify(m.Layers[i])} is missing`)
          const total = (await fsp.stat(file)).size
          const loading = counting(file, total, shortId(diffId), opts.progress)
          try {
            if (await isPlain(file)) {
              // One pass, as dockerd's load: unpacked from the archive's own tar (the snapshotter
              // checks its diffID), which is then kept as the layer's tar instead of a copy.
              const r = await svc.commitLayerFromStream(parent, diffId, loading, { ...(opts.signal ? { signal: opts.signal } : {}) })
              await svc.content.adopt(file, diffId, { verified: r.verified, ...(opts.signal ? { signal: opts.signal } : {}) })
            } else {
              await svc.content.ingest(await decompress(loading), { expected: diffId, signal: opts.signal })
              await svc.commitLayerFromBlob(parent, diffId, opts.signal)
            }
          } catch (err) {
            if (err instanceof EngineError && /digest mismatch/.test(err.message)) {
              throw invalidArgument(`invalid diffID for layer ${i}: expected "${diffId}", got "${err.message.replace(/.*got /, '')}"`)
            }
            throw err
          }
        }
        chains.push(chain)
        parent = chain
      }
      const id = await svc.createImage(raw, chains)
      ids.push(id)
      for (const t of m.RepoTags ?? []) {
        const ref = parseNormalizedNamed(t)
        if (ref.tag === undefined || ref.digest !== undefined) throw invalidArgument(`invalid tag "${t}"`)
        const prev = svc.setLoadedTag(ref, id)
        const name = familiarString(ref)
        if (prev) say(`The image ${name} already exists, renaming the old one with ID ${prev} to empty string\n`)
        say(`Loaded image: ${name}\n`)
        tagged++
      }
      if (m.Parent && svc.store.image(m.Parent)) svc.store.setParent(id, m.Parent)
      svc.events.publish('image', 'load', id, { name: id })
    }
    if (tagged === 0) for (const id of ids) say(`Loaded image ID: ${id}\n`)
    return lines
  } finally {
    await fsp.rm(dir, { recursive: true, force: true })
  }
}

/** sha256 of a config's bytes: its image ID. Exported for tests that build archives by hand. */
export const imageIdOf = (rawConfig: Buffer): string => sha256(rawConfig)
