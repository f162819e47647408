import { describe, expect, it } from 'vitest'
import { parseTemplate, dockerFuncs } from '../../gotemplate/index.js'
import type { SystemInfo } from '../../api/types/index.js'
import { eventData, formatEvent, infoData, parseEvent } from './system.js'

const line = '{"status":"die","id":"abc","from":"busybox","Type":"container","Action":"die","Actor":{"ID":"abc","Attributes":{"name":"x","exitCode":"0"}},"scope":"local","time":1795804411,"timeNano":1795804411656177162}'

describe('events', () => {
  it('keeps timeNano exact', () => {
    const e = parseEvent(line)
    expect(e.timeNano).toBe(1795804411656177162n)
    expect(formatEvent(e)).toMatch(/\.656177162(Z|[+-]\d\d:\d\d) container die abc \(exitCode=0, name=x\)$/)
  })
  it('offers Go field names and encodes as docker', () => {
    const data = eventData(parseEvent(line))
    expect(parseTemplate('{{.ID}} {{.Status}} {{.Actor.ID}} {{.TimeNano}}', { funcs: dockerFuncs }).execute(data))
      .toBe('abc die abc 1795804411656177162')
    expect(parseTemplate('{{json .}}', { funcs: dockerFuncs }).execute(data)).toBe(line.replace('"Attributes":{"name":"x","exitCode":"0"}', '"Attributes":{"exitCode":"0","name":"x"}'))
    expect(() => parseTemplate('{{.Foo}}', { funcs: dockerFuncs }).execute(data)).toThrow("can't evaluate field Foo in type *events.Message")
  })
})

describe('infoData', () => {
  it('orders fields as docker system.Info and adds ClientInfo', () => {
    const d = infoData({ DockerRootDir: '/x', ID: 'i', Containers: 1 } as unknown as SystemInfo)
    expect(Object.keys(d)).toEqual(['ID', 'Containers', 'DockerRootDir', 'CDISpecDirs', 'Warnings', 'ClientInfo'])
  })
})
