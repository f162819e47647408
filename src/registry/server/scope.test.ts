import { describe, expect, it } from 'vitest'
import { parseRoute } from './routes.js'
import {
  allows, formatScopes, grantAccess, htpasswdPolicy, missingAccess, parseResourceScope, parseScopes, requiredAccess,
} from './scope.js'

const D = 'sha256:' + 'a'.repeat(64)
const need = (path: string, method: string, query = '') => requiredAccess(parseRoute(path), method, new URLSearchParams(query))

describe('parseResourceScope', () => {
  it('reads type, name and actions', () => {
    expect(parseResourceScope('repository:tools/busybox:pull,push')).toEqual({ type: 'repository', name: 'tools/busybox', actions: ['pull', 'push'] })
    expect(parseResourceScope('registry:catalog:*')).toEqual({ type: 'registry', name: 'catalog', actions: ['*'] })
  })
  it('keeps a port in the name: type and actions are cut at the outer colons', () => {
    expect(parseResourceScope('repository:localhost:5000/app:pull')).toEqual({ type: 'repository', name: 'localhost:5000/app', actions: ['pull'] })
  })
  it('drops the deprecated resource class and repeated actions', () => {
    expect(parseResourceScope('repository(plugin):vieux/sshfs:pull,pull')).toEqual({ type: 'repository', name: 'vieux/sshfs', actions: ['pull'] })
  })
  it('refuses malformed scopes', () => {
    for (const s of ['', 'repository', 'repository:x', ':x:pull', 'repository::pull', 'Repo:x:pull', 'repository:x:PULL', 'repository:x:pu*ll']) {
      expect(parseResourceScope(s), s).toBeNull()
    }
  })
})

describe('parseScopes', () => {
  it('splits spaces, merges repeats and skips nonsense', () => {
    expect(parseScopes(['repository:a:pull repository:b:pull', 'repository:a:push', 'garbage', ''])).toEqual([
      { type: 'repository', name: 'a', actions: ['pull', 'push'] },
      { type: 'repository', name: 'b', actions: ['pull'] },
    ])
  })
  it('formats back for a challenge', () => {
    expect(formatScopes(parseScopes(['repository:a:pull,push repository:b:pull']))).toBe('repository:a:pull,push repository:b:pull')
    expect(formatScopes([{ type: 'repository', name: 'a', actions: [] }])).toBe('')
  })
})

describe('requiredAccess (distribution handlers/app.go)', () => {
  it('asks nothing for /v2/ and the catalog as registry:catalog:*', () => {
    expect(need('/v2/', 'GET')).toEqual([])
    expect(need('/v2/_catalog', 'GET')).toEqual([{ type: 'registry', name: 'catalog', actions: ['*'] }])
    expect(requiredAccess(null, 'GET', new URLSearchParams())).toEqual([])
  })
  it('maps methods to pull, pull+push and delete', () => {
    expect(need('/v2/a/b/manifests/latest', 'GET')).toEqual([{ type: 'repository', name: 'a/b', actions: ['pull'] }])
    expect(need(`/v2/a/blobs/${D}`, 'HEAD')).toEqual([{ type: 'repository', name: 'a', actions: ['pull'] }])
    expect(need('/v2/a/tags/list', 'GET')).toEqual([{ type: 'repository', name: 'a', actions: ['pull'] }])
    expect(need('/v2/a/blobs/uploads/', 'POST')).toEqual([{ type: 'repository', name: 'a', actions: ['pull', 'push'] }])
    expect(need('/v2/a/manifests/1', 'PUT')).toEqual([{ type: 'repository', name: 'a', actions: ['pull', 'push'] }])
    expect(need(`/v2/a/blobs/uploads/${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`, 'PATCH')).toEqual([{ type: 'repository', name: 'a', actions: ['pull', 'push'] }])
    expect(need(`/v2/a/manifests/${D}`, 'DELETE')).toEqual([{ type: 'repository', name: 'a', actions: ['delete'] }])
  })
  it('adds pull on a mount source, unless it is no repository name', () => {
    expect(need('/v2/a/blobs/uploads/', 'POST', `mount=${D}&from=b/c`)).toEqual([
      { type: 'repository', name: 'a', actions: ['pull', 'push'] },
      { type: 'repository', name: 'b/c', actions: ['pull'] },
    ])
    expect(need('/v2/a/blobs/uploads/', 'POST', `mount=${D}&from=a`)).toEqual([{ type: 'repository', name: 'a', actions: ['pull', 'push'] }])
    expect(need('/v2/a/blobs/uploads/', 'POST', `mount=${D}&from=../x`)).toEqual([{ type: 'repository', name: 'a', actions: ['pull', 'push'] }])
  })
})

describe('granting and checking access', () => {
  const users = htpasswdPolicy()
  const anonPull = htpasswdPolicy({ anonymousPull: true })
  const asked = parseScopes(['repository:a:pull,push', 'registry:catalog:*', 'repository:b:delete', 'weird:x:pull'])

  it('gives users everything they ask of repositories and the catalog, nothing of unknown types', () => {
    expect(grantAccess(users, 'alice', asked)).toEqual([
      { type: 'repository', name: 'a', actions: ['pull', 'push'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
      { type: 'repository', name: 'b', actions: ['delete'] },
    ])
  })
  it('gives anonymous clients nothing, or pull when anonymous pull is on', () => {
    expect(grantAccess(users, null, asked)).toEqual([])
    expect(grantAccess(anonPull, null, asked)).toEqual([{ type: 'repository', name: 'a', actions: ['pull'] }])
  })
  it('grants only what was asked', () => {
    expect(grantAccess(users, 'alice', parseScopes(['repository:a:pull']))).toEqual([{ type: 'repository', name: 'a', actions: ['pull'] }])
  })
  it('lets * stand for every action and names what is missing', () => {
    const granted = [{ type: 'repository', name: 'a', actions: ['*'] }, { type: 'repository', name: 'b', actions: ['pull'] }]
    expect(allows(granted, 'repository', 'a', 'delete')).toBe(true)
    expect(allows(granted, 'repository', 'b', 'push')).toBe(false)
    expect(allows(granted, 'registry', 'a', 'pull')).toBe(false)
    expect(missingAccess(granted, parseScopes(['repository:a:pull,push repository:b:pull,push repository:c:pull']))).toEqual([
      { type: 'repository', name: 'b', actions: ['push'] },
      { type: 'repository', name: 'c', actions: ['pull'] },
    ])
  })
})
