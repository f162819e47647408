import { describe, expect, it } from 'vitest'
import { buildEndpointSettings, buildNetworkCreate } from './network.js'

describe('network create body', () => {
  it('is docker’s CreateOptions, ipv4/ipv6 only when given', () => {
    expect(JSON.stringify({ ...buildNetworkCreate({ driver: 'bridge', ipamDriver: 'default' }), Name: 'x' })).toBe(
      '{"Driver":"bridge","Scope":"","IPAM":{"Driver":"default","Options":{},"Config":[]},"Internal":false,"Attachable":false,"Ingress":false,"ConfigOnly":false,"ConfigFrom":null,"Options":{},"Labels":{},"Name":"x"}',
    )
    const b = buildNetworkCreate({ driver: 'macvlan', ipamDriver: 'default', ipv6: true, ipv4: false, subnet: ['10.1.0.0/16'], gateway: ['10.1.0.1'], opt: ['parent=eth0', 'x'], label: ['k=v', 'z'], configFrom: 'cfg' })
    expect(b).toMatchObject({ Driver: 'macvlan', EnableIPv4: false, EnableIPv6: true, Options: { parent: 'eth0', x: '' }, Labels: { k: 'v', z: '' }, ConfigFrom: { Network: 'cfg' } })
    expect(b.IPAM?.Config).toEqual([{ Subnet: '10.1.0.0/16', Gateway: '10.1.0.1' }])
  })
})

describe('network connect body', () => {
  it('always sends IPAMConfig, aliases as a list', () => {
    expect(buildEndpointSettings({})).toMatchObject({ IPAMConfig: {}, Links: null, Aliases: [], DriverOpts: {}, GwPriority: 0 })
    expect(buildEndpointSettings({ ip: '10.0.0.2', alias: ['a,b'], driverOpt: ['k= v '], gwPriority: '-1', link: ['x:y'] }))
      .toMatchObject({ IPAMConfig: { IPv4Address: '10.0.0.2' }, Aliases: ['a', 'b'], DriverOpts: { k: 'v' }, GwPriority: -1, Links: ['x:y'] })
    expect(() => buildEndpointSettings({ driverOpt: ['x'] })).toThrow('invalid key/value pair format in driver options')
  })
})
