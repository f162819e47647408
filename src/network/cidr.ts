/**
 * IPv4 and IPv6 addresses and prefixes as bigints, parsed and printed the way
 * docker (Go's net/netip) does. Hand-written: Node's net module only tells
 * whether a string is an address (isIP, BlockList) and cannot do prefix
 * arithmetic or RFC 5952 canonical printing; the npm packages that can either
 * parse more loosely than Go (octal, short IPv4 forms) or carry a large API
 * for a few hundred lines of need.
 *
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are IPv4 here, as in docker's
 * endpoint code (net.ParseIP + To4) and its IPAM (Unmap before use), so an
 * address has one spelling per family.
 */
import { randomBytes } from 'node:crypto'
import { invalidArgument } from '../errors/index.js'

export type Family = 4 | 6

export interface Addr {
  family: Family
  value: bigint
}

export const bitLength = (f: Family): number => (f === 4 ? 32 : 128)

function isMapped(value: bigint): boolean {
  return value >> 32n === 0xffffn
}

/** An address, or why it is not one (Go's netip.ParseAddr reasons, shortened). */
function parseRaw(s: string): Addr | string {
  if (s === '') return 'unable to parse IP'
  if (s.includes(':')) return parseV6(s)
  const v = parseV4(s)
  return typeof v === 'string' ? v : { family: 4, value: v }
}

function parseV4(s: string): bigint | string {
  const parts = s.split('.')
  if (parts.length !== 4) return 'unable to parse IP'
  let value = 0n
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p)) return 'unable to parse IP'
    // Go refuses leading zeros rather than guess octal, as inet_aton would.
    if (p.length > 1 && p[0] === '0') return 'IPv4 field has octet with leading zero'
    const n = Number(p)
    if (n > 255) return 'IPv4 field has value >255'
    value = (value << 8n) | BigInt(n)
  }
  return value
}

function parseV6(s: string): Addr | string {
  if (s.includes('%')) return 'IPv6 zones are not accepted'
  const halves = s.split('::')
  if (halves.length > 2) return 'multiple :: in address'
  const groups = (h: string): bigint[] | string => {
    if (h === '') return []
    const out: bigint[] = []
    const parts = h.split(':')
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] as string
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseV4(p)
        if (typeof v4 === 'string') return v4
        out.push(v4 >> 16n, v4 & 0xffffn)
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) {
        out.push(BigInt(`0x${p}`))
      } else {
        return 'unable to parse IP'
      }
    }
    return out
  }
  const head = groups(halves[0] as string)
  if (typeof head === 'string') return head
  let all: bigint[]
  if (halves.length === 2) {
    // An embedded IPv4 part may only end the address, so it cannot sit before "::".
    if ((halves[0] as string).includes('.')) return 'unable to parse IP'
    const tail = groups(halves[1] as string)
    if (typeof tail === 'string') return tail
    const missing = 8 - head.length - tail.length
    if (missing < 1) return 'address string too long'
    all = [...head, ...Array<bigint>(missing).fill(0n), ...tail]
  } else {
    if (head.length !== 8) return head.length < 8 ? 'address string too short' : 'address string too long'
    all = head
  }
  let value = 0n
  for (const g of all) value = (value << 16n) | g
  return { family: 6, value }
}

function unmap(a: Addr): Addr {
  return a.family === 6 && isMapped(a.value) ? { family: 4, value: a.value & 0xffffffffn } : a
}

/** Parses an IPv4 or IPv6 address as Go's netip.ParseAddr does, without zones; ::ffff:a.b.c.d becomes IPv4. */
export function parseIp(s: string): Addr {
  const a = parseRaw(s)
  if (typeof a === 'string') throw invalidArgument(`invalid IP address: ${s}`)
  return unmap(a)
}

/** An address or undefined, for callers that choose their own error. */
export function tryParseIp(s: string): Addr | undefined {
  const a = parseRaw(s)
  return typeof a === 'string' ? undefined : unmap(a)
}

/** Dotted quad for IPv4; RFC 5952 for IPv6 (lowercase, longest zero run of two or more groups as "::"). */
export function formatIp(a: Addr): string {
  if (a.family === 4) return formatV4(a.value)
  const v = a.value
  if (isMapped(v)) return `::ffff:${formatV4(v & 0xffffffffn)}`
  const g: number[] = []
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(i * 16)) & 0xffffn))
  let bestAt = -1
  let bestLen = 1
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && g[j] === 0) j++
    if (j - i > bestLen) {
      bestAt = i
      bestLen = j - i
    }
    i = j
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':')
  if (bestAt < 0) return hex(g)
  return `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`
}

function formatV4(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.')
}

export function sameAddr(a: Addr, b: Addr): boolean {
  return a.family === b.family && a.value === b.value
}

/** Orders IPv4 before IPv6, then by value (netip.Addr.Compare). */
export function compareAddr(a: Addr, b: Addr): number {
  if (a.family !== b.family) return a.family - b.family
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0
}

/** An interface address with its prefix length, as docker prints an endpoint's IPAddress/IPPrefixLen pair: 172.18.0.2/16. */
export function formatCidrAddr(a: Addr, p: Prefix): string {
  return `${formatIp(a)}/${p.bits}`
}

interface PrefixParts {
  addr: Addr
  bits: number
}

/** Address and length of "addr/len", or Go's netip.ParsePrefix error text. */
function parsePrefixParts(s: string): PrefixParts | string {
  const fail = (why: string) => `netip.ParsePrefix(${JSON.stringify(s)}): ${why}`
  const slash = s.lastIndexOf('/')
  if (slash < 0) return fail("no '/'")
  const addrPart = s.slice(0, slash)
  const bitsPart = s.slice(slash + 1)
  if (addrPart.includes('%')) return fail('IPv6 zones cannot be present in a prefix')
  const raw = parseRaw(addrPart)
  if (typeof raw === 'string') return fail(`ParseAddr(${JSON.stringify(addrPart)}): ${raw}`)
  // Go reads the length as plain decimal: no sign, no leading zeros.
  if (!/^(0|[1-9][0-9]{0,2})$/.test(bitsPart)) return fail(`bad bits after slash: ${JSON.stringify(bitsPart)}`)
  const bits = Number(bitsPart)
  if (bits > bitLength(raw.family)) return fail('prefix length out of range')
  // A mapped IPv6 prefix that lies wholly in ::ffff:0:0/96 is an IPv4 prefix.
  if (raw.family === 6 && isMapped(raw.value) && bits >= 96) {
    return { addr: { family: 4, value: raw.value & 0xffffffffn }, bits: bits - 96 }
  }
  return { addr: raw, bits }
}

/** A CIDR block. The base never has host bits set: the constructor clears them. */
export class Prefix {
  readonly base: bigint

  constructor(
    readonly family: Family,
    base: bigint,
    readonly bits: number,
  ) {
    const len = bitLength(family)
    if (!Number.isInteger(bits) || bits < 0 || bits > len) throw new RangeError(`prefix length ${bits} out of range for IPv${family}`)
    this.base = base & Prefix.mask(family, bits)
  }

  /** The prefix of length bits that holds a. */
  static of(a: Addr, bits: number): Prefix {
    return new Prefix(a.family, a.value, bits)
  }

  /**
   * Parses "addr/len" strictly, as docker validates --subnet and --ip-range
   * (moby api/types/network/ipam.go ValidateIPAM): host bits set is an error
   * that names the canonical prefix. `what` names the field in the message:
   * "invalid subnet 172.20.0.1/16: it should be 172.20.0.0/16".
   */
  static parse(s: string, what = 'subnet'): Prefix {
    const parts = parsePrefixParts(s)
    if (typeof parts === 'string') throw invalidArgument(`invalid ${what} ${s}: invalid CIDR block notation`)
    const p = Prefix.of(parts.addr, parts.bits)
    if (p.base !== parts.addr.value) {
      throw invalidArgument(`invalid ${what} ${formatIp(parts.addr)}/${parts.bits}: it should be ${p.toString()}`)
    }
    return p
  }

  /** Parses "addr/len" and clears host bits (netip.Prefix.Masked), for pools and routes. */
  static parseMasked(s: string): Prefix {
    return parseCidrAddr(s).prefix
  }

  /** Go's netip.ParsePrefix error text when s is not "addr/len", else undefined. */
  static syntaxError(s: string): string | undefined {
    const parts = parsePrefixParts(s)
    return typeof parts === 'string' ? parts : undefined
  }

  /** IPv4 first, then by base address, then shorter prefixes first (libnetwork netiputil.PrefixCompare). */
  static compare(a: Prefix, b: Prefix): number {
    if (a.family !== b.family) return a.family - b.family
    if (a.base !== b.base) return a.base < b.base ? -1 : 1
    return a.bits - b.bits
  }

  private static mask(family: Family, bits: number): bigint {
    const len = BigInt(bitLength(family))
    const all = (1n << len) - 1n
    return (all >> BigInt(bits)) ^ all
  }

  get hostBits(): number {
    return bitLength(this.family) - this.bits
  }

  /** Number of addresses, network and broadcast included. */
  get size(): bigint {
    return 1n << BigInt(this.hostBits)
  }

  get first(): Addr {
    return { family: this.family, value: this.base }
  }

  get last(): Addr {
    return { family: this.family, value: this.base + this.size - 1n }
  }

  /** The i-th address from the base; i must be in [0, size). */
  nth(i: bigint): Addr {
    if (i < 0n || i >= this.size) throw new RangeError(`address index ${i} outside ${this.toString()}`)
    return { family: this.family, value: this.base + i }
  }

  contains(a: Addr): boolean {
    return a.family === this.family && a.value >= this.base && a.value - this.base < this.size
  }

  /** p lies wholly inside this prefix. */
  containsPrefix(p: Prefix): boolean {
    return p.family === this.family && p.bits >= this.bits && this.contains(p.first)
  }

  /** The two share at least one address (for prefixes: one contains the other). */
  overlaps(p: Prefix): boolean {
    return p.family === this.family && (this.contains(p.first) || p.contains(this.first))
  }

  equals(p: Prefix): boolean {
    return p.family === this.family && p.base === this.base && p.bits === this.bits
  }

  toString(): string {
    return `${formatIp(this.first)}/${this.bits}`
  }
}

/**
 * Parses an interface address "addr/len" (net.ParseCIDR): the address as
 * written and the prefix it lies in, host bits cleared. A mapped address is
 * IPv4 when its length reaches into the IPv4 part (::ffff:10.0.0.5/104 is
 * 10.0.0.5 in 10.0.0.0/8); with a shorter length it stays IPv6, so the prefix
 * still holds the address.
 */
export function parseCidrAddr(s: string): { addr: Addr; prefix: Prefix } {
  const parts = parsePrefixParts(s)
  if (typeof parts === 'string') throw invalidArgument(`invalid CIDR address: ${s}`)
  return { addr: parts.addr, prefix: Prefix.of(parts.addr, parts.bits) }
}

/**
 * Docker's MAC for an IPv4 address: 02:42 then the four address bytes
 * (libnetwork netutils.GenerateMACFromIP). Since 28.0 docker uses it only for
 * overlay endpoints; bridge and macvlan endpoints and the bridge device get a
 * random MAC (randomMac; libnetwork/drivers/bridge/bridge_linux.go,
 * macvlan_endpoint.go at v28.2.2).
 */
export function macFromIp(a: Addr): string {
  if (a.family !== 4) throw new RangeError(`macFromIp needs an IPv4 address, got ${formatIp(a)}`)
  const bytes = [0x02, 0x42, ...[24n, 16n, 8n, 0n].map((s) => Number((a.value >> s) & 0xffn))]
  return formatMac(bytes)
}

/** A random unicast, locally administered MAC (libnetwork netutils.GenerateRandomMAC). */
export function randomMac(): string {
  const b = [...randomBytes(6)]
  b[0] = ((b[0] as number) & 0xfe) | 0x02
  return formatMac(b)
}

function formatMac(bytes: number[]): string {
  return bytes.map((x) => x.toString(16).padStart(2, '0')).join(':')
}
