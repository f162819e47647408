import { describe, expect, it } from 'vitest'
import { chompHeredoc, heredocsFromLine, parseHeredoc } from './heredoc.js'

describe('parseHeredoc', () => {
  it.each([
    ['<<END', { name: 'END', expand: true, chomp: false, fileDescriptor: 0 }],
    ['<<-END', { name: 'END', expand: true, chomp: true, fileDescriptor: 0 }],
    ["<<'END'", { name: 'END', expand: false, chomp: false, fileDescriptor: 0 }],
    ['<<-"END"', { name: 'END', expand: false, chomp: true, fileDescriptor: 0 }],
    ['<<E"N"D', { name: 'END', expand: false, chomp: false, fileDescriptor: 0 }],
    ['<< END', { name: 'END', expand: true, chomp: false, fileDescriptor: 0 }],
    ['<<- END', { name: 'END', expand: true, chomp: true, fileDescriptor: 0 }],
    ['12<<END', { name: 'END', expand: true, chomp: false, fileDescriptor: 12 }],
  ])('%s', (word, want) => {
    expect(parseHeredoc(word)).toEqual(want)
  })

  it.each(['', 'END', '<<', '<<-', '<END', '<<<END', '<<END cat', 'x<<END'])('%j is not a heredoc', (word) => {
    expect(parseHeredoc(word)).toBeUndefined()
  })

  it.each(["<<'END", '<<"END', "<<END'", '<<END"'])('%s has an unterminated quote', (word) => {
    expect(() => parseHeredoc(word)).toThrow('unexpected end of statement')
  })
})

describe('heredocsFromLine', () => {
  it.each([
    ['RUN <<A', ['A']],
    ['RUN <<A <<-B cmd', ['A', 'B']],
    // Blanks may follow << but not <<- : the line's words are "<<-" and "A" (as in buildkit).
    ['RUN <<- A', []],
    ['RUN << -A', ['-A']],
    ['RUN 4<<A', ['A']],
    ["RUN '<<A'", []],
    ['RUN "<<A"', []],
    ['RUN echo a\\<<b', []],
    ['RUN cat <<A > /x', ['A']],
  ])('%s', (line, names) => {
    expect(heredocsFromLine(line).map((h) => h.name)).toEqual(names)
  })
})

describe('chompHeredoc', () => {
  it('strips leading tabs, not spaces, from every line', () => {
    expect(chompHeredoc('\t\ta\n  b\n\tc\t\n')).toBe('a\n  b\nc\t\n')
  })
})
