import { describe, expect, it } from 'vitest'
import { DetachScanner, parseDetachKeys } from './detach-keys.js'

describe('detach keys', () => {
  it('parses docker syntax', () => {
    expect([...parseDetachKeys('ctrl-p,ctrl-q')]).toEqual([16, 17])
    expect([...parseDetachKeys('ctrl-@,a,ctrl-[')]).toEqual([0, 97, 27])
    expect(() => parseDetachKeys('ctrl-pp')).toThrow(/Invalid detach keys/)
  })

  it('detaches on the sequence and holds back a partial prefix', () => {
    const s = new DetachScanner(parseDetachKeys('ctrl-p,ctrl-q'))
    expect(s.feed(Buffer.from('ab\x10'))).toEqual({ forward: Buffer.from('ab'), detach: false })
    expect(s.feed(Buffer.from('\x11'))).toEqual({ forward: Buffer.from(''), detach: true })
  })

  it('passes a broken prefix through unchanged', () => {
    const s = new DetachScanner(parseDetachKeys('ctrl-p,ctrl-q'))
    expect(s.feed(Buffer.from('\x10x')).forward).toEqual(Buffer.from('\x10x'))
    expect(s.feed(Buffer.from('\x10\x10\x11')).detach).toBe(true)
  })
})
