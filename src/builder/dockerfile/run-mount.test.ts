import { describe, expect, it } from 'vitest'
import { checkRunMount, csvFields, parseRunMount } from './run-mount.js'

describe('parseRunMount', () => {
  it('defaults to a read-only bind mount', () => {
    expect(parseRunMount('target=/src,from=build,source=/out')).toEqual({
      type: 'bind',
      target: '/src',
      from: 'build',
      source: '/out',
      readOnly: true,
      sizeLimit: 0,
      required: false,
    })
  })

  it('makes cache and tmpfs writable unless told otherwise', () => {
    expect(parseRunMount('type=cache,target=/c')).toMatchObject({ readOnly: false })
    expect(parseRunMount('type=cache,target=/c,ro')).toMatchObject({ readOnly: true })
    expect(parseRunMount('type=tmpfs,dst=/t,size=64m')).toMatchObject({ readOnly: false, sizeLimit: 64 * 1024 * 1024 })
    expect(parseRunMount('type=bind,target=/b,rw')).toMatchObject({ readOnly: false })
    expect(parseRunMount('type=bind,target=/b,readwrite=true')).toMatchObject({ readOnly: false })
    expect(parseRunMount('type=bind,target=/b,readonly=0')).toMatchObject({ readOnly: false })
  })

  it('takes cache and secret options', () => {
    expect(parseRunMount('type=cache,target=/c,id=go,sharing=private,mode=0700,uid=1000,gid=1000')).toMatchObject({
      id: 'go',
      sharing: 'private',
      mode: 0o700,
      uid: 1000,
      gid: 1000,
    })
    expect(parseRunMount('type=secret,id=npm,target=/run/secrets/npm,required')).toMatchObject({ required: true })
    expect(parseRunMount('type=ssh,required=false')).toMatchObject({ type: 'ssh', required: false })
    expect(parseRunMount('"type=secret","id=a,b"')).toMatchObject({ type: 'secret', id: 'a,b' })
  })

  it.each([
    ['type=nfs', 'unsupported mount type "nfs"'],
    ['type=cach', 'unsupported mount type "cach" (did you mean cache?)'],
    ['type=cache,sharing=all', 'unsupported sharing value "all"'],
    ['target=/x,foo=bar', "unexpected key 'foo' in 'foo=bar'"],
    ['target=/x,targt=/y', "unexpected key 'targt' in 'targt=/y' (did you mean target?)"],
    ['target', "invalid field 'target' must be a key=value pair"],
    ['type=bind,required', "unexpected key 'required' for mount type 'bind'"],
    ['type=cache,size=1m', "unexpected key 'size' for mount type 'cache'"],
    ['type=tmpfs,size=lots', 'invalid value for size: lots'],
    ['type=cache,mode=999', 'invalid value 999 for mode'],
    ['type=bind,uid=0', 'uid not allowed for "bind" type mounts'],
    ['type=bind,ro=maybe', 'invalid value for ro: maybe'],
    ['type=secret', 'invalid secret mount. one of source, target required'],
    ['type=secret,id=a,source=b', "both source and id can't be set"],
    ['type=secret,id=a,from=x', 'secret mount should not have a from'],
    ['type=bind,sharing=shared', 'invalid cache sharing set for bind mount'],
  ])('%s: %s', (spec, message) => {
    expect(() => parseRunMount(spec)).toThrow(message)
  })
})

describe('checkRunMount', () => {
  it('accepts variables except in from=', () => {
    expect(() => checkRunMount('type=$T,target=${DIR},from=stage$')).not.toThrow()
    expect(() => checkRunMount('from=${STAGE}')).toThrow("'from' doesn't support variable expansion")
  })
})

describe('csvFields', () => {
  it('reads one CSV record', () => {
    expect(csvFields('a,b,,c')).toEqual(['a', 'b', '', 'c'])
    expect(csvFields('"a,b","say ""hi""",c')).toEqual(['a,b', 'say "hi"', 'c'])
    expect(csvFields('x\n')).toEqual(['x'])
    expect(() => csvFields('')).toThrow('EOF')
    expect(() => csvFields('"a"b')).toThrow('extraneous or missing " in quoted-field')
    expect(() => csvFields('"a')).toThrow('extraneous or missing " in quoted-field')
  })
})
