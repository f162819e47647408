import { describe, expect, it } from 'vitest'
import { kindOf } from '../../errors/index.js'
import { resolveGlobalArgs, resolveStageArg } from './args.js'
import { parseDockerfile } from './parse.js'
import { buildOrder, findStage, resolveStages, resolveTarget } from './stages.js'

const multi = parseDockerfile(
  [
    'FROM alpine AS Base', // 0
    'FROM base AS build', // 1
    'RUN --mount=type=cache,target=/c --mount=type=bind,from=tools,target=/t make',
    'FROM busybox AS tools', // 2
    'FROM scratch', // 3
    'COPY --from=build /out /',
    'COPY --from=2 /bin/tool /',
    'COPY --from=nginx:latest /etc/nginx /etc/nginx',
  ].join('\n'),
)

describe('stage lookup', () => {
  it('finds stages by name (any case) or index', () => {
    expect(findStage(multi.stages, 'BUILD')?.index).toBe(1)
    expect(findStage(multi.stages, 'base')?.index).toBe(0)
    expect(findStage(multi.stages, '2')?.name).toBe('tools')
    expect(findStage(multi.stages, '9')).toBeUndefined()
    expect(findStage(multi.stages, 'nope')).toBeUndefined()
  })

  it('resolves --target, defaulting to the last stage', () => {
    expect(resolveTarget(multi.stages).index).toBe(3)
    expect(resolveTarget(multi.stages, '').index).toBe(3)
    expect(resolveTarget(multi.stages, 'Tools').index).toBe(2)
    expect(resolveTarget(multi.stages, '1').index).toBe(1)
    try {
      resolveTarget(multi.stages, 'buidl')
      expect.unreachable()
    } catch (err) {
      expect(kindOf(err)).toBe('invalid-argument')
      expect((err as Error).message).toBe('target stage "buidl" could not be found (did you mean build?)')
    }
    expect(() => resolveTarget(multi.stages, 'zzzzzz')).toThrow('target stage "zzzzzz" could not be found')
  })
})

describe('resolveStages', () => {
  it('resolves bases and dependencies', () => {
    const r = resolveStages(multi, new Map())
    expect(r.map((s) => [s.displayName, s.base, s.deps])).toEqual([
      ['base', { kind: 'image', ref: 'alpine' }, []],
      ['build', { kind: 'stage', index: 0 }, [0, 2]],
      ['tools', { kind: 'image', ref: 'busybox' }, []],
      ['stage-3', { kind: 'scratch' }, [1, 2]],
    ])
    expect(buildOrder(r, 3)).toEqual([0, 2, 1, 3])
    expect(buildOrder(r, 2)).toEqual([2])
  })

  it('expands FROM and --platform with the global args only', () => {
    const df = parseDockerfile('ARG TAG=3.20\nARG PLAT\nFROM --platform=${PLAT:-linux/amd64} alpine:${TAG} AS a\nARG TAG=x\nFROM a')
    const r = resolveStages(df, resolveGlobalArgs(df.metaArgs))
    expect(r[0]).toMatchObject({ baseName: 'alpine:3.20', platform: 'linux/amd64' })
    expect(r[1]).toMatchObject({ baseName: 'a', base: { kind: 'stage', index: 0 } })
  })

  it('only lets FROM name an earlier stage', () => {
    const df = parseDockerfile('FROM later AS first\nFROM alpine AS later')
    expect(resolveStages(df, new Map())[0].base).toEqual({ kind: 'image', ref: 'later' })
  })

  it('rejects blank bases and platforms', () => {
    const blank = parseDockerfile('ARG IMG\nFROM ${IMG}')
    expect(() => resolveStages(blank, new Map())).toThrow('base name (${IMG}) should not be blank')
    const plat = parseDockerfile('FROM --platform=$P alpine')
    expect(() => resolveStages(plat, new Map())).toThrow('empty platform value from expression $P')
    const bad = parseDockerfile('FROM ${X')
    expect(() => resolveStages(bad, new Map())).toThrow(`failed to process "\${X": syntax error: missing '}'`)
  })

  it('rejects variables in COPY --from and bad stage indexes', () => {
    const v = parseDockerfile('FROM a\nCOPY --from=$S / /')
    expect(() => resolveStages(v, new Map([['S', 'x']]))).toThrow('variable expansion is not supported for --from')
    const i = parseDockerfile('FROM a\nCOPY --from=5 / /')
    expect(() => resolveStages(i, new Map())).toThrow('invalid stage index 5')
  })

  it('detects cycles like buildkit', () => {
    const self = parseDockerfile('FROM busybox AS stage0\nCOPY --from=stage0 f1 /sub/')
    expect(() => resolveStages(self, new Map())).toThrow('circular dependency detected on stage: stage0')
    const three = parseDockerfile(
      'FROM busybox AS stage0\nCOPY --from=stage2 f1 /\nFROM busybox AS stage1\nCOPY --from=stage0 f2 /\nFROM busybox AS stage2\nCOPY --from=stage1 f3 /',
    )
    expect(() => resolveStages(three, new Map())).toThrow('circular dependency detected on stage: stage0')
    const unnamed = parseDockerfile('FROM busybox\nCOPY --from=0 a /')
    expect(() => resolveStages(unnamed, new Map())).toThrow('circular dependency detected on stage: stage-0')
  })
})

describe('build args', () => {
  it('resolves the global scope in order, --build-arg first', () => {
    const df = parseDockerfile('ARG A=1 B=${A}2\nARG C\nARG D=${C:-none} E\nFROM x')
    expect([...resolveGlobalArgs(df.metaArgs)]).toEqual([['A', '1'], ['B', '12'], ['D', 'none']])
    const given = resolveGlobalArgs(df.metaArgs, { buildArgs: new Map([['A', 'a'], ['C', 'c'], ['E', '']]) })
    expect([...given]).toEqual([['A', 'a'], ['B', 'a2'], ['C', 'c'], ['D', 'c'], ['E', '']])
    const initial = resolveGlobalArgs(df.metaArgs, { initial: new Map([['TARGETARCH', 'amd64']]) })
    expect(initial.get('TARGETARCH')).toBe('amd64')
  })

  it('reports a bad default at its line', () => {
    const df = parseDockerfile('ARG A=${\nFROM x')
    expect(() => resolveGlobalArgs(df.metaArgs)).toThrow(`failed to process "\${": syntax error: missing '}'`)
  })

  it('gives a stage ARG its build arg, default or global value', () => {
    const globalArgs = new Map([['V', 'global']])
    const env = new Map([['HOME', '/root']])
    expect(resolveStageArg({ key: 'V' }, { env, globalArgs })).toBe('global')
    expect(resolveStageArg({ key: 'V', value: '$HOME/x' }, { env, globalArgs })).toBe('/root/x')
    expect(resolveStageArg({ key: 'V', value: 'd' }, { env, globalArgs, buildArgs: new Map([['V', 'cli']]) })).toBe('cli')
    expect(resolveStageArg({ key: 'W' }, { env, globalArgs })).toBeUndefined()
  })
})
