import { describe, expect, it } from 'vitest'
import {
  assertsDirectory, getRebaseName, goAbs, goBase, goClean, goDir, goJoin, goRel, goSplit, nameRebaser,
  preserveTrailingDotOrSeparator, resolveLocalPath, splitCpArg, splitPathDirEntry,
} from './paths.js'

describe("Go's path/filepath", () => {
  it('cleans as filepath.Clean', () => {
    const cases: Array<[string, string]> = [
      ['', '.'], ['.', '.'], ['/', '/'], ['//a//b/', '/a/b'], ['a/./b/..', 'a'], ['/../x', '/x'], ['../../a', '../../a'],
      ['a/../..', '..'], ['/a/b/.', '/a/b'], ['./', '.'],
    ]
    for (const [p, want] of cases) expect(goClean(p), p).toBe(want)
  })

  it('takes Base, Dir, Split, Join and Rel as Go does', () => {
    expect(['', '/', '/a/b/', 'a', '/a/.', '//'].map(goBase)).toEqual(['.', '/', 'b', 'a', '.', '/'])
    expect(['/a/b/', '/a/b', 'a', '/', '/a', ''].map(goDir)).toEqual(['/a/b', '/a', '.', '/', '/', '.'])
    expect(goSplit('/a/b')).toEqual(['/a/', 'b'])
    expect(goSplit('/a/b/')).toEqual(['/a/b/', ''])
    expect(goJoin('/a', '', 'b/../c')).toBe('/a/c')
    expect(goJoin('/d', '/etc/x')).toBe('/d/etc/x')
    expect(goJoin('', '')).toBe('')
    expect(goRel('/a/b', '/a/b/c/d')).toBe('c/d')
    expect(goRel('/a/b', '/a')).toBe('..')
    expect(goRel('/a/b', '/a/b')).toBe('.')
    expect(goRel('/', '/x')).toBe('x')
    expect(goAbs('x/../y/', '/w')).toBe('/w/y')
  })
})

describe('docker cp paths', () => {
  it('splits CONTAINER:PATH as splitCpArg', () => {
    expect(splitCpArg('web:/etc/hosts')).toEqual({ container: 'web', path: '/etc/hosts' })
    expect(splitCpArg('web:rel/p')).toEqual({ container: 'web', path: 'rel/p' })
    expect(splitCpArg('/abs/file:name')).toEqual({ container: '', path: '/abs/file:name' })
    expect(splitCpArg('./file:name')).toEqual({ container: '', path: './file:name' })
    expect(splitCpArg('../file:name')).toEqual({ container: '', path: '../file:name' })
    expect(splitCpArg('file')).toEqual({ container: '', path: 'file' })
    expect(splitCpArg('-')).toEqual({ container: '', path: '-' })
    expect(splitCpArg('web:')).toEqual({ container: 'web', path: '' })
    // An empty container part means a local path, the rest after the colon.
    expect(splitCpArg(':x')).toEqual({ container: '', path: 'x' })
    expect(splitCpArg('a:b:c')).toEqual({ container: 'a', path: 'b:c' })
  })

  it('keeps the trailing "/" or "/." the user typed', () => {
    expect(preserveTrailingDotOrSeparator('/a/b', '/a/b/')).toBe('/a/b/')
    expect(preserveTrailingDotOrSeparator('/a/b', '/a/b/.')).toBe('/a/b/.')
    expect(preserveTrailingDotOrSeparator('/', '/.')).toBe('/.')
    expect(preserveTrailingDotOrSeparator('/a', '/a')).toBe('/a')
    expect(resolveLocalPath('out/', '/w')).toBe('/w/out/')
    expect(resolveLocalPath('out/.', '/w')).toBe('/w/out/.')
    expect(resolveLocalPath('.', '/w')).toBe('/w/.')
    expect(resolveLocalPath('/x//y', '/w')).toBe('/x/y')
    expect(assertsDirectory('/a/')).toBe(true)
    expect(assertsDirectory('/a/.')).toBe(true)
    expect(assertsDirectory('/a')).toBe(false)
  })

  it('splits dir and entry keeping a final "."', () => {
    expect(splitPathDirEntry('/a/b')).toEqual(['/a', 'b'])
    expect(splitPathDirEntry('/a/b/')).toEqual(['/a', 'b'])
    expect(splitPathDirEntry('/a/b/.')).toEqual(['/a/b', '.'])
    expect(splitPathDirEntry('/')).toEqual(['/', '/'])
    expect(splitPathDirEntry('rel')).toEqual(['.', 'rel'])
  })

  it('names a followed link after the link (GetRebaseName)', () => {
    expect(getRebaseName('/a/link', '/data/target')).toEqual(['/data/target', 'link'])
    expect(getRebaseName('/a/link/', '/data/target')).toEqual(['/data/target/', 'link'])
    expect(getRebaseName('/a/link/.', '/data/target')).toEqual(['/data/target/.', ''])
    expect(getRebaseName('/a/same', '/b/same')).toEqual(['/b/same', ''])
  })

  it('rebases whole leading elements only', () => {
    const r = nameRebaser('dir', 'out')
    expect(['dir', 'dir/', 'dir/x', 'dirx', 'other/dir'].map(r)).toEqual(['out', 'out/', 'out/x', 'dirx', 'other/dir'])
    const dot = nameRebaser('.', 'new')
    expect(['./', './a/b', '.'].map(dot)).toEqual(['new/', 'new/a/b', 'new'])
    const root = nameRebaser('/', 'r')
    expect(['/', '/etc/x', 'bin'].map(root)).toEqual(['r/', 'r/etc/x', 'r/bin'])
  })
})
