import { describe, expect, it } from 'vitest'
import type { ImageConfig } from '../oci/index.js'
import { renderHistory } from './history.js'

const cfg = (history: ImageConfig['history']): ImageConfig => ({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, history })

describe('renderHistory', () => {
  it('lists newest first with <missing> below the top', () => {
    const h = renderHistory(cfg([
      { created: '2024-01-01T00:00:00Z', created_by: '/bin/sh -c #(nop) ADD file:abc in /' },
      { created: '2024-01-02T00:00:00Z', created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true },
      { created: '2024-01-03T00:00:00Z', created_by: 'RUN make', comment: 'c' },
    ]), [100, 20], [{ id: 'sha256:top', tags: ['x:1'] }])
    expect(h.map((i) => [i.id, i.size, i.tags])).toEqual([['sha256:top', 20, ['x:1']], ['<missing>', 0, null], ['<missing>', 100, null]])
    expect(h[0]?.created).toBe(1704240000)
    expect(h[0]?.comment).toBe('c')
  })
  it('renders an import as one entry with its comment', () => {
    const h = renderHistory(cfg([{ created: '2024-01-01T00:00:00Z', comment: 'Imported from -' }]), [5], [{ id: 'sha256:i', tags: [] }])
    expect(h).toEqual([{ id: 'sha256:i', created: 1704067200, createdBy: '', tags: null, size: 5, comment: 'Imported from -' }])
  })
  it('labels rows with the local parent chain (a build\'s intermediate images), then <missing>', () => {
    const h = renderHistory(cfg([{ created_by: 'base' }, { created_by: 'step1', empty_layer: true }, { created_by: 'step2' }]), [1, 2], [
      { id: 'sha256:top', tags: ['app:1'] },
      { id: 'sha256:mid', tags: [] },
    ])
    expect(h.map((i) => [i.id, i.createdBy, i.tags])).toEqual([['sha256:top', 'step2', ['app:1']], ['sha256:mid', 'step1', null], ['<missing>', 'base', null]])
  })
  it('rejects history that claims more layers than the rootfs has', () => {
    expect(() => renderHistory(cfg([{}, {}]), [1], [{ id: 'x', tags: [] }])).toThrow(/too many non-empty layers/)
  })
})
