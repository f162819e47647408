import { describe, expect, it } from 'vitest'
import { referenceProblem } from './reference.js'

describe('referenceProblem', () => {
  it('explains upper-case repository names as distribution/reference does', () => {
    expect(referenceProblem('BAD:x')).toBe('invalid reference format: repository name (library/BAD) must be lowercase')
    expect(referenceProblem('BAD')).toBe('invalid reference format: repository name (library/BAD) must be lowercase')
  })
  it('falls back to the plain message', () => {
    expect(referenceProblem('a@sha256:abc')).toBe('invalid reference format')
    expect(referenceProblem('a b')).toBe('invalid reference format')
  })
})
