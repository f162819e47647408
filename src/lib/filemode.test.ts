import { describe, expect, test } from 'vitest'
import { GO_MODE, goFileMode, goModeIsDir, goModeIsRegular } from './filemode.js'

describe('Go FileMode', () => {
  test('types and permission bits map as os.Lstat reports them', () => {
    expect(goFileMode(0o100644)).toBe(0o644)
    expect(goFileMode(0o040755)).toBe(GO_MODE.dir + 0o755)
    expect(goFileMode(0o120777)).toBe(GO_MODE.symlink + 0o777)
    expect(goFileMode(0o020620)).toBe(GO_MODE.device + GO_MODE.charDevice + 0o620)
    expect(goFileMode(0o104755)).toBe(GO_MODE.setuid + 0o755)
    expect(goFileMode(0o041777)).toBe(GO_MODE.dir + GO_MODE.sticky + 0o777)
  })

  test('tests on the high bits stay unsigned', () => {
    expect(goModeIsDir(goFileMode(0o040755))).toBe(true)
    expect(goModeIsDir(0o644)).toBe(false)
    expect(goModeIsRegular(0o644)).toBe(true)
    expect(goModeIsRegular(goFileMode(0o120777))).toBe(false)
  })
})
