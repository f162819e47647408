import { describe, expect, it } from 'vitest'
import { mergeCommand, mergeEnv } from './config-merge.js'

describe('mergeEnv (moby commit.go merge)', () => {
  it("keeps the user's entries first, then the image's the user did not set", () => {
    expect(mergeEnv(['PATH=/bin', 'A=image', 'C=3'], ['A=mine', 'B=2'])).toEqual(['A=mine', 'B=2', 'PATH=/bin', 'C=3'])
  })
  it('adds no PATH of its own: that is the runtime environment, not Config.Env', () => {
    expect(mergeEnv([], ['X=1'])).toEqual(['X=1'])
    expect(mergeEnv([], [])).toEqual([])
  })
  it('a bare NAME replaces the image entry of that name (it unsets it at run time)', () => {
    expect(mergeEnv(['PATH=/bin', 'A=1'], ['A'])).toEqual(['A', 'PATH=/bin'])
  })
})

describe('mergeCommand (moby merge and mergeAndVerifyConfig)', () => {
  const image = { Entrypoint: ['/entry'], Cmd: ['default'] }
  it("takes the image's entrypoint and command when the user gives neither", () => {
    expect(mergeCommand({ entrypoint: null, cmd: null }, image)).toEqual({ entrypoint: ['/entry'], cmd: ['default'] })
    expect(mergeCommand({ entrypoint: null, cmd: [] }, image)).toEqual({ entrypoint: ['/entry'], cmd: ['default'] })
  })
  it("a user command replaces the image's, under the image's entrypoint", () => {
    expect(mergeCommand({ entrypoint: null, cmd: ['x'] }, image)).toEqual({ entrypoint: ['/entry'], cmd: ['x'] })
  })
  it("a user entrypoint drops the image's command", () => {
    expect(mergeCommand({ entrypoint: ['echo'], cmd: null }, image)).toEqual({ entrypoint: ['echo'], cmd: [] })
  })
  it('--entrypoint "" clears the entrypoint; the command runs by itself', () => {
    expect(mergeCommand({ entrypoint: [''], cmd: ['echo', 'x'] }, image)).toEqual({ entrypoint: [], cmd: ['echo', 'x'] })
    // The image's command does not come back: [""] is an entrypoint the user gave.
    expect(() => mergeCommand({ entrypoint: [''], cmd: null }, image)).toThrow('no command specified')
  })
  it('an empty entrypoint list keeps the image command but not its entrypoint', () => {
    expect(mergeCommand({ entrypoint: [], cmd: null }, image)).toEqual({ entrypoint: [], cmd: ['default'] })
  })
  it('refuses a container with nothing to run', () => {
    expect(() => mergeCommand({ entrypoint: null, cmd: null }, {})).toThrow('no command specified')
  })
})
