import { describe, expect, it } from 'vitest'
import { goMatch, hasWildcards } from './gomatch.js'

describe('goMatch (Go filepath.Match)', () => {
  // [pattern, name, matches]; a malformed pattern never matches (docker drops Match's error).
  const cases: Array<[string, string, boolean]> = [
    ['abc', 'abc', true],
    ['*', 'abc', true],
    ['*c', 'abc', true],
    ['a*', 'a', true],
    ['a*', 'abc', true],
    ['a*', 'ab/c', false],
    ['a*/b', 'abc/b', true],
    ['a*/b', 'a/c/b', false],
    ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
    ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
    ['a*b?c*x', 'abxbbxdbxebxczzx', true],
    ['a*b?c*x', 'abxbbxdbxebxczzy', false],
    ['ab[c]', 'abc', true],
    ['ab[b-d]', 'abc', true],
    ['ab[e-g]', 'abc', false],
    ['ab[^c]', 'abc', false],
    ['ab[^b-d]', 'abc', false],
    ['ab[^e-g]', 'abc', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'ab', false],
    ['a?b', 'a☺b', true],
    ['a[^a]b', 'a☺b', true],
    ['a???b', 'a☺b', false],
    ['[a-ζ]*', 'α', true],
    ['*[a-ζ]', 'A', false],
    ['a?b', 'a/b', false],
    ['a*b', 'a/b', false],
    ['a[^x]b', 'a/b', true],
    ['[\\]a]', ']', true],
    ['[\\-]', '-', true],
    ['[x\\-]', '-', true],
    ['[x\\-]', 'z', false],
    ['[]a]', ']', false],
    ['[-]', '-', false],
    ['[x-]', 'x', false],
    ['[-x]', 'x', false],
    ['\\', 'a', false],
    ['[a-b-c]', 'a', false],
    ['[', 'a', false],
    ['[^bc', 'a', false],
    ['a[', 'a', false],
    ['*x', 'xxx', true],
    // `**` is two stars, nothing more.
    ['**/x', 'a/x', true],
    ['**/x', 'a/b/x', false],
    ['**', 'a/b', false],
    ['*.txt', '.hidden.txt', true],
  ]
  it.each(cases)('%s ~ %s → %s', (pattern, name, want) => {
    expect(goMatch(pattern, name)).toBe(want)
  })
})

describe('hasWildcards', () => {
  it('sees unescaped *, ? and [', () => {
    expect(hasWildcards('a*')).toBe(true)
    expect(hasWildcards('a?')).toBe(true)
    expect(hasWildcards('a[b]')).toBe(true)
    expect(hasWildcards('a\\*')).toBe(false)
    expect(hasWildcards('plain/path.txt')).toBe(false)
  })
})
