import { describe, expect, it } from 'vitest'
import { kindOf } from '../../errors/index.js'
import { ShellLex, envFromList, expandWord, expandWords, reversePattern } from './shell-lex.js'

const env = new Map([
  ['HOME', '/root'],
  ['USER', 'builder'],
  ['EMPTY', ''],
  ['TWO', 'a  b'],
  ['PADDED', '  x y  '],
  ['GREETING', '안녕'],
  ['FILE', 'archive.tar.gz'],
  ['PATHS', '/usr/local/bin:/usr/bin:/bin'],
])

const word = (w: string, e: Map<string, string> = env) => expandWord(w, e)
const words = (w: string, e: Map<string, string> = env) => expandWords(w, e)

function fails(w: string, e: Map<string, string> = env): string {
  try {
    const r = word(w, e)
    throw new Error(`expanded ${JSON.stringify(w)} to ${JSON.stringify(r)}`)
  } catch (err) {
    expect(kindOf(err)).toBe('invalid-argument')
    return (err as Error).message
  }
}

describe('processWord: plain text, quotes and escapes', () => {
  it.each([
    ['plain', 'plain'],
    ['sp ace', 'sp ace'],
    ["it''s", 'its'],
    ["x'y z'w", 'xy zw'],
    ['"dq $HOME"', 'dq /root'],
    ["'sq $HOME'", 'sq $HOME'],
    ['"single \' inside"', "single ' inside"],
    ["'double \" inside'", 'double " inside'],
    ['a\\ b', 'a b'],
    ['a\\nb', 'anb'],
    ['"a\\nb"', 'a\\nb'],
    ['"a\\\\nb"', 'a\\nb'],
    ['"q\\"q"', 'q"q'],
    ["'back\\slash'", 'back\\slash'],
    ["'ends in \\'", 'ends in \\'],
    ['trailing\\', 'trailing'],
    ['trailing\\\\', 'trailing\\'],
    ['\\$HOME', '$HOME'],
    ['"\\$HOME"', '$HOME'],
    ['\\\\$HOME', '\\/root'],
    ['"\\\\$HOME"', '\\/root'],
    ["'\\$HOME'", '\\$HOME'],
    ['안\'녕\'', '안녕'],
    ['a<b', 'a<b'],
    ['a<<  b', 'a<<  b'],
  ])('%s → %s', (input, out) => {
    expect(word(input)).toBe(out)
  })

  it.each([
    ["it's"],
    ['"open'],
    ["'open"],
    ['"esc at end\\"'],
    ['ok\\\\\'bad'],
  ])('%s is unterminated', (input) => {
    expect(fails(input)).toMatch(/^failed to process ".*": unexpected end of statement while looking for matching/)
  })
})

describe('processWord: variables', () => {
  it.each([
    ['$HOME', '/root'],
    ['${HOME}', '/root'],
    ['x${HOME}y', 'x/rooty'],
    ['$HOME.d', '/root.d'],
    ['$home', ''], // names are case-sensitive
    ['$UNSET-x', '-x'],
    ['$', '$'],
    ['$.', '$.'],
    ['a$/b', 'a$/b'],
    ['$GREETING!', '안녕!'],
    ['${USER}_${HOME}', 'builder_/root'],
    ['$USER_x', ''], // _ is part of the name
    // Positional and special parameters exist as names but are never set.
    ['$1x', 'x'],
    ['$123abc', 'abc'],
    ['${10}', ''],
    ['$@@', '@'],
    ['$$', ''],
    ['$#', ''],
    ['${#:-n}', 'n'],
    ['${0:-zero}', 'zero'],
  ])('%s → %s', (input, out) => {
    expect(word(input)).toBe(out)
  })

  it.each([
    ['${UNSET:-dflt}', 'dflt'],
    ['${EMPTY:-dflt}', 'dflt'],
    ['${USER:-dflt}', 'builder'],
    ['${UNSET-dflt}', 'dflt'],
    ['${EMPTY-dflt}', ''],
    ['${UNSET:-$HOME}', '/root'],
    ['${UNSET:-${ALSO:-deep}}', 'deep'],
    ['${UNSET:-two words}', 'two words'],
    ['${UNSET:-a {b}', 'a {b'],
    ['${UNSET:-\\$HOME}', '$HOME'],
    ['${UNSET:-\\${HOME\\}}', '${HOME}'],
    ['${UNSET:-}', ''],
    ['${USER:+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ['${UNSET:+alt}', ''],
    ['${EMPTY+alt}', 'alt'],
    ['${USER:+${HOME}}', '/root'],
    ['${USER:+${UNSET}}', ''],
    ['${USER?}', 'builder'],
    ['${EMPTY?}', ''],
    ['${USER:?}', 'builder'],
    ['${USER}}', 'builder}'],
    ['"${UNSET:-in quotes}"', 'in quotes'],
    ["'${HOME}'", '${HOME}'],
  ])('%s → %s', (input, out) => {
    expect(word(input)).toBe(out)
  })

  it('${var?msg} and ${var:?msg} fail with the message, expanded', () => {
    expect(fails('${UNSET?need $USER}')).toBe('failed to process "${UNSET?need $USER}": UNSET: need builder')
    expect(fails('${UNSET?}')).toContain('UNSET: is not allowed to be unset')
    expect(fails('${EMPTY:?}')).toContain('EMPTY: is not allowed to be empty')
    expect(fails('${UNSET:?}')).toContain('UNSET: is not allowed to be unset')
    expect(fails('${EMPTY:?must be set}')).toContain('EMPTY: must be set')
  })

  it.each([
    ['${}', 'bad substitution'],
    ['${:}', 'bad substitution'],
    ['${:-x}', 'bad substitution'],
    ['${{x}', 'bad substitution'],
    ['${', "missing '}'"],
    ['${HOME', "missing '}'"],
    ['${HOME:-x', "missing '}'"],
    ['${HOME:-a ${x}', "missing '}'"],
    ['${.}', 'unsupported modifier (.) in substitution'],
    ['${HOME:x}', 'unsupported modifier (:x) in substitution'],
    ['${HOME:=x}', 'unsupported modifier (:=) in substitution'],
    ['${HOME=x}', 'unsupported modifier (=) in substitution'],
    ['${HOME:#x}', 'unsupported modifier (:#) in substitution'],
    ['${HOME:%%x}', 'unsupported modifier (:%) in substitution'],
  ])('%s is an error: %s', (input, reason) => {
    expect(fails(input)).toContain(reason)
  })
})

describe('processWord: pattern removal and substitution', () => {
  it.each([
    ['${FILE#*.}', 'tar.gz'],
    ['${FILE##*.}', 'gz'],
    ['${FILE%.*}', 'archive.tar'],
    ['${FILE%%.*}', 'archive'],
    ['${FILE#archive}', '.tar.gz'],
    ['${FILE#nomatch}', 'archive.tar.gz'],
    ['${FILE#}', 'archive.tar.gz'],
    ['${FILE%}', 'archive.tar.gz'],
    ['${FILE#*}', 'archive.tar.gz'],
    ['${FILE##*}', ''],
    ['${FILE#?}', 'rchive.tar.gz'],
    ['${FILE%??}', 'archive.tar.'],
    ['${PATHS%%:*}', '/usr/local/bin'],
    ['${PATHS##*:}', '/bin'],
    ['${UNSET#x}', ''],
    ['${FILE/tar/zip}', 'archive.zip.gz'],
    ['${FILE//a/A}', 'Archive.tAr.gz'],
    ['${PATHS//:/ }', '/usr/local/bin /usr/bin /bin'],
    ['${PATHS/\\/usr/}', '/local/bin:/usr/bin:/bin'],
    ['${PATHS//\\//|}', '|usr|local|bin:|usr|bin:|bin'],
    ['${FILE/*./}', 'gz'],
    ['${FILE/x/$USER}', 'archive.tar.gz'],
    ['${FILE/archive/$USER}', 'builder.tar.gz'],
    ['${FILE///}', 'archive.tar.gz'],
    ['${UNSET/a/b}', ''],
  ])('%s → %s', (input, out) => {
    expect(word(input)).toBe(out)
  })

  it('treats regexp metacharacters literally and honours escaped wildcards', () => {
    const e = new Map([
      ['X', '(a)[b]{c}^$.|+x'],
      ['S', 'ab**'],
      ['Q', '??y'],
      ['R', 'a$1b'],
    ])
    expect(word('${X#(a)[b]{c\\}^$.|+}', e)).toBe('x')
    expect(word('${S%%\\**}', e)).toBe('ab')
    expect(word('${S%\\*}', e)).toBe('ab*')
    expect(word('${Q#\\?}', e)).toBe('?y')
    expect(word('${R/1/x}', e)).toBe('a$xb')
    expect(word('${R/a/$$}', e)).toBe('$1b') // $$ is a special parameter, never set
  })

  it('rejects bad escapes and unterminated replacements', () => {
    expect(fails('${FILE#\\x}')).toContain("invalid escape '\\x'")
    expect(fails('${FILE//}')).toContain("missing '/' in ${}")
    expect(fails('${FILE//a}')).toContain("missing '/' in ${}")
    expect(fails('${FILE/a/b')).toContain("missing '}'")
  })
})

describe('processWords', () => {
  const e = new Map([
    ['hi', 'hi'],
    ['space', 'abc  def'],
    ['leading', '  ab c'],
    ['trailing', 'ab c   '],
  ])
  it.each([
    ['hello', ['hello']],
    ['hello there   ', ['hello', 'there']],
    ['  a   b  ', ['a', 'b']],
    ['hello${hi}bye', ['hellohibye']],
    ['x${space}y', ['xabc', 'defy']],
    ['x"${space}"y', ['xabc  defy']],
    ['x "${space}"y', ['x', 'abc  defy']],
    ['x${leading}y', ['x', 'ab', 'cy']],
    ['x"${leading}" y', ['x  ab c', 'y']],
    ['x${trailing}', ['xab', 'c']],
    ['x${trailing}y', ['xab', 'c', 'y']],
    ['x" in quotes  "', ['x in quotes  ']],
    ['a\\ b', ['a b']],
    ['a\\" b', ['a"', 'b']],
    ["a'$hi' b", ['a$hi', 'b']],
    ['80 ${UNSET:-443}', ['80', '443']],
    ['pre${UNSET:-mid}post', ['premidpost']],
    ['${space:+one two}', ['one', 'two']],
    ['a "" b', ['a', 'b']],
    ['<<  EOF > out', ['<<  EOF', '>', 'out']],
  ])('%s → %j', (input, out) => {
    expect(words(input, e)).toEqual(out)
  })
})

describe('lexer options', () => {
  it('uses the active escape token', () => {
    const lex = new ShellLex({ escapeToken: '`' })
    expect(lex.processWord('C:\\dir `$HOME', env)).toBe('C:\\dir $HOME')
    expect(lex.processWord('"a`"b"', env)).toBe('a"b')
    expect(lex.processWords('a` b c', env)).toEqual(['a b', 'c'])
  })

  it('keeps quotes and escapes when asked', () => {
    const lex = new ShellLex({ rawQuotes: true, rawEscapes: true, skipUnsetEnv: true })
    expect(lex.processWords(`<<'EOF' "x y" a\\ b $UNSET \${UNSET:-d}`, env)).toEqual([
      "<<'EOF'",
      '"x y"',
      'a\\ b',
      '$UNSET',
      '${UNSET:-d}',
    ])
  })

  it('leaves unset variables as written with skipUnsetEnv', () => {
    const lex = new ShellLex({ skipUnsetEnv: true })
    expect(lex.processWord('$A ${B} ${C:-x} ${D/a/b} $USER', env)).toBe('$A ${B} ${C:-x} ${D/a/b} builder')
  })

  it('ignores quotes in heredoc bodies (skipProcessQuotes)', () => {
    const lex = new ShellLex({ skipProcessQuotes: true })
    expect(lex.processWord(`echo "$USER" '$HOME'\n`, env)).toBe(`echo "builder" '/root'\n`)
  })

  it('reports matched and unmatched variables', () => {
    const r = new ShellLex().process('${USER:-x} $NOPE ${EMPTY-y} ${ALSO:+z}', env)
    expect(r.result).toBe('builder   ')
    expect([...r.matched].sort()).toEqual(['EMPTY', 'USER'])
    expect([...r.unmatched].sort()).toEqual(['ALSO', 'NOPE'])
  })
})

describe('helpers', () => {
  it('envFromList: last wins, bare names are empty', () => {
    const e = envFromList(['A=1', 'B', 'A=2', 'C=x=y'])
    expect([...e]).toEqual([['A', '2'], ['B', ''], ['C', 'x=y']])
  })

  it('reversePattern keeps escapes before what they escape', () => {
    expect(reversePattern('a\\*c')).toBe('c\\*a')
    expect(reversePattern('ab\\')).toBe('\\ba')
    expect(reversePattern('\\\\b')).toBe('b\\\\')
    expect(reversePattern('👽\\🚀🖖')).toBe('🖖\\🚀👽')
  })
})
