/** docker's go-units formatting: human sizes and durations, byte-for-byte as the docker CLI prints them. */

const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB']
const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB']

/** Go's `%.<p>g`: p significant digits, trailing zeros dropped, exponent as e+NN. */
export function formatG(value: number, precision: number): string {
  if (value === 0) return '0'
  const s = value.toPrecision(precision)
  const m = /^(-?)([\d.]+)e([+-])(\d+)$/.exec(s)
  if (m) {
    const mant = stripZeros(m[2] ?? '')
    const exp = (m[4] ?? '').padStart(2, '0')
    return `${m[1]}${mant}e${m[3]}${exp}`
  }
  return stripZeros(s)
}

function stripZeros(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s
}

function sizeAndUnit(size: number, base: number, units: string[]): [number, string] {
  let i = 0
  while (size >= base && i < units.length - 1) {
    size /= base
    i++
  }
  return [size, units[i] ?? '']
}

/** units.HumanSizeWithPrecision: decimal units, e.g. 4.26MB. */
export function humanSizeWithPrecision(size: number, precision: number): string {
  const [v, u] = sizeAndUnit(size, 1000, DECIMAL)
  return formatG(v, precision) + u
}

/** units.HumanSize: four significant digits. */
export function humanSize(size: number): string {
  return humanSizeWithPrecision(size, 4)
}

/** units.BytesSize: binary units, e.g. 1.944GiB. */
export function bytesSize(size: number): string {
  const [v, u] = sizeAndUnit(size, 1024, BINARY)
  return formatG(v, 4) + u
}

/** units.HumanDuration, from milliseconds. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000)
  if (seconds < 1) return 'Less than a second'
  if (seconds === 1) return '1 second'
  if (seconds < 60) return `${seconds} seconds`
  const minutes = Math.trunc(ms / 60000)
  if (minutes === 1) return 'About a minute'
  if (minutes < 60) return `${minutes} minutes`
  const hours = Math.trunc(ms / 3600000 + 0.5)
  if (hours === 1) return 'About an hour'
  if (hours < 48) return `${hours} hours`
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`
  return `${Math.trunc(Math.trunc(ms / 3600000) / 24 / 365)} years`
}

/** "5 seconds ago" for a unix-seconds timestamp, as docker's CreatedSince/RunningFor. */
export function timeAgo(unixSeconds: number, now: number = Date.now()): string {
  return `${humanDuration(now - unixSeconds * 1000)} ago`
}

/** Go's time.Time.String() for a unix time in local zone: "2006-01-02 15:04:05 -0700 MST". */
export function goTimeString(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000)
  const pad = (n: number): string => String(n).padStart(2, '0')
  const offMin = -d.getTimezoneOffset()
  const sign = offMin >= 0 ? '+' : '-'
  const abs = Math.abs(offMin)
  const off = `${sign}${pad(Math.trunc(abs / 60))}${pad(abs % 60)}`
  const zone = zoneAbbrev(d) ?? off
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${off} ${zone}`
}

function zoneAbbrev(d: Date): string | undefined {
  if (d.getTimezoneOffset() === 0 && (process.env.TZ === undefined || process.env.TZ === '' || process.env.TZ === 'UTC')) return 'UTC'
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName')
  return part?.value
}

const DECIMAL_UNITS: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 }
const BINARY_UNITS: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }

/** go-units parseSize, with Go's error texts: a number, optional space, then b, k, kb, kib… (case-insensitive). */
function parseGoSize(sizeStr: string, units: Record<string, number>): number {
  let sep = -1
  for (let i = sizeStr.length - 1; i >= 0; i--) {
    if ('0123456789. '.includes(sizeStr[i] ?? '')) {
      sep = i
      break
    }
  }
  if (sep === -1) throw new Error(`invalid size: '${sizeStr}'`)
  const num = sizeStr[sep] !== ' ' ? sizeStr.slice(0, sep + 1) : sizeStr.slice(0, sep)
  let sfx = sizeStr.slice(sep + 1)
  if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(num)) throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(num)}: invalid syntax`)
  let size = Number(num)
  if (!Number.isFinite(size)) throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(num)}: value out of range`)
  if (size < 0) throw new Error(`invalid size: '${sizeStr}'`)
  if (sfx.length === 0) return Math.trunc(size)
  const bad = () => new Error(`invalid suffix: '${sfx}'`)
  if (sfx.length > 3) throw bad()
  sfx = sfx.toLowerCase()
  if (sfx[0] === 'b') {
    if (sfx.length > 1) throw bad()
    return Math.trunc(size)
  }
  const mul = units[sfx[0] ?? '']
  if (mul === undefined) throw bad()
  size *= mul
  if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) throw bad()
  return Math.trunc(size)
}

/** go-units FromHumanSize: decimal units ("10m" is 10,000,000 bytes). */
export function fromHumanSize(s: string): number {
  return parseGoSize(s, DECIMAL_UNITS)
}

/** go-units RAMInBytes (docker's memory and size flags): binary units ("1m" is 1,048,576 bytes). */
export function ramInBytes(s: string): number {
  return parseGoSize(s, BINARY_UNITS)
}
