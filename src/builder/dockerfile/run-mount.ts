/**
 * `RUN --mount=type=cache,target=/root/.cache,sharing=locked` specs, parsed as
 * buildkit's instructions package parses them. At parse time only what needs
 * no variables is checked (CSV syntax, no variables in from=); the executor
 * parses again with an expander to get the Mount it runs with.
 */
import { DockerfileError, suggestion } from './errors.js'

export type MountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh'
export type MountSharing = 'shared' | 'private' | 'locked'

export interface RunMount {
  type: MountType
  /** A stage name or index, or an image, for bind and cache mounts. */
  from?: string
  source?: string
  target?: string
  readOnly: boolean
  /** tmpfs size in bytes; 0 when not given. */
  sizeLimit: number
  /** The cache id, or the secret id. */
  id?: string
  sharing?: MountSharing
  /** secret and ssh: fail when the secret or agent is missing. */
  required: boolean
  /** secret: expose as this environment variable. */
  env?: string
  mode?: number
  uid?: number
  gid?: number
}

const mountTypes: readonly MountType[] = ['bind', 'cache', 'tmpfs', 'secret', 'ssh']
const sharingModes: readonly MountSharing[] = ['shared', 'private', 'locked']
const allKeys = [
  'type', 'from', 'source', 'target', 'readonly', 'id', 'sharing', 'required', 'size', 'mode',
  'uid', 'gid', 'src', 'dst', 'destination', 'ro', 'rw', 'readwrite', 'env',
]

/** Checks what a --mount value can show before variables are known (buildkit's parse-time pass). */
export function checkRunMount(spec: string): void {
  for (const field of csvFields(spec)) {
    const eq = field.indexOf('=')
    if (eq < 0) continue
    if (field.slice(0, eq).toLowerCase() !== 'from') continue
    const value = field.slice(eq + 1)
    const dollar = value.indexOf('$')
    if (dollar !== -1 && dollar !== value.length - 1) {
      throw new DockerfileError("'from' doesn't support variable expansion, define alias stage instead")
    }
  }
}

/** The mount a --mount value describes, each value passed through expand first. */
export function parseRunMount(spec: string, expand: (word: string) => string = (w) => w): RunMount {
  const m: RunMount = { type: 'bind', readOnly: true, sizeLimit: 0, required: false }
  let roAuto = true
  for (const field of csvFields(spec)) {
    const eq = field.indexOf('=')
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase()
    if (eq < 0) {
      switch (key) {
        case 'readonly':
        case 'ro':
          m.readOnly = true
          roAuto = false
          continue
        case 'readwrite':
        case 'rw':
          m.readOnly = false
          roAuto = false
          continue
        case 'required':
          if (m.type !== 'secret' && m.type !== 'ssh') throw unexpectedKey(key, m.type)
          m.required = true
          continue
        default:
          throw new DockerfileError(`invalid field '${field}' must be a key=value pair`)
      }
    }
    const value = expand(field.slice(eq + 1))
    switch (key) {
      case 'type': {
        const t = value.toLowerCase() as MountType
        if (!mountTypes.includes(t)) {
          throw new DockerfileError(`unsupported mount type ${JSON.stringify(value)}${suggestion(value, mountTypes, true)}`)
        }
        m.type = t
        break
      }
      case 'from':
        m.from = value
        break
      case 'source':
      case 'src':
        m.source = value
        break
      case 'target':
      case 'dst':
      case 'destination':
        m.target = value
        break
      case 'readonly':
      case 'ro':
        m.readOnly = parseBool(key, value)
        roAuto = false
        break
      case 'readwrite':
      case 'rw':
        m.readOnly = !parseBool(key, value)
        roAuto = false
        break
      case 'required':
        if (m.type !== 'secret' && m.type !== 'ssh') throw unexpectedKey(key, m.type)
        m.required = parseBool(key, value)
        break
      case 'size':
        if (m.type !== 'tmpfs') throw unexpectedKey(key, m.type)
        m.sizeLimit = ramInBytes(value)
        break
      case 'id':
        m.id = value
        break
      case 'sharing': {
        const s = value.toLowerCase() as MountSharing
        if (!sharingModes.includes(s)) {
          throw new DockerfileError(`unsupported sharing value ${JSON.stringify(value)}${suggestion(value, sharingModes, true)}`)
        }
        m.sharing = s
        break
      }
      case 'mode':
        m.mode = parseUint(value, 8, 'mode')
        break
      case 'uid':
        m.uid = parseUint(value, 10, 'uid')
        break
      case 'gid':
        m.gid = parseUint(value, 10, 'gid')
        break
      case 'env':
        m.env = value
        break
      default:
        throw new DockerfileError(`unexpected key '${key}' in '${field}'${suggestion(key, allKeys, true)}`)
    }
  }

  if (m.type !== 'secret' && m.type !== 'ssh' && m.type !== 'cache') {
    for (const k of ['mode', 'uid', 'gid'] as const) {
      if (m[k] !== undefined) throw new DockerfileError(`${k} not allowed for ${JSON.stringify(m.type)} type mounts`)
    }
  }
  if (roAuto) m.readOnly = m.type !== 'cache' && m.type !== 'tmpfs'
  if (m.type === 'secret') {
    if (m.from !== undefined && m.from !== '') throw new DockerfileError('secret mount should not have a from')
    if (m.sharing) throw new DockerfileError('secret mount should not define sharing')
    if (!m.source && !m.target && !m.id) throw new DockerfileError('invalid secret mount. one of source, target required')
    if (m.source && m.id) throw new DockerfileError("both source and id can't be set")
  }
  if (m.sharing && m.type !== 'cache') throw new DockerfileError(`invalid cache sharing set for ${m.type} mount`)
  return m
}

function unexpectedKey(key: string, type: MountType): DockerfileError {
  return new DockerfileError(`unexpected key '${key}' for mount type '${type}'`)
}

/** Go's strconv.ParseBool. */
function parseBool(key: string, value: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false
  throw new DockerfileError(`invalid value for ${key}: ${value}`)
}

function parseUint(value: string, radix: 8 | 10, key: string): number {
  const re = radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/
  const n = re.test(value) ? Number.parseInt(value, radix) : NaN
  if (!Number.isSafeInteger(n) || n > 0xffffffff) throw new DockerfileError(`invalid value ${value} for ${key}`)
  return n
}

/** docker's units.RAMInBytes: "64m", "1.5GiB", "512" (bytes), binary multiples. */
function ramInBytes(value: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(value)
  const n = m ? Number(m[1]) : NaN
  if (!m || Number.isNaN(n)) throw new DockerfileError(`invalid value for size: ${value}`)
  const power = m[2] ? 'kmgtp'.indexOf(m[2].toLowerCase()) + 1 : 0
  return Math.trunc(n * 1024 ** power)
}

/** One CSV record (RFC 4180 quoting, as Go's encoding/csv). */
export function csvFields(line: string): string[] {
  const text = line.replace(/\r?\n$/, '')
  if (text === '') throw new DockerfileError('failed to parse csv mounts: EOF')
  const fields: string[] = []
  let i = 0
  for (;;) {
    if (text[i] !== '"') {
      const comma = text.indexOf(',', i)
      const field = comma < 0 ? text.slice(i) : text.slice(i, comma)
      if (field.includes('"')) throw new DockerfileError('failed to parse csv mounts: bare " in non-quoted-field')
      fields.push(field)
      if (comma < 0) return fields
      i = comma + 1
      continue
    }
    let field = ''
    i++
    for (;;) {
      const q = text.indexOf('"', i)
      if (q < 0) throw new DockerfileError('failed to parse csv mounts: extraneous or missing " in quoted-field')
      field += text.slice(i, q)
      i = q + 1
      if (text[i] === '"') {
        field += '"'
        i++
        continue
      }
      break
    }
    fields.push(field)
    if (i === text.length) return fields
    if (text[i] !== ',') throw new DockerfileError('failed to parse csv mounts: extraneous or missing " in quoted-field')
    i++
  }
}
