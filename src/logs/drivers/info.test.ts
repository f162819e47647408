import { describe, expect, it } from 'vitest'

import { kindOf } from '../../errors/index.js'
import { LogInfo, parseLogTag } from './info.js'

const ID = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'
const IMG = 'sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210'

function info(config: Record<string, string> = {}) {
  return new LogInfo({
    config,
    containerID: ID,
    containerName: '/web',
    containerEntrypoint: 'sh',
    containerArgs: ['-c', 'echo hi'],
    containerImageID: IMG,
    containerImageName: 'busybox:latest',
    containerEnv: ['A=1', 'B=two=2', 'NOEQ', 'APP_MODE=prod'],
    containerLabels: { 'com.example.team': 'core', 'com.example.tier': 'web', other: 'x' },
    daemonName: 'docker',
    hostname: 'node1',
  })
}

describe('LogInfo', () => {
  it('has logger.Info methods', () => {
    const i = info()
    expect(i.ID()).toBe('0123456789ab')
    expect(i.FullID()).toBe(ID)
    expect(i.Name()).toBe('web')
    expect(i.ImageID()).toBe('sha256:fedcb')
    expect(i.ImageFullID()).toBe(IMG)
    expect(i.ImageName()).toBe('busybox:latest')
    expect(i.Command()).toBe('sh -c echo hi')
    expect(new LogInfo({ containerID: ID, containerName: 'x', containerArgs: ['a'] }).Command()).toBe(' a')
    expect(i.Hostname()).toBe('node1')
  })

  it('resolves labels and env options into extra attributes', () => {
    expect(info().ExtraAttributes()).toEqual({})
    expect(info({ labels: 'com.example.team,missing', env: 'A,B,NOEQ' }).ExtraAttributes()).toEqual({
      'com.example.team': 'core',
      A: '1',
      B: 'two=2',
    })
    expect(info({ 'labels-regex': '^com\\.example\\.', 'env-regex': '^APP_' }).ExtraAttributes()).toEqual({
      'com.example.team': 'core',
      'com.example.tier': 'web',
      APP_MODE: 'prod',
    })
    expect(info({ labels: 'other', env: 'A' }).ExtraAttributes((k) => '_' + k)).toEqual({ _other: 'x', _A: '1' })
    expect(() => info({ 'labels-regex': '(' }).ExtraAttributes()).toThrow(/^error parsing regexp/)
  })
})

describe('parseLogTag', () => {
  const cases: [string | undefined, string, string][] = [
    [undefined, '{{.ID}}', '0123456789ab'],
    ['', '{{.ID}}', '0123456789ab'],
    [undefined, '', ''],
    ['{{.Name}}', '', 'web'],
    ['{{.Name}}/{{.ID}}', '', 'web/0123456789ab'],
    ['{{.FullID}}', '', ID],
    ['{{.ImageName}}|{{.ImageID}}', '', 'busybox:latest|sha256:fedcb'],
    ['{{.ImageFullID}}', '', IMG],
    ['{{.DaemonName}}.{{.Command}}', '', 'docker.sh -c echo hi'],
    ['{{.ContainerName}}', '', '/web'],
    ['{{.ContainerID}}', '', ID],
    ['{{.Hostname}}', '', 'node1'],
    ['{{upper .Name}}-{{truncate .ID 4}}', '', 'WEB-0123'],
    ['{{index .ContainerLabels "com.example.team"}}', '', 'core'],
    ['{{join (split .Name "e") "_"}}', '', 'w_b'],
    ['plain', '', 'plain'],
  ]
  it.each(cases)('tag=%j default=%j → %j', (tag, def, want) => {
    expect(parseLogTag(info(tag === undefined ? {} : { tag }), def)).toBe(want)
  })

  it('reports template errors as Go does', () => {
    expect(() => parseLogTag(info({ tag: '{{.Nope}}' }), '')).toThrow(
      'template: log-tag:1:2: executing "log-tag" at <.Nope>: can\'t evaluate field Nope in type *logger.Info',
    )
    let err: unknown
    try {
      parseLogTag(info({ tag: '{{.ID' }), '')
    } catch (e) {
      err = e
    }
    expect((err as Error).message).toBe('template: log-tag:1: unclosed action')
    expect(kindOf(err)).toBe('invalid-argument')
  })
})
