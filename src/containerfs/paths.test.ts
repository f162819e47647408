import { describe, expect, test } from 'vitest'
import { absPath, checkWritable, goBase } from './paths.js'

describe('docker cp path rules', () => {
  test.each([
    ['etc', '/etc'], ['/etc/', '/etc/'], ['/etc/.', '/etc/.'], ['/etc//', '/etc/'], ['/a/../b', '/b'],
    ['/', '/'], ['/.', '/.'], ['.', '/.'], ['../../x', '/x'], ['/etc/..', '/'],
  ])('absPath(%j) = %j', (p, want) => expect(absPath(p)).toBe(want))

  test.each([['/etc/', 'etc'], ['/etc/.', '.'], ['/', '/'], ['/a/b', 'b']])('goBase(%j) = %j', (p, want) => expect(goBase(p)).toBe(want))

  const hold = (readonlyRootfs: boolean) => ({
    rec: { spec: { host: { readonlyRootfs } } },
    mounts: [
      { source: '/v', destination: '/data', readonly: false },
      { source: '/r', destination: '/data/ro', readonly: true },
      { source: '/h', destination: '/etc/hosts', readonly: true },
    ],
  })

  test('the deepest mount holding the destination decides', () => {
    expect(() => checkWritable(hold(true), '/data')).not.toThrow()
    expect(() => checkWritable(hold(false), '/data/ro/x')).toThrow('mounted volume is marked read-only')
    expect(() => checkWritable(hold(false), '/data/rope')).not.toThrow()
  })

  test('outside every mount, a read-only rootfs refuses', () => {
    expect(() => checkWritable(hold(true), '/tmp')).toThrow('container rootfs is marked read-only')
    expect(() => checkWritable(hold(false), '/tmp')).not.toThrow()
  })
})
