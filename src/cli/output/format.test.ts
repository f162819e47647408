import { describe, expect, it } from 'vitest'
import type { ContainerSummary } from '../../api/types/index.js'
import { containerRow } from './contexts.js'
import { labelHeader, renderFormat } from './format.js'
import { goStruct, isGoStruct } from './struct.js'

const summary: ContainerSummary = {
  Id: 'a'.repeat(64), Names: ['/web'], Image: 'busybox', ImageID: 'sha256:' + 'b'.repeat(64),
  Command: 'echo <hi>', Created: 1_700_000_000, Ports: [], Labels: { 'com.example.some-label': 'v', k: 'x' },
  State: 'running', Status: 'Up 3 seconds', HostConfig: {}, NetworkSettings: { Networks: { bridge: {} } }, Mounts: [],
}

describe('labelHeader', () => {
  it('uses the last dotted part with - and _ as spaces, not upper-cased', () => {
    expect(labelHeader('com.example.some-label')).toBe('some label')
    expect(labelHeader('k_1')).toBe('k 1')
  })
})

describe('renderFormat', () => {
  const row = containerRow(summary, true)
  it('heads .Label columns as docker does', () => {
    expect(renderFormat('table {{.Names}}\t{{.Label "com.example.some-label"}}', [row], { Names: 'NAMES' }))
      .toBe('NAMES     some label\nweb       v\n')
  })
  it('escapes <, > and & in the JSON of a row, as json.Marshal does', () => {
    expect(renderFormat('{{json .}}', [row], {})).toContain('"Command":"\\"echo \\u003chi\\u003e\\""')
    expect(renderFormat('{{json .Command}}', [row], {})).toBe('"\\"echo <hi>\\""\n')
  })
  it('treats rows as structs: an unknown field is an error, worded as docker', () => {
    expect(() => renderFormat('{{.Foo}}', [row], {}))
      .toThrow('template parsing error: template: :1:2: executing "" at <.Foo>: can\'t evaluate field Foo in type *formatter.ContainerContext')
  })
  it('prefixes parse errors', () => {
    expect(() => renderFormat('{{.Names', [row], {})).toThrow('template parsing error: template: :1: unclosed action')
  })
})

describe('goStruct', () => {
  it('keeps fields and JSON, and is recognised', () => {
    const s = goStruct('x.T', { B: 1, A: 2 })
    expect(JSON.stringify(s)).toBe('{"B":1,"A":2}')
    expect(isGoStruct(s)).toBe(true)
    expect(isGoStruct({ B: 1 })).toBe(false)
    expect(s.constructor.name).toBe('x.T')
  })
})
