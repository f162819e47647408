import { describe, expect, it } from 'vitest'
import { kindOf } from '../../../errors/index.js'
import { parseLimit, toSearchResult } from './search.js'

describe('search route', () => {
  it('reads limit as docker: absent is 0, not a number or negative is a 400', () => {
    expect(parseLimit(null)).toBe(0)
    expect(parseLimit('')).toBe(0)
    expect(parseLimit('7')).toBe(7)
    const bad = (() => { try { parseLimit('x') } catch (e) { return e as Error } })()
    expect(bad?.message).toBe('invalid limit specified: strconv.Atoi: parsing "x": invalid syntax')
    expect(kindOf(bad)).toBe('invalid-argument')
    expect(kindOf((() => { try { parseLimit('-1') } catch (e) { return e } })())).toBe('invalid-argument')
  })
  it('answers in docker\'s snake_case', () => {
    expect(toSearchResult({ name: 'n', description: 'd', starCount: 2, isOfficial: true, isAutomated: false }))
      .toEqual({ name: 'n', description: 'd', star_count: 2, is_official: true, is_automated: false })
  })
})
