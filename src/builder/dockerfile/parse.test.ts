import { describe, expect, it } from 'vitest'
import { kindOf } from '../../errors/index.js'
import { parseDockerfile, parseTrigger } from './parse.js'

describe('parseDockerfile', () => {
  it('splits stages at FROM; ARGs before the first FROM are global', () => {
    const df = parseDockerfile(
      [
        '# syntax=docker/dockerfile:1',
        'ARG GO=1.22',
        'ARG BASE',
        'FROM golang:${GO} AS build',
        'ARG GO',
        'RUN go build -o /out/app .',
        '',
        'FROM ${BASE:-alpine}',
        'COPY --from=build /out/app /usr/bin/app',
        'CMD ["app"]',
      ].join('\n'),
    )
    expect(df.directives).toEqual([{ name: 'syntax', value: 'docker/dockerfile:1', line: 1 }])
    expect(df.escapeToken).toBe('\\')
    expect(df.metaArgs.map((a) => a.args)).toEqual([[{ key: 'GO', value: '1.22' }], [{ key: 'BASE' }]])
    expect(df.stages.map((s) => [s.index, s.name, s.from.image, s.instructions.map((i) => i.kind)])).toEqual([
      [0, 'build', 'golang:${GO}', ['arg', 'run']],
      [1, undefined, '${BASE:-alpine}', ['copy', 'cmd']],
    ])
    expect(df.stages[1]).not.toHaveProperty('name')
    expect(df.warnings).toEqual([])
  })

  it('rejects instructions before the first FROM other than ARG', () => {
    try {
      parseDockerfile('ARG A\nRUN true\nFROM x')
      expect.unreachable()
    } catch (err) {
      expect(kindOf(err)).toBe('invalid-argument')
      expect(err).toMatchObject({ message: 'no build stage in current context', line: 2 })
    }
  })

  it('rejects a Dockerfile with only ARGs', () => {
    expect(() => parseDockerfile('ARG A=1')).toThrow('dockerfile contains no stages to build')
  })

  it('warns about duplicate stage names and empty continuation lines', () => {
    const df = parseDockerfile('FROM a AS x\nFROM b AS X\nRUN a \\\n\n  b')
    expect(df.warnings).toEqual([
      { message: 'Empty continuation line found in: RUN a   b', line: 5 },
      { message: 'Duplicate stage name "x", stage names should be unique', line: 2 },
    ])
  })

  it('reports the first error with its line', () => {
    expect(() => parseDockerfile('FROM a\nRUN ok\nCOPY --bogus a b\nCOPY')).toThrow(
      'dockerfile parse error on line 3: unknown flag: --bogus',
    )
  })
})

describe('parseTrigger', () => {
  it('parses an ONBUILD expression as an instruction', () => {
    const df = parseDockerfile('FROM x\nONBUILD COPY --chown=app . /app\nONBUILD RUN <<EOF\necho hi\nEOF')
    const [copy, run] = df.stages[0].instructions.map((i) => (i.kind === 'onbuild' ? parseTrigger(i.expression) : i))
    expect(copy).toMatchObject({ kind: 'copy', chown: 'app', sources: ['.'], dest: '/app' })
    expect(run).toMatchObject({ kind: 'run', cmdLine: ['<<EOF'], files: [{ name: 'EOF', data: 'echo hi\n' }] })
  })

  it('rejects triggers a stage may not run', () => {
    expect(() => parseTrigger('FROM scratch')).toThrow("FROM isn't allowed as an ONBUILD trigger")
    expect(() => parseTrigger('BOGUS x')).toThrow('unknown instruction: BOGUS')
  })
})
