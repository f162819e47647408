import { describe, expect, it } from 'vitest'
import { flagUsages, wrapUsage } from './wrap.js'

describe('wrapUsage', () => {
  it('leaves short text alone', () => {
    expect(wrapUsage(10, 80, 'Do not delete untagged parents')).toBe('Do not delete untagged parents')
  })
  it('wraps as pflag does, with slop for the last words', () => {
    // docker logs --help at 80 columns: docker wraps at width - 1
    const s = 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)'
    expect(wrapUsage(23, 79, s)).toBe('Show logs since timestamp (e.g.\n                       "2013-01-02T13:23:37Z") or relative (e.g. "42m"\n                       for 42 minutes)')
  })
  it('keeps explicit newlines and indents them', () => {
    expect(wrapUsage(4, 80, 'a\nb')).toBe('a\n    b')
  })
})

describe('flagUsages', () => {
  it('aligns descriptions three columns after the longest flag', () => {
    expect(flagUsages([{ left: '  -f, --force', usage: 'Force' }, { left: '      --no-prune', usage: 'Keep' }], 79))
      .toBe('  -f, --force      Force\n      --no-prune   Keep\n')
  })
  it('wraps long descriptions under the description column', () => {
    const out = flagUsages([{ left: '  -n, --last int', usage: 'Show n last created containers (includes all states) (default -1)' }, { left: '      --format string', usage: 'x' }], 79)
    expect(out).toBe('  -n, --last int        Show n last created containers (includes all\n                        states) (default -1)\n      --format string   x\n')
  })
})
