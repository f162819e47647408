import { describe, expect, it } from 'vitest'
import { isKind } from '../errors/index.js'
import {
  Prefix,
  compareAddr,
  formatCidrAddr,
  formatIp,
  macFromIp,
  parseCidrAddr,
  parseIp,
  randomMac,
  sameAddr,
  tryParseIp,
} from './cidr.js'

const roundTrip = (s: string) => formatIp(parseIp(s))

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected a throw')
}

describe('parseIp / formatIp', () => {
  it('reads and prints IPv4', () => {
    expect(parseIp('172.17.0.2')).toEqual({ family: 4, value: 0xac110002n })
    expect(roundTrip('0.0.0.0')).toBe('0.0.0.0')
    expect(roundTrip('255.255.255.255')).toBe('255.255.255.255')
  })

  it('prints IPv6 per RFC 5952', () => {
    expect(roundTrip('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1')
    expect(roundTrip('2001:0db8:0000:0000:0001:0000:0000:0001')).toBe('2001:db8::1:0:0:1') // first of equal runs
    expect(roundTrip('2001:db8:0:0:1:0:0:0')).toBe('2001:db8:0:0:1::') // longest run wins
    expect(roundTrip('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1') // a single zero group stays
    expect(roundTrip('::')).toBe('::')
    expect(roundTrip('::1')).toBe('::1')
    expect(roundTrip('fe80::')).toBe('fe80::')
    expect(roundTrip('1:2:3:4:5:6:7::')).toBe('1:2:3:4:5:6:7:0')
    expect(roundTrip('fd00:0:0:0:0:0:0:0')).toBe('fd00::')
    expect(roundTrip('::1.2.3.4')).toBe('::102:304')
    expect(roundTrip('64:ff9b::192.0.2.33')).toBe('64:ff9b::c000:221')
  })

  it('treats IPv4-mapped IPv6 as IPv4', () => {
    expect(parseIp('::ffff:10.1.2.3')).toEqual(parseIp('10.1.2.3'))
    expect(parseIp('::FFFF:a01:203')).toEqual({ family: 4, value: 0x0a010203n })
    expect(formatIp({ family: 6, value: 0xffff0a010203n })).toBe('::ffff:10.1.2.3')
  })

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '1.2.3.256',
    '01.2.3.4', // Go refuses leading zeros instead of reading octal
    '1.2.3.-4',
    ' 1.2.3.4',
    '1.2.3.4/32',
    'localhost',
    ':::',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8::',
    '12345::',
    'g::',
    '1:',
    ':1',
    '::1:',
    'fe80::1%eth0',
    '1.2.3.4::',
    '::1.2.3.4:5',
  ])('rejects %j', (s) => {
    expect(tryParseIp(s)).toBeUndefined()
    const err = thrown(() => parseIp(s))
    expect(isKind(err, 'invalid-argument')).toBe(true)
    expect((err as Error).message).toBe(`invalid IP address: ${s}`)
  })

  it('compares', () => {
    expect(sameAddr(parseIp('::ffff:1.2.3.4'), parseIp('1.2.3.4'))).toBe(true)
    expect(sameAddr(parseIp('::1'), parseIp('0.0.0.1'))).toBe(false)
    const sorted = ['::1', '10.0.0.2', '10.0.0.10', '9.0.0.0'].map(parseIp).sort(compareAddr).map(formatIp)
    expect(sorted).toEqual(['9.0.0.0', '10.0.0.2', '10.0.0.10', '::1'])
  })
})

describe('Prefix', () => {
  it('parses canonical prefixes', () => {
    const p = Prefix.parse('172.18.0.0/16')
    expect(p.family).toBe(4)
    expect(p.bits).toBe(16)
    expect(p.size).toBe(65536n)
    expect(formatIp(p.first)).toBe('172.18.0.0')
    expect(formatIp(p.last)).toBe('172.18.255.255')
    expect(formatIp(p.nth(2n))).toBe('172.18.0.2')
    expect(p.toString()).toBe('172.18.0.0/16')
    expect(Prefix.parse('FD00:0::/64').toString()).toBe('fd00::/64')
    expect(Prefix.parse('0.0.0.0/0').size).toBe(1n << 32n)
    expect(Prefix.parse('::/0').size).toBe(1n << 128n)
    expect(Prefix.parse('10.0.0.1/32').toString()).toBe('10.0.0.1/32')
  })

  it('refuses host bits with docker message', () => {
    expect(() => Prefix.parse('172.20.0.1/16')).toThrow('invalid subnet 172.20.0.1/16: it should be 172.20.0.0/16')
    expect(() => Prefix.parse('FD00::1/64', 'ip-range')).toThrow('invalid ip-range fd00::1/64: it should be fd00::/64')
  })

  it.each(['172.20.0.0', '172.20.0.0/33', '172.20.0.0/', '172.20.0.0/016', '172.20.0.0/+16', '/16', 'fe80::%eth0/64', '::/129', 'x/8'])(
    'refuses %j as bad notation',
    (s) => {
      const err = thrown(() => Prefix.parse(s))
      expect(isKind(err, 'invalid-argument')).toBe(true)
      expect((err as Error).message).toBe(`invalid subnet ${s}: invalid CIDR block notation`)
    },
  )

  it('explains syntax errors as Go does', () => {
    expect(Prefix.syntaxError('10.0.0.0/8')).toBeUndefined()
    expect(Prefix.syntaxError('10.0.0.0')).toBe(`netip.ParsePrefix("10.0.0.0"): no '/'`)
    expect(Prefix.syntaxError('10.0.0.0/33')).toBe(`netip.ParsePrefix("10.0.0.0/33"): prefix length out of range`)
    expect(Prefix.syntaxError('10.0.0.0/x')).toBe(`netip.ParsePrefix("10.0.0.0/x"): bad bits after slash: "x"`)
    expect(Prefix.syntaxError('10.0.0.256/8')).toBe(`netip.ParsePrefix("10.0.0.256/8"): ParseAddr("10.0.0.256"): IPv4 field has value >255`)
  })

  it('makes mapped prefixes IPv4 when they lie in ::ffff:0:0/96', () => {
    expect(Prefix.parse('::ffff:10.0.0.0/104').toString()).toBe('10.0.0.0/8')
    expect(Prefix.parse('::ffff:0:0/96').toString()).toBe('0.0.0.0/0')
    expect(Prefix.parse('::/80').family).toBe(6)
  })

  it('masks in the constructor and parseMasked', () => {
    expect(new Prefix(4, 0x0a0102ffn, 24).toString()).toBe('10.1.2.0/24')
    expect(Prefix.parseMasked('10.1.2.3/8').toString()).toBe('10.0.0.0/8')
    expect(() => new Prefix(4, 0n, 33)).toThrow(RangeError)
  })

  it('tests containment and overlap', () => {
    const a = Prefix.parse('10.0.0.0/8')
    const b = Prefix.parse('10.20.0.0/16')
    const c = Prefix.parse('11.0.0.0/8')
    expect(a.contains(parseIp('10.255.255.255'))).toBe(true)
    expect(a.contains(parseIp('11.0.0.0'))).toBe(false)
    expect(a.contains(parseIp('::a00:1'))).toBe(false)
    expect(a.containsPrefix(b)).toBe(true)
    expect(b.containsPrefix(a)).toBe(false)
    expect(a.overlaps(b) && b.overlaps(a)).toBe(true)
    expect(a.overlaps(c)).toBe(false)
    expect(Prefix.parse('10.0.0.0/31').overlaps(Prefix.parse('10.0.0.1/32'))).toBe(true)
    expect(Prefix.parse('::/96').overlaps(Prefix.parse('0.0.0.0/0'))).toBe(false)
    expect(Prefix.parse('fd00::/8').containsPrefix(Prefix.parse('fd12:3456:789a::/48'))).toBe(true)
  })

  it('guards nth', () => {
    const p = Prefix.parse('10.0.0.0/30')
    expect(formatIp(p.nth(3n))).toBe('10.0.0.3')
    expect(() => p.nth(4n)).toThrow(RangeError)
    expect(() => p.nth(-1n)).toThrow(RangeError)
  })

  it('sorts as libnetwork PrefixCompare', () => {
    const sorted = ['192.168.0.0/16', '::/0', '10.0.0.0/16', '10.0.0.0/8']
      .map((s) => Prefix.parse(s))
      .sort(Prefix.compare)
      .map(String)
    expect(sorted).toEqual(['10.0.0.0/8', '10.0.0.0/16', '192.168.0.0/16', '::/0'])
  })
})

describe('parseCidrAddr', () => {
  it('keeps the address and masks the prefix', () => {
    const { addr, prefix } = parseCidrAddr('172.18.0.5/16')
    expect(formatIp(addr)).toBe('172.18.0.5')
    expect(prefix.toString()).toBe('172.18.0.0/16')
    expect(formatCidrAddr(addr, prefix)).toBe('172.18.0.5/16')
    const v6 = parseCidrAddr('fd00::5/64')
    expect(`${formatIp(v6.addr)} ${v6.prefix.toString()}`).toBe('fd00::5 fd00::/64')
  })

  it('keeps a mapped address in the family of its prefix', () => {
    const short = parseCidrAddr('::ffff:10.0.0.5/64')
    expect(short.prefix.contains(short.addr)).toBe(true)
    const long = parseCidrAddr('::ffff:10.0.0.5/120')
    expect(`${formatIp(long.addr)} ${long.prefix.toString()}`).toBe('10.0.0.5 10.0.0.0/24')
  })

  it('refuses bad input as net.ParseCIDR does', () => {
    expect(() => parseCidrAddr('10.0.0.5')).toThrow('invalid CIDR address: 10.0.0.5')
    expect(() => parseCidrAddr('10.0.0.5/40')).toThrow('invalid CIDR address: 10.0.0.5/40')
  })
})

describe('MAC addresses', () => {
  it('derives docker 02:42 MACs from IPv4', () => {
    expect(macFromIp(parseIp('172.17.0.2'))).toBe('02:42:ac:11:00:02')
    expect(() => macFromIp(parseIp('::1'))).toThrow(RangeError)
  })

  it('makes random unicast locally administered MACs', () => {
    for (let i = 0; i < 64; i++) {
      const mac = randomMac()
      expect(mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/)
      const first = parseInt(mac.slice(0, 2), 16)
      expect(first & 1).toBe(0)
      expect(first & 2).toBe(2)
    }
  })
})
