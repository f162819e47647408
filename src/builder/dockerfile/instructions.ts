/**
 * Nodes into typed instructions, with the argument counts, flags and
 * messages of buildkit's frontend/dockerfile/instructions package (which
 * docker's classic builder uses too): "COPY requires at least two arguments,
 * but only one was provided. Destination could not be determined",
 * "unknown flag: --foo", "unknown instruction: FORM (did you mean FROM?)".
 */
import type { Node } from './ast.js'
import { parseGoDuration } from './duration.js'
import { DockerfileError, atLine, suggestion } from './errors.js'
import { parseFlags, type FlagSpec } from './flags.js'
import { chompHeredoc, parseHeredoc } from './heredoc.js'
import { checkRunMount } from './run-mount.js'
import { trimSpace } from './text.js'
import type {
  AddInstruction,
  ArgDefinition,
  CommandLine,
  HealthConfig,
  Instruction,
  InstructionBase,
  KeyValue,
  RunNetwork,
  RunSecurity,
  SourcesAndDest,
} from './types.js'

const instructionNames = [
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL',
  'MAINTAINER', 'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
]

/** A typed instruction; throws DockerfileError "dockerfile parse error on line N: ...". */
export function parseInstruction(node: Node): Instruction {
  try {
    return parseNode(node)
  } catch (err) {
    throw atLine(err, node.startLine, node.endLine)
  }
}

function base(node: Node): InstructionBase {
  return { keyword: node.keyword, original: trimSpace(node.original), line: node.startLine, endLine: node.endLine }
}

const noFlags: Record<string, FlagSpec> = {}

function parseNode(node: Node): Instruction {
  const { args } = node
  const flags = (spec: Record<string, FlagSpec>) => parseFlags(node.flags, spec)
  const b = base(node)
  switch (node.keyword.toLowerCase()) {
    case 'from': {
      const stageName = parseStageName(args)
      const f = flags({ platform: { kind: 'string' } })
      return { ...b, kind: 'from', image: args[0], ...opt('stageName', stageName), ...opt('platform', f.string('platform')) }
    }
    case 'run': {
      const f = flags({
        mount: { kind: 'strings' },
        network: { kind: 'string', default: 'default' },
        security: { kind: 'string', default: 'sandbox' },
        device: { kind: 'strings' },
      })
      const mounts = f.strings('mount')
      mounts.forEach(checkRunMount)
      const network = f.string('network')
      if (!['default', 'none', 'host'].includes(network)) throw new DockerfileError(`invalid network mode ${JSON.stringify(network)}`)
      const security = f.string('security')
      if (!['sandbox', 'insecure'].includes(security)) throw new DockerfileError(`security ${JSON.stringify(security)} is not valid`)
      return {
        ...b,
        kind: 'run',
        ...commandLine(node),
        files: node.heredocs.map((h) => ({ name: h.name, data: h.content, chomp: h.chomp })),
        mounts,
        network: network as RunNetwork,
        security: security as RunSecurity,
        devices: f.strings('device'),
        flagsUsed: f.used,
      }
    }
    case 'cmd':
      flags(noFlags)
      return { ...b, kind: 'cmd', ...commandLine(node) }
    case 'entrypoint':
      flags(noFlags)
      return { ...b, kind: 'entrypoint', ...commandLine(node) }
    case 'env':
      flags(noFlags)
      return { ...b, kind: 'env', pairs: keyValues(args, 'ENV'), legacy: args[2] === '' }
    case 'label':
      flags(noFlags)
      return { ...b, kind: 'label', pairs: keyValues(args, 'LABEL'), legacy: args[2] === '' }
    case 'arg':
      return { ...b, kind: 'arg', args: argDefinitions(args) }
    case 'expose':
      if (args.length === 0) throw atLeastOne('EXPOSE')
      flags(noFlags)
      return { ...b, kind: 'expose', ports: [...args].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)) }
    case 'user':
      exactlyOne(args, 'USER')
      flags(noFlags)
      return { ...b, kind: 'user', user: args[0] }
    case 'workdir':
      exactlyOne(args, 'WORKDIR')
      flags(noFlags)
      return { ...b, kind: 'workdir', path: args[0] }
    case 'volume': {
      if (args.length === 0) throw atLeastOne('VOLUME')
      flags(noFlags)
      const volumes = args.map((v) => v.trim())
      if (volumes.includes('')) throw new DockerfileError('VOLUME specified can not be an empty string')
      return { ...b, kind: 'volume', volumes }
    }
    case 'stopsignal':
      // buildkit never checks STOPSIGNAL's flags; neither does docker.
      exactlyOne(args, 'STOPSIGNAL')
      return { ...b, kind: 'stopsignal', signal: args[0] }
    case 'copy': {
      if (args.length < 2) throw noDestination('COPY')
      const f = flags({
        chown: { kind: 'string' },
        from: { kind: 'string' },
        chmod: { kind: 'string' },
        link: { kind: 'bool' },
        exclude: { kind: 'strings' },
        parents: { kind: 'bool' },
      })
      return {
        ...b,
        kind: 'copy',
        ...sourcesAndDest(node, 'COPY'),
        ...opt('from', f.string('from')),
        ...opt('chown', f.string('chown')),
        ...opt('chmod', f.string('chmod')),
        link: f.bool('link'),
        parents: f.bool('parents'),
        excludes: f.strings('exclude'),
      }
    }
    case 'add': {
      if (args.length < 2) throw noDestination('ADD')
      const f = flags({
        chown: { kind: 'string' },
        chmod: { kind: 'string' },
        link: { kind: 'bool' },
        'keep-git-dir': { kind: 'bool' },
        checksum: { kind: 'string' },
        unpack: { kind: 'bool' },
        exclude: { kind: 'strings' },
      })
      const add: AddInstruction = {
        ...b,
        kind: 'add',
        ...sourcesAndDest(node, 'ADD'),
        ...opt('chown', f.string('chown')),
        ...opt('chmod', f.string('chmod')),
        ...opt('checksum', f.string('checksum')),
        link: f.bool('link'),
        excludes: f.strings('exclude'),
      }
      if (f.has('keep-git-dir')) add.keepGitDir = f.bool('keep-git-dir')
      if (f.has('unpack')) add.unpack = f.bool('unpack')
      return add
    }
    case 'healthcheck':
      return { ...b, kind: 'healthcheck', health: healthConfig(node) }
    case 'shell': {
      flags(noFlags)
      const { cmdLine } = commandLine(node)
      if (cmdLine.length === 0) throw atLeastOne('SHELL')
      if (!node.json) throw new DockerfileError('SHELL requires the arguments to be in JSON form')
      return { ...b, kind: 'shell', shell: cmdLine }
    }
    case 'onbuild':
      return onbuild(node, b)
    case 'maintainer':
      exactlyOne(args, 'MAINTAINER')
      flags(noFlags)
      return { ...b, kind: 'maintainer', maintainer: args[0] }
  }
  throw new DockerfileError(`unknown instruction: ${node.keyword}${suggestion(node.keyword, instructionNames, false)}`)
}

/** `{ [key]: value }` when value is non-empty, else nothing: "" means "not given" for docker's string flags. */
function opt<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value ? { [key]: value } : {}) as { [P in K]?: string }
}

const atLeastOne = (keyword: string) => new DockerfileError(`${keyword} requires at least one argument`)
const noDestination = (keyword: string) =>
  new DockerfileError(`${keyword} requires at least two arguments, but only one was provided. Destination could not be determined`)

function exactlyOne(args: string[], keyword: string): void {
  if (args.length !== 1) throw new DockerfileError(`${keyword} requires exactly one argument`)
}

const validStageName = /^[a-z][a-z0-9\-_.]*$/

function parseStageName(args: string[]): string | undefined {
  if (args.length === 3 && args[1].toLowerCase() === 'as') {
    const name = args[2].toLowerCase()
    if (!validStageName.test(name)) {
      throw new DockerfileError(
        `invalid name for build stage: ${JSON.stringify(args[2])}, name can't start with a number or contain symbols`,
      )
    }
    return name
  }
  if (args.length !== 1) throw new DockerfileError('FROM requires either one or three arguments')
  return undefined
}

/** Exec form keeps the argv; shell form is the arguments joined into one string. */
function commandLine(node: Node): CommandLine {
  if (node.json) return { cmdLine: [...node.args], prependShell: false }
  return { cmdLine: node.args.length === 0 ? [] : [node.args.join(' ')], prependShell: true }
}

function keyValues(args: string[], keyword: string): KeyValue[] {
  if (args.length === 0) throw atLeastOne(keyword)
  if (args.length % 3 !== 0) throw new DockerfileError(`Bad input to ${keyword}, too many arguments`)
  const pairs: KeyValue[] = []
  for (let i = 0; i < args.length; i += 3) {
    if (args[i] === '') throw new DockerfileError(`${keyword} names can not be blank`)
    pairs.push({ key: args[i], value: args[i + 1] })
  }
  return pairs
}

function argDefinitions(args: string[]): ArgDefinition[] {
  if (args.length === 0) throw atLeastOne('ARG')
  return args.map((arg) => {
    const eq = arg.indexOf('=')
    if (eq < 0) return { key: arg }
    if (eq === 0) throw new DockerfileError('ARG names can not be blank')
    return { key: arg.slice(0, eq), value: arg.slice(eq + 1) }
  })
}

function sourcesAndDest(node: Node, keyword: string): SourcesAndDest {
  const srcs = node.args.slice(0, -1)
  const dest = node.args[node.args.length - 1]
  if (parseHeredocQuiet(dest)) throw new DockerfileError(`${keyword} cannot accept a heredoc as a destination`)
  const bodies = new Map(node.heredocs.map((h) => [h.name, h]))
  const out: SourcesAndDest = { sources: [], contents: [], dest, json: node.json }
  for (const src of srcs) {
    const h = node.json ? undefined : parseHeredocQuiet(src)
    if (!h) {
      out.sources.push(src)
      continue
    }
    const content = bodies.get(h.name)?.content ?? ''
    out.contents.push({ path: h.name, data: h.chomp ? chompHeredoc(content) : content, expand: h.expand })
  }
  return out
}

/** buildkit's MustParseHeredoc: a word that fails to lex is not a heredoc. */
function parseHeredocQuiet(word: string): ReturnType<typeof parseHeredoc> {
  try {
    return parseHeredoc(word)
  } catch {
    return undefined
  }
}

function healthConfig(node: Node): HealthConfig {
  if (node.args.length === 0) throw atLeastOne('HEALTHCHECK')
  const typ = node.args[0].toUpperCase()
  const rest = node.args.slice(1)
  const health: HealthConfig = { test: [], interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 }
  if (typ === 'NONE') {
    // Flags are not looked at for NONE, as in docker.
    if (rest.length !== 0) throw new DockerfileError('HEALTHCHECK NONE takes no arguments')
    health.test = ['NONE']
    return health
  }
  const f = parseFlags(node.flags, {
    interval: { kind: 'string' },
    timeout: { kind: 'string' },
    'start-period': { kind: 'string' },
    'start-interval': { kind: 'string' },
    retries: { kind: 'string' },
  })
  if (typ !== 'CMD') throw new DockerfileError(`Unknown type ${JSON.stringify(typ)} in HEALTHCHECK (try CMD)`)
  const cmd = node.json ? rest : rest.length === 0 ? [] : [rest.join(' ')]
  if (cmd.length === 0) throw new DockerfileError('Missing command after HEALTHCHECK CMD')
  health.test = [node.json ? 'CMD' : 'CMD-SHELL', ...cmd]
  health.interval = interval('interval', f.string('interval'))
  health.timeout = interval('timeout', f.string('timeout'))
  health.startPeriod = interval('start-period', f.string('start-period'))
  health.startInterval = interval('start-interval', f.string('start-interval'))
  const retries = f.string('retries')
  if (retries !== '') {
    if (!/^[+-]?\d+$/.test(retries) || Math.abs(Number(retries)) > 2 ** 31 - 1) {
      throw new DockerfileError(`strconv.ParseInt: parsing ${JSON.stringify(retries)}: invalid syntax`)
    }
    const n = Number(retries)
    if (n < 0) throw new DockerfileError(`--retries cannot be negative (${n})`)
    health.retries = n
  }
  return health
}

/** A duration flag in nanoseconds: '' and 0 are "not set"; anything else must be at least 1ms. */
function interval(name: string, value: string): number {
  if (value === '') return 0
  let ns: number
  try {
    ns = parseGoDuration(value)
  } catch (err) {
    throw new DockerfileError((err as Error).message)
  }
  if (ns === 0) return 0
  if (ns < 1e6) throw new DockerfileError(`Interval ${JSON.stringify(name)} cannot be less than 1ms`)
  return ns
}

function onbuild(node: Node, b: InstructionBase): Instruction {
  if (node.args.length === 0) throw atLeastOne('ONBUILD')
  parseFlags(node.flags, noFlags)
  const trigger = node.args[0].trim().toUpperCase()
  if (trigger === 'ONBUILD') throw new DockerfileError('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed')
  if (trigger === 'MAINTAINER' || trigger === 'FROM') {
    throw new DockerfileError(`${trigger} isn't allowed as an ONBUILD trigger`)
  }
  let expression = node.original.replace(/^[\t\n\f\r ]*ONBUILD[\t\n\f\r ]*/i, '')
  for (const h of node.heredocs) expression += `\n${h.content}${h.name}`
  return { ...b, kind: 'onbuild', expression, trigger }
}
