import { Readable } from 'node:stream'
import { encodeHeader, END_OF_ARCHIVE, newHeader, padding } from '../archive/index.js'
import { internal, notFound } from '../errors/index.js'
import {
  Annotation, digestHex, familiarName, familiarString, formatReference, isNameOnly, MediaType, parseAnyReference,
  parseNormalizedNamed, sha256, withDefaultTag, type Index, type Manifest, type Reference,
} from '../oci/index.js'
import type { ImageService, LayerTarSource } from './service.js'

interface Selected {
  id: string
  rawConfig: Buffer
  diffIds: string[]
  created: number
  tags: Reference[]
}

/** moby tarexport parseNames: which images, and which of their tags, a save includes. */
function select(svc: ImageService, names: readonly string[]): Map<string, Selected> {
  const out = new Map<string, Selected>()
  const add = (id: string, ref?: Reference) => {
    let s = out.get(id)
    if (!s) {
      const img = svc.resolve(id)
      s = { id, rawConfig: img.rawConfig, diffIds: img.config.rootfs.diff_ids, created: Math.max(0, Math.floor(Date.parse(img.config.created ?? '') / 1000) || 0), tags: [] }
      out.set(id, s)
    }
    if (ref?.tag !== undefined && !s.tags.some((t) => formatReference(t) === formatReference(ref))) s.tags.push(ref)
  }
  for (const name of names) {
    const any = parseAnyReference(name)
    if (any.kind === 'id') {
      add(svc.resolve(any.id).id)
      continue
    }
    const ref = any.ref
    if (familiarName(ref) === 'sha256') {
      add(svc.resolve(name).id)
      continue
    }
    if (isNameOnly(ref)) {
      const repo = formatReference(ref)
      const rows = svc.store.refsByRepo(repo)
      for (const r of rows) add(r.image_id, parseNormalizedNamed(r.name))
      if (rows.length === 0) add(svc.resolve(name).id)
      continue
    }
    const row = svc.store.ref(formatReference(ref))
    if (!row) throw notFound(`No such image: ${familiarString(withDefaultTag(ref))}`)
    add(row.image_id, ref)
  }
  return out
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v))

/**
 * docker save: docker 25+'s layout (OCI index.json, oci-layout, blobs/sha256
 * with config, layer tars keyed by diffID and OCI manifests) plus the classic
 * manifest.json and repositories that docker 20.10 reads. Layer bytes are
 * the exact tars: the stored diffID tar, or for a pulled layer its
 * compressed blob gunzipped on the way out (tar sizes, which the headers
 * need first, were recorded at unpack). A save loads back to the same IDs.
 */
export async function saveArchive(svc: ImageService, names: readonly string[]): Promise<Readable> {
  const images = select(svc, names)
  const blobs = new Map<string, { size: number; mtime: number; data?: Buffer; tar?: LayerTarSource }>()
  const manifestJson: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = []
  const index: Index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] }
  const repositories: Record<string, Record<string, string>> = {}

  for (const img of images.values()) {
    blobs.set(img.id, { size: img.rawConfig.length, mtime: img.created, data: img.rawConfig })
    const layers: Manifest['layers'] = []
    for (const d of img.diffIds) {
      const tar = await svc.layerTarSource(d)
      if (!tar) throw internal(`cannot save ${img.id}: layer ${d} has neither its tar nor a compressed blob in the content store`)
      const size = await svc.layerTarSize(tar)
      blobs.set(d, { size, mtime: img.created, tar })
      layers.push({ mediaType: MediaType.ociLayer, digest: d, size })
    }
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: img.id, size: img.rawConfig.length },
      layers,
    }
    const mBytes = json(manifest)
    const mDigest = sha256(mBytes)
    blobs.set(mDigest, { size: mBytes.length, mtime: 0, data: mBytes })
    const desc = { mediaType: MediaType.ociManifest, digest: mDigest, size: mBytes.length }
    for (const t of img.tags) {
      const fam = familiarName(t)
      repositories[fam] ??= {}
      ;(repositories[fam] as Record<string, string>)[t.tag as string] = digestHex(img.diffIds.at(-1) ?? img.id)
      index.manifests.push({ ...desc, annotations: { [Annotation.containerdImageName]: formatReference(t), [Annotation.refName]: t.tag as string } })
    }
    if (img.tags.length === 0) index.manifests.push(desc)
    manifestJson.push({
      Config: `blobs/sha256/${digestHex(img.id)}`,
      RepoTags: img.tags.length ? img.tags.map(familiarString) : null,
      Layers: img.diffIds.map((d) => `blobs/sha256/${digestHex(d)}`),
    })
  }

  async function* gen(): AsyncGenerator<Buffer> {
    yield encodeHeader(newHeader('blobs', 'dir'))
    yield encodeHeader(newHeader('blobs/sha256', 'dir'))
    for (const [digest, b] of [...blobs].sort(([a], [c]) => (a < c ? -1 : 1))) {
      yield encodeHeader(newHeader(`blobs/sha256/${digestHex(digest)}`, 'file', { size: b.size, mtime: b.mtime }))
      if (b.data) yield b.data
      else if (b.tar) {
        let n = 0
        const wrong = () => internal(`cannot save layer ${digest}: its tar is not the ${b.size} bytes recorded`)
        for await (const c of await svc.openLayerTar(b.tar)) {
          n += (c as Buffer).length
          // Checked before the bytes go out: a longer tar would corrupt the archive's framing.
          if (n > b.size) throw wrong()
          yield c as Buffer
        }
        if (n !== b.size) throw wrong()
      }
      yield padding(b.size)
    }
    const file = (name: string, data: Buffer) => [encodeHeader(newHeader(name, 'file', { size: data.length })), data, padding(data.length)]
    yield* file('index.json', json(index))
    yield* file('manifest.json', Buffer.from(JSON.stringify(manifestJson) + '\n'))
    yield* file('oci-layout', Buffer.from('{"imageLayoutVersion": "1.0.0"}'))
    if (Object.keys(repositories).length) yield* file('repositories', Buffer.from(JSON.stringify(repositories) + '\n'))
    yield END_OF_ARCHIVE
    for (const id of images.keys()) svc.events.publish('image', 'save', id, { name: id })
  }
  return Readable.from(gen(), { objectMode: false })
}
