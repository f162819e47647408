import { describe, expect, it } from 'vitest'
import type { NetworkSummary, Port } from '../../api/types/index.js'
import { displayablePorts } from './contexts.js'
import { goTimeOf, naturalCompare, networkFormat, networkRow } from './networks.js'

describe('displayablePorts', () => {
  const p = (PrivatePort: number, Type: string, IP?: string, PublicPort?: number): Port => ({ PrivatePort, Type, ...(IP ? { IP } : {}), ...(PublicPort !== undefined ? { PublicPort } : {}) })
  it('prints a binding to all addresses once per family, as docker 28', () => {
    expect(displayablePorts([p(80, 'tcp', '::', 8088), p(80, 'tcp', '0.0.0.0', 8088)])).toBe('0.0.0.0:8088->80/tcp, [::]:8088->80/tcp')
  })
  it('groups consecutive ports and keeps a group’s first place', () => {
    expect(displayablePorts([p(80, 'tcp'), p(81, 'tcp'), p(83, 'tcp'), p(53, 'udp')])).toBe('80-81/tcp, 53/udp, 83/tcp')
    expect(displayablePorts([p(8000, 'tcp', '0.0.0.0', 8000), p(8001, 'tcp', '0.0.0.0', 8001), p(9000, 'udp', '127.0.0.1', 32768)]))
      .toBe('0.0.0.0:8000-8001->8000-8001/tcp, 127.0.0.1:32768->9000/udp')
  })
  it('lists other host ports after the groups', () => {
    expect(displayablePorts([p(6677, 'tcp', '1.2.3.4', 7766), p(9988, 'udp', undefined, 8899)])).toBe('9988/udp, 1.2.3.4:7766->6677/tcp')
    expect(displayablePorts([p(9988, 'tcp', '::1', 8899)])).toBe('[::1]:8899->9988/tcp')
    expect(displayablePorts([])).toBe('')
  })
})

describe('network list output', () => {
  it('orders names naturally', () => {
    expect(['net10', 'bridge', 'net9', 'net09', 'Z'].sort(naturalCompare)).toEqual(['Z', 'bridge', 'net9', 'net09', 'net10'])
  })
  it('prints Created as Go’s time.Time', () => {
    expect(goTimeOf('2025-06-01T10:00:00.123456700Z')).toBe('2025-06-01 10:00:00.1234567 +0000 UTC')
    expect(goTimeOf('2025-06-01T10:00:00Z')).toBe('2025-06-01 10:00:00 +0000 UTC')
    expect(goTimeOf('2025-06-01T12:00:00.5+02:00', () => 'CEST')).toMatch(/^2025-06-01 12:00:00.5 \+0200 (\+0200|CEST)$/)
  })
  it('has docker’s columns and formats', () => {
    const n = { Name: 'web', Id: 'a'.repeat(64), Created: '2025-06-01T10:00:00Z', Scope: 'local', Driver: 'bridge', EnableIPv4: true, EnableIPv6: false, Internal: true, Labels: { b: '2', a: '1' } } as unknown as NetworkSummary
    const r = networkRow(n, true)
    expect(r).toMatchObject({ ID: 'aaaaaaaaaaaa', IPv4: 'true', IPv6: 'false', Internal: 'true', Labels: 'a=1,b=2', CreatedAt: '2025-06-01 10:00:00 +0000 UTC' })
    expect(r.Label('b')).toBe('2')
    expect(networkFormat('table', true)).toBe('{{.ID}}')
    expect(networkFormat('{{.Name}}', true)).toBe('{{.Name}}')
  })
})
