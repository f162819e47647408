import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { resolveInRoot, resolveUser } from './user.js'

let root = ''
let bare = ''
beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'berth-user-'))
  mkdirSync(path.join(root, 'etc'))
  writeFileSync(
    path.join(root, 'etc/passwd'),
    ['root:x:0:0:root:/root:/bin/sh', 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false', '# comment', 'app:x:1000:1000::/home/app:/bin/sh', 'broken line'].join('\n'),
  )
  writeFileSync(path.join(root, 'etc/group'), ['root:x:0:', 'wheel:x:10:app,root', 'staff:x:50:app', 'app:x:1000:', 'nogroup:x:65534:'].join('\n'))
  bare = mkdtempSync(path.join(os.tmpdir(), 'berth-user-bare-'))
})
afterAll(() => {
  rmSync(root, { recursive: true, force: true })
  rmSync(bare, { recursive: true, force: true })
})

describe('resolveUser', () => {
  test('empty is root, with its supplementary groups', async () => {
    expect(await resolveUser(root, '')).toEqual({ uid: 0, gid: 0, additionalGids: [10], home: '/root', username: 'root' })
  })
  test('name', async () => {
    expect(await resolveUser(root, 'app')).toEqual({ uid: 1000, gid: 1000, additionalGids: [10, 50], home: '/home/app', username: 'app' })
  })
  test('uid with and without a passwd entry', async () => {
    expect(await resolveUser(root, '1000')).toMatchObject({ uid: 1000, gid: 1000, additionalGids: [10, 50] })
    expect(await resolveUser(root, '4242')).toEqual({ uid: 4242, gid: 0, additionalGids: [], home: '/' })
  })
  test('explicit group: by name or number, no supplementary groups', async () => {
    expect(await resolveUser(root, 'app:staff')).toMatchObject({ uid: 1000, gid: 50, additionalGids: [] })
    expect(await resolveUser(root, '1000:4000')).toMatchObject({ uid: 1000, gid: 4000, additionalGids: [] })
    expect(await resolveUser(root, 'nobody:10')).toMatchObject({ uid: 65534, gid: 10 })
  })
  test("docker's errors", async () => {
    await expect(resolveUser(root, 'foo')).rejects.toThrow('unable to find user foo: no matching entries in passwd file')
    await expect(resolveUser(root, 'app:nosuch')).rejects.toThrow('unable to find group nosuch: no matching entries in group file')
    await expect(resolveUser(root, '99999999999')).rejects.toThrow(/out of range/)
  })
  test('group-add', async () => {
    expect((await resolveUser(root, 'nobody', { groupAdd: ['wheel', '777'] })).additionalGids).toEqual([10, 777])
    await expect(resolveUser(root, 'nobody', { groupAdd: ['nosuch'] })).rejects.toThrow(/Unable to find group nosuch/)
  })
  test('no passwd file: numeric works, names do not', async () => {
    expect(await resolveUser(bare, '')).toEqual({ uid: 0, gid: 0, additionalGids: [], home: '/' })
    expect(await resolveUser(bare, '5:6')).toMatchObject({ uid: 5, gid: 6 })
    await expect(resolveUser(bare, 'app')).rejects.toThrow(/no matching entries in passwd file/)
  })
  test('symlinks stay inside the rootfs', async () => {
    const evil = mkdtempSync(path.join(os.tmpdir(), 'berth-user-evil-'))
    try {
      mkdirSync(path.join(evil, 'etc'))
      symlinkSync('/etc/shadow', path.join(evil, 'etc/passwd'))
      symlinkSync('../../../../etc/real-group', path.join(evil, 'etc/group'))
      symlinkSync('loop', path.join(evil, 'etc/loop'))
      expect(await resolveInRoot(evil, '/etc/passwd')).toBe(path.join(evil, 'etc/shadow'))
      expect(await resolveInRoot(evil, '/etc/group')).toBe(path.join(evil, 'etc/real-group'))
      await expect(resolveInRoot(evil, '/etc/loop')).rejects.toThrow(/too many levels/)
      await expect(resolveUser(evil, 'root')).rejects.toThrow(/no matching entries/)
    } finally {
      rmSync(evil, { recursive: true, force: true })
    }
  })
})
