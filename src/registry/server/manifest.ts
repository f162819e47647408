/**
 * What the registry needs to know of a pushed manifest: its media type, the
 * blobs and child manifests it references (checked on PUT, marked by GC) and
 * its subject (for referrers). The bytes themselves are kept as pushed.
 */
import { MediaType, isDigest, type Digest } from '../../oci/index.js'
import { regError } from './errors.js'

export const manifestMediaTypes: ReadonlySet<string> = new Set([
  MediaType.dockerManifest,
  MediaType.dockerManifestList,
  MediaType.ociManifest,
  MediaType.ociIndex,
])

export interface ManifestDescriptor {
  mediaType: string
  digest: Digest
  size: number
  artifactType?: string
  annotations?: Record<string, string>
}

export interface ParsedManifest {
  mediaType: string
  /** Blobs the manifest needs in the repository (config, layers); foreign layers with urls excluded. */
  blobs: ManifestDescriptor[]
  /** Manifests an index lists. */
  manifests: ManifestDescriptor[]
  subject?: ManifestDescriptor
  artifactType?: string
  annotations?: Record<string, string>
}

const isIndexType = (t: string) => t === MediaType.ociIndex || t === MediaType.dockerManifestList

function descriptor(v: unknown, where: string): ManifestDescriptor {
  if (typeof v !== 'object' || v === null) throw regError('MANIFEST_INVALID', `${where}: not a descriptor`)
  const d = v as Record<string, unknown>
  if (typeof d.digest !== 'string' || !isDigest(d.digest)) {
    throw regError('MANIFEST_INVALID', `${where}: invalid digest`, { digest: d.digest })
  }
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw regError('MANIFEST_INVALID', `${where}: invalid size`)
  }
  const out: ManifestDescriptor = {
    mediaType: typeof d.mediaType === 'string' ? d.mediaType : '',
    digest: d.digest,
    size: d.size,
  }
  if (typeof d.artifactType === 'string') out.artifactType = d.artifactType
  if (typeof d.annotations === 'object' && d.annotations !== null) out.annotations = d.annotations as Record<string, string>
  return out
}

function descriptors(v: unknown, where: string): ManifestDescriptor[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw regError('MANIFEST_INVALID', `${where}: not an array`)
  return v.map((d, i) => descriptor(d, `${where}[${i}]`))
}

/**
 * Parse pushed manifest bytes. `contentType` is the request's Content-Type;
 * when absent the body's own mediaType (or its shape) decides. A body whose
 * mediaType contradicts the Content-Type is refused (image-spec manifest.md).
 */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined): ParsedManifest {
  let doc: unknown
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'))
  } catch {
    throw regError('MANIFEST_INVALID', 'manifest invalid: not JSON')
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw regError('MANIFEST_INVALID', 'manifest invalid: not a JSON object')
  }
  const m = doc as Record<string, unknown>
  const ct = contentType?.split(';')[0]?.trim() || undefined
  const bodyType = typeof m.mediaType === 'string' ? m.mediaType : undefined
  if (ct && bodyType && ct !== bodyType) {
    throw regError('MANIFEST_INVALID', `manifest invalid: mediaType ${bodyType} does not match Content-Type ${ct}`)
  }
  const mediaType = ct ?? bodyType ?? (Array.isArray(m.manifests) ? MediaType.ociIndex : MediaType.ociManifest)
  if (!manifestMediaTypes.has(mediaType)) {
    throw regError('MANIFEST_INVALID', `manifest invalid: unsupported media type ${mediaType}`)
  }
  if (m.schemaVersion !== 2) throw regError('MANIFEST_INVALID', 'manifest invalid: schemaVersion must be 2')
  const out: ParsedManifest = { mediaType, blobs: [], manifests: [] }
  if (isIndexType(mediaType)) {
    if (!Array.isArray(m.manifests)) throw regError('MANIFEST_INVALID', 'manifest invalid: index without manifests')
    out.manifests = descriptors(m.manifests, 'manifests')
  } else {
    if (m.config === undefined) throw regError('MANIFEST_INVALID', 'manifest invalid: no config')
    const layers = descriptors(m.layers, 'layers').filter((_, i) => {
      const raw = (m.layers as Array<Record<string, unknown>>)[i]!
      // Foreign layers live at their urls, never in this registry.
      return !(Array.isArray(raw.urls) && raw.urls.length > 0)
    })
    out.blobs = [descriptor(m.config, 'config'), ...layers]
  }
  if (m.subject !== undefined) out.subject = descriptor(m.subject, 'subject')
  if (typeof m.artifactType === 'string') out.artifactType = m.artifactType
  else if (!isIndexType(mediaType) && out.blobs[0]) out.artifactType = out.blobs[0].mediaType
  if (typeof m.annotations === 'object' && m.annotations !== null) out.annotations = m.annotations as Record<string, string>
  return out
}
