import { describe, expect, it } from 'vitest'

import { LogInfo } from './info.js'
import { encodeJournalFields, journaldContainerFields, journaldMessageFields, sanitizeJournalKey } from './journald.js'

describe('journald', () => {
  it('sanitizes attribute keys', () => {
    expect(sanitizeJournalKey('com.example.foo')).toBe('COM_EXAMPLE_FOO')
    expect(sanitizeJournalKey('_a')).toBe('A')
    expect(sanitizeJournalKey('__x-1')).toBe('X_1')
    expect(sanitizeJournalKey('Ab9')).toBe('AB9')
  })

  it('builds the fields', () => {
    const info = new LogInfo({
      config: { labels: 'com.x' },
      containerID: '0123456789abcdef0123',
      containerName: '/web',
      containerImageName: 'busybox',
      containerLabels: { 'com.x': 'y' },
    })
    const c = journaldContainerFields(info, 'e'.repeat(64))
    expect(Object.fromEntries(c)).toEqual({
      CONTAINER_ID: '0123456789ab',
      CONTAINER_ID_FULL: '0123456789abcdef0123',
      CONTAINER_NAME: 'web',
      CONTAINER_TAG: '0123456789ab',
      IMAGE_NAME: 'busybox',
      SYSLOG_IDENTIFIER: '0123456789ab',
      CONTAINER_LOG_EPOCH: 'e'.repeat(64),
      COM_X: 'y',
    })
    const f = journaldMessageFields(
      { line: Buffer.from('hi'), source: 'stderr', timestamp: { ms: Date.UTC(2026, 0, 2) }, partial: { id: 'p', ordinal: 1, last: false } },
      c,
      7,
    )
    expect(f.get('PRIORITY')).toBe('3')
    expect(f.get('SYSLOG_TIMESTAMP')).toBe('2026-01-02T00:00:00Z')
    expect(f.get('CONTAINER_PARTIAL_MESSAGE')).toBe('true')
    expect(f.get('CONTAINER_LOG_ORDINAL')).toBe('7')
  })

  it('encodes the native protocol', () => {
    const b = encodeJournalFields(
      new Map<string, string | Uint8Array>([
        ['MESSAGE', Buffer.from('a\nb')],
        ['PRIORITY', '6'],
      ]),
    )
    expect(b).toEqual(Buffer.from('MESSAGE\n\x03\x00\x00\x00\x00\x00\x00\x00a\nb\nPRIORITY=6\n', 'latin1'))
  })
})
