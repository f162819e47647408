import { describe, expect, it } from 'vitest'
import {
  formatIp, ipamFromFlags, type IpamFlags, isMacAddress, parseIp, parseNetworkFlags, parseNetworkOpt, parsePublish, splitStringSlice,
  validateDnsSearch, validateExtraHost, validateIpAddress, validateLabel, validateLink,
} from './opts.js'

const none = { networks: [], aliases: [], links: [], ip: '', ip6: '', mac: '', linkLocalIPs: [] }

describe('parsePublish', () => {
  it('reads docker’s -p forms', () => {
    const r = parsePublish(['127.0.0.1:53:53/udp', '[::1]:8080:80', '80', '8000-8001:90-91', '7000-7010:22', '::1:9000:9000/SCTP'])
    expect(r.bindings).toEqual({
      '22/tcp': [{ HostIp: '', HostPort: '7000-7010' }],
      '53/udp': [{ HostIp: '127.0.0.1', HostPort: '53' }],
      '80/tcp': [{ HostIp: '::1', HostPort: '8080' }, { HostIp: '', HostPort: '' }],
      '9000/sctp': [{ HostIp: '::1', HostPort: '9000' }],
      '90/tcp': [{ HostIp: '', HostPort: '8000' }],
      '91/tcp': [{ HostIp: '', HostPort: '8001' }],
    })
    // Go marshals map keys sorted: the body matches docker's.
    expect(Object.keys(r.exposed)).toEqual(['22/tcp', '53/udp', '80/tcp', '90/tcp', '9000/sctp', '91/tcp'])
  })
  it('reads the long form and --expose ranges', () => {
    expect(parsePublish(['published=8080,target=80,protocol=udp']).bindings).toEqual({ '80/udp': [{ HostIp: '', HostPort: '8080' }] })
    expect(Object.keys(parsePublish([], ['100-102/udp', '5000']).exposed)).toEqual(['100/udp', '101/udp', '102/udp', '5000/tcp'])
  })
  it('refuses what nat.ParsePortSpec refuses, with its words', () => {
    const bad = (p: string[], e: string[] = []) => () => parsePublish(p, e)
    expect(bad(['80:90-91'])).toThrow('invalid ranges specified for container and host Ports: 90-91 and 80')
    expect(bad(['80-82:90-91'])).toThrow('invalid ranges specified for container and host Ports: 90-91 and 80-82')
    expect(bad(['8080:'])).toThrow('no port specified: 8080:<empty>')
    expect(bad(['abc'])).toThrow('invalid containerPort: abc')
    expect(bad(['x:80'])).toThrow('invalid hostPort: x')
    expect(bad(['1.2.3:80:80'])).toThrow('invalid IP address: 1.2.3')
    expect(bad(['80/xyz'])).toThrow('invalid proto: xyz')
    expect(bad(['70000'])).toThrow('invalid containerPort: 70000')
    expect(bad(['published=80,target'])).toThrow("invalid publish opts format (should be name=value but got 'target')")
    expect(bad([], ['80:90'])).toThrow('invalid port format for --expose: 80:90')
    expect(bad([], ['90-80'])).toThrow('invalid range format for --expose: 90-80, error: invalid range specified for port: 90-80')
    expect(bad([], ['abc'])).toThrow('invalid range format for --expose: abc, error: strconv.ParseUint: parsing "abc": invalid syntax')
  })
})

describe('network flags', () => {
  it('reads the advanced --network syntax, lowercased as docker does', () => {
    expect(parseNetworkOpt('name=Net1,alias=A,alias=b,ip=10.0.0.2,driver-opt=k=V,gw-priority=-2,"link-local-ip=169.254.0.1"')).toEqual({
      target: 'net1', aliases: ['a', 'b'], driverOpts: { k: 'v' }, links: [], ipv4: '10.0.0.2', ipv6: '', linkLocalIPs: ['169.254.0.1'], mac: '', gwPriority: -2,
    })
    expect(parseNetworkOpt('my-net').target).toBe('my-net')
    expect(() => parseNetworkOpt('name=x,foo=bar')).toThrow('invalid field key foo')
    expect(() => parseNetworkOpt('alias=y')).toThrow('network name/id is not specified')
    expect(() => parseNetworkOpt('name=x,gw-priority=z')).toThrow('invalid gw-priority (z): invalid syntax')
    expect(() => parseNetworkOpt('name=x,bogus')).toThrow('invalid field bogus')
  })
  it('sends an empty "default" endpoint without --network, none for one plain network', () => {
    expect(parseNetworkFlags(none)).toMatchObject({ mode: 'default', endpoints: { default: { IPAMConfig: null, Aliases: null, MacAddress: '', DNSNames: null } } })
    expect(parseNetworkFlags({ ...none, networks: ['mynet'] })).toEqual({ mode: 'mynet', endpoints: {} })
    expect(parseNetworkFlags({ ...none, networks: ['host'] })).toEqual({ mode: 'host', endpoints: {} })
  })
  it('puts the plain flags on the first network only', () => {
    const r = parseNetworkFlags({ ...none, networks: ['a', 'b'], aliases: ['x'], links: ['c:d'], ip: '10.0.0.2', linkLocalIPs: ['169.254.0.2'] })
    expect(r.endpoints.a).toMatchObject({ Aliases: ['x'], Links: ['c:d'], IPAMConfig: { IPv4Address: '10.0.0.2', LinkLocalIPs: ['169.254.0.2'] } })
    expect(r.endpoints.b).toMatchObject({ Aliases: null, Links: null, IPAMConfig: null })
    // On the default bridge --link is a legacy link (HostConfig.Links), not an endpoint option.
    expect(parseNetworkFlags({ ...none, links: ['c:d'] }).endpoints.default?.Links).toBeNull()
  })
  it('refuses conflicts as docker does', () => {
    expect(() => parseNetworkFlags({ ...none, aliases: ['x'] })).toThrow('network-scoped aliases are only supported for user-defined networks')
    expect(() => parseNetworkFlags({ ...none, networks: ['host', 'mynet'] })).toThrow('conflicting options: cannot attach both user-defined and non-user-defined network-modes')
    expect(() => parseNetworkFlags({ ...none, networks: ['a', 'a'] })).toThrow('network "a" is specified multiple times')
    expect(() => parseNetworkFlags({ ...none, networks: ['name=a,alias=x'], aliases: ['y'] })).toThrow('conflicting options: cannot specify both --network-alias and per-network alias')
    expect(() => parseNetworkFlags({ ...none, mac: 'zz' })).toThrow('zz is not a valid mac address')
  })
})

describe('network create IPAM pairing', () => {
  const flags: IpamFlags = { driver: 'default', subnets: [], ipRanges: [], gateways: [], auxAddresses: [], options: {} }
  it('gives each range, gateway and aux address to the subnet holding it', () => {
    expect(ipamFromFlags({ ...flags, subnets: ['10.1.0.0/16', 'fd00::/64'], gateways: ['fd00::1', '10.1.0.1'], ipRanges: ['10.1.2.0/24'], auxAddresses: [['h', '10.1.0.9'], ['g', 'fd00::9']] })).toEqual({
      Driver: 'default', Options: {},
      Config: [
        { Subnet: '10.1.0.0/16', IPRange: '10.1.2.0/24', Gateway: '10.1.0.1', AuxiliaryAddresses: { h: '10.1.0.9' } },
        { Subnet: 'fd00::/64', Gateway: 'fd00::1', AuxiliaryAddresses: { g: 'fd00::9' } },
      ],
    })
    expect(ipamFromFlags(flags)).toEqual({ Driver: 'default', Options: {}, Config: [] })
  })
  it('refuses what docker’s CLI refuses', () => {
    const bad = (o: Partial<IpamFlags>) => () => ipamFromFlags({ ...flags, ...o })
    expect(bad({ gateways: ['10.0.0.1'] })).toThrow('every ip-range or gateway must have a corresponding subnet')
    expect(bad({ subnets: ['10.0.0.0/8', '10.1.0.0/16'] })).toThrow('multiple overlapping subnet configuration is not supported')
    expect(bad({ subnets: ['10.0.0.0/8'], gateways: ['192.168.0.1'] })).toThrow('no matching subnet for gateway 192.168.0.1')
    expect(bad({ subnets: ['10.0.0.0/8'], ipRanges: ['bad'] })).toThrow('invalid CIDR address: bad')
    expect(bad({ subnets: ['10.0.0.0/16', '10.1.0.0/16'], gateways: ['10.1.0.1', '10.1.0.2'] })).toThrow('cannot configure multiple gateways (10.1.0.2, 10.1.0.1) for the same subnet (10.1.0.0/16)')
    expect(bad({ subnets: ['10.0.0.0/8'], auxAddresses: [['a', '']] })).toThrow('no matching subnet for aux-address ')
    expect(bad({ subnets: ['10.0.0.0/8', 'bad'] })).toThrow('invalid subnet: invalid CIDR address: bad')
  })
  it('splits StringSlice flags as CSV', () => {
    expect(splitStringSlice(['a,b', '', '"c,d"'])).toEqual(['a', 'b', 'c,d'])
  })
})

describe('flag value validators', () => {
  it('normalizes as docker sends them', () => {
    expect(validateIpAddress(' 8.8.8.8 ')).toBe('8.8.8.8')
    expect(validateIpAddress('0:0::0001')).toBe('::1')
    expect(() => validateIpAddress('foo')).toThrow('IP address is not correctly formatted: foo')
    expect(validateDnsSearch('example.com.')).toBe('example.com')
    expect(validateDnsSearch('.')).toBe('.')
    expect(() => validateDnsSearch('-bad')).toThrow('-bad is not a valid domain')
    expect(validateExtraHost('b=::1')).toBe('b:::1')
    expect(validateExtraHost('c=[::2]')).toBe('c:::2')
    expect(validateExtraHost('d:host-gateway')).toBe('d:host-gateway')
    expect(() => validateExtraHost('foo')).toThrow('bad format for add-host: "foo"')
    expect(() => validateExtraHost('a:1.2.3')).toThrow('invalid IP address in add-host: "1.2.3"')
    expect(() => validateLink('a:b:c')).toThrow('bad format for links: a:b:c')
    expect(() => validateLabel('=x')).toThrow("invalid label '=x': empty name")
    expect(() => validateLabel('a b=x')).toThrow("label 'a b' contains whitespaces")
    expect(isMacAddress('02:42:ac:11:00:02')).toBe(true)
    expect(isMacAddress('0242.ac11.0002')).toBe(true)
    expect(isMacAddress('02:42:ac:11:00')).toBe(false)
  })
  it('spells addresses as Go does', () => {
    const f = (s: string) => { const a = parseIp(s); return a ? formatIp(a) : 'invalid' }
    expect(f('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1')
    expect(f('::ffff:1.2.3.4')).toBe('1.2.3.4')
    expect(f('fe80::1%eth0')).toBe('invalid')
    expect(f('010.0.0.1')).toBe('invalid')
  })
})
