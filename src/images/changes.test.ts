import { describe, expect, it } from 'vitest'
import { applyChanges, parseGoDuration, shellWords } from './changes.js'

describe('applyChanges', () => {
  it('parses exec and shell forms of CMD and ENTRYPOINT', () => {
    expect(applyChanges({}, ['CMD ["sh"]']).Cmd).toEqual(['sh'])
    expect(applyChanges({}, ['CMD echo hi there']).Cmd).toEqual(['/bin/sh', '-c', 'echo hi there'])
    expect(applyChanges({}, ['cmd [not json']).Cmd).toEqual(['/bin/sh', '-c', '[not json'])
    const c = applyChanges({ Cmd: ['old'] }, ['ENTRYPOINT ["/init"]'])
    expect(c.Entrypoint).toEqual(['/init'])
    expect(c.Cmd).toBeNull()
    expect(applyChanges({}, ['CMD ["a"]', 'ENTRYPOINT ["b"]']).Cmd).toEqual(['a'])
  })
  it('parses ENV in both forms with quotes and expansion', () => {
    const c = applyChanges({ Env: ['PATH=/bin'] }, ['ENV A=1 B="two words" PATH=$PATH:/x', 'ENV LEGACY some value here', "ENV C='$A'"])
    expect(c.Env).toEqual(['PATH=/bin:/x', 'A=1', 'B=two words', 'LEGACY=some value here', 'C=$A'])
  })
  it('parses LABEL, EXPOSE, USER, WORKDIR, VOLUME, STOPSIGNAL, ONBUILD', () => {
    const c = applyChanges({}, [
      'LABEL a=b "c d"=e',
      'EXPOSE 80 53/udp 8000-8002',
      'USER nobody',
      'WORKDIR /app',
      'WORKDIR sub',
      'VOLUME ["/data", "/logs"]',
      'VOLUME /cache',
      'STOPSIGNAL SIGQUIT',
      'ONBUILD RUN echo hi',
    ])
    expect(c.Labels).toEqual({ a: 'b', 'c d': 'e' })
    expect(Object.keys(c.ExposedPorts ?? {})).toEqual(['80/tcp', '53/udp', '8000/tcp', '8001/tcp', '8002/tcp'])
    expect(c.User).toBe('nobody')
    expect(c.WorkingDir).toBe('/app/sub')
    expect(Object.keys(c.Volumes ?? {})).toEqual(['/data', '/logs', '/cache'])
    expect(c.StopSignal).toBe('SIGQUIT')
    expect(c.OnBuild).toEqual(['RUN echo hi'])
  })
  it('parses HEALTHCHECK', () => {
    expect(applyChanges({}, ['HEALTHCHECK --interval=5s --retries=3 CMD curl -f http://x/']).Healthcheck).toEqual({ Interval: 5e9, Retries: 3, Test: ['CMD-SHELL', 'curl -f http://x/'] })
    expect(applyChanges({}, ['HEALTHCHECK NONE']).Healthcheck).toEqual({ Test: ['NONE'] })
  })
  it('refuses what docker refuses', () => {
    expect(() => applyChanges({}, ['RUN echo'])).toThrow('run is not a valid change command')
    expect(() => applyChanges({}, ['FROM x'])).toThrow('from is not a valid change command')
    expect(() => applyChanges({}, ['STOPSIGNAL SIGBOGUS'])).toThrow('Invalid signal: SIGBOGUS')
    expect(() => applyChanges({}, ['EXPOSE 99999'])).toThrow(/invalid range/)
    expect(() => applyChanges({}, ['ONBUILD ONBUILD RUN x'])).toThrow(/Chaining ONBUILD/)
    expect(() => applyChanges({}, ['ENV =x'])).toThrow(/names can not be blank/)
  })
  it('leaves the base config alone', () => {
    const base = { Env: ['A=1'] }
    applyChanges(base, ['ENV A=2'])
    expect(base.Env).toEqual(['A=1'])
  })
})

describe('shellWords', () => {
  it('splits, unquotes and expands', () => {
    expect(shellWords(`a "b c" 'd $X' \\"e \${X:-dflt} \${Y:-dflt}`, ['X=x'])).toEqual(['a', 'b c', 'd $X', '"e', 'x', 'dflt'])
  })
})

describe('parseGoDuration', () => {
  it('reads Go durations', () => {
    expect(parseGoDuration('1m30s')).toBe(90e9)
    expect(parseGoDuration('500ms')).toBe(5e8)
    expect(() => parseGoDuration('5x')).toThrow(/invalid duration/)
  })
})
