/**
 * Instruction flags (`COPY --from=build --chmod=644`), checked as buildkit's
 * BFlags does: each instruction declares the flags it takes; anything else is
 * "unknown flag: --foo", with a suggestion when a declared flag is close.
 */
import { DockerfileError, suggestion } from './errors.js'

export type FlagKind = 'bool' | 'string' | 'strings'

export interface ParsedFlags {
  /** A bool flag's value, or its default when absent. */
  bool(name: string): boolean
  /** A string flag's last value, or its default when absent. */
  string(name: string): string
  /** Every value of a repeatable flag, in order. */
  strings(name: string): string[]
  /** Whether the flag was given. */
  has(name: string): boolean
  /** Names of the flags given, in order of first use. */
  used: string[]
}

export interface FlagSpec {
  kind: FlagKind
  /** Default for bool and string flags. */
  default?: string | boolean
}

/** Parses `--name`, `--name=value` words against the spec; throws on anything docker refuses. */
export function parseFlags(args: readonly string[], spec: Record<string, FlagSpec>): ParsedFlags {
  const values = new Map<string, string[]>()
  for (const a of args) {
    if (a === '--') break
    if (!a.startsWith('--')) throw new DockerfileError(`arg should start with -- : ${a}`)
    const eq = a.indexOf('=')
    const flagName = eq < 0 ? a : a.slice(0, eq)
    const value = eq < 0 ? undefined : a.slice(eq + 1)
    const name = flagName.slice(2)
    const def = Object.hasOwn(spec, name) ? spec[name] : undefined
    if (!def) {
      throw new DockerfileError(`unknown flag: ${flagName}${suggestion(name, Object.keys(spec), true)}`)
    }
    const seen = values.get(name)
    if (seen && def.kind !== 'strings') throw new DockerfileError(`duplicate flag specified: ${flagName}`)
    let v: string
    if (def.kind === 'bool') {
      if (value === '') throw new DockerfileError(`missing a value on flag: ${flagName}`)
      const lower = (value ?? '').toLowerCase()
      if (lower === '' || lower === 'true') v = 'true'
      else if (lower === 'false') v = 'false'
      else throw new DockerfileError(`expecting boolean value for flag ${flagName}, not: ${value}`)
    } else {
      if (value === undefined) throw new DockerfileError(`missing a value on flag: ${flagName}`)
      v = value
    }
    values.set(name, [...(seen ?? []), v])
  }
  const defaultOf = (name: string) => spec[name]?.default
  return {
    bool: (name) => {
      const v = values.get(name)
      return v ? v[v.length - 1] === 'true' : defaultOf(name) === true
    },
    string: (name) => {
      const v = values.get(name)
      const d = defaultOf(name)
      return v ? v[v.length - 1] : typeof d === 'string' ? d : ''
    },
    strings: (name) => values.get(name) ?? [],
    has: (name) => values.has(name),
    used: [...values.keys()],
  }
}
