import { PassThrough, Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { demuxStream, encodeFrame, StdcopyDemuxer, StdStream } from './stdcopy.js'
import { readJSONStream } from './json-stream.js'
import { encodeQuery, compareVersions } from './client.js'
import { errorMessageFromBody } from './errors.js'

function sink(): { w: Writable; text: () => string } {
  const chunks: Buffer[] = []
  return { w: new Writable({ write(c: Buffer, _e, cb) { chunks.push(c); cb() } }), text: () => Buffer.concat(chunks).toString() }
}

describe('StdcopyDemuxer', () => {
  it('handles frames split at any byte', () => {
    const data = Buffer.concat([encodeFrame(StdStream.Stdout, 'hello\n'), encodeFrame(StdStream.Stderr, 'oops\n')])
    for (let cut = 0; cut <= data.length; cut++) {
      const d = new StdcopyDemuxer()
      const frames = [...d.push(data.subarray(0, cut)), ...d.push(data.subarray(cut))]
      expect(frames.map((f) => [f.stream, f.payload.toString()])).toEqual([[1, 'hello\n'], [2, 'oops\n']])
    }
  })
  it('rejects unknown stream ids', () => {
    expect(() => new StdcopyDemuxer().push(Buffer.from([9, 0, 0, 0, 0, 0, 0, 0]))).toThrow('Unrecognized input header')
  })
  it('demuxStream routes to stdout/stderr and fails on systemerr', async () => {
    const src = new PassThrough()
    const out = sink()
    const err = sink()
    const done = demuxStream(src, out.w, err.w)
    src.end(Buffer.concat([encodeFrame(StdStream.Stdout, 'a'), encodeFrame(StdStream.Stderr, 'b')]))
    await done
    expect(out.text()).toBe('a')
    expect(err.text()).toBe('b')
    const src2 = new PassThrough()
    const p = demuxStream(src2, out.w, err.w)
    src2.end(encodeFrame(StdStream.Systemerr, 'boom'))
    await expect(p).rejects.toThrow('boom')
  })
})

describe('readJSONStream', () => {
  it('splits lines and concatenated values', async () => {
    const src = new PassThrough()
    src.end('{"status":"a"}\n{"status":"b"}{"status":"c\\"}"}\n')
    const got: unknown[] = []
    for await (const v of readJSONStream(src)) got.push(v)
    expect(got).toEqual([{ status: 'a' }, { status: 'b' }, { status: 'c"}' }])
  })
})

describe('client helpers', () => {
  it('encodes queries sorted, skipping undefined', () => {
    expect(encodeQuery({ stream: '1', stdout: '1', stderr: '1', stdin: undefined })).toBe('?stderr=1&stdout=1&stream=1')
  })
  it('compares versions', () => {
    expect(compareVersions('1.41', '1.50')).toBe(-1)
    expect(compareVersions('1.50', '1.50')).toBe(0)
  })
  it('extracts daemon messages', () => {
    expect(errorMessageFromBody(404, '{"message":"No such container: x"}')).toBe('No such container: x')
    expect(errorMessageFromBody(404, 'page not found')).toBe('page not found')
  })
})
