import { describe, expect, it } from 'vitest'
import type { NetworkRecord } from '../../../network/index.js'
import type { NetworkCreateRequest } from '../../types/index.js'
import { createRequestType, createSpecOf, endpointConfigOf, toNetworkResource } from './convert.js'
import { decodeBody } from './decode.js'
import { createdNano, matchLabels, matchNetwork } from './filters.js'

function net(over: Partial<NetworkRecord>): NetworkRecord {
  return {
    id: 'a'.repeat(64), name: 'web', driver: 'bridge', created: '2025-06-01T10:00:00.123456789Z', scope: 'local',
    enableIPv4: true, enableIPv6: false, internal: false, attachable: false,
    ipam: { driver: 'default', options: {}, config: [{ subnet: '172.18.0.0/16', gateway: '172.18.0.1' }] },
    options: {}, labels: {}, ifname: 'br-aaaaaaaaaaaa', ...over,
  }
}

describe('toNetworkResource', () => {
  it('gives a user network docker’s shape and key order', () => {
    const r = toNetworkResource(net({ labels: { a: 'b' } }))
    expect(Object.keys(r)).toEqual(['Name', 'Id', 'Created', 'Scope', 'Driver', 'EnableIPv4', 'EnableIPv6', 'IPAM', 'Internal', 'Attachable', 'Ingress', 'ConfigFrom', 'ConfigOnly', 'Containers', 'Options', 'Labels'])
    expect(r).toMatchObject({
      Name: 'web', Created: '2025-06-01T10:00:00.123456789Z', Driver: 'bridge', Containers: {}, ConfigFrom: { Network: '' },
      IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' }] }, Labels: { a: 'b' },
    })
  })

  it('shows the predefined networks as dockerd does', () => {
    const host = toNetworkResource(net({ name: 'host', driver: 'host', enableIPv4: false, ipam: { driver: 'default', options: {}, config: [] }, ifname: '' }))
    expect(host).toMatchObject({ EnableIPv4: true, IPAM: { Driver: 'default', Options: null, Config: null }, Options: {}, Labels: {} })
    const none = toNetworkResource(net({ name: 'none', driver: 'null', enableIPv4: false, ipam: { driver: 'default', options: {}, config: [] }, ifname: '' }))
    expect(none).toMatchObject({ Driver: 'null', EnableIPv4: true, IPAM: { Options: null, Config: null } })
    const bridge = toNetworkResource(net({ name: 'bridge', options: { 'com.docker.network.bridge.name': 'berth0' } }))
    expect(bridge.IPAM).toEqual({ Driver: 'default', Options: null, Config: [{ Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' }] })
  })

  it('lists attached containers by container ID', () => {
    const r = toNetworkResource(net({}), [{
      id: 'e1', networkId: 'n', containerId: 'c1', ipv4: '172.18.0.2/16', ipv6: '', gateway: '', gateway6: '', mac: '02:42:ac:12:00:02',
      aliases: [], dnsNames: [], hostIfname: 'veth1', ifname: 'eth0', containerName: 'web1',
    }])
    expect(r.Containers).toEqual({ c1: { Name: 'web1', EndpointID: 'e1', MacAddress: '02:42:ac:12:00:02', IPv4Address: '172.18.0.2/16', IPv6Address: '' } })
  })

  it('omits empty IPAM config fields', () => {
    const r = toNetworkResource(net({ ipam: { driver: 'default', options: {}, config: [{ subnet: '10.1.0.0/16', ipRange: '10.1.1.0/24', gateway: '10.1.0.1', auxAddresses: { h: '10.1.0.5' } }, { subnet: 'fd00::/64' }] } }))
    expect(r.IPAM.Config).toEqual([{ Subnet: '10.1.0.0/16', IPRange: '10.1.1.0/24', Gateway: '10.1.0.1', AuxiliaryAddresses: { h: '10.1.0.5' } }, { Subnet: 'fd00::/64' }])
  })
})

describe('createSpecOf', () => {
  it('maps the docker CLI’s body', () => {
    const body = decodeBody<NetworkCreateRequest>(JSON.stringify({
      Driver: 'bridge', Scope: '', IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: '10.9.0.0/16', Gateway: '10.9.0.1' }] },
      Internal: true, Attachable: false, Ingress: false, ConfigOnly: false, ConfigFrom: null, Options: { 'com.docker.network.bridge.name': 'br9' },
      Labels: { l: 'v' }, Name: 'n9', EnableIPv6: true,
    }), createRequestType)
    expect(createSpecOf(body)).toEqual({
      name: 'n9', driver: 'bridge', internal: true, attachable: false, enableIPv6: true,
      ipam: { driver: 'default', options: {}, config: [{ subnet: '10.9.0.0/16', gateway: '10.9.0.1' }] },
      options: { 'com.docker.network.bridge.name': 'br9' }, labels: { l: 'v' },
    })
  })
  it('fills docker’s defaults for a bare body', () => {
    expect(createSpecOf({ Name: 'x' })).toEqual({ name: 'x', driver: 'bridge', internal: false, attachable: false, ipam: { driver: 'default', options: {}, config: [] }, options: {}, labels: {} })
  })
})

describe('endpointConfigOf', () => {
  it('reads connect’s EndpointConfig, absent or not', () => {
    expect(endpointConfigOf(undefined)).toEqual({ aliases: [], links: [], ipv4: '', ipv6: '', mac: '', driverOpts: {}, gwPriority: 0 })
    expect(endpointConfigOf({ IPAMConfig: { IPv4Address: '10.9.0.9', IPv6Address: '', LinkLocalIPs: [] }, Aliases: ['db'], Links: ['a:b'], GwPriority: 2 }))
      .toMatchObject({ aliases: ['db'], links: ['a:b'], ipv4: '10.9.0.9', gwPriority: 2 })
  })
})

describe('decodeBody', () => {
  const bad = (text: string) => {
    try {
      decodeBody(text, createRequestType)
    } catch (err) {
      return (err as Error).message
    }
    return 'no error'
  }
  it('words syntax errors as Go’s decoder', () => {
    expect(bad('{"Name":')).toBe('invalid JSON: unexpected EOF')
    expect(bad('{x}')).toBe("invalid JSON: invalid character 'x' looking for beginning of object key string")
    expect(bad('{"Name" "x"}')).toBe(`invalid JSON: invalid character '"' after object key`)
    expect(bad('{"Name":"x",}')).toBe("invalid JSON: invalid character '}' looking for beginning of object key string")
    expect(bad('{"Name":"x" "y"}')).toBe(`invalid JSON: invalid character '"' after object key:value pair`)
    expect(bad('{"Labels":{"a":tru}}')).toBe("invalid JSON: invalid character '}' in literal true (expecting 'e')")
    expect(bad('nope')).toBe("invalid JSON: invalid character 'o' in literal null (expecting 'u')")
    expect(bad('{"Name":"a\nb"}')).toBe("invalid JSON: invalid character '\\n' in string literal")
    expect(bad('{"Name":"x"} {}')).toBe('unexpected content after JSON')
  })
  it('words type errors as encoding/json', () => {
    expect(bad('{"Name":1}')).toBe('invalid JSON: json: cannot unmarshal number into Go struct field CreateRequest.Name of type string')
    expect(bad('{"Internal":"yes"}')).toBe('invalid JSON: json: cannot unmarshal string into Go struct field CreateRequest.Internal of type bool')
    expect(bad('{"Labels":{"a":1}}')).toBe('invalid JSON: json: cannot unmarshal number into Go struct field CreateRequest.Labels of type string')
    expect(bad('{"IPAM":{"Config":[{"Subnet":10}]}}')).toBe('invalid JSON: json: cannot unmarshal number into Go struct field IPAMConfig.IPAM.Config.Subnet of type string')
    expect(bad('{"IPAM":"x"}')).toBe('invalid JSON: json: cannot unmarshal string into Go struct field CreateRequest.IPAM of type network.IPAM')
    expect(bad('[]')).toBe('invalid JSON: json: cannot unmarshal array into Go value of type network.CreateRequest')
  })
  it('matches field names case-insensitively, ignores unknown ones and nulls', () => {
    expect(decodeBody('{"name":"x","Bogus":1,"Labels":null}', createRequestType)).toEqual({ Name: 'x' })
    expect(decodeBody('  ', createRequestType)).toEqual({})
    expect(decodeBody('null', createRequestType)).toEqual({})
  })
})

describe('filters', () => {
  it('matches name and id as docker’s unanchored patterns', () => {
    const f = (k: string, v: string[]) => new Map([[k, v]])
    const n = net({ name: 'front-end', id: 'abc123' + '0'.repeat(58) })
    expect(matchNetwork(n, f('name', ['end']), () => false)).toBe(true)
    expect(matchNetwork(n, f('name', ['^front']), () => false)).toBe(true)
    expect(matchNetwork(n, f('name', ['back']), () => false)).toBe(false)
    expect(matchNetwork(n, f('id', ['abc1']), () => false)).toBe(true)
    expect(matchNetwork(n, f('driver', ['bridg']), () => false)).toBe(false)
    expect(matchNetwork(n, f('type', ['custom']), () => false)).toBe(true)
    expect(matchNetwork(n, f('type', ['builtin']), () => false)).toBe(false)
    expect(matchNetwork(n, f('dangling', ['true']), () => false)).toBe(true)
    expect(matchNetwork(n, f('dangling', ['true']), () => true)).toBe(false)
    expect(matchNetwork(net({ name: 'bridge' }), f('dangling', ['false']), () => false)).toBe(true)
  })
  it('labels: every key or key=value must hold', () => {
    expect(matchLabels(['a', 'b=2'], { a: '', b: '2' })).toBe(true)
    expect(matchLabels(['b=3'], { b: '2' })).toBe(false)
    expect(matchLabels(['a'], {})).toBe(false)
  })
  it('reads RFC 3339 times to the nanosecond', () => {
    expect(createdNano('2025-06-01T10:00:00.123456789Z')).toBe(1748772000123456789n)
    expect(createdNano('2025-06-01T12:00:00+02:00')).toBe(1748772000000000000n)
  })
})
