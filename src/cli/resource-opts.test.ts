import { describe, expect, it } from 'vitest'
import {
  healthConfig, normalizeCapabilities, parseBytes, parseCpus, parseDevice, parseDurationNs, parseSecurityOpts, parseSwapBytes,
  parseThrottleBps, parseThrottleIops, parseUint16, parseUlimit, parseWeightDevice, resourceFields, resourceValueCheck,
  validateDeviceCgroupRule, validateSysctl,
} from './resource-opts.js'

describe('sizes and numbers as docker flag types', () => {
  it('bytes in binary units; -1 only for --memory-swap', () => {
    expect(parseBytes('64m')).toBe(64 * 1024 * 1024)
    expect(parseBytes('1g')).toBe(1024 ** 3)
    expect(parseSwapBytes('-1')).toBe(-1)
    expect(() => parseBytes('10x')).toThrow("invalid suffix: 'x'")
    expect(() => parseSwapBytes('-2')).toThrow("invalid size: '-2'")
  })
  it('--cpus is an exact rational of nano CPUs', () => {
    expect(parseCpus('1.5')).toBe(1_500_000_000)
    expect(parseCpus('.5')).toBe(500_000_000)
    expect(parseCpus('3/2')).toBe(1_500_000_000)
    expect(parseCpus('1e-3')).toBe(1_000_000)
    expect(() => parseCpus('abc')).toThrow('failed to parse abc as a rational number')
    expect(() => parseCpus('0.0000000001')).toThrow('value is too precise')
  })
  it('uint16 as strconv.ParseUint', () => {
    expect(parseUint16('300')).toBe(300)
    expect(parseUint16('0x10')).toBe(16)
    expect(() => parseUint16('70000')).toThrow('strconv.ParseUint: parsing "70000": value out of range')
    expect(() => parseUint16('-1')).toThrow('strconv.ParseUint: parsing "-1": invalid syntax')
  })
  it('durations in nanoseconds, Go messages', () => {
    expect(parseDurationNs('1m30s')).toBe(90e9)
    expect(parseDurationNs('500ms')).toBe(500e6)
    expect(() => parseDurationNs('5')).toThrow('time: missing unit in duration "5"')
    expect(() => parseDurationNs('abc')).toThrow('time: invalid duration "abc"')
  })
})

describe('ulimits', () => {
  it('soft[:hard], hard defaults to soft, -1 unlimited', () => {
    expect(parseUlimit('nofile=512:1024')).toEqual({ Name: 'nofile', Soft: 512, Hard: 1024 })
    expect(parseUlimit('core=0')).toEqual({ Name: 'core', Soft: 0, Hard: 0 })
    expect(parseUlimit('nproc=10:-1')).toEqual({ Name: 'nproc', Soft: 10, Hard: -1 })
  })
  it('go-units errors', () => {
    expect(() => parseUlimit('nofile')).toThrow('invalid ulimit argument: nofile')
    expect(() => parseUlimit('bogus=1')).toThrow('invalid ulimit type: bogus')
    expect(() => parseUlimit('nofile=10:5')).toThrow('ulimit soft limit must be less than or equal to hard limit: 10 > 5')
    expect(() => parseUlimit('nofile=-1:5')).toThrow('soft: -1 (unlimited), hard: 5')
    expect(() => parseUlimit('nofile=a')).toThrow('strconv.ParseInt: parsing "a": invalid syntax')
  })
})

describe('block IO devices', () => {
  it('weight devices: 10 to 1000, or 0', () => {
    expect(parseWeightDevice('/dev/sda:200')).toEqual({ Path: '/dev/sda', Weight: 200 })
    expect(() => parseWeightDevice('/dev/sda:5')).toThrow('invalid weight for device: /dev/sda:5')
    expect(() => parseWeightDevice('sda:10')).toThrow('bad format for device path: sda:10')
    expect(() => parseWeightDevice('/dev/sda')).toThrow('bad format: /dev/sda')
  })
  it('throttles: bps takes units, iops a plain integer', () => {
    expect(parseThrottleBps('/dev/sda:1mb')).toEqual({ Path: '/dev/sda', Rate: 1048576 })
    expect(parseThrottleIops('/dev/sda:1000')).toEqual({ Path: '/dev/sda', Rate: 1000 })
    expect(() => parseThrottleIops('/dev/sda:1.5')).toThrow('The correct format is <device-path>:<number>. Number must be a positive integer')
    expect(() => parseThrottleBps('/dev/sda:x')).toThrow('Unit is optional and can be kb, mb, or gb')
  })
})

describe('devices and rules', () => {
  it('--device forms', () => {
    expect(parseDevice('/dev/null')).toEqual({ PathOnHost: '/dev/null', PathInContainer: '/dev/null', CgroupPermissions: 'rwm' })
    expect(parseDevice('/dev/null:/dev/n')).toEqual({ PathOnHost: '/dev/null', PathInContainer: '/dev/n', CgroupPermissions: 'rwm' })
    expect(parseDevice('/dev/null:r')).toEqual({ PathOnHost: '/dev/null', PathInContainer: '/dev/null', CgroupPermissions: 'r' })
    expect(parseDevice('/dev/null:/dev/n:rw')).toEqual({ PathOnHost: '/dev/null', PathInContainer: '/dev/n', CgroupPermissions: 'rw' })
  })
  it('--device errors', () => {
    expect(() => parseDevice('/a:/b:/c:/d')).toThrow('bad format for path: /a:/b:/c:/d')
    expect(() => parseDevice('/dev/null:/dev/n:x')).toThrow('bad mode specified: x')
    expect(() => parseDevice('/dev/null:relative')).toThrow('relative is not an absolute path')
  })
  it('cgroup rules and sysctls', () => {
    expect(validateDeviceCgroupRule('c 1:3 rwm')).toBe('c 1:3 rwm')
    expect(validateDeviceCgroupRule('b *:* m')).toBe('b *:* m')
    expect(() => validateDeviceCgroupRule('x 1:2 rwm')).toThrow("invalid device cgroup format 'x 1:2 rwm'")
    expect(validateSysctl('net.ipv4.ip_forward=1')).toBe('net.ipv4.ip_forward=1')
    expect(() => validateSysctl('kernel.hostname=x')).toThrow("sysctl 'kernel.hostname=x' is not allowed")
  })
})

describe('security options', () => {
  it('reads a seccomp profile file and sends it compacted', () => {
    const r = parseSecurityOpts(['seccomp=/p.json', 'no-new-privileges', 'apparmor=unconfined'], () => '{ "defaultAction": "SCMP_ACT_ALLOW" }')
    expect(r.securityOpt).toEqual(['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}', 'no-new-privileges', 'apparmor=unconfined'])
  })
  it('keeps builtin and unconfined as names; systempaths=unconfined clears the masked paths', () => {
    const r = parseSecurityOpts(['seccomp=unconfined', 'systempaths=unconfined'], () => { throw new Error('not read') })
    expect(r).toEqual({ securityOpt: ['seccomp=unconfined'], masked: true })
  })
  it('refuses a bare key', () => {
    expect(() => parseSecurityOpts(['foo'])).toThrow('Invalid --security-opt: "foo"')
  })
})

describe('health and capabilities', () => {
  it('builds Config.Healthcheck with omitted zeros', () => {
    expect(healthConfig({ cmd: 'true', interval: 5e9, none: false })).toEqual({ Test: ['CMD-SHELL', 'true'], Interval: 5e9 })
    expect(healthConfig({ none: true })).toEqual({ Test: ['NONE'] })
    expect(healthConfig({ none: false })).toBeUndefined()
    expect(() => healthConfig({ none: true, cmd: 'x' })).toThrow('--no-healthcheck conflicts with --health-* options')
  })
  it('normalizes capabilities as docker\'s client', () => {
    expect(normalizeCapabilities(['net_admin', 'CAP_CHOWN', 'NET_ADMIN', 'all'])).toEqual(['ALL', 'CAP_CHOWN', 'CAP_NET_ADMIN'])
    expect(normalizeCapabilities([])).toBeNull()
  })
})

describe('resourceFields', () => {
  it('defaults match what docker sends', () => {
    const r = resourceFields({ memorySwappiness: '-1' })
    expect(r.host).toMatchObject({ Memory: 0, MemorySwap: 0, MemorySwappiness: -1, PidsLimit: 0, Ulimits: [], Devices: [], DeviceCgroupRules: null, SecurityOpt: null, MaskedPaths: null })
    expect(r.healthcheck).toBeUndefined()
  })
  it('ulimits: last per name wins, sorted', () => {
    const r = resourceFields({ ulimit: ['nproc=5', 'nofile=1:2', 'nproc=6'] })
    expect(r.host.Ulimits).toEqual([{ Name: 'nofile', Soft: 1, Hard: 2 }, { Name: 'nproc', Soft: 6, Hard: 6 }])
  })
  it('swappiness range and namespace modes', () => {
    expect(() => resourceFields({ memorySwappiness: '101' })).toThrow('invalid value: 101. Valid memory swappiness range is 0-100')
    expect(() => resourceFields({ userns: 'x' })).toThrow('--userns: invalid USER mode')
    expect(() => resourceFields({ cgroupns: 'x' })).toThrow('--cgroupns: invalid CGROUP mode')
  })
  it('flag-time checks exist for typed flags only', () => {
    expect(resourceValueCheck('--memory')?.('64m')).toBeUndefined()
    expect(resourceValueCheck('--memory')?.('x')).toBe("invalid size: 'x'")
    expect(resourceValueCheck('--name')).toBeUndefined()
  })
})
