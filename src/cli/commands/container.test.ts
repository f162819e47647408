import { describe, expect, it } from 'vitest'
import { templateUsesSize } from './container.js'

describe('templateUsesSize', () => {
  it('asks for sizes when the template reads .Size or the whole row', () => {
    expect(templateUsesSize('table {{.Names}}\t{{.Size}}')).toBe(true)
    expect(templateUsesSize('{{json .}}')).toBe(true)
    expect(templateUsesSize('{{.Names}}')).toBe(false)
    // docker checks the format before expanding "json", so --format json does not ask.
    expect(templateUsesSize('json')).toBe(false)
  })
})
