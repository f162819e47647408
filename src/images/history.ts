import type { ImageConfig } from '../oci/index.js'
import type { HistoryItem } from './types.js'

export const unixSeconds = (t: string | undefined): number => {
  if (!t) return 0
  const ms = Date.parse(t)
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000)
}

/**
 * `docker history`: the config's history newest first; entries with a layer
 * take that layer's size in order. The rows are then labelled from the top
 * down with the image and its local parents (a build's intermediate images,
 * a commit's base), their IDs and tags, as moby's ImageHistory does; rows
 * past the last local parent stay "<missing>", as for pulled images.
 */
export function renderHistory(config: ImageConfig, layerSizes: readonly number[], chain: ReadonlyArray<{ id: string; tags: string[] }>): HistoryItem[] {
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
  for (let i = 0; i < out.length && i < chain.length; i++) {
    const row = out[i] as HistoryItem
    const img = chain[i] as { id: string; tags: string[] }
    row.id = img.id
    row.tags = img.tags.length ? img.tags : null
  }
  return out
}
