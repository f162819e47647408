import { describe, expect, it } from 'vitest'
import { kindOf } from '../../errors/index.js'
import { DockerfileError } from './errors.js'
import { parseDockerfile } from './parse.js'
import type { Instruction, StageInstruction } from './types.js'

/** The instructions of a one-stage Dockerfile whose FROM is added on line 1. */
function parse(body: string): StageInstruction[] {
  return parseDockerfile(`FROM base\n${body}`).stages[0].instructions
}

const one = (line: string) => parse(line)[0]

/** The message of the error parsing `FROM base\n<body>` throws. */
function error(body: string): string {
  try {
    parse(body)
  } catch (err) {
    expect(err).toBeInstanceOf(DockerfileError)
    expect(kindOf(err)).toBe('invalid-argument')
    return (err as Error).message
  }
  throw new Error(`parsed: ${body}`)
}

/** Drops keyword/original/line fields to compare the typed payload. */
function payload(i: Instruction): Record<string, unknown> {
  const { keyword: _k, original: _o, line: _l, endLine: _e, ...rest } = i
  return rest
}

describe('FROM', () => {
  it('types image, stage name and platform', () => {
    const df = parseDockerfile('FROM --platform=$BUILDPLATFORM golang:1.22 AS Build\nFROM scratch')
    expect(payload(df.stages[0].from)).toEqual({ kind: 'from', image: 'golang:1.22', stageName: 'build', platform: '$BUILDPLATFORM' })
    expect(payload(df.stages[1].from)).toEqual({ kind: 'from', image: 'scratch' })
  })

  it('rejects bad stage names and argument counts', () => {
    expect(error('FROM a AS 1st')).toBe(
      'dockerfile parse error on line 2: invalid name for build stage: "1st", name can\'t start with a number or contain symbols',
    )
    expect(error('FROM a AS b!')).toContain('invalid name for build stage: "b!"')
    expect(error('FROM a b')).toBe('dockerfile parse error on line 2: FROM requires either one or three arguments')
    expect(error('FROM')).toContain('FROM requires either one or three arguments')
    expect(error('FROM --pltform=x a')).toBe('dockerfile parse error on line 2: unknown flag: --pltform (did you mean platform?)')
  })
})

describe('RUN, CMD, ENTRYPOINT, SHELL', () => {
  it('types shell and exec forms', () => {
    const [run, exec, cmd, ep, epEmpty, cmdEmpty, shell] = parse(
      'RUN echo "$HOME" && ls\nRUN ["ls", "-l"]\nCMD ["nginx", "-g", "daemon off;"]\nENTRYPOINT exec top -b\nENTRYPOINT []\nCMD\nSHELL ["/bin/bash", "-eo", "pipefail", "-c"]',
    )
    expect(run).toMatchObject({ kind: 'run', cmdLine: ['echo "$HOME" && ls'], prependShell: true, files: [] })
    expect(run).toMatchObject({ network: 'default', security: 'sandbox', mounts: [], devices: [], flagsUsed: [] })
    expect(exec).toMatchObject({ kind: 'run', cmdLine: ['ls', '-l'], prependShell: false })
    expect(payload(cmd)).toEqual({ kind: 'cmd', cmdLine: ['nginx', '-g', 'daemon off;'], prependShell: false })
    expect(payload(ep)).toEqual({ kind: 'entrypoint', cmdLine: ['exec top -b'], prependShell: true })
    expect(payload(epEmpty)).toEqual({ kind: 'entrypoint', cmdLine: [], prependShell: false })
    expect(payload(cmdEmpty)).toEqual({ kind: 'cmd', cmdLine: [], prependShell: true })
    expect(payload(shell)).toEqual({ kind: 'shell', shell: ['/bin/bash', '-eo', 'pipefail', '-c'] })
  })

  it('keeps the original text, trimmed, with continuations joined', () => {
    const [run] = parse('  RUN a \\\n  b  ')
    expect(run.original).toBe('RUN a   b')
    expect(run.keyword).toBe('RUN')
    expect([run.line, run.endLine]).toEqual([2, 3])
  })

  it('takes RUN flags', () => {
    const run = one('RUN --mount=type=cache,target=/root/.cache --mount=type=secret,id=t --network=none --security=insecure make')
    expect(run).toMatchObject({
      kind: 'run',
      cmdLine: ['make'],
      mounts: ['type=cache,target=/root/.cache', 'type=secret,id=t'],
      network: 'none',
      security: 'insecure',
      flagsUsed: ['mount', 'network', 'security'],
    })
  })

  it('rejects bad RUN flags', () => {
    expect(error('RUN --network=bridge x')).toBe('dockerfile parse error on line 2: invalid network mode "bridge"')
    expect(error('RUN --security=root x')).toContain('security "root" is not valid')
    expect(error('RUN --netwrk=host x')).toContain('unknown flag: --netwrk (did you mean network?)')
    expect(error('RUN --network x')).toContain('missing a value on flag: --network')
    expect(error('RUN --network=host --network=none x')).toContain('duplicate flag specified: --network')
    expect(error('RUN --mount=type=bind,from=$STAGE x')).toContain(
      "'from' doesn't support variable expansion, define alias stage instead",
    )
    expect(error('RUN --mount=a\\"b x')).toContain('failed to parse csv mounts: bare " in non-quoted-field')
  })

  it('keeps RUN heredoc files', () => {
    const run = one('RUN <<-EOF bash\n\tset -e\n\techo hi\nEOF')
    expect(run).toMatchObject({ cmdLine: ['<<-EOF bash'], prependShell: true, files: [{ name: 'EOF', data: '\tset -e\n\techo hi\n', chomp: true }] })
  })

  it('SHELL needs JSON', () => {
    expect(error('SHELL /bin/bash -c')).toBe('dockerfile parse error on line 2: SHELL requires the arguments to be in JSON form')
    expect(error('SHELL []')).toContain('SHELL requires at least one argument')
    expect(error('SHELL')).toContain('SHELL requires at least one argument')
  })

  it('rejects flags where none are taken', () => {
    expect(error('CMD --foo x')).toBe('dockerfile parse error on line 2: unknown flag: --foo')
    expect(error('ENTRYPOINT --x=1 y')).toContain('unknown flag: --x')
    expect(one('RUN -x')).toMatchObject({ cmdLine: ['-x'] })
  })
})

describe('ENV, LABEL, ARG', () => {
  it('types ENV in both forms, values unexpanded', () => {
    const [a, b] = parse('ENV A=1 B="two words" C=three\\ words\nENV OLD some value')
    expect(payload(a)).toEqual({
      kind: 'env',
      pairs: [
        { key: 'A', value: '1' },
        { key: 'B', value: '"two words"' },
        { key: 'C', value: 'three\\ words' },
      ],
      legacy: false,
    })
    expect(payload(b)).toEqual({ kind: 'env', pairs: [{ key: 'OLD', value: 'some value' }], legacy: true })
  })

  it('types LABEL', () => {
    expect(payload(one('LABEL org.opencontainers.image.title="berth" version=1'))).toEqual({
      kind: 'label',
      pairs: [
        { key: 'org.opencontainers.image.title', value: '"berth"' },
        { key: 'version', value: '1' },
      ],
      legacy: false,
    })
  })

  it('types ARG with and without defaults', () => {
    expect(payload(one('ARG A B=2 C="x y" D='))).toEqual({
      kind: 'arg',
      args: [{ key: 'A' }, { key: 'B', value: '2' }, { key: 'C', value: '"x y"' }, { key: 'D', value: '' }],
    })
  })

  it('rejects empty and nameless definitions', () => {
    expect(error('ENV')).toBe('dockerfile parse error on line 2: ENV requires at least one argument')
    expect(error('LABEL')).toContain('LABEL requires at least one argument')
    expect(error('ARG')).toContain('ARG requires at least one argument')
    expect(error('ENV =x')).toContain('ENV names can not be blank')
    expect(error('ARG =x')).toContain('ARG names can not be blank')
    expect(error('ENV --x=1 a=b')).toContain('unknown flag: --x')
  })
})

describe('COPY and ADD', () => {
  it('types COPY with every flag', () => {
    const copy = one('COPY --from=build --chown=app:app --chmod=0755 --link --parents --exclude=*.md --exclude=.git a b/ /dst/')
    expect(payload(copy)).toEqual({
      kind: 'copy',
      sources: ['a', 'b/'],
      contents: [],
      dest: '/dst/',
      json: false,
      from: 'build',
      chown: 'app:app',
      chmod: '0755',
      link: true,
      parents: true,
      excludes: ['*.md', '.git'],
    })
  })

  it('types COPY in JSON form and with heredocs', () => {
    expect(one('COPY ["a b", "/d e/"]')).toMatchObject({ sources: ['a b'], dest: '/d e/', json: true })
    const copy = one("COPY <<-one <<'two' src /dst/\n\tfirst $X\none\nsecond $X\ntwo")
    expect(copy).toMatchObject({
      sources: ['src'],
      contents: [
        { path: 'one', data: 'first $X\n', expand: true },
        { path: 'two', data: 'second $X\n', expand: false },
      ],
      dest: '/dst/',
    })
  })

  it('types ADD', () => {
    const add = one('ADD --checksum=sha256:abc --keep-git-dir=false --unpack --link https://example.com/a.tgz /opt/')
    expect(payload(add)).toEqual({
      kind: 'add',
      sources: ['https://example.com/a.tgz'],
      contents: [],
      dest: '/opt/',
      json: false,
      checksum: 'sha256:abc',
      keepGitDir: false,
      unpack: true,
      link: true,
      excludes: [],
    })
    expect(one('ADD a b')).not.toHaveProperty('unpack')
  })

  it('rejects a missing destination, unknown flags and a heredoc destination', () => {
    expect(error('COPY a')).toBe(
      'dockerfile parse error on line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined',
    )
    expect(error('ADD --chown=1 a')).toContain('ADD requires at least two arguments')
    expect(error('COPY --form=x a b')).toContain('unknown flag: --form (did you mean from?)')
    expect(error('ADD --from=x a b')).toBe('dockerfile parse error on line 2: unknown flag: --from')
    expect(error('ADD --parents a b')).toContain('unknown flag: --parents')
    expect(error('COPY --link=maybe a b')).toContain('expecting boolean value for flag --link, not: maybe')
    expect(error('COPY --link= a b')).toContain('missing a value on flag: --link')
    expect(error('COPY --chown a b')).toContain('missing a value on flag: --chown')
    expect(error('COPY a <<EOF\nEOF')).toContain('COPY cannot accept a heredoc as a destination')
  })

  it('accepts bool flags as --flag, --flag=true and --flag=FALSE', () => {
    expect(one('COPY --link=true a b')).toMatchObject({ link: true })
    expect(one('COPY --link=FALSE a b')).toMatchObject({ link: false })
  })
})

describe('metadata instructions', () => {
  it('types EXPOSE (sorted), USER, WORKDIR, VOLUME, STOPSIGNAL, MAINTAINER', () => {
    const [expose, user, workdir, vol, volJson, stop, maint] = parse(
      'EXPOSE 8080 443/tcp 53/udp\nUSER app:staff\nWORKDIR /srv/$APP\nVOLUME /a /b\nVOLUME ["/c d"]\nSTOPSIGNAL SIGQUIT\nMAINTAINER me@example.com',
    )
    expect(payload(expose)).toEqual({ kind: 'expose', ports: ['443/tcp', '53/udp', '8080'] })
    expect(payload(user)).toEqual({ kind: 'user', user: 'app:staff' })
    expect(payload(workdir)).toEqual({ kind: 'workdir', path: '/srv/$APP' })
    expect(payload(vol)).toEqual({ kind: 'volume', volumes: ['/a', '/b'] })
    expect(payload(volJson)).toEqual({ kind: 'volume', volumes: ['/c d'] })
    expect(payload(stop)).toEqual({ kind: 'stopsignal', signal: 'SIGQUIT' })
    expect(payload(maint)).toEqual({ kind: 'maintainer', maintainer: 'me@example.com' })
  })

  it('checks argument counts', () => {
    for (const kw of ['USER', 'WORKDIR', 'STOPSIGNAL', 'MAINTAINER']) {
      expect(error(kw)).toBe(`dockerfile parse error on line 2: ${kw} requires exactly one argument`)
    }
    for (const kw of ['EXPOSE', 'VOLUME', 'HEALTHCHECK', 'ONBUILD']) {
      expect(error(kw)).toBe(`dockerfile parse error on line 2: ${kw} requires at least one argument`)
    }
    expect(error('VOLUME [""]')).toContain('VOLUME specified can not be an empty string')
  })

  it('takes the rest of the line as the one argument', () => {
    expect(one('USER some user')).toMatchObject({ user: 'some user' })
  })
})

describe('HEALTHCHECK', () => {
  it('types CMD in shell and exec forms with options in nanoseconds', () => {
    const [shell, exec, none] = parse(
      'HEALTHCHECK --interval=30s --timeout=1m30s --start-period=1.5s --start-interval=500ms --retries=3 CMD curl -f http://localhost/ || exit 1\nHEALTHCHECK CMD ["/bin/check", "--quiet"]\nHEALTHCHECK NONE',
    )
    expect(payload(shell)).toEqual({
      kind: 'healthcheck',
      health: {
        test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'],
        interval: 30e9,
        timeout: 90e9,
        startPeriod: 1.5e9,
        startInterval: 500e6,
        retries: 3,
      },
    })
    expect(exec).toMatchObject({ health: { test: ['CMD', '/bin/check', '--quiet'], interval: 0, retries: 0 } })
    expect(none).toMatchObject({ health: { test: ['NONE'] } })
  })

  it('treats 0 as unset and rejects intervals under 1ms', () => {
    expect(one('HEALTHCHECK --interval=0s --timeout=0 CMD x')).toMatchObject({ health: { interval: 0, timeout: 0 } })
    expect(error('HEALTHCHECK --interval=50us CMD x')).toContain('Interval "interval" cannot be less than 1ms')
    expect(error('HEALTHCHECK --timeout=-1s CMD x')).toContain('Interval "timeout" cannot be less than 1ms')
    expect(error('HEALTHCHECK --interval=5 CMD x')).toContain('time: missing unit in duration "5"')
    expect(error('HEALTHCHECK --interval=5y CMD x')).toContain('time: unknown unit "y" in duration "5y"')
    expect(error('HEALTHCHECK --interval=abc CMD x')).toContain('time: invalid duration "abc"')
  })

  it('rejects bad types, retries and missing commands', () => {
    expect(error('HEALTHCHECK NONE x')).toContain('HEALTHCHECK NONE takes no arguments')
    expect(error('HEALTHCHECK CONNECT TCP 7000')).toBe(
      'dockerfile parse error on line 2: Unknown type "CONNECT" in HEALTHCHECK (try CMD)',
    )
    expect(error('HEALTHCHECK CMD')).toContain('Missing command after HEALTHCHECK CMD')
    expect(error('HEALTHCHECK --retries=-1 CMD x')).toContain('--retries cannot be negative (-1)')
    expect(error('HEALTHCHECK --retries=x CMD x')).toContain('strconv.ParseInt: parsing "x": invalid syntax')
    expect(error('HEALTHCHECK --intreval=1s CMD x')).toContain('unknown flag: --intreval (did you mean interval?)')
  })

  it('lower-case cmd and none are accepted', () => {
    expect(one('healthcheck none')).toMatchObject({ health: { test: ['NONE'] } })
    expect(one('healthcheck cmd true')).toMatchObject({ health: { test: ['CMD-SHELL', 'true'] } })
  })
})

describe('ONBUILD', () => {
  it('keeps the trigger expression as docker stores it', () => {
    const [run, copy, hd] = parse('ONBUILD RUN ["echo", "x"]\nonbuild   copy --chown=1 . /app\nONBUILD RUN <<EOF\necho hi\nEOF')
    expect(payload(run)).toEqual({ kind: 'onbuild', expression: 'RUN ["echo", "x"]', trigger: 'RUN' })
    expect(payload(copy)).toEqual({ kind: 'onbuild', expression: 'copy --chown=1 . /app', trigger: 'COPY' })
    expect(payload(hd)).toEqual({ kind: 'onbuild', expression: 'RUN <<EOF\necho hi\nEOF', trigger: 'RUN' })
  })

  it('rejects FROM, MAINTAINER and ONBUILD triggers', () => {
    expect(error('ONBUILD FROM scratch')).toBe("dockerfile parse error on line 2: FROM isn't allowed as an ONBUILD trigger")
    expect(error('ONBUILD maintainer me')).toContain("MAINTAINER isn't allowed as an ONBUILD trigger")
    expect(error('ONBUILD ONBUILD RUN x')).toContain('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed')
  })
})

describe('unknown instructions', () => {
  it('names the instruction and suggests a close one in its case', () => {
    expect(error('BOGUS bar')).toBe('dockerfile parse error on line 2: unknown instruction: BOGUS')
    expect(error('FOO bar')).toContain('unknown instruction: FOO (did you mean FROM?)')
    expect(error('RUNN x')).toBe('dockerfile parse error on line 2: unknown instruction: RUNN (did you mean RUN?)')
    expect(error('cmdd x')).toContain('unknown instruction: cmdd (did you mean cmd?)')
    expect(error('Workdr /x')).toContain('unknown instruction: Workdr (did you mean workdir?)')
  })

  it('ignores STOPSIGNAL and ARG flags as docker does', () => {
    expect(one('STOPSIGNAL --x 9')).toMatchObject({ signal: '9' })
    expect(one('ARG --x A')).toMatchObject({ args: [{ key: 'A' }] })
  })
})
