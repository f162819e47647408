import { describe, expect, it } from 'vitest'
import { commitQuery, diffLines } from './commit.js'

describe('commit and diff', () => {
  it('sends repo and tag as docker\'s client does', () => {
    const q = commitQuery('c', 'localhost:5000/app', { comment: 'm', author: 'a', changes: ['ENV X=1', 'CMD ["sh"]'], pause: false })
    expect(q.toString()).toBe('container=c&repo=localhost%3A5000%2Fapp&tag=latest&comment=m&author=a&changes=ENV+X%3D1&changes=CMD+%5B%22sh%22%5D&pause=0')
    expect(commitQuery('c', 'docker.io/library/busybox:1', { changes: [], pause: true }).toString()).toBe('container=c&repo=busybox&tag=1')
    expect(() => commitQuery('c', 'Bad', { changes: [], pause: true })).toThrow('invalid reference format: repository name (library/Bad) must be lowercase')
    expect(() => commitQuery('c', `x@sha256:${'a'.repeat(64)}`, { changes: [], pause: true })).toThrow('refusing to create a tag with a digest reference')
  })

  it('prints changes as docker diff', () => {
    expect(diffLines([{ Path: '/etc', Kind: 0 }, { Path: '/new', Kind: 1 }, { Path: '/old', Kind: 2 }])).toBe('C /etc\nA /new\nD /old\n')
    expect(diffLines(null)).toBe('')
  })
})
