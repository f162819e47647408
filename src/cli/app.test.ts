import { describe, expect, it } from 'vitest'
import { argCountError, flagValueError, missingArgument, parseGoBool, rewriteShortEquals } from './app.js'

describe('argCountError', () => {
  const usage = 'berth x [OPTIONS]'
  it('words each checker as docker 28 does', () => {
    expect(argCountError('berth load', usage, [0, 0], 1)).toBe("berth: 'berth load' accepts no arguments\n\nUsage:  berth x [OPTIONS]\n\nRun 'berth load --help' for more information\n")
    expect(argCountError('berth rename', usage, [2, 2], 1)).toMatch(/requires 2 arguments\n[\s\S]*\nRun 'berth rename --help'/)
    expect(argCountError('berth logs', usage, [1, 1], 0)).toMatch(/requires 1 argument\n/)
    expect(argCountError('berth stop', usage, [1, -1], 0)).toMatch(/requires at least 1 argument\n[\s\S]*\nSee 'berth stop --help'/)
    expect(argCountError('berth images', usage, [0, 1], 2)).toMatch(/requires at most 1 argument\n[\s\S]*\nSRun 'berth images --help'/)
    expect(argCountError('berth port', usage, [1, 2], 3)).toMatch(/requires at least 1 and at most 2 arguments\n[\s\S]*\nRun 'berth port --help'/)
  })
  it('accepts counts in range', () => {
    expect(argCountError('berth port', usage, [1, 2], 2)).toBeUndefined()
    expect(argCountError('berth rm', usage, [1, -1], 5)).toBeUndefined()
    expect(argCountError('berth ps', usage, [0, 0], 0)).toBeUndefined()
  })
})

describe('flag values', () => {
  it('words a rejected value as pflag', () => {
    expect(flagValueError('-e, --env', '=x', 'invalid environment variable: =x'))
      .toBe('invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x')
  })
  it('parses bools as strconv.ParseBool', () => {
    expect(parseGoBool('false', '-H, --human')).toBe(false)
    expect(parseGoBool('T', '-H, --human')).toBe(true)
    expect(() => parseGoBool('no', '-H, --human')).toThrow('invalid argument "no" for "-H, --human" flag: strconv.ParseBool: parsing "no": invalid syntax')
  })
  it('names a flag missing its value as the user spelled it', () => {
    expect(missingArgument('-n, --last <int>', ['ps', '-n'])).toBe("flag needs an argument: 'n' in -n")
    expect(missingArgument('-n, --last <int>', ['ps', '--last'])).toBe('flag needs an argument: --last')
    expect(missingArgument('--name <string>', ['run', '--name'])).toBe('flag needs an argument: --name')
  })
})

describe('rewriteShortEquals', () => {
  const takes = (f: string): boolean | undefined => ({ '-e': true, '--name': true, '-H': false, '-d': false } as Record<string, boolean>)[f]
  it('turns -X=v into -Xv', () => {
    expect(rewriteShortEquals(['-H=false', 'img'], takes, true)).toEqual(['-Hfalse', 'img'])
  })
  it('leaves option values and the container command alone', () => {
    expect(rewriteShortEquals(['-e', '-x=y', '--name', '-n=1', '-d', 'img', 'echo', '-n=1'], takes, false))
      .toEqual(['-e', '-x=y', '--name', '-n=1', '-d', 'img', 'echo', '-n=1'])
    expect(rewriteShortEquals(['--', '-H=1'], takes, true)).toEqual(['--', '-H=1'])
  })
})
