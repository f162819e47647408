import { describe, expect, it } from 'vitest'
import type { ContainerSummary, ImageSummary } from '../../api/types/index.js'
import { containerRow, displayablePorts, ellipsis, goQuote, imageRows } from './contexts.js'

const summary: ContainerSummary = {
  Id: 'a'.repeat(64), Names: ['/web'], Image: 'busybox', ImageID: 'sha256:' + 'b'.repeat(64),
  Command: 'sh -c "sleep 1000; echo done"', Created: 1_700_000_000, Ports: [], Labels: { b: '2', a: '1' },
  State: 'running', Status: 'Up 3 seconds', HostConfig: {}, NetworkSettings: { Networks: { bridge: {} } }, Mounts: [],
  SizeRw: 0, SizeRootFs: 4_260_000,
}

describe('containerRow', () => {
  it('offers docker formatter fields', () => {
    const r = containerRow(summary, true, 1_700_000_005_000)
    expect(r.ID).toBe('aaaaaaaaaaaa')
    expect(r.Command).toBe('"sh -c \\"sleep 1000; …"')
    expect(r.RunningFor).toBe('5 seconds ago')
    expect(r.Names).toBe('web')
    expect(r.Labels).toBe('a=1,b=2')
    expect(r.Label('b')).toBe('2')
    expect(r.Size).toBe('0B (virtual 4.26MB)')
    expect(r.Networks).toBe('bridge')
    expect(r.LocalVolumes).toBe('0')
  })
  it('keeps JSON keys in docker order without the Label method', () => {
    expect(Object.keys(JSON.parse(JSON.stringify(containerRow(summary, true))))).toEqual([
      'Command', 'CreatedAt', 'ID', 'Image', 'Labels', 'LocalVolumes', 'Mounts', 'Names', 'Networks', 'Platform',
      'Ports', 'RunningFor', 'Size', 'State', 'Status',
    ])
  })
})

describe('displayablePorts', () => {
  it('groups ranges and host mappings', () => {
    expect(displayablePorts([
      { PrivatePort: 80, PublicPort: 8080, IP: '0.0.0.0', Type: 'tcp' },
      { PrivatePort: 443, Type: 'tcp' }, { PrivatePort: 444, Type: 'tcp' },
    ])).toBe('443-444/tcp, 0.0.0.0:8080->80/tcp')
    expect(displayablePorts([{ PrivatePort: 80, PublicPort: 80, IP: '::', Type: 'tcp' }])).toBe('[::]:80->80/tcp')
  })
})

describe('helpers', () => {
  it('ellipsis and quote', () => {
    expect(ellipsis('abcdef', 4)).toBe('abc…')
    expect(goQuote('a"b\n')).toBe('"a\\"b\\n"')
  })
})

describe('imageRows', () => {
  const img: ImageSummary = {
    Id: 'sha256:' + 'c'.repeat(64), ParentId: '', RepoTags: ['busybox:latest', 'localhost:5000/x:1'],
    RepoDigests: ['busybox@sha256:' + 'd'.repeat(64)], Created: 1_700_000_000, Size: 4_261_000, SharedSize: -1, Labels: null, Containers: -1,
  }
  it('one row per tag, familiar names', () => {
    const rows = imageRows([img], { trunc: true, digest: false, needDigest: false }, 1_700_000_000_000 + 7200_000)
    expect(rows.map((r) => `${r.Repository}:${r.Tag}`)).toEqual(['busybox:latest', 'localhost:5000/x:1'])
    expect(rows[0]?.ID).toBe('cccccccccccc')
    expect(rows[0]?.Size).toBe('4.26MB')
    expect(rows[0]?.CreatedSince).toBe('2 hours ago')
  })
  it('digests when asked', () => {
    const rows = imageRows([img], { trunc: true, digest: true, needDigest: true })
    expect(rows[0]?.Digest).toBe('sha256:' + 'd'.repeat(64))
    expect(rows[1]?.Digest).toBe('<none>')
  })
  it('dangling images', () => {
    const rows = imageRows([{ ...img, RepoTags: [], RepoDigests: [] }], { trunc: true, digest: false, needDigest: false })
    expect(rows[0]?.Repository).toBe('<none>')
  })
})
