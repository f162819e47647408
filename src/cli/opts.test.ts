import { describe, expect, it } from 'vitest'
import { getTimestamp, kvMap, parseFilters, parseGpuRequest, parseStorageOpts, parseGoDuration, parsePublish, parseRestartPolicy } from './opts.js'

describe('parseFilters', () => {
  it('builds the JSON map form', () => {
    expect(parseFilters(['status=exited', 'label=a=b', 'status=created'])).toEqual({
      status: { exited: true, created: true }, label: { 'a=b': true },
    })
  })
  it('rejects values without =', () => {
    expect(() => parseFilters(['oops'])).toThrow('bad format of filter (expected name=value)')
  })
})

describe('parsePublish', () => {
  it('matches docker run -p 8080:80', () => {
    expect(parsePublish(['8080:80'])).toEqual({ exposed: { '80/tcp': {} }, bindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] } })
  })
  it('ip, proto and ranges', () => {
    const r = parsePublish(['127.0.0.1:53:53/udp', '7000-7001:8000-8001'])
    expect(r.bindings['53/udp']).toEqual([{ HostIp: '127.0.0.1', HostPort: '53' }])
    expect(r.bindings['8001/tcp']).toEqual([{ HostIp: '', HostPort: '7001' }])
  })
})

describe('timestamps', () => {
  it('durations relative to now in whole seconds', () => {
    expect(getTimestamp('10m', 1_000_000_000_000)).toBe(String(1_000_000_000 - 600))
    expect(parseGoDuration('1h30m')).toBe(5_400_000)
  })
  it('RFC3339 to sec.nanos', () => {
    expect(getTimestamp('2013-01-02T13:23:37Z')).toBe('1357133017.000000000')
    expect(getTimestamp('2013-01-02T13:23:37.5+01:00')).toBe('1357129417.500000000')
  })
  it('unix times pass through', () => {
    expect(getTimestamp('1357133017')).toBe('1357133017')
    expect(() => getTimestamp('nonsense')).toThrow()
  })
})

describe('misc', () => {
  it('restart policies', () => {
    expect(parseRestartPolicy('on-failure:3')).toEqual({ Name: 'on-failure', MaximumRetryCount: 3 })
    // Names and counts are the daemon's to validate, as docker's ParseRestartPolicy.
    expect(parseRestartPolicy('sometimes')).toEqual({ Name: 'sometimes', MaximumRetryCount: 0 })
    expect(parseRestartPolicy('always:2')).toEqual({ Name: 'always', MaximumRetryCount: 2 })
    expect(() => parseRestartPolicy(':3')).toThrow('no policy provided before colon')
    expect(() => parseRestartPolicy('on-failure:x')).toThrow('maximum retry count must be an integer')
  })
  it('labels', () => {
    expect(kvMap(['a=1', 'b'])).toEqual({ a: '1', b: '' })
  })
})

describe('parseGpuRequest (docker opts.GpuOpts)', () => {
  it('all, a count, and the long form', () => {
    expect(parseGpuRequest('all')).toEqual({ Driver: '', Count: -1, DeviceIDs: null, Capabilities: [['gpu']], Options: {} })
    expect(parseGpuRequest('2')).toEqual({ Driver: '', Count: 2, DeviceIDs: null, Capabilities: [['gpu']], Options: {} })
    expect(parseGpuRequest('driver=nvidia,"capabilities=compute,utility","device=0,1","options=a=b,c"')).toEqual({
      Driver: 'nvidia', Count: 0, DeviceIDs: ['0', '1'], Capabilities: [['compute', 'utility', 'gpu']], Options: { a: 'b', c: '' },
    })
    // Neither a count nor devices: one GPU.
    expect(parseGpuRequest('driver=nvidia').Count).toBe(1)
  })
  it("refuses what docker's flag refuses", () => {
    expect(() => parseGpuRequest('count=x')).toThrow('invalid count (x): value must be either "all" or an integer: invalid syntax')
    expect(() => parseGpuRequest('count=1,count=2')).toThrow("gpu request key 'count' can be specified only once")
    expect(() => parseGpuRequest('colour=red')).toThrow("unexpected key 'colour' in 'colour=red'")
  })
})

describe('parseStorageOpts', () => {
  it('takes key=value pairs only', () => {
    expect(parseStorageOpts(['size=10G', 'a=b=c'])).toEqual({ size: '10G', a: 'b=c' })
    expect(() => parseStorageOpts(['size'])).toThrow('invalid storage option')
  })
})
