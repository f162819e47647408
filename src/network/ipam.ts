/**
 * Address management for local networks, as docker's default IPAM driver does
 * it (moby v28.2.2 libnetwork/ipams/defaultipam, ipamutils, and the IPAM
 * checks in api/types/network/ipam.go): which subnet a new network gets, which
 * addresses its endpoints get, and docker's error text when either runs out or
 * a request is refused. Pure: the caller supplies what is taken (other
 * networks' subnets, the host's on-link routes and nameservers) and persists
 * what is handed out.
 */
import { createHash } from 'node:crypto'
import { EngineError, forbidden, internal, invalidArgument, unavailable } from '../errors/index.js'
import { type Addr, type Family, Prefix, bitLength, compareAddr, formatIp, parseCidrAddr, tryParseIp } from './cidr.js'
import type { IpamConfig } from './types.js'

/** One entry of daemon.json `default-address-pools`: split base into subnets of length size. */
export interface AddressPool {
  base: string
  size: number
}

/**
 * Docker's local-scope pools when daemon.json sets none (ipamutils
 * localScopeDefaultNetworks): 31 subnets. Frozen; typed mutable only so it
 * can stand in for a configured list.
 */
export const DEFAULT_ADDRESS_POOLS: AddressPool[] = Object.freeze<AddressPool[]>([
  { base: '172.17.0.0/16', size: 16 },
  { base: '172.18.0.0/16', size: 16 },
  { base: '172.19.0.0/16', size: 16 },
  { base: '172.20.0.0/14', size: 16 },
  { base: '172.24.0.0/14', size: 16 },
  { base: '172.28.0.0/14', size: 16 },
  { base: '192.168.0.0/16', size: 20 },
]) as AddressPool[]

/** Docker's global-scope (swarm) pools (ipamutils globalScopeDefaultNetworks). */
export const GLOBAL_DEFAULT_ADDRESS_POOLS: AddressPool[] = Object.freeze<AddressPool[]>([
  { base: '10.0.0.0/8', size: 24 },
]) as AddressPool[]

/**
 * The IPv6 pool docker adds so `--ipv6` works without `--subnet`: a ULA /48
 * split into /64s, fd00::/8 followed by 40 bits derived from the engine ID
 * (the low 40 bits of the first 8 bytes of its SHA-256), so it is stable for
 * one host and differs between hosts (moby daemon/daemon.go
 * deriveULABaseNetwork, loosely RFC 4193 section 3.2.2). "" gives
 * fd42:98fc:1c14::/48.
 */
export function ulaPool(hostId: string): AddressPool {
  const sum = createHash('sha256').update(hostId).digest()
  const globalId = sum.readBigUInt64BE(0) & ((1n << 40n) - 1n)
  const base = new Prefix(6, (0xfdn << 120n) | (globalId << 80n), 48)
  return { base: base.toString(), size: 64 }
}

/**
 * ulaPool("") as a list: the IPv6 pool for a daemon without an engine ID.
 * Docker derives the /48 from its engine ID (defaultAddressPools(configured,
 * engineId) does the same); this one is the same on every host.
 */
export const DEFAULT_IPV6_POOLS: AddressPool[] = Object.freeze([ulaPool('')]) as AddressPool[]

/**
 * The pools the daemon allocates from: daemon.json's `default-address-pools`
 * if any, else DEFAULT_ADDRESS_POOLS; plus ulaPool(hostId) unless an IPv6
 * (not IPv4-mapped) pool is already there (moby daemon/daemon.go networkOptions).
 */
export function defaultAddressPools(configured: readonly AddressPool[] | undefined, hostId: string): AddressPool[] {
  const pools = [...(configured && configured.length > 0 ? configured : DEFAULT_ADDRESS_POOLS)]
  const hasV6 = pools.some((p) => {
    const parsed = tryParsePool(p)
    return parsed !== undefined && parsed.base.family === 6
  })
  if (!hasV6) pools.push(ulaPool(hostId))
  return pools
}

/** Go's %v of an *ipamutils.NetworkToSplit, which docker's messages embed. */
function poolRepr(p: AddressPool): string {
  return `&{${p.base} ${p.size}}`
}

/** A pool's base and size; an IPv4-mapped base (::ffff:10.10.0.0/112) is IPv4, its size counted in IPv4 bits. */
function tryParsePool(p: AddressPool): { base: Prefix; size: number } | undefined {
  if (Prefix.syntaxError(p.base) !== undefined) return undefined
  const base = parseCidrAddr(p.base).prefix
  const mapped = base.family === 4 && p.base.includes(':')
  return { base, size: mapped ? p.size - 96 : p.size }
}

/**
 * Checks daemon.json `default-address-pools` as docker does when it builds
 * its allocator (defaultipam splitByIPFamily), with docker's messages:
 * "could not construct local address space: network at index 0 (&{10.10.0.0/16 0}) is not in canonical form".
 * Host bits in a base are allowed and cleared, as docker does.
 */
export function validatePools(pools: readonly AddressPool[]): void {
  const fail = (msg: string) => invalidArgument(`could not construct local address space: ${msg}`)
  pools.forEach((p, i) => {
    if (typeof p.base !== 'string') throw fail(`network at index ${i} (${poolRepr(p)}) is not in canonical form`)
    const syntax = Prefix.syntaxError(p.base)
    if (syntax !== undefined) throw invalidArgument(`invalid base prefix ${JSON.stringify(p.base)}: ${syntax}`)
    if (!Number.isInteger(p.size)) throw invalidArgument(`invalid size value: ${JSON.stringify(p.size)} (must be integer)`)
    if (p.size === 0) throw fail(`network at index ${i} (${poolRepr(p)}) is not in canonical form`)
    const { base, size } = tryParsePool(p) as { base: Prefix; size: number }
    // Docker's text reads backwards but it is what users search for.
    if (base.bits > size) {
      throw fail(
        `network at index ${i} (${poolRepr(p)}) has a smaller prefix (/${base.bits}) than the target size of that pool (/${size})`,
      )
    }
    // Docker does not check this and then hands out invalid prefixes; refuse instead.
    if (size > bitLength(base.family)) {
      throw fail(`network at index ${i} (${poolRepr(p)}) has a target size (/${p.size}) longer than an IPv${base.family} address`)
    }
  })
}

/** Docker's error when allocateSubnet finds nothing (ipamapi.ErrNoMoreSubnets). */
export const noMoreSubnets = (): EngineError => invalidArgument('all predefined address pools have been fully subnetted')

/**
 * The pools of one family as docker's allocator holds them (defaultipam
 * newAddrSpace): sorted by base address, shorter prefix first, and a pool
 * that overlaps an earlier one dropped. So the order of pools in daemon.json
 * does not matter.
 */
function normalizePools(pools: readonly AddressPool[], family: Family): { base: Prefix; size: number }[] {
  const parsed = pools.map((p) => {
    const r = tryParsePool(p)
    if (!r) throw new Error(`address pool ${poolRepr(p)} was not validated`)
    return r
  })
  const mine = parsed.filter((p) => p.base.family === family).sort((a, b) => Prefix.compare(a.base, b.base))
  const kept: { base: Prefix; size: number }[] = []
  for (const p of mine) {
    const prev = kept[kept.length - 1]
    if (prev && prev.base.overlaps(p.base)) continue
    kept.push(p)
  }
  return kept
}

/**
 * The first subnet, in pool order (see normalizePools), that overlaps nothing
 * in taken; undefined when every pool is used up (docker then fails with
 * noMoreSubnets()). taken holds every subnet in use by a network of this
 * address space plus what the host reserves (moby netutils
 * InferReservedNetworks: on-link IPv4 routes and resolv.conf nameservers);
 * prefixes of the other family are ignored.
 *
 * Sweeps pools and taken ranges together, jumping past each taken range, so a
 * 10.0.0.0/8 split into /24s with tens of thousands taken costs a sort.
 */
export function allocateSubnet(pools: readonly AddressPool[], taken: readonly Prefix[], family: Family): Prefix | undefined {
  const len = bitLength(family)
  const ranges = taken
    .filter((p) => p.family === family)
    .map((p) => ({ start: p.base, end: p.base + p.size - 1n }))
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))
  const merged: { start: bigint; end: bigint }[] = []
  for (const r of ranges) {
    const last = merged[merged.length - 1]
    if (last && r.start <= last.end + 1n) {
      if (r.end > last.end) last.end = r.end
    } else {
      merged.push({ ...r })
    }
  }
  let j = 0
  for (const pool of normalizePools(pools, family)) {
    const block = 1n << BigInt(len - pool.size)
    const end = pool.base.base + pool.base.size - 1n
    let cur = pool.base.base
    // Pools are sorted and disjoint, so the range cursor only moves forward.
    while (cur + block - 1n <= end) {
      while (j < merged.length && (merged[j] as { end: bigint }).end < cur) j++
      const r = merged[j]
      if (!r || r.start > cur + block - 1n) return new Prefix(family, cur, pool.size)
      // Skip to the first block boundary after the taken range.
      cur = ((r.end + 1n + block - 1n) / block) * block
    }
  }
  return undefined
}

/** A network's subnet and ip-range, for overlap checks between networks. */
export interface SubnetClaim {
  subnet: Prefix
  ipRange?: Prefix
}

/**
 * Refuses a user-chosen --subnet as docker's allocator does (defaultipam
 * allocateSubnet), including its quirk (moby#46756): with --ip-range the
 * subnet is checked only against the very same subnet and ip-range, without
 * it against every overlapping subnet. Routes on the host are not checked.
 * existing: the subnets of every network of this address space.
 */
export function checkSubnetClaim(req: SubnetClaim, existing: readonly SubnetClaim[]): void {
  const overlap = () => forbidden('invalid pool request: Pool overlaps with other one on this address space')
  const same = existing.filter((e) => e.subnet.equals(req.subnet))
  if (same.length > 0) {
    const ipRange = req.ipRange
    if (!ipRange || same.some((e) => e.ipRange?.equals(ipRange))) throw overlap()
  }
  if (!req.ipRange && existing.some((e) => e.subnet.overlaps(req.subnet))) throw overlap()
}

/**
 * docker network create's IPAM checks, with docker's messages (moby
 * api/types/network/ipam.go ValidateIPAM): subnets must be canonical, an
 * ip-range inside its subnet, gateway and auxiliary addresses in the subnet.
 * IPv6 entries are not checked when IPv6 is off. Throws invalid-argument
 * "invalid network config:\n..." listing every problem.
 */
export function validateIpamConfigs(configs: readonly IpamConfig[], enableIPv6: boolean): void {
  const errs: string[] = []
  for (const cfg of configs) {
    if (Prefix.syntaxError(cfg.subnet) !== undefined) {
      errs.push(`invalid subnet ${cfg.subnet}: invalid CIDR block notation`)
      continue
    }
    const { addr, prefix: subnet } = parseCidrAddr(cfg.subnet)
    const fam = `IPv${subnet.family}`
    if (!enableIPv6 && subnet.family === 6) continue
    // Go prints the prefix as given, host bits and all.
    const given = `${formatIp(addr)}/${subnet.bits}`
    if (addr.value !== subnet.base) errs.push(`invalid subnet ${given}: it should be ${subnet.toString()}`)

    if (cfg.ipRange) {
      const r = cfg.ipRange
      if (Prefix.syntaxError(r) !== undefined) {
        errs.push(`invalid ip-range ${r}: invalid CIDR block notation`)
      } else {
        const { addr: ra, prefix: range } = parseCidrAddr(r)
        if (range.family !== subnet.family) {
          errs.push(`invalid ip-range ${r}: parent subnet is an ${fam} block`)
        } else {
          if (range.bits < subnet.bits) errs.push(`invalid ip-range ${r}: CIDR block is bigger than its parent subnet ${given}`)
          if (ra.value !== range.base) errs.push(`invalid ip-range ${formatIp(ra)}/${range.bits}: it should be ${range.toString()}`)
          if (!subnet.overlaps(range)) errs.push(`invalid ip-range ${r}: parent subnet ${given} doesn't contain ip-range`)
        }
      }
    }

    const checkAddr = (s: string | undefined): string | undefined => {
      if (!s) return undefined
      const a = tryParseIp(s)
      if (!a) return 'invalid address'
      if (a.family !== subnet.family) return `parent subnet is an ${fam} block`
      if (!subnet.contains(a)) return `parent subnet ${given} doesn't contain this address`
      return undefined
    }
    const gw = checkAddr(cfg.gateway)
    if (gw) errs.push(`invalid gateway ${cfg.gateway ?? ''}: ${gw}`)
    for (const [name, aux] of Object.entries(cfg.auxAddresses ?? {})) {
      const why = checkAddr(aux)
      if (why) errs.push(`invalid auxiliary address ${name}: ${why}`)
    }
  }
  if (errs.length === 0) return
  const joined = errs.length === 1 ? errs[0] : `* ${errs.map((e) => e.replaceAll('\n', '\n\t')).join('\n* ')}`
  throw invalidArgument(`invalid network config:\n${joined}`)
}

export interface AddressSpaceOptions {
  /** Addresses handed out automatically come from here (--ip-range); a preferred address may be anywhere in the subnet. */
  ipRange?: Prefix
  /**
   * Reserved for the gateway. Left out: docker's choice, the first free
   * address of ipRange or the subnet (see defaultGateway). null: no gateway,
   * for rebuilding a network that has none.
   */
  gateway?: Addr | null
  /** --aux-address name=addr: reserved, must lie in the subnet. */
  auxAddresses?: Record<string, Addr>
  /** Further addresses to hold back, without checks. */
  reserved?: Addr[]
  /**
   * Hand out addresses after the last one handed out, wrapping at the end,
   * so a released address is not reused at once. Docker does this only for
   * swarm networks (cnmallocator sets com.docker.network.ipam.serial); for
   * local networks it hands out the lowest free address, the default here.
   */
  serial?: boolean
}

/**
 * The addresses of one network's subnet. The network address (IPv4 except
 * /31 and /32; always for IPv6, the subnet-router anycast address) and the
 * IPv4 broadcast address are never handed out (defaultipam newPoolData).
 * Holds a set of used addresses, not a bitmap, so a /64 costs what is used.
 */
export class AddressSpace {
  readonly subnet: Prefix
  readonly ipRange: Prefix | undefined
  /** The reserved gateway address, if the network has one. */
  readonly gateway: Addr | undefined
  private readonly never = new Set<bigint>()
  private readonly taken = new Set<bigint>()
  private readonly serial: boolean
  /** Where a serial scan resumes: one past the last address handed out automatically. */
  private next: bigint | undefined

  constructor(subnet: Prefix, o: AddressSpaceOptions = {}) {
    this.subnet = subnet
    this.serial = o.serial ?? false
    if (o.ipRange && !subnet.containsPrefix(o.ipRange)) {
      throw invalidArgument(`invalid ip-range ${o.ipRange.toString()}: parent subnet ${subnet.toString()} doesn't contain ip-range`)
    }
    // Docker treats an ip-range equal to the subnet as no ip-range.
    this.ipRange = o.ipRange && !o.ipRange.equals(subnet) ? o.ipRange : undefined
    const hostBits = subnet.hostBits
    if (subnet.family === 6 || hostBits > 1) this.never.add(subnet.base)
    if (subnet.family === 4 && hostBits > 1) this.never.add(subnet.base + subnet.size - 1n)

    if (o.gateway !== null) {
      try {
        if (o.gateway && !subnet.contains(o.gateway)) throw invalidArgument('requested address is out of range')
        this.gateway = this.allocate(o.gateway)
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err)
        throw internal(`failed to allocate gateway (${o.gateway ? formatIp(o.gateway) : ''}): ${msg}`, err)
      }
    }
    for (const [name, a] of Object.entries(o.auxAddresses ?? {})) {
      if (!subnet.contains(a)) {
        throw forbidden(`auxiliary address: (${name}:${formatIp(a)}) must belong to the master pool: ${subnet.toString()}`)
      }
      if (this.isUsed(a)) throw internal(`failed to allocate secondary ip address (${name}:${formatIp(a)}): Address already in use`)
      this.taken.add(a.value)
    }
    for (const a of o.reserved ?? []) if (subnet.contains(a)) this.taken.add(a.value)
  }

  /** The gateway docker picks when none is given: the first address of ipRange (or the subnet) it may hand out. */
  defaultGateway(): Addr {
    const r = this.ipRange ?? this.subnet
    for (let v = r.base; v < r.base + r.size; v++) {
      if (!this.never.has(v)) return { family: r.family, value: v }
    }
    // Only an IPv6 /128 has no address to hand out.
    throw unavailable('no available addresses on this pool')
  }

  /**
   * Hands out preferred, or else the lowest free address of ipRange (or the
   * subnet), or with `serial` the next free one after the last handed out.
   * Errors are docker's: a preferred address outside the subnet is
   * invalid-argument "no configured subnet or ip-range contain the IP
   * address …"; one in use is forbidden "Address already in use"; a full
   * range is unavailable "no available addresses on this pool" (docker's
   * endpoint code then reports "no available IPv4 addresses on this
   * network's address pools: name (id)").
   */
  allocate(preferred?: Addr): Addr {
    if (preferred) {
      if (!this.subnet.contains(preferred)) {
        throw invalidArgument(`no configured subnet or ip-range contain the IP address ${formatIp(preferred)}`)
      }
      if (this.isUsed(preferred)) throw forbidden('Address already in use')
      this.taken.add(preferred.value)
      return { family: preferred.family, value: preferred.value }
    }
    const r = this.ipRange ?? this.subnet
    const start = r.base
    const end = r.base + r.size - 1n
    let v: bigint | undefined
    if (this.serial && this.next !== undefined && this.next > start) v = this.firstFree(this.next, end)
    v ??= this.firstFree(start, end)
    if (v === undefined) throw unavailable('no available addresses on this pool')
    this.taken.add(v)
    this.next = v + 1n
    return { family: this.subnet.family, value: v }
  }

  /** Gives an address back; releasing one that is not in use does nothing. */
  release(a: Addr): void {
    if (!this.subnet.contains(a)) throw invalidArgument('requested address is out of range')
    this.taken.delete(a.value)
  }

  /** Records an address as in use without checks, when rebuilding state from persisted endpoints. */
  markUsed(a: Addr): void {
    if (!this.subnet.contains(a)) throw invalidArgument('requested address is out of range')
    if (!this.never.has(a.value)) this.taken.add(a.value)
  }

  /** Whether a can't be handed out: in use, reserved, or the network or broadcast address. */
  isUsed(a: Addr): boolean {
    return this.subnet.contains(a) && (this.taken.has(a.value) || this.never.has(a.value))
  }

  /** Addresses in use, gateway and auxiliary addresses included, in order. */
  used(): Addr[] {
    return [...this.taken].map((value) => ({ family: this.subnet.family, value })).sort(compareAddr)
  }

  private firstFree(from: bigint, end: bigint): bigint | undefined {
    for (let v = from; v <= end; v++) {
      if (!this.taken.has(v) && !this.never.has(v)) return v
    }
    return undefined
  }
}
