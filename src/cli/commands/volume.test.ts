import { describe, expect, it } from 'vitest'
import type { Volume } from '../../api/types/index.js'
import { dockerFuncs, parseTemplate } from '../../gotemplate/index.js'
import { renderFormat } from '../output/format.js'
import { buildVolumeCreate, inspectValue, pruneRequest, VOLUME_HEADERS, volumeFormat, volumeRow } from './volume.js'

const v = (over: Partial<Volume> = {}): Volume => ({
  CreatedAt: '2025-06-01T10:00:00Z', Driver: 'local', Labels: null, Mountpoint: '/var/lib/berth/volumes/x/_data', Name: 'x', Options: null, Scope: 'local', ...over,
})

describe('volume create body', () => {
  it('leaves empty fields out and sorts maps, as Go marshals CreateOptions', () => {
    expect(JSON.stringify(buildVolumeCreate('', { driver: 'local' }))).toBe('{"Driver":"local"}')
    expect(JSON.stringify(buildVolumeCreate('v', { driver: '', opt: ['type=tmpfs', 'device=tmpfs', 'o'], label: ['b=1', 'a'] })))
      .toBe('{"DriverOpts":{"device":"tmpfs","o":"","type":"tmpfs"},"Labels":{"a":"","b":"1"},"Name":"v"}')
  })
  it('sends a cluster spec when a cluster flag is set, as docker does', () => {
    expect(buildVolumeCreate('v', { driver: 'local', secret: ['a=1'] })).not.toHaveProperty('ClusterVolumeSpec')
    expect(buildVolumeCreate('v', { driver: 'local', group: 'g', requiredBytes: '1k' }).ClusterVolumeSpec).toEqual({
      Group: 'g', AccessMode: { Scope: 'single', Sharing: 'none', BlockVolume: {} }, AccessibilityRequirements: {},
      CapacityRange: { RequiredBytes: 1024, LimitBytes: 0 }, Availability: 'active',
    })
  })
})

describe('volume ls output', () => {
  it('prints docker’s default table, quiet and raw formats', () => {
    const rows = [v({ Name: 'data' }), v({ Name: 'web', Labels: { b: '2', a: '1' } })].map(volumeRow)
    expect(renderFormat(volumeFormat('table', false), rows, VOLUME_HEADERS)).toBe('DRIVER    VOLUME NAME\nlocal     data\nlocal     web\n')
    expect(renderFormat(volumeFormat('table', true), rows, VOLUME_HEADERS)).toBe('data\nweb\n')
    expect(renderFormat(volumeFormat('raw', false), rows, VOLUME_HEADERS)).toBe('name: data\ndriver: local\n\nname: web\ndriver: local\n\n')
    expect(renderFormat('table {{.Name}}\t{{.Labels}}\t{{.Label "a"}}\t{{.Size}}', rows, VOLUME_HEADERS)).toBe('VOLUME NAME   LABELS    a         SIZE\ndata                              N/A\nweb           a=1,b=2   1         N/A\n')
  })
  it('prints a row as docker’s MarshalJSON', () => {
    expect(renderFormat('json', [volumeRow(v({ Labels: { 'a<b': '&' } }))], VOLUME_HEADERS)).toBe(
      '{"Availability":"N/A","Driver":"local","Group":"N/A","Labels":"a\\u003cb=\\u0026","Links":"N/A","Mountpoint":"/var/lib/berth/volumes/x/_data","Name":"x","Scope":"local","Size":"N/A","Status":"N/A"}\n',
    )
  })
  it('shows usage data when the daemon sends it', () => {
    const r = volumeRow(v({ UsageData: { RefCount: 2, Size: 1234567 } }))
    expect([r.Links, r.Size]).toEqual(['2', '1.235MB'])
  })
})

describe('volume inspect data', () => {
  it('encodes as Go’s volume.Volume: zero fields present, omitempty ones left out', () => {
    const x = inspectValue({ Name: 'x', Driver: 'local', Labels: { z: '1', a: '2' } } as unknown as Volume)
    expect(JSON.stringify(x)).toBe('{"Driver":"local","Labels":{"a":"2","z":"1"},"Mountpoint":"","Name":"x","Options":null,"Scope":""}')
  })
  it('reads in templates as the Go struct does', () => {
    const run = (t: string, val: Volume) => parseTemplate(t, { funcs: dockerFuncs }).execute(inspectValue(val))
    expect(run('{{.Labels}} {{.Status}} {{.UsageData}} {{json .Options}} {{.Labels.k}}', v())).toBe('map[] map[] <nil> null <no value>')
    expect(run('{{.Options.type}} {{json .}}', v({ Options: { type: 'tmpfs' } }))).toBe(
      'tmpfs {"CreatedAt":"2025-06-01T10:00:00Z","Driver":"local","Labels":null,"Mountpoint":"/var/lib/berth/volumes/x/_data","Name":"x","Options":{"type":"tmpfs"},"Scope":"local"}',
    )
    expect(() => run('{{.Nope}}', v())).toThrow(/can't evaluate field Nope/)
  })
})

describe('volume prune request', () => {
  it('turns --all into the all filter from API 1.42, and warns as docker 28', () => {
    expect(pruneRequest({}, '1.50')).toEqual({ filters: {}, warning: expect.stringMatching(/^WARNING! This will remove anonymous local volumes not used by at least one container\.\nAre you sure you want to continue\? \[y\/N\] $/) as unknown })
    const all = pruneRequest({ all: true, filter: ['label=a'] }, '1.50')
    expect(all.filters).toEqual({ label: { a: true }, all: { true: true } })
    expect(all.warning).toMatch(/^WARNING! This will remove all local volumes not used by at least one container\./)
    expect(() => pruneRequest({ all: true, filter: ['all=0'] }, '1.50')).toThrow('conflicting options: cannot specify both --all and --filter all=1')
    const old = pruneRequest({ all: true }, '1.41')
    expect(old.filters).toEqual({})
    expect(old.warning).toMatch(/remove all local volumes/)
  })
})
