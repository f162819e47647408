/**
 * Go's os.FileMode, the `mode` of the API's PathStat (X-Docker-Container-Path-Stat):
 * permission bits low, the file type and set-id/sticky bits as high flags
 * instead of Unix's S_IFMT field.
 */
const S_IFMT = 0o170000

export const GO_MODE = {
  dir: 2 ** 31,
  append: 2 ** 30,
  exclusive: 2 ** 29,
  temporary: 2 ** 28,
  symlink: 2 ** 27,
  device: 2 ** 26,
  namedPipe: 2 ** 25,
  socket: 2 ** 24,
  setuid: 2 ** 23,
  setgid: 2 ** 22,
  charDevice: 2 ** 21,
  sticky: 2 ** 20,
  irregular: 2 ** 19,
} as const

const TYPE_BITS_LIST = [GO_MODE.dir, GO_MODE.symlink, GO_MODE.namedPipe, GO_MODE.socket, GO_MODE.device, GO_MODE.charDevice, GO_MODE.irregular]

/** A Unix st_mode as Go's FileMode (os.Lstat's Mode()). */
export function goFileMode(unixMode: number): number {
  let m = unixMode & 0o777
  switch (unixMode & S_IFMT) {
    case 0o040000: m += GO_MODE.dir; break
    case 0o120000: m += GO_MODE.symlink; break
    case 0o010000: m += GO_MODE.namedPipe; break
    case 0o140000: m += GO_MODE.socket; break
    case 0o060000: m += GO_MODE.device; break
    case 0o020000: m += GO_MODE.device + GO_MODE.charDevice; break
    case 0o100000: break
    default: m += GO_MODE.irregular
  }
  if (unixMode & 0o4000) m += GO_MODE.setuid
  if (unixMode & 0o2000) m += GO_MODE.setgid
  if (unixMode & 0o1000) m += GO_MODE.sticky
  return m
}

/** Tests of a Go FileMode (an unsigned 32-bit number; bit operators would make it negative). */
export const goModeHas = (mode: number, bit: number): boolean => Math.floor(mode / bit) % 2 === 1
export const goModeIsDir = (mode: number): boolean => goModeHas(mode, GO_MODE.dir)
export const goModeIsRegular = (mode: number): boolean => TYPE_BITS_LIST.every((b) => !goModeHas(mode, b))
