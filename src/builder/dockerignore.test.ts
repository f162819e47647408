import { describe, expect, it } from 'vitest'
import { kindOf } from '../errors/index.js'
import { IgnoreMatcher, type MatchInfo, cleanPath, keepBuildFiles, parseDockerignore } from './dockerignore.js'

describe('parseDockerignore', () => {
  it('drops comments and blanks, cleans patterns and strips a leading slash', () => {
    const text = [
      '\uFEFF# comment',
      '',
      '   ',
      '  # not a comment',
      'node_modules/  ',
      '/dist',
      './build/',
      '!/dist/keep',
      '! spaced ',
      'a//b/../c',
      '**/*.log\r',
      '/',
      '.',
    ].join('\n')
    expect(parseDockerignore(text)).toEqual([
      '# not a comment',
      'node_modules',
      'dist',
      'build',
      '!dist/keep',
      '!spaced',
      'a/c',
      '**/*.log',
      '/',
      '.',
    ])
  })

  it('keeps a bare ! for the matcher to reject', () => {
    expect(parseDockerignore('!\n')).toEqual(['!'])
    expect(() => new IgnoreMatcher(['!'])).toThrow('illegal exclusion pattern: "!"')
  })

  it('cleanPath is Go path.Clean', () => {
    expect(['', '.', './', 'a/./b/', 'a//b', '../a/..', '/..', 'a/..', '/'].map(cleanPath)).toEqual([
      '.', '.', '.', 'a/b', 'a/b', '..', '/', '.', '/',
    ])
  })
})

/** Paths of `paths` the patterns exclude. */
function excluded(patterns: string[], paths: string[]): string[] {
  const m = new IgnoreMatcher(patterns)
  return paths.filter((p) => m.matches(p))
}

describe('IgnoreMatcher.matches', () => {
  it('matches literal names at the root and everything under a matched directory', () => {
    expect(excluded(['docs', 'a.txt'], ['docs', 'docs/x/y.md', 'docsx', 'a.txt', 'sub/a.txt', 'b.txt'])).toEqual([
      'docs',
      'docs/x/y.md',
      'a.txt',
    ])
  })

  it('keeps * and ? inside one segment', () => {
    expect(excluded(['*.md'], ['README.md', 'docs/a.md', '.md', 'md'])).toEqual(['README.md', '.md'])
    expect(excluded(['*/*.md'], ['README.md', 'docs/a.md', 'docs/x/a.md', 'x.md/y'])).toEqual(['docs/a.md'])
    expect(excluded(['?.txt'], ['a.txt', 'ab.txt', '/.txt'])).toEqual(['a.txt'])
    expect(excluded(['*'], ['a', 'b/c', '.hidden'])).toEqual(['a', 'b/c', '.hidden'])
  })

  it('lets ** span segments', () => {
    const paths = ['foo', 'a/foo', 'a/b/foo', 'afoo', 'a/foo/bar', 'foobar']
    expect(excluded(['**/foo'], paths)).toEqual(['foo', 'a/foo', 'a/b/foo', 'a/foo/bar'])
    expect(excluded(['**'], paths)).toEqual(paths)
    expect(excluded(['a/**'], ['a', 'a/b', 'a/b/c', 'ab'])).toEqual(['a/b', 'a/b/c'])
    expect(excluded(['a/**/z'], ['a/z', 'a/b/z', 'a/b/c/z', 'a/bz', 'a/z/q'])).toEqual(['a/z', 'a/b/z', 'a/b/c/z', 'a/z/q'])
    expect(excluded(['**/*.go'], ['main.go', 'cmd/x/main.go', 'go'])).toEqual(['main.go', 'cmd/x/main.go'])
    expect(excluded(['foo**'], ['foo', 'foobar', 'foo/x', 'fo'])).toEqual(['foo', 'foobar', 'foo/x'])
  })

  it('supports character classes and escapes as filepath.Match', () => {
    expect(excluded(['[a-c].txt'], ['a.txt', 'c.txt', 'd.txt'])).toEqual(['a.txt', 'c.txt'])
    expect(excluded(['[^a].txt'], ['a.txt', 'b.txt'])).toEqual(['b.txt'])
    expect(excluded(['[*]'], ['*', 'a'])).toEqual(['*'])
    expect(excluded(['\\*.txt'], ['*.txt', 'a.txt'])).toEqual(['*.txt'])
    expect(excluded(['[\\]]x'], [']x', 'x'])).toEqual([']x'])
  })

  it('treats regexp metacharacters literally', () => {
    expect(excluded(['a(b)+{c}|$.txt'], ['a(b)+{c}|$.txt', 'abbc.txt'])).toEqual(['a(b)+{c}|$.txt'])
    expect(excluded(['*.(js)'], ['x.(js)', 'x.js'])).toEqual(['x.(js)'])
    expect(excluded(['a^b*'], ['a^bc', 'ab'])).toEqual(['a^bc'])
  })

  it('rejects malformed patterns', () => {
    for (const bad of ['[', 'a[b', '[]', '[]a]', '[a-]', '[-a]', 'a\\']) {
      try {
        new IgnoreMatcher([bad])
        expect.unreachable(bad)
      } catch (err) {
        expect(kindOf(err)).toBe('invalid-argument')
        expect((err as Error).message).toContain('syntax error in pattern')
      }
    }
  })

  it('applies exceptions in order: the last matching pattern wins', () => {
    const patterns = ['*.md', '!README.md', 'README-secret.md']
    expect(excluded(patterns, ['a.md', 'README.md', 'README-secret.md'])).toEqual(['a.md', 'README-secret.md'])
    expect(excluded(['!a', 'a'], ['a'])).toEqual(['a'])
    expect(excluded(['a', '!a'], ['a'])).toEqual([])
  })

  it('re-includes a child of an excluded directory', () => {
    const patterns = ['node_modules', '!node_modules/keep']
    expect(
      excluded(patterns, ['node_modules', 'node_modules/x', 'node_modules/keep', 'node_modules/keep/deep/file']),
    ).toEqual(['node_modules', 'node_modules/x'])
    expect(excluded(['*', '!src', 'src/*.tmp'], ['a', 'src', 'src/main.c', 'src/x.tmp', 'src/d/x.tmp'])).toEqual([
      'a',
      'src/x.tmp',
    ])
    expect(excluded(['**', '!**/*.go'], ['a/b.go', 'a/b.txt', 'c.go'])).toEqual(['a/b.txt'])
  })

  it('never excludes the context root, and cleans the path asked about', () => {
    const m = new IgnoreMatcher(['*', 'a'])
    expect(m.matches('.')).toBe(false)
    expect(m.matches('')).toBe(false)
    expect(m.matches('./a/')).toBe(true)
  })

  it('exact patterns with leading slashes or dots were cleaned by the reader', () => {
    expect(excluded(parseDockerignore('/a\n./b/c\n'), ['a', 'b/c', 'x/a'])).toEqual(['a', 'b/c'])
  })
})

describe('IgnoreMatcher.matchesWithParent', () => {
  const tree = ['a', 'a/b', 'a/b/c.go', 'a/b/c.txt', 'a/keep', 'a/keep/x', 'z', 'z/y.go']
  const sets = [
    ['a'],
    ['a', '!a/keep'],
    ['**/*.go'],
    ['*', '!z', 'z/*.go'],
    ['a/b', '!a/b/c.go', '**/x'],
  ]

  it.each(sets)('agrees with matches() during a walk (%j)', (...patterns) => {
    const m = new IgnoreMatcher(patterns)
    const infos = new Map<string, MatchInfo>()
    for (const p of tree) {
      const parent = p.includes('/') ? infos.get(p.slice(0, p.lastIndexOf('/'))) : undefined
      const r = m.matchesWithParent(p, parent)
      infos.set(p, r.info)
      expect(r.excluded, p).toBe(m.matches(p))
    }
  })
})

describe('IgnoreMatcher.mayReinclude', () => {
  it('descends into an excluded directory only if an exception names something in it', () => {
    const m = new IgnoreMatcher(['node_modules', '!node_modules/keep', '!other/*/x'])
    expect(m.mayReinclude('node_modules')).toBe(true)
    expect(m.mayReinclude('other')).toBe(true)
    expect(m.mayReinclude('node_modules/keep')).toBe(true)
    expect(m.mayReinclude('dist')).toBe(false)
    expect(new IgnoreMatcher(['a']).mayReinclude('a')).toBe(false)
    // The docker CLI compares text: an exception starting with ** does not count.
    expect(new IgnoreMatcher(['a', '!**/x']).mayReinclude('a')).toBe(false)
  })
})

describe('keepBuildFiles', () => {
  it('re-includes the Dockerfile and .dockerignore when the patterns exclude them', () => {
    expect(keepBuildFiles(['*', '!src'], 'Dockerfile')).toEqual(['*', '!src', '!.dockerignore', '!Dockerfile'])
    expect(keepBuildFiles(['ci'], 'ci\\Dockerfile')).toEqual(['ci', '!ci/Dockerfile'])
    expect(keepBuildFiles(['*.md'], 'Dockerfile')).toEqual(['*.md'])
    expect(keepBuildFiles(['*'], 'Dockerfile', true)).toEqual(['*', '!.dockerignore'])
  })
})
