/**
 * Typed Dockerfile instructions and stages: what the builder's executor
 * consumes. Values are as written (quotes included where docker keeps them
 * until expansion); expandInstruction() substitutes variables the way the
 * build does, instruction by instruction.
 */
import type { HealthConfig } from '../../oci/index.js'
import type { ParseWarning } from './ast.js'
import type { Directive, EscapeToken } from './directives.js'

export interface InstructionBase {
  /** The keyword as written ("run", "RUN"). */
  keyword: string
  /**
   * The instruction's text with continuations joined and surrounding
   * whitespace trimmed (heredoc bodies excluded): docker's history
   * "created by" text and the classic builder's cache key.
   */
  original: string
  /** First and last line (1-based); endLine includes heredoc bodies. */
  line: number
  endLine: number
}

export interface FromInstruction extends InstructionBase {
  kind: 'from'
  /** The base: an image reference, `scratch`, or an earlier stage's name. Unexpanded (ARGs before FROM apply). */
  image: string
  /** The `AS name`, lower-cased. */
  stageName?: string
  /** --platform, unexpanded. */
  platform?: string
}

/** A heredoc body a RUN writes for its command (`RUN <<EOF`). */
export interface InlineFile {
  name: string
  /** As written; `chomp` says whether leading tabs are to be stripped. */
  data: string
  chomp: boolean
}

/** The command of RUN, CMD and ENTRYPOINT. */
export interface CommandLine {
  /** Exec form: the argv. Shell form: one string, to be run by the stage's SHELL. */
  cmdLine: string[]
  /** True for shell form: the executor prefixes the stage's shell (default `/bin/sh -c`). */
  prependShell: boolean
}

export type RunNetwork = 'default' | 'none' | 'host'
export type RunSecurity = 'sandbox' | 'insecure'

export interface RunInstruction extends InstructionBase, CommandLine {
  kind: 'run'
  /** Heredoc bodies; with files the cmdLine is one shell string containing `<<NAME`. */
  files: InlineFile[]
  /** --mount values as written; parseRunMount() gives the mounts once variables are known. */
  mounts: string[]
  network: RunNetwork
  security: RunSecurity
  /** --device values as written. */
  devices: string[]
  /** The flags given, by name (docker's classic builder refuses any). */
  flagsUsed: string[]
}

export interface CmdInstruction extends InstructionBase, CommandLine {
  kind: 'cmd'
}

export interface EntrypointInstruction extends InstructionBase, CommandLine {
  kind: 'entrypoint'
}

export interface KeyValue {
  key: string
  value: string
}

export interface EnvInstruction extends InstructionBase {
  kind: 'env'
  pairs: KeyValue[]
  /** The legacy `ENV key value` form (one pair, value is the rest of the line). */
  legacy: boolean
}

export interface LabelInstruction extends InstructionBase {
  kind: 'label'
  pairs: KeyValue[]
  legacy: boolean
}

export interface ArgDefinition {
  key: string
  /** The default, unexpanded; undefined for `ARG name`. */
  value?: string
}

export interface ArgInstruction extends InstructionBase {
  kind: 'arg'
  args: ArgDefinition[]
}

export interface ExposeInstruction extends InstructionBase {
  kind: 'expose'
  /** As written (sorted, as buildkit sorts them); expansion may split one into several. */
  ports: string[]
}

export interface UserInstruction extends InstructionBase {
  kind: 'user'
  user: string
}

export interface WorkdirInstruction extends InstructionBase {
  kind: 'workdir'
  path: string
}

export interface VolumeInstruction extends InstructionBase {
  kind: 'volume'
  volumes: string[]
}

export interface StopSignalInstruction extends InstructionBase {
  kind: 'stopsignal'
  signal: string
}

/** A file COPY/ADD writes from a heredoc (`COPY <<EOF /dst`). */
export interface SourceContent {
  /** The heredoc's delimiter, which is the file's name. */
  path: string
  /** Tabs already stripped for `<<-`. */
  data: string
  /** Whether variables in data are expanded (unquoted delimiter). */
  expand: boolean
}

export interface SourcesAndDest {
  /** Paths in the context (or the --from stage/image); for ADD also URLs and git refs. */
  sources: string[]
  /** Heredoc files, in order. */
  contents: SourceContent[]
  dest: string
  /** Whether the arguments were a JSON array. */
  json: boolean
}

export interface CopyInstruction extends InstructionBase, SourcesAndDest {
  kind: 'copy'
  /** --from: a stage name or index, or an image. */
  from?: string
  chown?: string
  chmod?: string
  link: boolean
  parents: boolean
  excludes: string[]
}

export interface AddInstruction extends InstructionBase, SourcesAndDest {
  kind: 'add'
  chown?: string
  chmod?: string
  link: boolean
  excludes: string[]
  /** --keep-git-dir; undefined when not given. */
  keepGitDir?: boolean
  checksum?: string
  /** --unpack; undefined when not given (archives from the context unpack, URLs don't). */
  unpack?: boolean
}

export type { HealthConfig }

export interface HealthcheckInstruction extends InstructionBase {
  kind: 'healthcheck'
  health: HealthConfig
}

export interface ShellInstruction extends InstructionBase {
  kind: 'shell'
  shell: string[]
}

export interface OnbuildInstruction extends InstructionBase {
  kind: 'onbuild'
  /**
   * The trigger as stored in the image config's OnBuild list: the
   * instruction after ONBUILD, with any heredoc bodies appended. parseTrigger()
   * turns it into an Instruction when a later build uses the image.
   */
  expression: string
  /** The trigger's keyword, upper-cased ("RUN"). */
  trigger: string
}

export interface MaintainerInstruction extends InstructionBase {
  kind: 'maintainer'
  maintainer: string
}

export type Instruction =
  | FromInstruction
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | EnvInstruction
  | LabelInstruction
  | ArgInstruction
  | ExposeInstruction
  | UserInstruction
  | WorkdirInstruction
  | VolumeInstruction
  | StopSignalInstruction
  | CopyInstruction
  | AddInstruction
  | HealthcheckInstruction
  | ShellInstruction
  | OnbuildInstruction
  | MaintainerInstruction

export type InstructionKind = Instruction['kind']

/** The instructions inside a stage: everything but FROM. */
export type StageInstruction = Exclude<Instruction, FromInstruction>

export interface Stage {
  /** Position among the stages, as `COPY --from=0` counts. */
  index: number
  /** `AS name`, lower-cased. */
  name?: string
  from: FromInstruction
  instructions: StageInstruction[]
}

export interface Dockerfile {
  escapeToken: EscapeToken
  directives: Directive[]
  /** ARG instructions before the first FROM: usable in FROM lines, and by `ARG name` inside a stage. */
  metaArgs: ArgInstruction[]
  /** At least one. */
  stages: Stage[]
  warnings: ParseWarning[]
}
