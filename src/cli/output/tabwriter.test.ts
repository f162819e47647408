import { describe, expect, it } from 'vitest'
import { tabwrite } from './tabwriter.js'

describe('tabwrite', () => {
  it('pads columns to max width + 3 with minwidth 10', () => {
    const text = 'CONTAINER ID\tIMAGE\tNAMES\nabc\tbusybox\tx\n'
    expect(tabwrite(text)).toBe('CONTAINER ID   IMAGE     NAMES\nabc            busybox   x\n')
  })
  it('does not pad the last cell and counts runes', () => {
    expect(tabwrite('a…b\tc\nd\te\n')).toBe('a…b       c\nd         e\n')
  })
  it('keeps empty cells aligned', () => {
    expect(tabwrite('A\tB\tC\n1\t\t3\n')).toBe('A         B         C\n1                   3\n')
  })
})
