import { describe, expect, it } from 'vitest'
import { parseTemplate, dockerFuncs } from '../../gotemplate/index.js'
import type { SystemInfo } from '../../api/types/index.js'
import type { BuildCacheRecord, ContainerSummary, DiskUsage, ImageSummary, Volume } from '../../api/types/index.js'
import { buildCacheRow, dfRows, eventData, formatEvent, goTimeOfRfc3339, infoData, parseEvent, pruneConfirmation, renderDf } from './system.js'

const line = '{"status":"die","id":"abc","from":"busybox","Type":"container","Action":"die","Actor":{"ID":"abc","Attributes":{"name":"x","exitCode":"0"}},"scope":"local","time":1795804411,"timeNano":1795804411656177162}'

describe('events', () => {
  it('keeps timeNano exact', () => {
    const e = parseEvent(line)
    expect(e.timeNano).toBe(1795804411656177162n)
    expect(formatEvent(e)).toMatch(/\.656177162(Z|[+-]\d\d:\d\d) container die abc \(exitCode=0, name=x\)$/)
  })
  it('offers Go field names and encodes as docker', () => {
    const data = eventData(parseEvent(line))
    expect(parseTemplate('{{.ID}} {{.Status}} {{.Actor.ID}} {{.TimeNano}}', { funcs: dockerFuncs }).execute(data))
      .toBe('abc die abc 1795804411656177162')
    expect(parseTemplate('{{json .}}', { funcs: dockerFuncs }).execute(data)).toBe(line.replace('"Attributes":{"name":"x","exitCode":"0"}', '"Attributes":{"exitCode":"0","name":"x"}'))
    expect(() => parseTemplate('{{.Foo}}', { funcs: dockerFuncs }).execute(data)).toThrow("can't evaluate field Foo in type *events.Message")
  })
})

describe('infoData', () => {
  it('orders fields as docker system.Info and adds ClientInfo', () => {
    const d = infoData({ DockerRootDir: '/x', ID: 'i', Containers: 1 } as unknown as SystemInfo)
    expect(Object.keys(d)).toEqual(['ID', 'Containers', 'DockerRootDir', 'CDISpecDirs', 'Warnings', 'ClientInfo'])
  })
})

const NOW = Date.UTC(2025, 0, 2, 12, 0, 0)
const img = (over: Partial<ImageSummary>): ImageSummary => ({
  Id: 'sha256:' + '1'.repeat(64), ParentId: '', RepoTags: ['busybox:latest'], RepoDigests: null, Created: NOW / 1000 - 3600, Size: 4_000_000, SharedSize: 0, Labels: null, Containers: 0, ...over,
})
const ctr = (over: Partial<ContainerSummary>): ContainerSummary => ({
  Id: '2'.repeat(64), Names: ['/web'], Image: 'busybox', ImageID: 'sha256:' + '1'.repeat(64), Command: 'sleep 1d', Created: NOW / 1000 - 60, Ports: [], Labels: {},
  State: 'running', Status: 'Up 1 minute', HostConfig: { NetworkMode: 'bridge' }, NetworkSettings: { Networks: {} }, Mounts: [], SizeRw: 1000, SizeRootFs: 4_001_000, ...over,
} as ContainerSummary)
const vol = (name: string, size: number, refs: number): Volume => ({ Driver: 'local', Labels: null, Mountpoint: `/v/${name}`, Name: name, Options: null, Scope: 'local', UsageData: { Size: size, RefCount: refs } })
const cache = (over: Partial<BuildCacheRecord>): BuildCacheRecord => ({
  ID: 'sha256:' + '3'.repeat(64), Type: 'regular', Description: '/bin/sh -c echo hi', InUse: false, Shared: false, Size: 2000, CreatedAt: '2025-01-02T11:00:00.5Z', LastUsedAt: '2025-01-02T11:00:00.5Z', UsageCount: 1, ...over,
})
const du: DiskUsage = {
  LayersSize: 6_000_000,
  Images: [img({ Containers: 2, SharedSize: 1_000_000 }), img({ Id: 'sha256:' + '4'.repeat(64), RepoTags: null, Size: 3_000_000, SharedSize: 3_000_000 })],
  Containers: [ctr({}), ctr({ Id: '5'.repeat(64), Names: ['/old'], State: 'exited', Status: 'Exited (0) 5 minutes ago', SizeRw: 3000 })],
  Volumes: [vol('data', 30_000, 1), vol('spare', 10_000, 0), vol('broken', -1, 0)],
  BuildCache: [cache({ ID: 'sha256:' + '6'.repeat(64), InUse: true, Size: 500 }), cache({}), cache({ ID: 'sha256:' + '7'.repeat(64), Shared: true, Size: 7000 })],
}

describe('system df', () => {
  it('sums each part as docker, with its percentages', () => {
    expect(dfRows(du).map((r) => ({ ...r }))).toEqual([
      // Reclaimable: 6MB minus (4MB - 1MB) of the image with containers.
      { Active: '1', Reclaimable: '3MB (50%)', Size: '6MB', TotalCount: '2', Type: 'Images' },
      { Active: '1', Reclaimable: '3kB (75%)', Size: '4kB', TotalCount: '2', Type: 'Containers' },
      { Active: '1', Reclaimable: '10kB (25%)', Size: '40kB', TotalCount: '3', Type: 'Local Volumes' },
      // Shared records are left out of SIZE; in-use ones out of RECLAIMABLE (no percentage for the build cache).
      { Active: '1', Reclaimable: '2kB', Size: '2.5kB', TotalCount: '3', Type: 'Build Cache' },
    ])
    const empty = dfRows({ LayersSize: 0, Images: [], Containers: [], Volumes: [], BuildCache: [] })
    expect(empty.map((r) => r.Reclaimable)).toEqual(['0B', '0B', '0B', '0B'])
  })

  it('prints the default table, raw and json', () => {
    expect(renderDf(du, 'table', false, NOW)).toBe(
      'TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n' +
      'Images          2         1         6MB       3MB (50%)\n' +
      'Containers      2         1         4kB       3kB (75%)\n' +
      'Local Volumes   3         1         40kB      10kB (25%)\n' +
      'Build Cache     3         1         2.5kB     2kB\n')
    expect(renderDf(du, 'raw', false, NOW).split('\n').slice(0, 7)).toEqual(['type: Images', 'total: 2', 'active: 1', 'size: 6MB', 'reclaimable: 3MB (50%)', '', 'type: Containers'])
    expect(renderDf(du, 'json', false, NOW).split('\n')[3]).toBe('{"Active":"1","Reclaimable":"2kB","Size":"2.5kB","TotalCount":"3","Type":"Build Cache"}')
    expect(() => renderDf(du, '{{.Foo}}', false, NOW)).toThrow('template parsing error: template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type *formatter.diskUsageImagesContext')
  })

  it('prints -v as four tables', () => {
    const text = renderDf(du, 'table', true, NOW)
    expect(text).toBe(
      'Images space usage:\n\n' +
      'REPOSITORY   TAG       IMAGE ID       CREATED             SIZE      SHARED SIZE   UNIQUE SIZE   CONTAINERS\n' +
      'busybox      latest    111111111111   About an hour ago   4MB       1MB           3MB           2\n' +
      '<none>       <none>    444444444444   About an hour ago   3MB       3MB           0B            0\n' +
      '\nContainers space usage:\n\n' +
      'CONTAINER ID   IMAGE     COMMAND      LOCAL VOLUMES   SIZE      CREATED              STATUS                     NAMES\n' +
      '222222222222   busybox   "sleep 1d"   0               1kB       About a minute ago   Up 1 minute                web\n' +
      '555555555555   busybox   "sleep 1d"   0               3kB       About a minute ago   Exited (0) 5 minutes ago   old\n' +
      '\nLocal Volumes space usage:\n\n' +
      'VOLUME NAME   LINKS     SIZE\n' +
      'data          1         30kB\n' +
      'spare         0         10kB\n' +
      'broken        0         -1B\n' +
      '\nBuild cache usage: 2.5kB\n\n' +
      'CACHE ID        CACHE TYPE   SIZE      CREATED          LAST USED        USAGE     SHARED\n' +
      '333333333333    regular      2kB       59 minutes ago   59 minutes ago   1         false\n' +
      '666666666666*   regular      500B      59 minutes ago   59 minutes ago   1         false\n' +
      '777777777777    regular      7kB       59 minutes ago   59 minutes ago   1         true\n')
  })

  it('executes -v templates once over all lists, full IDs, nothing appended', () => {
    expect(renderDf(du, '{{range .BuildCache}}{{.ID}} {{end}}', true, NOW)).toBe(`sha256:${'3'.repeat(64)} sha256:${'6'.repeat(64)}* sha256:${'7'.repeat(64)} `)
    const json = JSON.parse(renderDf(du, 'json', true, NOW)) as Record<string, Array<Record<string, string>>>
    expect(Object.keys(json)).toEqual(['Images', 'Containers', 'Volumes', 'BuildCache'])
    expect(json.Images?.[0]).toMatchObject({ Digest: '', Repository: 'busybox', Tag: 'latest', SharedSize: '1MB', UniqueSize: '3MB', Containers: '2' })
    expect(json.Containers?.[0]?.Size).toBe('1kB')
    expect(renderDf(du, 'raw', true, NOW)).toContain('type: Volume\nname: data\ndriver: local\n\ntype: Volume')
    expect(() => renderDf(du, '{{.Foo}}', true, NOW)).toThrow(/^template: :1:2: executing "" at <.Foo>: can't evaluate field Foo in type \*formatter.diskUsageContext$/)
  })

  it('reads build cache records as docker’s buildCacheContext', () => {
    const row = buildCacheRow(cache({ ' Parents': ['sha256:' + '8'.repeat(64), 'x'], LastUsedAt: null }), false, NOW) as Record<string, string>
    expect(row).toMatchObject({ Parent: `sha256:${'8'.repeat(64)}, x`, LastUsedAt: '', LastUsedSince: '', CreatedAt: '2025-01-02 11:00:00.5 +0000 UTC', CreatedSince: '59 minutes ago' })
    expect((buildCacheRow(cache({ Parent: 'sha256:' + '9'.repeat(64) }), true, NOW) as Record<string, string>).Parent).toBe('999999999999')
    expect(goTimeOfRfc3339('2025-01-02T11:00:00Z')).toBe('2025-01-02 11:00:00 +0000 UTC')
    expect(goTimeOfRfc3339('2025-01-02T11:00:00.120+02:00')).toBe('2025-01-02 11:00:00.12 +0200 +0200')
  })
})

describe('system prune', () => {
  it('asks docker’s question for the flags given', () => {
    expect(pruneConfirmation({ all: false, volumes: false, filters: {} })).toBe(
      'WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all dangling images\n  - unused build cache\n\nAre you sure you want to continue?')
    expect(pruneConfirmation({ all: true, volumes: true, filters: { label: { b: true, a10: true, a9: true }, 'label!': { x: true }, until: { '1h': true }, all: { true: true } } })).toBe(
      'WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n' +
      '  - all anonymous volumes not used by at least one container\n  - all images without at least one container associated to them\n  - all build cache\n\n' +
      '  Items to be pruned will be filtered with:\n  - label!=x\n  - label=a9\n  - label=a10\n  - label=b\n  - until=1h\n\nAre you sure you want to continue?')
  })
})
