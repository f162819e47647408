import { describe, expect, it } from 'vitest'
import { parsePs } from './ps.js'

describe('parsePs', () => {
  const out = `UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 10:00 ?        00:00:00 /sbin/init splash
root        4242       1  0 10:01 ?        00:00:00 sleep 1d
root        4243       1  0 10:01 ?        00:00:00 other
`
  it('keeps only the container pids and joins the command', () => {
    const t = parsePs(out, [4242])
    expect(t.Titles).toEqual(['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'])
    expect(t.Processes).toEqual([['root', '4242', '1', '0', '10:01', '?', '00:00:00', 'sleep 1d']])
  })

  it('refuses output without a PID column', () => {
    expect(() => parsePs('USER COMMAND\nroot x\n', [1])).toThrow(/PID/)
  })
})
