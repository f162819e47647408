import type { ImageConfig } from '../oci/index.js'
import type { HistoryItem } from './types.js'

export const unixSeconds = (t: string | undefined): number => {
  if (!t) return 0
  const ms = Date.parse(t)
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000)
}

/**
 * `docker history`: the config's history newest first; entries with a layer
 * take that layer's size in order. Only the top entry is a local image (its
 * ID and tags); the rest are "<missing>", as docker shows for imported and
 * pulled images.
 */
export function renderHistory(config: ImageConfig, layerSizes: readonly number[], top: { id: string; tags: string[] }): HistoryItem[] {
  const out: HistoryItem[] = []
  let layer = 0
  for (const h of config.history ?? []) {
    let size = 0
    if (!h.empty_layer) {
      if (layer >= layerSizes.length) throw new Error('too many non-empty layers in History section')
      size = layerSizes[layer++] as number
    }
    out.unshift({ id: '<missing>', created: unixSeconds(h.created), createdBy: h.created_by ?? '', tags: null, size, comment: h.comment ?? '' })
  }
  const first = out[0]
  if (first) {
    first.id = top.id
    first.tags = top.tags.length ? top.tags : null
  }
  return out
}
