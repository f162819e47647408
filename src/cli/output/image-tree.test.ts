import { describe, expect, it } from 'vitest'
import type { ImageManifestSummary, ImageSummary } from '../../api/types/index.js'
import { displayWidth, renderImageTree, tuiEllipsis } from './image-tree.js'

const img = (over: Partial<ImageSummary>): ImageSummary => ({
  Id: `sha256:${'0'.repeat(64)}`, ParentId: '', RepoTags: [], RepoDigests: [], Created: 0, Size: 0, SharedSize: -1, Labels: null, Containers: -1, ...over,
})

const hex = (c: string): string => `sha256:${c.repeat(64)}`
const title = (s: string): string => `\x1b[39m\x1b[1m${s}\x1b[0m`
const WARNING = "WARNING: This is an experimental feature. The output may change and shouldn't be depended on."
const LEGEND = `${' '.repeat(61)} Info ->  U In Use `

/** What docker 28 printed against berthd for these images (no terminal, so 80 columns). */
const busybox = img({ Id: `sha256:d8436674ed03${'1'.repeat(52)}`, RepoTags: ['busybox:latest', '127.0.0.1:5900/tools/busybox:1.35'], Created: 100, Size: 1_990_000 })
const prt = img({ Id: `sha256:054010bf848a${'2'.repeat(52)}`, RepoTags: ['prt:latest'], RepoDigests: [], Created: 200, Size: 1_990_000 })
const dangling = img({ Id: `sha256:fcba7dc50cc1${'3'.repeat(52)}`, RepoTags: [], RepoDigests: [], Created: 300, Size: 1_990_000 })

describe('images --tree', () => {
  it('prints what docker prints without a terminal: bold titles, every name but the last on its own line', () => {
    const got = renderImageTree([busybox, prt, dangling], { all: false, isTerminal: false, ttyWidth: 0 })
    expect(got).toBe([
      WARNING,
      LEGEND,
      '',
      `${title('IMAGE')}                           ${title('ID')}             ${title('DISK USAGE')}   ${title('CONTENT SIZE')}   ${title('EXTRA')}`,
      'prt:latest                      054010bf848a       1.99MB             0B        ',
      '127.0.0.1:5900/tools/busybox:1.35',
      'busybox:latest                  d8436674ed03       1.99MB             0B        ',
      '',
    ].join('\n'))
  })

  it('keeps dangling images with --all, as <untagged>, newest first', () => {
    const got = renderImageTree([busybox, prt, dangling], { all: true, isTerminal: false, ttyWidth: 0 }).split('\n')
    expect(got[4]).toBe('<untagged>                      fcba7dc50cc1       1.99MB             0B        ')
    expect(got[5]).toMatch(/^prt:latest /)
  })

  it('narrows the name column to its widest value and prints only the header when nothing matches', () => {
    expect(renderImageTree([], { all: false, isTerminal: false, ttyWidth: 0 }).split('\n')[3])
      .toBe(`${title('IMAGE')}   ${title('ID')}             ${title('DISK USAGE')}   ${title('CONTENT SIZE')}   ${title('EXTRA')}`)
    expect(renderImageTree([busybox], { all: false, isTerminal: false, ttyWidth: 0 }).split('\n').slice(4, 6)).toEqual([
      '127.0.0.1:5900/tools/busybox:1.35', 'busybox:latest                  d8436674ed03       1.99MB             0B        ',
    ])
  })

  it('colours on a terminal and fits its width, dropping columns and cutting names with an ellipsis', () => {
    const got = renderImageTree([busybox, prt], { all: false, isTerminal: true, ttyWidth: 30 })
    expect(got).toBe([
      `\x1b[93m${WARNING}\x1b[0m`,
      `${' '.repeat(9)}\x1b[1m\x1b[106m\x1b[30mi\x1b[0m\x1b[0m \x1b[96mInfo → \x1b[0m\x1b[0m \x1b[38;5;0m\x1b[48;5;14m U \x1b[0m In Use `,
      '',
      `${title('IMAGE')}             ${title('ID')}          `,
      `\x1b[34m\x1b[1mprt:latest\x1b[0m        \x1b[39m054010bf848a\x1b[0m`,
      '\x1b[34m\x1b[1m127.0.0.1:5900/tools/busybox:…\x1b[0m',
      `\x1b[34m\x1b[1mbusybox:latest\x1b[0m    \x1b[39md8436674ed03\x1b[0m`,
      '',
    ].join('\n'))
  })

  it('draws a branch per platform from the manifests, the in-use chip and faint unavailable platforms', () => {
    const manifest = (over: Partial<ImageManifestSummary>): ImageManifestSummary => ({
      ID: hex('0'), Descriptor: { mediaType: '', digest: '', size: 0 }, Available: true, Size: { Total: 0, Content: 0 }, Kind: 'image', ...over,
    })
    const multi = img({
      Id: hex('a'), RepoTags: ['multi:latest'], Created: 200, Size: 10_000_000, Containers: 0,
      Manifests: [
        manifest({ ID: hex('1'), Size: { Total: 5_000_000, Content: 2_000_000 }, ImageData: { Platform: { os: 'linux', architecture: 'amd64' }, Containers: ['c1'], Size: { Unpacked: 0 } } }),
        manifest({ ID: hex('2'), Available: false, Size: { Total: 0, Content: 1_500_000 }, ImageData: { Platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, Containers: [], Size: { Unpacked: 0 } } }),
        manifest({ ID: hex('3'), Kind: 'attestation', Size: { Total: 0, Content: 1000 }, AttestationData: { For: hex('1') } }),
      ],
    })
    const single = img({ Id: hex('b'), RepoTags: ['b:1'], Created: 100, Size: 1000 })
    expect(renderImageTree([single, multi], { all: false, isTerminal: false, ttyWidth: 0 })).toBe([
      WARNING,
      LEGEND,
      '',
      `${title('IMAGE')}                   ${title('ID')}             ${title('DISK USAGE')}   ${title('CONTENT SIZE')}   ${title('EXTRA')}`,
      'multi:latest            aaaaaaaaaaaa         10MB          3.5MB   U    ',
      '├─ linux/amd64          111111111111          5MB            2MB   U    ',
      '└─ linux/arm64/v8       222222222222           0B          1.5MB        ',
      '',
      'b:1                     bbbbbbbbbbbb          1kB             0B        ',
      '',
      '',
    ].join('\n'))
    const tty = renderImageTree([multi], { all: false, isTerminal: true, ttyWidth: 100 }).split('\n')
    expect(tty[5]).toBe(`\x1b[39m├─ linux/amd64\x1b[0m          \x1b[39m111111111111\x1b[0m          \x1b[39m5MB\x1b[0m            \x1b[39m2MB\x1b[0m   \x1b[38;5;0m\x1b[48;5;14m U \x1b[0m  `)
    expect(tty[6]).toBe(`\x1b[39m\x1b[2m└─ linux/arm64/v8\x1b[0m       \x1b[39m\x1b[2m222222222222\x1b[0m           \x1b[39m\x1b[2m0B\x1b[0m          \x1b[39m\x1b[2m1.5MB\x1b[0m        `)
  })

  it('measures and cuts as docker tui does', () => {
    expect(displayWidth('\x1b[1mab\x1b[0m→')).toBe(3)
    expect(tuiEllipsis('abcdef', 3)).toBe('ab…')
    expect(tuiEllipsis('abc', 3)).toBe('ab…')
    expect(tuiEllipsis('ab', 3)).toBe('ab')
    expect(tuiEllipsis('abc', 0)).toBe('abc')
  })
})
