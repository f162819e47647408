import { describe, expect, it } from 'vitest'
import { applyChanges } from './changes.js'
import { commitTarget, mergeCommitConfig } from './commit.js'

describe('mergeCommitConfig (moby daemon/commit.go merge)', () => {
  const container = {
    User: 'app', Env: ['PATH=/bin', 'A=1'], Cmd: ['sh'], Entrypoint: null, Labels: { a: '1' }, WorkingDir: '/w',
    ExposedPorts: { '80/tcp': {} }, Volumes: { '/v': {} }, StopSignal: 'SIGINT', Healthcheck: { Test: ['CMD', 'true'], Interval: 5 },
  }

  it('fills what the changes left unset, key by key', () => {
    const out = mergeCommitConfig(applyChanges({}, ['ENV A=2 B=3', 'LABEL b=2', 'EXPOSE 443', 'HEALTHCHECK --timeout=1s CMD false']), container)
    expect(out.Env).toEqual(['A=2', 'B=3', 'PATH=/bin'])
    expect(out.Labels).toEqual({ a: '1', b: '2' })
    expect(Object.keys(out.ExposedPorts ?? {}).sort()).toEqual(['443/tcp', '80/tcp'])
    expect(out).toMatchObject({ User: 'app', Cmd: ['sh'], WorkingDir: '/w', StopSignal: 'SIGINT', Volumes: { '/v': {} } })
    expect(out.Healthcheck).toEqual({ Test: ['CMD-SHELL', 'false'], Timeout: 1e9, Interval: 5 })
  })

  it('takes the old command only when there is no entrypoint', () => {
    expect(mergeCommitConfig(applyChanges({}, ['ENTRYPOINT ["top"]']), container).Cmd).toBeNull()
    expect(mergeCommitConfig(applyChanges({}, ['CMD ["ls"]']), container)).toMatchObject({ Cmd: ['ls'], Entrypoint: null })
  })

  it('does not touch its input', () => {
    const user = { Env: ['X=1'] }
    mergeCommitConfig(user, container)
    expect(user).toEqual({ Env: ['X=1'] })
  })
})

describe('commitTarget', () => {
  it('defaults the tag and refuses digests', () => {
    expect(commitTarget('img').tag).toBe('latest')
    expect(() => commitTarget(`img@sha256:${'a'.repeat(64)}`)).toThrow('refusing to create a tag with a digest reference')
    expect(() => commitTarget('sha256:x')).toThrow(/ambiguous/)
  })
})
