/**
 * Dockerfile instructions applied to an image config, as `docker import
 * --change` and `docker commit --change` do (moby builder/dockerfile
 * BuildFromConfig). Only the instructions docker allows there; word
 * splitting, quotes and $VAR expansion follow docker's shell lexer closely
 * enough for config values. The full Dockerfile parser belongs to build/.
 */
import path from 'node:path'
import { invalidArgument } from '../errors/index.js'
import type { RunConfig } from '../oci/index.js'

const VALID = new Set(['cmd', 'entrypoint', 'healthcheck', 'env', 'expose', 'label', 'onbuild', 'stopsignal', 'user', 'volume', 'workdir'])

const SIGNALS = ['ABRT', 'ALRM', 'BUS', 'CHLD', 'CLD', 'CONT', 'FPE', 'HUP', 'ILL', 'INT', 'IO', 'IOT', 'KILL', 'PIPE', 'POLL', 'PROF', 'PWR', 'QUIT',
  'SEGV', 'STKFLT', 'STOP', 'SYS', 'TERM', 'TRAP', 'TSTP', 'TTIN', 'TTOU', 'URG', 'USR1', 'USR2', 'VTALRM', 'WINCH', 'XCPU', 'XFSZ', 'RTMIN', 'RTMAX']

const bad = (msg: string) => invalidArgument(msg)

/** Split into logical lines: trailing `\` continues, blank and `#` lines drop. */
function logicalLines(changes: readonly string[]): string[] {
  const out: string[] = []
  let cur = ''
  for (const raw of changes.join('\n').split('\n')) {
    const line = cur ? raw.trimStart() : raw.trim()
    if (!cur && (line === '' || line.startsWith('#'))) continue
    if (line.endsWith('\\')) {
      cur += line.slice(0, -1)
      continue
    }
    out.push((cur + line).trim())
    cur = ''
  }
  if (cur.trim()) out.push(cur.trim())
  return out
}

function envLookup(env: readonly string[], name: string): string | undefined {
  for (let i = env.length - 1; i >= 0; i--) {
    const e = env[i] as string
    if (e.startsWith(name + '=')) return e.slice(name.length + 1)
  }
  return undefined
}

/**
 * docker's shell lexer (ProcessWords): whitespace splits words outside
 * quotes; single quotes are literal; `\` escapes; $VAR, ${VAR}, ${VAR:-x},
 * ${VAR:+x} expand from env (not inside single quotes).
 */
export function shellWords(s: string, env: readonly string[], expand = true): string[] {
  const words: string[] = []
  let cur = ''
  let inWord = false
  let i = 0
  const readVar = (): string => {
    // at s[i] === '$'
    i++
    if (s[i] === '{') {
      const end = s.indexOf('}', i)
      if (end === -1) throw bad(`missing '}' in ${JSON.stringify(s)}`)
      const body = s.slice(i + 1, end)
      i = end + 1
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::([-+?])(.*))?$/s.exec(body)
      if (!m) throw bad(`bad substitution: \${${body}}`)
      const v = envLookup(env, m[1] as string)
      if (m[2] === '-') return v ? v : (m[3] as string)
      if (m[2] === '+') return v ? (m[3] as string) : ''
      if (m[2] === '?' && !v) throw bad(`${m[1]}: ${m[3] || 'is not allowed to be unset'}`)
      return v ?? ''
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i))
    if (!m) return '$'
    i += m[0].length
    return envLookup(env, m[0]) ?? ''
  }
  while (i < s.length) {
    const c = s[i] as string
    if (/\s/.test(c)) {
      if (inWord) words.push(cur)
      cur = ''
      inWord = false
      i++
      continue
    }
    inWord = true
    if (c === "'") {
      const end = s.indexOf("'", i + 1)
      if (end === -1) throw bad(`unexpected end of statement while looking for matching single-quote`)
      cur += s.slice(i + 1, end)
      i = end + 1
    } else if (c === '"') {
      i++
      for (;;) {
        if (i >= s.length) throw bad('unexpected end of statement while looking for matching double-quote')
        const d = s[i] as string
        if (d === '"') { i++; break }
        if (d === '\\' && i + 1 < s.length && /["\\$]/.test(s[i + 1] as string)) { cur += s[i + 1]; i += 2; continue }
        if (d === '$' && expand) { cur += readVar(); continue }
        cur += d
        i++
      }
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[i + 1]
      i += 2
    } else if (c === '$' && expand) {
      cur += readVar()
    } else {
      cur += c
      i++
    }
  }
  if (inWord) words.push(cur)
  return words
}

/** JSON exec form when the text is a JSON array of strings; else null (shell form). */
function execForm(rest: string): string[] | null {
  const t = rest.trim()
  if (!t.startsWith('[')) return null
  try {
    const v: unknown = JSON.parse(t)
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[]
  } catch {
    // Not JSON: docker falls back to the shell form.
  }
  return null
}

function commandOf(rest: string): string[] {
  return execForm(rest) ?? ['/bin/sh', '-c', rest.trim()]
}

/** name=value pairs (modern form) or `NAME value with spaces` (legacy form). */
function keyValues(instr: string, rest: string, env: readonly string[]): Array<[string, string]> {
  const words = shellWords(rest, env)
  if (words.length === 0) throw bad(`${instr} requires at least one argument`)
  const first = words[0] as string
  if (!first.includes('=')) {
    if (words.length < 2) throw bad(`${instr} must have two arguments`)
    const raw = rest.trim()
    const valueText = raw.slice(raw.search(/\s/)).trim()
    return [[first, shellWords(valueText, env).join(' ')]]
  }
  return words.map((w) => {
    const eq = w.indexOf('=')
    if (eq === -1) throw bad(`Syntax error - can't find = in ${JSON.stringify(w)}. Must be of the form: name=value`)
    if (eq === 0) throw bad(`${instr} names can not be blank`)
    return [w.slice(0, eq), w.slice(eq + 1)] as [string, string]
  })
}

function exposedPorts(words: string[]): string[] {
  const out: string[] = []
  for (const w of words) {
    const [portPart = '', proto = 'tcp'] = w.split('/', 2)
    const m = /^(\d+)(?:-(\d+))?$/.exec(portPart)
    if (!m) throw bad(`invalid containerPort: ${portPart}`)
    const lo = Number(m[1])
    const hi = m[2] ? Number(m[2]) : lo
    if (lo < 1 || hi > 65535 || hi < lo) throw bad(`invalid range specified for containerPort: ${portPart}`)
    const p = proto.toLowerCase()
    if (!['tcp', 'udp', 'sctp'].includes(p)) throw bad(`invalid proto: ${proto}`)
    for (let n = lo; n <= hi; n++) out.push(`${n}/${p}`)
  }
  return out
}

/** Go duration text (`30s`, `1m30s`, `500ms`) in nanoseconds. */
export function parseGoDuration(s: string): number {
  const units: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 }
  if (s === '0') return 0
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy
  let total = 0
  let matched = 0
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * (units[m[2] as string] as number)
    matched = re.lastIndex
  }
  if (matched !== s.length || s === '') throw bad(`time: invalid duration ${JSON.stringify(s)}`)
  return Math.round(total)
}

export function validateSignal(sig: string): string {
  if (/^\d+$/.test(sig) && Number(sig) > 0 && Number(sig) <= 64) return sig
  const name = sig.toUpperCase().replace(/^SIG/, '')
  const rt = /^RTM(?:IN|AX)([+-]\d+)?$/.exec(name)
  if (SIGNALS.includes(name) || rt) return sig
  throw bad(`Invalid signal: ${sig}`)
}

function healthcheck(rest: string): NonNullable<RunConfig['Healthcheck']> {
  let text = rest.trim()
  const hc: NonNullable<RunConfig['Healthcheck']> = {}
  for (let m = /^--([a-z-]+)=(\S*)\s*/.exec(text); m; m = /^--([a-z-]+)=(\S*)\s*/.exec(text)) {
    const [all, flag, value = ''] = m
    text = text.slice(all.length)
    if (flag === 'interval') hc.Interval = parseGoDuration(value)
    else if (flag === 'timeout') hc.Timeout = parseGoDuration(value)
    else if (flag === 'start-period') hc.StartPeriod = parseGoDuration(value)
    else if (flag === 'start-interval') hc.StartInterval = parseGoDuration(value)
    else if (flag === 'retries') {
      if (!/^\d+$/.test(value)) throw bad(`invalid value for retries: ${value}`)
      hc.Retries = Number(value)
    } else throw bad(`Unknown flag: ${flag}`)
  }
  const [kind = '', ...restWords] = text.split(/\s+/)
  if (kind.toUpperCase() === 'NONE') {
    if (restWords.join('') !== '') throw bad('HEALTHCHECK NONE takes no arguments')
    return { Test: ['NONE'] }
  }
  if (kind.toUpperCase() !== 'CMD') throw bad(`Unknown type "${kind.toUpperCase()}" in HEALTHCHECK (try CMD)`)
  const cmdText = text.slice(kind.length).trim()
  const exec = execForm(cmdText)
  hc.Test = exec ? ['CMD', ...exec] : ['CMD-SHELL', cmdText]
  return hc
}

/** Apply `--change` instructions to a copy of base; invalid ones are invalid-argument errors. */
export function applyChanges(base: RunConfig, changes: readonly string[]): RunConfig {
  const cfg: RunConfig = structuredClone(base)
  let cmdSet = false
  for (const line of logicalLines(changes)) {
    const sp = line.search(/\s/)
    const instr = (sp === -1 ? line : line.slice(0, sp)).toLowerCase()
    const rest = sp === -1 ? '' : line.slice(sp + 1)
    if (!VALID.has(instr)) throw bad(`${instr} is not a valid change command`)
    const env = cfg.Env ?? []
    const one = (): string => {
      const w = shellWords(rest, env)
      if (w.length !== 1) throw bad(`${instr.toUpperCase()} requires exactly one argument`)
      return w[0] as string
    }
    switch (instr) {
      case 'cmd':
        cfg.Cmd = commandOf(rest)
        cmdSet = true
        break
      case 'entrypoint': {
        const ep = commandOf(rest)
        cfg.Entrypoint = ep.length ? ep : null
        // As in a Dockerfile: a new ENTRYPOINT drops an inherited CMD.
        if (!cmdSet) cfg.Cmd = null
        break
      }
      case 'env': {
        const next = [...env]
        for (const [k, v] of keyValues('ENV', rest, env)) {
          const i = next.findIndex((e) => e.split('=', 1)[0] === k)
          if (i >= 0) next[i] = `${k}=${v}`
          else next.push(`${k}=${v}`)
        }
        cfg.Env = next
        break
      }
      case 'label':
        cfg.Labels = { ...(cfg.Labels ?? {}) }
        for (const [k, v] of keyValues('LABEL', rest, env)) cfg.Labels[k] = v
        break
      case 'expose':
        cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}) }
        for (const p of exposedPorts(shellWords(rest, env))) cfg.ExposedPorts[p] = {}
        break
      case 'user':
        cfg.User = one()
        break
      case 'workdir': {
        const dir = one()
        cfg.WorkingDir = path.posix.isAbsolute(dir) ? path.posix.normalize(dir) : path.posix.join('/', cfg.WorkingDir ?? '', dir)
        break
      }
      case 'volume': {
        const vols = execForm(rest) ?? shellWords(rest, env)
        if (vols.length === 0) throw bad('VOLUME requires at least one argument')
        cfg.Volumes = { ...(cfg.Volumes ?? {}) }
        for (const v of vols) {
          if (v.trim() === '') throw bad('VOLUME specified can not be an empty string')
          cfg.Volumes[v.trim()] = {}
        }
        break
      }
      case 'stopsignal':
        cfg.StopSignal = validateSignal(one())
        break
      case 'onbuild': {
        const trigger = rest.trim().split(/\s+/, 1)[0]?.toUpperCase() ?? ''
        if (trigger === '') throw bad('ONBUILD requires at least one argument')
        if (trigger === 'ONBUILD') throw bad('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed')
        if (trigger === 'FROM' || trigger === 'MAINTAINER') throw bad(`${trigger} isn't allowed as an ONBUILD trigger`)
        cfg.OnBuild = [...(cfg.OnBuild ?? []), rest.trim()]
        break
      }
      case 'healthcheck':
        cfg.Healthcheck = healthcheck(rest)
        break
    }
  }
  return cfg
}
