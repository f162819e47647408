import { describe, expect, it } from 'vitest'
import { kindOf } from '../../errors/index.js'
import { expandInstruction, parseRunMounts, planRun } from './expand.js'
import { parseDockerfile } from './parse.js'
import type { RunInstruction, StageInstruction } from './types.js'

const env = new Map([
  ['APP', 'web'],
  ['HOME', '/root'],
  ['PORTS', '80 443/tcp'],
  ['UID', '1000'],
  ['EMPTY', ''],
])

function instr(line: string, escape = ''): StageInstruction {
  return parseDockerfile(`${escape}FROM x\n${line}`).stages[0].instructions[0]
}

const expanded = (line: string) => expandInstruction(instr(line), env)

describe('expandInstruction', () => {
  it('expands ENV and LABEL keys and values, removing quotes', () => {
    expect(expanded('ENV DIR=$HOME/$APP MSG="hello  $APP" RAW=\'$APP\' ESC=a\\ b')).toMatchObject({
      pairs: [
        { key: 'DIR', value: '/root/web' },
        { key: 'MSG', value: 'hello  web' },
        { key: 'RAW', value: '$APP' },
        { key: 'ESC', value: 'a b' },
      ],
    })
    expect(expanded('ENV legacy "quoted" ${APP}')).toMatchObject({ pairs: [{ key: 'legacy', value: 'quoted web' }] })
    expect(expanded('LABEL ${APP}.version=${VERSION:-dev}')).toMatchObject({ pairs: [{ key: 'web.version', value: 'dev' }] })
  })

  it('expands WORKDIR, USER, STOPSIGNAL and VOLUME', () => {
    expect(expanded('WORKDIR /srv/${APP}')).toMatchObject({ path: '/srv/web' })
    expect(expanded('USER ${UID}:${GID:-${UID}}')).toMatchObject({ user: '1000:1000' })
    expect(expanded('STOPSIGNAL ${SIG:-SIGTERM}')).toMatchObject({ signal: 'SIGTERM' })
    expect(expanded('VOLUME ["/data/$APP", "$HOME"]')).toMatchObject({ volumes: ['/data/web', '/root'] })
  })

  it('splits EXPOSE words after expansion', () => {
    expect(expanded('EXPOSE $PORTS 8080')).toMatchObject({ ports: ['80', '443/tcp', '8080'] })
    expect(expanded('EXPOSE $EMPTY 22')).toMatchObject({ ports: ['22'] })
  })

  it('expands COPY and ADD paths and flags, never --from', () => {
    expect(expanded('COPY --from=build --chown=$UID --chmod=${MODE:-644} $APP/*.js "$HOME/dst/"')).toMatchObject({
      from: 'build',
      chown: '1000',
      chmod: '644',
      sources: ['web/*.js'],
      dest: '/root/dst/',
    })
    // Shell-form COPY splits at blanks before expansion, so quotes can't hold a space (use JSON form).
    expect(() => expanded('COPY "a b" /')).toThrow('unexpected end of statement while looking for matching double-quote')
    expect(expanded('COPY ["a b", "/$APP/"]')).toMatchObject({ sources: ['a b'], dest: '/web/' })
    expect(expanded('ADD --checksum=${SUM:-sha256:0} https://e.com/$APP.tgz /')).toMatchObject({
      checksum: 'sha256:0',
      sources: ['https://e.com/web.tgz'],
    })
  })

  it('expands heredoc files only when the delimiter was unquoted, keeping their quotes', () => {
    const copy = expanded(`COPY <<A <<'B' /etc/\necho "$APP" '$HOME' \\$x\nA\nkeep $APP\nB`)
    expect(copy).toMatchObject({
      contents: [
        { path: 'A', data: `echo "web" '/root' $x\n` },
        { path: 'B', data: 'keep $APP\n' },
      ],
    })
  })

  it('leaves RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK, ONBUILD, MAINTAINER and ARG alone', () => {
    for (const line of [
      'RUN echo $APP',
      'CMD echo $APP',
      'ENTRYPOINT ["$APP"]',
      'SHELL ["$APP"]',
      'HEALTHCHECK CMD $APP',
      'ONBUILD RUN $APP',
      'MAINTAINER $APP',
      'ARG A=$APP',
    ]) {
      const i = instr(line)
      expect(expandInstruction(i, env)).toEqual(i)
    }
  })

  it('uses the escape directive', () => {
    const i = instr('WORKDIR C:\\$APP `$APP', '# escape=`\n')
    expect(expandInstruction(i, env, '`')).toMatchObject({ path: 'C:\\web $APP' })
  })

  it('does not change the instruction it was given', () => {
    const i = instr('ENV A=$APP')
    expandInstruction(i, env)
    expect(i).toMatchObject({ pairs: [{ key: 'A', value: '$APP' }] })
  })

  it('reports substitution errors with the instruction line', () => {
    try {
      expanded('WORKDIR ${NEED:?set NEED}')
      expect.unreachable()
    } catch (err) {
      expect(kindOf(err)).toBe('invalid-argument')
      expect(err).toMatchObject({ message: 'failed to process "${NEED:?set NEED}": NEED: set NEED', line: 2 })
    }
  })
})

describe('parseRunMounts', () => {
  it('parses mounts with variables substituted', () => {
    const run = instr('RUN --mount=type=cache,target=$HOME/.cache,id=${APP}-cache,sharing=locked --mount=type=secret,id=tok,env=TOKEN x') as RunInstruction
    expect(parseRunMounts(run, env)).toEqual([
      { type: 'cache', target: '/root/.cache', id: 'web-cache', sharing: 'locked', readOnly: false, sizeLimit: 0, required: false },
      { type: 'secret', id: 'tok', env: 'TOKEN', readOnly: true, sizeLimit: 0, required: false },
    ])
  })

  it('reports mount errors with the instruction line', () => {
    const run = instr('RUN --mount=type=$T x') as RunInstruction
    expect(() => parseRunMounts(run, new Map([['T', 'nfs']]))).toThrow('unsupported mount type "nfs"')
  })
})

describe('planRun', () => {
  const run = (text: string) => planRun(instr(text) as RunInstruction)

  it('passes plain commands through', () => {
    expect(run('RUN echo hi')).toEqual({ cmdLine: ['echo hi'], prependShell: true })
    expect(run('RUN ["echo", "hi"]')).toEqual({ cmdLine: ['echo', 'hi'], prependShell: false })
  })

  it('runs a lone heredoc body as the shell command, tabs stripped for <<-', () => {
    expect(run('RUN <<EOF\nset -e\necho hi\nEOF')).toEqual({ cmdLine: ['set -e\necho hi\n'], prependShell: true })
    expect(run('RUN <<-EOF\n\techo hi\n\tEOF')).toEqual({ cmdLine: ['echo hi\n'], prependShell: true })
  })

  it('runs a lone heredoc with a shebang as a script', () => {
    expect(run("RUN <<'PY'\n#!/usr/bin/env python3\nprint(1)\nPY")).toEqual({
      cmdLine: ['/dev/pipes/PY'],
      prependShell: true,
      script: { name: 'PY', data: '#!/usr/bin/env python3\nprint(1)\n' },
    })
  })

  it('hands anything else to the shell with the bodies appended', () => {
    expect(run('RUN <<EOF python3\nprint(1)\nEOF')).toEqual({ cmdLine: ['<<EOF python3\nprint(1)\nEOF'], prependShell: true })
    expect(run('RUN cat <<A <<B\na\nA\nb\nB')).toEqual({ cmdLine: ['cat <<A <<B\na\nA\nb\nB'], prependShell: true })
  })
})
