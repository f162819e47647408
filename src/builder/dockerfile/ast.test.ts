import { describe, expect, it } from 'vitest'
import { kindOf } from '../../errors/index.js'
import { type Node, parseAst, trimContinuation } from './ast.js'
import { DockerfileError } from './errors.js'

/** keyword (lower-cased), flags in brackets when present, then args; json form marked. */
function show(n: Node): string {
  const parts = [n.keyword.toLowerCase()]
  if (n.flags.length) parts.push(JSON.stringify(n.flags))
  if (n.json) parts.push('json')
  if (n.child) parts.push(`(${show(n.child)})`)
  else parts.push(...n.args.map((a) => JSON.stringify(a)))
  return parts.join(' ')
}

const nodes = (text: string) => parseAst(text).nodes.map(show)

function parseError(text: string): DockerfileError {
  try {
    parseAst(text)
  } catch (err) {
    expect(err).toBeInstanceOf(DockerfileError)
    expect(kindOf(err)).toBe('invalid-argument')
    return err as DockerfileError
  }
  throw new Error('parsed')
}

describe('lines, comments and continuations', () => {
  it('skips comments and blank lines, keeps line numbers', () => {
    const ast = parseAst('# a comment\n\nFROM busybox\n   # indented comment\nRUN echo hi\n')
    expect(ast.nodes.map(show)).toEqual(['from "busybox"', 'run "echo hi"'])
    expect(ast.nodes.map((n) => [n.startLine, n.endLine])).toEqual([[3, 3], [5, 5]])
  })

  it('joins continuations, keeping the indentation of continued lines', () => {
    const ast = parseAst('FROM x\nRUN apt-get update && \\\n    apt-get install -y \\\n      curl\nCMD x')
    expect(ast.nodes.map(show)).toEqual([
      'from "x"',
      'run "apt-get update &&     apt-get install -y       curl"',
      'cmd "x"',
    ])
    expect([ast.nodes[1].startLine, ast.nodes[1].endLine]).toEqual([2, 4])
  })

  it('joins a continuation without a space before the escape', () => {
    expect(nodes('RUN echo good\\\nbye\\\n  frog')).toEqual(['run "echo goodbye  frog"'])
  })

  it('allows blanks after the continuation character', () => {
    expect(nodes('RUN a \\  \t\nb')).toEqual(['run "a b"'])
  })

  it('skips comment lines inside a continuation silently', () => {
    const ast = parseAst('RUN a \\\n# comment\n   # indented\n  b')
    expect(ast.nodes.map(show)).toEqual(['run "a   b"'])
    expect(ast.warnings).toEqual([])
  })

  it('skips blank lines inside a continuation with a warning', () => {
    const ast = parseAst('FROM x\nRUN a \\\n\n  b \\\n   \n  c\nRUN ok')
    expect(ast.nodes.map(show)).toEqual(['from "x"', 'run "a   b   c"', 'run "ok"'])
    expect(ast.warnings).toEqual([{ message: 'Empty continuation line found in: RUN a   b   c', line: 6 }])
  })

  it('does not continue after an escaped escape character', () => {
    expect(nodes('ENV C trailing\\\\\nENV D next')).toEqual(['env "C" "trailing\\\\\\\\" ""', 'env "D" "next" ""'])
  })

  it('treats a line holding only the escape character as a continuation', () => {
    expect(nodes('ENV E hello\\\n\\\nworld')).toEqual(['env "E" "helloworld" ""'])
    expect(nodes('ENV F hello\\\n \\\nworld')).toEqual(['env "F" "hello world" ""'])
  })

  it('accepts a continuation at the end of the file', () => {
    expect(nodes('FROM x\nRUN something \\')).toEqual(['from "x"', 'run "something"'])
  })

  it('handles CRLF line endings and a BOM', () => {
    expect(nodes('\uFEFFFROM x\r\nRUN a \\\r\n  b\r\n')).toEqual(['from "x"', 'run "a   b"'])
  })

  it('keeps the keyword case and trims surrounding whitespace', () => {
    const [n] = parseAst('   from   busybox  AS   base  ').nodes
    expect(n.keyword).toBe('from')
    expect(n.args).toEqual(['busybox', 'AS', 'base'])
  })

  it('keeps unknown instructions for the instruction layer to reject', () => {
    expect(nodes('FROM x\nFOO bar baz')).toEqual(['from "x"', 'foo'])
  })

  it('rejects a file without instructions', () => {
    expect(parseError('# only\n\n  \n').detail).toBe('file with no instructions')
    expect(parseError('').detail).toBe('file with no instructions')
  })

  it('rejects lines longer than docker accepts', () => {
    const err = parseError(`FROM x\nLABEL a=${'x'.repeat(70_000)}\n`)
    expect(err.message).toBe('dockerfile parse error on line 2: dockerfile line greater than max allowed size of 65535')
  })

  it('trimContinuation', () => {
    expect(trimContinuation('a \\', '\\')).toEqual(['a ', false])
    expect(trimContinuation('a\\\\', '\\')).toEqual(['a\\\\', true])
    expect(trimContinuation('\\ ', '\\')).toEqual(['', false])
    expect(trimContinuation('a `', '`')).toEqual(['a ', false])
    expect(trimContinuation('a \\', '`')).toEqual(['a \\', true])
  })
})

describe('parser directives', () => {
  it('reads syntax, escape and check at the top', () => {
    const ast = parseAst('# syntax = docker/dockerfile:1\n#escape=`\n# CHECK=skip=all\nFROM `\n  image\nRUN dir c:\\')
    expect(ast.directives).toEqual([
      { name: 'syntax', value: 'docker/dockerfile:1', line: 1 },
      { name: 'escape', value: '`', line: 2 },
      { name: 'check', value: 'skip=all', line: 3 },
    ])
    expect(ast.escapeToken).toBe('`')
    expect(ast.nodes.map(show)).toEqual(['from "image"', 'run "dir c:\\\\"'])
  })

  it('ignores directives after a comment, a blank line or an instruction', () => {
    for (const text of ['# hello\n# escape=`\nFROM x', '\n# escape=`\nFROM x', 'FROM x\n# escape=`\nRUN a']) {
      const ast = parseAst(text)
      expect(ast.escapeToken).toBe('\\')
      expect(ast.directives).toEqual([])
    }
  })

  it('treats an unknown directive as a comment that ends the directives', () => {
    const ast = parseAst('# foo=bar\n# escape=`\nFROM x')
    expect(ast.directives).toEqual([])
  })

  it('rejects a repeated directive and a bad escape token', () => {
    expect(parseError('# escape=`\n# escape=\\\nFROM x').message).toBe(
      'dockerfile parse error on line 2: only one escape parser directive can be used',
    )
    expect(parseError('# escape=x\nFROM x').detail).toBe("invalid escape token 'x' does not match ` or \\")
  })
})

describe('arguments', () => {
  it('JSON arrays are exec form; anything that is not valid JSON is shell form', () => {
    expect(
      nodes(
        [
          'CMD []',
          'CMD [""]',
          'CMD ["a", "b c"]',
          'CMD\t[\t"a",\t"b"\t]\t',
          'CMD ["\\" \\\\ \\/ \\u00e9"]',
          "CMD ['single', 'quotes']",
          'CMD ["unterminated"',
          'CMD \'["in", "a string"]\'',
          'CMD ["trailing",]',
          'CMD ["a"] extra',
        ].join('\n'),
      ),
    ).toEqual([
      'cmd json',
      'cmd json ""',
      'cmd json "a" "b c"',
      'cmd json "a" "b"',
      'cmd json "\\" \\\\ / é"',
      'cmd "[\'single\', \'quotes\']"',
      'cmd "[\\"unterminated\\""',
      'cmd "\'[\\"in\\", \\"a string\\"]\'"',
      'cmd "[\\"trailing\\",]"',
      'cmd "[\\"a\\"] extra"',
    ])
  })

  it('rejects JSON arrays holding anything but strings', () => {
    for (const bad of ['[1]', '["a", null]', '["a", ["b"]]', '["a", {}]', '[true]']) {
      expect(parseError(`FROM x\nCMD ${bad}`).message).toBe(
        'dockerfile parse error on line 2: when using JSON array syntax, arrays must be comprised of strings only',
      )
    }
  })

  it('splits per instruction', () => {
    expect(
      nodes(
        [
          'FROM\tubuntu:24.04   AS  build',
          'COPY  a  "b c"  /dst/',
          'COPY ["a b", "/dst"]',
          'VOLUME /a /b',
          'VOLUME ["/c"]',
          'EXPOSE 80/tcp   443',
          'USER  app:app  ',
          'WORKDIR /some dir',
          'STOPSIGNAL SIGTERM',
          'MAINTAINER Jane Doe <jane@example.com>',
          'ARG a b=c d="e f"',
          'ENV a=1 b="x y" c=z\\ w',
          'ENV legacy value with  spaces',
          'LABEL "com.example.key"="v" other=\'single\'',
          'HEALTHCHECK --interval=5s CMD curl -f http://localhost/',
          'HEALTHCHECK CMD ["curl", "-f"]',
          'HEALTHCHECK NONE',
          'ONBUILD RUN ["echo", "x"]',
          'ONBUILD COPY --chown=1 . /app',
        ].join('\n'),
      ),
    ).toEqual([
      'from "ubuntu:24.04" "AS" "build"',
      'copy "a" "\\"b" "c\\"" "/dst/"',
      'copy json "a b" "/dst"',
      'volume "/a" "/b"',
      'volume json "/c"',
      'expose "80/tcp" "443"',
      'user "app:app"',
      'workdir "/some dir"',
      'stopsignal "SIGTERM"',
      'maintainer "Jane Doe <jane@example.com>"',
      'arg "a" "b=c" "d=\\"e f\\""',
      'env "a" "1" "=" "b" "\\"x y\\"" "=" "c" "z\\\\ w" "="',
      'env "legacy" "value with  spaces" ""',
      'label "\\"com.example.key\\"" "\\"v\\"" "=" "other" "\'single\'" "="',
      'healthcheck ["--interval=5s"] "CMD" "curl -f http://localhost/"',
      'healthcheck json "CMD" "curl" "-f"',
      'healthcheck "NONE"',
      'onbuild (run json "echo" "x")',
      'onbuild (copy ["--chown=1"] "." "/app")',
    ])
  })

  it('rejects ENV and LABEL without a value', () => {
    expect(parseError('FROM x\nENV alone').detail).toBe('ENV must have two arguments')
    expect(parseError('FROM x\nLABEL a=b c').detail).toBe(
      'Syntax error - can\'t find = in "c". Must be of the form: name=value',
    )
  })

  it('extracts flags, quoted or escaped, up to the first non-flag word or --', () => {
    expect(
      nodes(
        [
          'COPY --from=build --chown="app user" /a /b',
          "COPY --chmod='0644' --link -- --not-a-flag /dst",
          'COPY -- a b',
          'RUN --mount=type=cache,target=/root/.cache   pip install x',
          'CMD --x [ "a" ]',
          'CMD --x -- [ ]',
          'RUN --network=none',
          'COPY --a=b\\ c x y',
        ].join('\n'),
      ),
    ).toEqual([
      'copy ["--from=build","--chown=app user"] "/a" "/b"',
      'copy ["--chmod=0644","--link"] "--not-a-flag" "/dst"',
      'copy "a" "b"',
      'run ["--mount=type=cache,target=/root/.cache"] "pip install x"',
      'cmd ["--x"] json "a"',
      'cmd ["--x"] json',
      'run ["--network=none"]',
      'copy ["--a=b c"] "x" "y"',
    ])
  })
})

describe('heredocs', () => {
  const heredocs = (text: string) => parseAst(text).nodes.map((n) => n.heredocs)

  it('reads bodies up to the terminator, lines kept as written', () => {
    const ast = parseAst('FROM x\nRUN <<EOF\n# not a comment\necho "$HOME" \\\n  two\nEOF\nRUN after')
    expect(ast.nodes.map(show)).toEqual(['from "x"', 'run "<<EOF"', 'run "after"'])
    expect(ast.nodes[1].heredocs).toEqual([
      { name: 'EOF', content: '# not a comment\necho "$HOME" \\\n  two\n', expand: true, chomp: false, fileDescriptor: 0 },
    ])
    expect([ast.nodes[1].startLine, ast.nodes[1].endLine]).toEqual([2, 6])
    expect(ast.nodes[2].startLine).toBe(7)
  })

  it('supports several heredocs, in order', () => {
    const [, copy] = heredocs('FROM x\nCOPY <<A <<B /dst/\nbody a\nA\nbody b\nB\n')
    expect(copy.map((h) => [h.name, h.content])).toEqual([
      ['A', 'body a\n'],
      ['B', 'body b\n'],
    ])
  })

  it('strips tabs before the terminator with <<-; the body keeps them until used', () => {
    const [, run] = heredocs('FROM x\nRUN <<-EOT\n\techo a\n\t\tEOT\n')
    expect(run).toEqual([{ name: 'EOT', content: '\techo a\n', expand: true, chomp: true, fileDescriptor: 0 }])
  })

  it('quoted delimiters turn off expansion', () => {
    const all = heredocs(
      [
        'FROM x',
        "RUN <<'EOF'", 'a', 'EOF',
        'RUN <<"EOF"', 'b', 'EOF',
        "RUN <<E'O'F", 'c', 'EOF',
        "RUN <<E\\'F", 'd', "E'F",
        "RUN <<'one two'", 'e', 'one two',
        'RUN <<$VAR', 'f', '$VAR',
      ].join('\n'),
    )
    expect(all.slice(1).map(([h]) => [h.name, h.expand, h.content])).toEqual([
      ['EOF', false, 'a\n'],
      ['EOF', false, 'b\n'],
      ['EOF', false, 'c\n'],
      ["E'F", true, 'd\n'],
      ['one two', false, 'e\n'],
      ['$VAR', true, 'f\n'],
    ])
  })

  it('reads the file descriptor and blanks after <<', () => {
    const all = heredocs('FROM x\nRUN 3<<EOF\nEOF\nRUN <<  EOF  > /out\nx\nEOF\nRUN <<EOF python3\nprint(1)\nEOF')
    expect(all[1][0].fileDescriptor).toBe(3)
    expect(all[2][0]).toMatchObject({ name: 'EOF', content: 'x\n' })
    expect(all[3][0]).toMatchObject({ name: 'EOF', content: 'print(1)\n' })
  })

  it('ignores << in exec form, in quotes, and in other instructions', () => {
    const all = heredocs(
      'FROM x\nRUN ["<<EOF"]\nRUN echo "<<EOF"\nRUN echo \'<<EOF\'\nUSER <<EOF\nENV a=<<EOF\nRUN echo a<b',
    )
    expect(all.every((h) => h.length === 0)).toBe(true)
  })

  it('ONBUILD carries its trigger heredoc', () => {
    const [, onbuild] = parseAst('FROM x\nONBUILD RUN <<EOF\necho hi\nEOF\n').nodes
    expect(onbuild.heredocs.map((h) => h.content)).toEqual(['echo hi\n'])
  })

  it('fails on a missing terminator', () => {
    const err = parseError('FROM x\nRUN <<EOF\necho hi\n')
    expect(err.message).toBe('dockerfile parse error on line 2: unterminated heredoc')
    expect([err.line, err.endLine]).toEqual([2, 3])
    // A line whose words don't lex has no heredocs (buildkit ignores the error).
    expect(nodes("FROM x\nRUN <<EOF <<'BAD\nx")).toEqual(['from "x"', 'run "<<EOF <<\'BAD"', 'x'])
  })
})
