import { describe, expect, it } from 'vitest'
import { isKind, type ErrorKind } from '../errors/index.js'
import { type Family, Prefix, formatIp, parseIp } from './cidr.js'
import {
  type AddressPool,
  AddressSpace,
  DEFAULT_ADDRESS_POOLS,
  DEFAULT_IPV6_POOLS,
  GLOBAL_DEFAULT_ADDRESS_POOLS,
  allocateSubnet,
  checkSubnetClaim,
  defaultAddressPools,
  noMoreSubnets,
  ulaPool,
  validateIpamConfigs,
  validatePools,
} from './ipam.js'
import type { IpamConfig } from './types.js'

const P = (s: string) => Prefix.parse(s)
const ip = parseIp
const fmt = (p: Prefix | undefined) => p?.toString()

function expectError(fn: () => unknown, kind: ErrorKind, message: string): void {
  let err: unknown
  try {
    fn()
  } catch (e) {
    err = e
  }
  expect(err, 'expected a throw').toBeInstanceOf(Error)
  expect((err as Error).message).toBe(message)
  expect(isKind(err, kind)).toBe(true)
}

describe('default pools', () => {
  it('are docker 28.2 local-scope pools', () => {
    expect(DEFAULT_ADDRESS_POOLS.map((p) => `${p.base}:${p.size}`)).toEqual([
      '172.17.0.0/16:16',
      '172.18.0.0/16:16',
      '172.19.0.0/16:16',
      '172.20.0.0/14:16',
      '172.24.0.0/14:16',
      '172.28.0.0/14:16',
      '192.168.0.0/16:20',
    ])
  })

  it('derive the ULA /48 from the engine ID as moby does', () => {
    // Vectors from moby daemon/daemon_test.go TestDeriveULABaseNetwork.
    expect(ulaPool('')).toEqual({ base: 'fd42:98fc:1c14::/48', size: 64 })
    expect(ulaPool('499d4bc0-b0b3-416f-b1ee-cf6486315593')).toEqual({ base: 'fd62:fb69:18af::/48', size: 64 })
    expect(DEFAULT_IPV6_POOLS).toEqual([{ base: 'fd42:98fc:1c14::/48', size: 64 }])
  })

  it('cannot be changed by accident', () => {
    expect(() => DEFAULT_ADDRESS_POOLS.push({ base: '10.0.0.0/8', size: 24 })).toThrow(TypeError)
    validatePools(DEFAULT_ADDRESS_POOLS)
    validatePools(GLOBAL_DEFAULT_ADDRESS_POOLS)
  })

  it('add the ULA pool unless an IPv6 pool is configured', () => {
    expect(defaultAddressPools(undefined, '')).toEqual([...DEFAULT_ADDRESS_POOLS, { base: 'fd42:98fc:1c14::/48', size: 64 }])
    const v4 = [{ base: '10.10.0.0/16', size: 24 }]
    expect(defaultAddressPools(v4, '')).toEqual([...v4, { base: 'fd42:98fc:1c14::/48', size: 64 }])
    const mapped = [{ base: '::ffff:10.10.0.0/112', size: 120 }]
    expect(defaultAddressPools(mapped, '')).toHaveLength(2)
    const v6 = [...v4, { base: 'fd11::/56', size: 64 }]
    expect(defaultAddressPools(v6, '')).toEqual(v6)
  })
})

describe('validatePools', () => {
  it('accepts good pools, host bits included', () => {
    validatePools([{ base: '10.10.0.0/16', size: 24 }, { base: 'fd00::/48', size: 64 }, { base: '10.20.1.1/16', size: 16 }])
  })

  it('refuses bad pools with docker text', () => {
    expectError(
      () => validatePools([{ base: '10.10.0.0/16', size: 24 }, { base: '10.20.0.0/16', size: 0 }]),
      'invalid-argument',
      'could not construct local address space: network at index 1 (&{10.20.0.0/16 0}) is not in canonical form',
    )
    expectError(
      () => validatePools([{ base: '10.10.0.0/24', size: 16 }]),
      'invalid-argument',
      'could not construct local address space: network at index 0 (&{10.10.0.0/24 16}) has a smaller prefix (/24) than the target size of that pool (/16)',
    )
    expectError(
      () => validatePools([{ base: '10.10.0.0/33', size: 24 }]),
      'invalid-argument',
      'invalid base prefix "10.10.0.0/33": netip.ParsePrefix("10.10.0.0/33"): prefix length out of range',
    )
    expect(() => validatePools([{ base: '10.10.0.0/16', size: 33 }])).toThrow(/longer than an IPv4 address/)
    expect(() => validatePools([{ base: '10.10.0.0/16', size: 24.5 }])).toThrow(/must be integer/)
  })
})

describe('allocateSubnet', () => {
  const pools = DEFAULT_ADDRESS_POOLS

  it('takes the first pool when nothing is taken', () => {
    expect(fmt(allocateSubnet(pools, [], 4))).toBe('172.17.0.0/16')
  })

  it('skips docker0 and other taken subnets', () => {
    expect(fmt(allocateSubnet(pools, [P('172.17.0.0/16')], 4))).toBe('172.18.0.0/16')
    expect(fmt(allocateSubnet(pools, [P('172.18.0.0/16'), P('172.17.0.0/16')], 4))).toBe('172.19.0.0/16')
    // A gap left by a removed network is reused first.
    expect(fmt(allocateSubnet(pools, [P('172.17.0.0/16'), P('172.19.0.0/16')], 4))).toBe('172.18.0.0/16')
  })

  it('skips a subnet that a small route or nameserver overlaps', () => {
    expect(fmt(allocateSubnet(pools, [P('172.17.42.0/24')], 4))).toBe('172.18.0.0/16')
    expect(fmt(allocateSubnet(pools, [P('172.17.0.0/16'), P('172.18.0.53/32')], 4))).toBe('172.19.0.0/16')
  })

  it('splits /14 pools into /16s and moves on to 192.168.0.0/20s', () => {
    const taken = [P('172.17.0.0/16'), P('172.18.0.0/16'), P('172.19.0.0/16'), P('172.20.0.0/16')]
    expect(fmt(allocateSubnet(pools, taken, 4))).toBe('172.21.0.0/16')
    expect(fmt(allocateSubnet(pools, [P('172.16.0.0/12')], 4))).toBe('192.168.0.0/20')
    expect(fmt(allocateSubnet(pools, [P('172.16.0.0/12'), P('192.168.0.0/24'), P('192.168.16.0/20')], 4))).toBe('192.168.32.0/20')
  })

  it('ignores taken prefixes of the other family', () => {
    expect(fmt(allocateSubnet(pools, [P('::/0')], 4))).toBe('172.17.0.0/16')
  })

  it('returns undefined when all 31 default subnets are taken', () => {
    const taken: Prefix[] = []
    for (;;) {
      const p = allocateSubnet(pools, taken, 4)
      if (!p) break
      taken.push(p)
    }
    expect(taken).toHaveLength(31)
    expect(fmt(taken[30])).toBe('192.168.240.0/20')
    expectError(() => {
      throw noMoreSubnets()
    }, 'invalid-argument', 'all predefined address pools have been fully subnetted')
  })

  it('walks pools sorted by address and drops pools inside earlier ones, as docker', () => {
    const custom: AddressPool[] = [
      { base: '192.168.0.0/16', size: 24 },
      { base: '10.0.0.0/8', size: 24 },
      { base: '10.1.0.0/16', size: 16 },
    ]
    expect(fmt(allocateSubnet(custom, [], 4))).toBe('10.0.0.0/24')
    expect(fmt(allocateSubnet(custom, [P('10.0.0.0/8')], 4))).toBe('192.168.0.0/24')
  })

  it('reads IPv4-mapped pools as IPv4', () => {
    const mapped = [{ base: '::ffff:10.10.0.0/112', size: 120 }]
    validatePools(mapped)
    expect(fmt(allocateSubnet(mapped, [P('10.10.0.0/24')], 4))).toBe('10.10.1.0/24')
    expect(allocateSubnet(mapped, [], 6)).toBeUndefined()
  })

  it('allocates IPv6 /64s from the ULA pool', () => {
    const all = defaultAddressPools(undefined, '')
    expect(fmt(allocateSubnet(all, [], 6))).toBe('fd42:98fc:1c14::/64')
    expect(fmt(allocateSubnet(all, [P('fd42:98fc:1c14::/64')], 6))).toBe('fd42:98fc:1c14:1::/64')
    expect(allocateSubnet(all, [P('fd00::/8')], 6)).toBeUndefined()
  })

  it('stays fast for 10.0.0.0/8 split into /24s with nearly all taken', () => {
    const taken: Prefix[] = []
    for (let i = 0; i < 65535; i++) taken.push(new Prefix(4, 0x0a000000n + (BigInt(i) << 8n), 24))
    // Reversed so the sort has work to do.
    taken.reverse()
    expect(fmt(allocateSubnet([{ base: '10.0.0.0/8', size: 24 }], taken, 4))).toBe('10.255.255.0/24')
    taken.push(P('10.255.255.128/25'))
    expect(allocateSubnet([{ base: '10.0.0.0/8', size: 24 }], taken, 4)).toBeUndefined()
  })

  it('agrees with a brute-force first fit', () => {
    // Small pools so every candidate can be checked naively.
    let seed = 12345
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    }
    const naive = (ps: AddressPool[], taken: Prefix[], family: Family) => {
      const sorted = ps.map((p) => ({ base: Prefix.parseMasked(p.base), size: p.size })).sort((a, b) => Prefix.compare(a.base, b.base))
      const kept = sorted.filter((p, i) => !sorted.slice(0, i).some((q) => q.base.overlaps(p.base)))
      for (const p of kept) {
        const step = 1n << BigInt(32 - p.size)
        for (let v = p.base.base; v < p.base.base + p.base.size; v += step) {
          const cand = new Prefix(family, v, p.size)
          if (!taken.some((t) => t.overlaps(cand))) return cand
        }
      }
      return undefined
    }
    for (let round = 0; round < 300; round++) {
      const ps: AddressPool[] = []
      for (let k = 0; k < 1 + rand(3); k++) {
        const bits = 20 + rand(6)
        const base = new Prefix(4, BigInt(0x0a000000 + (rand(64) << 8)), bits)
        ps.push({ base: base.toString(), size: bits + rand(5) })
      }
      const taken: Prefix[] = []
      for (let k = 0; k < rand(12); k++) taken.push(new Prefix(4, BigInt(0x0a000000 + rand(1 << 14) * 4), 18 + rand(15)))
      expect(fmt(allocateSubnet(ps, taken, 4)), JSON.stringify({ ps, taken: taken.map(String) })).toBe(fmt(naive(ps, taken, 4)))
    }
  })
})

describe('checkSubnetClaim', () => {
  const overlap = 'invalid pool request: Pool overlaps with other one on this address space'

  it('refuses a subnet overlapping another network', () => {
    expectError(() => checkSubnetClaim({ subnet: P('172.17.0.0/24') }, [{ subnet: P('172.17.0.0/16') }]), 'forbidden', overlap)
    expectError(() => checkSubnetClaim({ subnet: P('10.0.0.0/8') }, [{ subnet: P('10.9.0.0/16') }]), 'forbidden', overlap)
    checkSubnetClaim({ subnet: P('172.18.0.0/16') }, [{ subnet: P('172.17.0.0/16') }, { subnet: P('fd00::/64') }])
  })

  it('lets an ip-range share or overlap a subnet unless subnet and ip-range repeat (moby#46756)', () => {
    checkSubnetClaim({ subnet: P('172.17.0.0/16'), ipRange: P('172.17.1.0/24') }, [{ subnet: P('172.17.0.0/16') }])
    checkSubnetClaim({ subnet: P('172.17.0.0/24'), ipRange: P('172.17.0.0/25') }, [{ subnet: P('172.17.0.0/16') }])
    expectError(
      () =>
        checkSubnetClaim({ subnet: P('172.17.0.0/16'), ipRange: P('172.17.1.0/24') }, [
          { subnet: P('172.17.0.0/16'), ipRange: P('172.17.1.0/24') },
        ]),
      'forbidden',
      overlap,
    )
  })
})

describe('validateIpamConfigs', () => {
  const cfg = (c: Partial<IpamConfig>): IpamConfig => ({ subnet: '', ...c })
  const check = (cs: IpamConfig[], v6 = false) => () => validateIpamConfigs(cs, v6)

  it('accepts good configs', () => {
    validateIpamConfigs(
      [cfg({ subnet: '10.1.0.0/16', ipRange: '10.1.5.0/24', gateway: '10.1.0.254', auxAddresses: { a: '10.1.0.9' } })],
      false,
    )
    validateIpamConfigs([cfg({ subnet: 'fd00::/64', gateway: 'fd00::1' })], true)
  })

  it('skips IPv6 entries when IPv6 is off', () => {
    validateIpamConfigs([cfg({ subnet: 'fd00::1/64', gateway: '10.0.0.1' })], false)
  })

  it('reports one problem plainly', () => {
    expectError(check([cfg({ subnet: '172.20.0.1/16' })]), 'invalid-argument', 'invalid network config:\ninvalid subnet 172.20.0.1/16: it should be 172.20.0.0/16')
    expectError(check([cfg({ subnet: 'nope' })]), 'invalid-argument', 'invalid network config:\ninvalid subnet nope: invalid CIDR block notation')
    expectError(check([cfg({})]), 'invalid-argument', 'invalid network config:\ninvalid subnet : invalid CIDR block notation')
  })

  it('lists several problems as docker does', () => {
    expectError(
      check([
        cfg({
          subnet: '10.1.0.0/16',
          ipRange: '10.2.0.1/8',
          gateway: '10.2.0.1',
          auxAddresses: { a: 'x', b: 'fd00::1' },
        }),
      ]),
      'invalid-argument',
      [
        'invalid network config:',
        '* invalid ip-range 10.2.0.1/8: CIDR block is bigger than its parent subnet 10.1.0.0/16',
        '* invalid ip-range 10.2.0.1/8: it should be 10.0.0.0/8',
        '* invalid gateway 10.2.0.1: parent subnet 10.1.0.0/16 doesn\'t contain this address',
        '* invalid auxiliary address a: invalid address',
        '* invalid auxiliary address b: parent subnet is an IPv4 block',
      ].join('\n'),
    )
    expectError(
      check([cfg({ subnet: '10.1.0.0/16', ipRange: 'fd00::/64' }), cfg({ subnet: '10.3.0.0/16', ipRange: '10.4.0.0/24' })]),
      'invalid-argument',
      [
        'invalid network config:',
        '* invalid ip-range fd00::/64: parent subnet is an IPv4 block',
        "* invalid ip-range 10.4.0.0/24: parent subnet 10.3.0.0/16 doesn't contain ip-range",
      ].join('\n'),
    )
  })
})

describe('AddressSpace', () => {
  const space = (subnet: string, o: ConstructorParameters<typeof AddressSpace>[1] = {}) => new AddressSpace(P(subnet), o)
  const take = (s: AddressSpace, n: number) => Array.from({ length: n }, () => formatIp(s.allocate()))

  it('reserves the first address as gateway and hands out the lowest free one, as docker local networks', () => {
    const s = space('172.18.0.0/16')
    expect(formatIp(s.gateway!)).toBe('172.18.0.1')
    expect(formatIp(s.defaultGateway())).toBe('172.18.0.1')
    expect(take(s, 3)).toEqual(['172.18.0.2', '172.18.0.3', '172.18.0.4'])
    s.release(ip('172.18.0.2'))
    expect(take(s, 2)).toEqual(['172.18.0.2', '172.18.0.5'])
    expect(s.used().map(formatIp)).toEqual(['172.18.0.1', '172.18.0.2', '172.18.0.3', '172.18.0.4', '172.18.0.5'])
  })

  it('with serial, continues after the last address and wraps around', () => {
    const s = space('10.0.0.0/29', { serial: true }) // .1 gateway, .2-.6 usable, .7 broadcast
    expect(take(s, 3)).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4'])
    s.release(ip('10.0.0.2'))
    expect(take(s, 2)).toEqual(['10.0.0.5', '10.0.0.6'])
    expect(take(s, 1)).toEqual(['10.0.0.2'])
    s.release(ip('10.0.0.4'))
    expect(take(s, 1)).toEqual(['10.0.0.4'])
  })

  it('serves automatic addresses from the ip-range and takes docker gateway from it', () => {
    const s = space('10.1.0.0/16', { ipRange: P('10.1.5.0/24') })
    // Docker's gateway is the first free address of the ip-range: its .0 is not the subnet's network address.
    expect(formatIp(s.gateway!)).toBe('10.1.5.0')
    expect(take(s, 2)).toEqual(['10.1.5.1', '10.1.5.2'])
    expect(formatIp(s.allocate(ip('10.1.200.7')))).toBe('10.1.200.7')

    const t = space('10.1.0.0/16', { ipRange: P('10.1.5.0/24'), gateway: ip('10.1.0.1') })
    expect(take(t, 1)).toEqual(['10.1.5.0'])
    expect(formatIp(space('10.1.0.0/16', { ipRange: P('10.1.0.0/16') }).gateway!)).toBe('10.1.0.1')
    expectError(
      () => space('10.1.0.0/16', { ipRange: P('10.2.0.0/24') }),
      'invalid-argument',
      "invalid ip-range 10.2.0.0/24: parent subnet 10.1.0.0/16 doesn't contain ip-range",
    )
  })

  it('fills an ip-range, not the rest of the subnet, and says so as docker', () => {
    const s = space('10.1.0.0/16', { ipRange: P('10.1.9.0/30'), gateway: ip('10.1.0.1') })
    expect(take(s, 4)).toEqual(['10.1.9.0', '10.1.9.1', '10.1.9.2', '10.1.9.3'])
    expectError(() => s.allocate(), 'unavailable', 'no available addresses on this pool')
  })

  it('runs out of a small subnet', () => {
    const s = space('192.168.7.0/30')
    expect(take(s, 1)).toEqual(['192.168.7.2'])
    expectError(() => s.allocate(), 'unavailable', 'no available addresses on this pool')
    s.release(ip('192.168.7.2'))
    expect(take(s, 1)).toEqual(['192.168.7.2'])
  })

  it('uses both addresses of a /31 and the only one of a /32', () => {
    const s = space('10.9.0.0/31')
    expect(formatIp(s.gateway!)).toBe('10.9.0.0')
    expect(take(s, 1)).toEqual(['10.9.0.1'])
    expect(formatIp(space('10.9.0.7/32').gateway!)).toBe('10.9.0.7')
  })

  it('handles IPv6 /64s without walking the space', () => {
    const s = space('fd42:98fc:1c14::/64')
    expect(formatIp(s.gateway!)).toBe('fd42:98fc:1c14::1')
    expect(take(s, 2)).toEqual(['fd42:98fc:1c14::2', 'fd42:98fc:1c14::3'])
    // Only the subnet-router anycast address is held back; the last address is usable.
    expect(formatIp(s.allocate(ip('fd42:98fc:1c14:0:ffff:ffff:ffff:ffff')))).toBe('fd42:98fc:1c14:0:ffff:ffff:ffff:ffff')
    expectError(() => s.allocate(ip('fd42:98fc:1c14::')), 'forbidden', 'Address already in use')
    expectError(
      () => space('fd00::/128'),
      'internal',
      'failed to allocate gateway (): no available addresses on this pool',
    )
  })

  it('refuses preferred addresses as docker', () => {
    const s = space('172.18.0.0/16')
    expectError(() => s.allocate(ip('10.1.2.3')), 'invalid-argument', 'no configured subnet or ip-range contain the IP address 10.1.2.3')
    expectError(() => s.allocate(ip('fd00::3')), 'invalid-argument', 'no configured subnet or ip-range contain the IP address fd00::3')
    expectError(() => s.allocate(ip('172.18.0.1')), 'forbidden', 'Address already in use') // the gateway
    expectError(() => s.allocate(ip('172.18.0.0')), 'forbidden', 'Address already in use')
    expectError(() => s.allocate(ip('172.18.255.255')), 'forbidden', 'Address already in use')
    expect(formatIp(s.allocate(ip('172.18.3.4')))).toBe('172.18.3.4')
    expectError(() => s.allocate(ip('172.18.3.4')), 'forbidden', 'Address already in use')
    // A preferred address does not move the automatic choice.
    expect(take(s, 1)).toEqual(['172.18.0.2'])
  })

  it('reserves the gateway and auxiliary addresses', () => {
    const s = space('10.5.0.0/24', {
      gateway: ip('10.5.0.254'),
      auxAddresses: { router: ip('10.5.0.2'), printer: ip('10.5.0.3') },
    })
    expect(formatIp(s.gateway!)).toBe('10.5.0.254')
    expect(take(s, 2)).toEqual(['10.5.0.1', '10.5.0.4'])
    expectError(() => s.allocate(ip('10.5.0.254')), 'forbidden', 'Address already in use')
    expectError(
      () => space('10.5.0.0/24', { gateway: ip('10.6.0.1') }),
      'internal',
      'failed to allocate gateway (10.6.0.1): requested address is out of range',
    )
    expectError(
      () => space('10.5.0.0/24', { gateway: ip('10.5.0.0') }),
      'internal',
      'failed to allocate gateway (10.5.0.0): Address already in use',
    )
    expectError(
      () => space('10.5.0.0/24', { auxAddresses: { gw: ip('10.5.0.1') } }),
      'internal',
      'failed to allocate secondary ip address (gw:10.5.0.1): Address already in use',
    )
    expectError(
      () => space('10.5.0.0/24', { auxAddresses: { far: ip('10.6.0.1') } }),
      'forbidden',
      'auxiliary address: (far:10.6.0.1) must belong to the master pool: 10.5.0.0/24',
    )
  })

  it('rebuilds from persisted endpoints', () => {
    const s = space('172.19.0.0/16', { gateway: null, reserved: [ip('172.19.0.1'), ip('10.0.0.1')] })
    expect(s.gateway).toBeUndefined()
    s.markUsed(ip('172.19.0.2'))
    s.markUsed(ip('172.19.0.2'))
    s.markUsed(ip('172.19.0.0')) // the network address stays out of used()
    s.markUsed(ip('172.19.0.4'))
    expect(s.used().map(formatIp)).toEqual(['172.19.0.1', '172.19.0.2', '172.19.0.4'])
    expect(take(s, 2)).toEqual(['172.19.0.3', '172.19.0.5'])
    expect(s.isUsed(ip('172.19.0.4'))).toBe(true)
    expect(s.isUsed(ip('172.19.0.9'))).toBe(false)
    expectError(() => s.markUsed(ip('172.20.0.1')), 'invalid-argument', 'requested address is out of range')
    expectError(() => s.release(ip('172.20.0.1')), 'invalid-argument', 'requested address is out of range')
    s.release(ip('172.19.0.9')) // not in use: nothing happens
  })

  it('without a gateway hands out the first address', () => {
    expect(take(space('172.30.0.0/24', { gateway: null }), 1)).toEqual(['172.30.0.1'])
  })
})
