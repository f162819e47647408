import { describe, expect, it } from 'vitest'
import { humanSize, progressBar, toSummary } from './convert.js'

describe('image JSON conversion', () => {
  it('renders docker progress bars and sizes', () => {
    expect(humanSize(10240)).toBe('10.24kB')
    expect(humanSize(999)).toBe('999B')
    expect(humanSize(2_056_000)).toBe('2.056MB')
    expect(progressBar(5, 10)).toBe(`[${'='.repeat(25)}>${' '.repeat(25)}]       5B/10B`)
  })
  it('shows <none> for untagged images only before API 1.43, VirtualSize before 1.44', () => {
    const s = { id: 'sha256:x', parentId: '', repoTags: [], repoDigests: [], created: 1, size: 2, labels: null, containers: -1 }
    expect(toSummary(s, 42)).toMatchObject({ RepoTags: ['<none>:<none>'], RepoDigests: ['<none>@<none>'], VirtualSize: 2 })
    expect(toSummary(s, 50)).toMatchObject({ RepoTags: [], RepoDigests: [] })
    expect(toSummary(s, 50).VirtualSize).toBeUndefined()
  })
})
