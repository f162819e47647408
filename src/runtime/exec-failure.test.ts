import { describe, expect, test } from 'vitest'
import { execStartFailure } from './exec-failure.js'

const hint = ': Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type'

describe('execStartFailure (moby setExitCodeFromError)', () => {
  test('a missing program is 127, with containerd\'s ": unknown"', () => {
    expect(execStartFailure('exec failed: unable to start container process: exec: "x": executable file not found in $PATH')).toEqual({
      exitCode: 127,
      message: 'OCI runtime exec failed: exec failed: unable to start container process: exec: "x": executable file not found in $PATH: unknown',
    })
  })
  test('the prefix is not doubled', () => {
    expect(execStartFailure('OCI runtime exec failed: exec: "/x": permission denied').message).toBe('OCI runtime exec failed: exec: "/x": permission denied: unknown')
  })
  test('EACCES is 126', () => {
    expect(execStartFailure('exec: "/etc/passwd": permission denied').exitCode).toBe(126)
  })
  test('EISDIR is 126 with EACCES\'s words added, for the docker CLI', () => {
    expect(execStartFailure('exec: "/etc": is a directory')).toEqual({ exitCode: 126, message: 'OCI runtime exec failed: exec: "/etc": is a directory: unknown: permission denied' })
  })
  test('ENOTDIR (a file as working directory) is 127 with moby\'s hint', () => {
    expect(execStartFailure('chdir to cwd ("/etc/passwd") set in config.json failed: not a directory')).toEqual({
      exitCode: 127,
      message: `OCI runtime exec failed: chdir to cwd ("/etc/passwd") set in config.json failed: not a directory: unknown${hint}`,
    })
  })
  test('a missing working directory is 127, case aside', () => {
    expect(execStartFailure('chdir `/nope`: No such file or directory').exitCode).toBe(127)
  })
  test('anything else is 128', () => {
    expect(execStartFailure('open executable: Operation not permitted')).toEqual({ exitCode: 128, message: 'OCI runtime exec failed: open executable: Operation not permitted: unknown' })
  })
})
