import { describe, expect, test } from 'vitest'
import { parseMountInfo } from './mount.js'

describe('parseMountInfo', () => {
  test('fields, optional fields and escapes', () => {
    const text = [
      '27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard',
      '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
      '99 27 0:50 / /mnt/with\\040space rw master:3 shared:4 - overlay overlay rw,lowerdir=a:b',
    ].join('\n')
    const m = parseMountInfo(text)
    expect(m).toHaveLength(3)
    expect(m[0]).toMatchObject({ id: 27, parentId: 1, mountPoint: '/', fsType: 'ext4', source: '/dev/vda', propagation: ['shared:1'] })
    expect(m[1]).toMatchObject({ mountPoint: '/sys/fs/cgroup/unified', fsType: 'cgroup2', propagation: [] })
    expect(m[2]).toMatchObject({ mountPoint: '/mnt/with space', propagation: ['master:3', 'shared:4'], superOptions: ['rw', 'lowerdir=a:b'] })
  })
})
