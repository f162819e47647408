/**
 * The Dockerfile front end: parse (directives, continuations, heredocs,
 * typed instructions, stages), variable expansion, and stage resolution.
 *
 * Hand-written: the npm Dockerfile parsers neither follow buildkit's rules
 * (JSON-or-shell fallback, flag validation, heredocs, the escape directive,
 * docker's error messages) nor type the instructions; a build has to read a
 * Dockerfile exactly as docker reads it.
 */
export { type Ast, type Node, type ParseWarning, parseAst } from './ast.js'
export type { Directive, EscapeToken } from './directives.js'
export { DockerfileError } from './errors.js'
export type { Heredoc } from './heredoc.js'
export { parseDockerfile, parseTrigger } from './parse.js'
export { parseInstruction } from './instructions.js'
export { type RunMount, type MountType, type MountSharing, parseRunMount } from './run-mount.js'
export {
  type EnvLookup,
  type ProcessResult,
  type ShellLexOptions,
  ShellLex,
  envFromList,
  expandWord,
  expandWords,
} from './shell-lex.js'
export { type RunPlan, expandInstruction, parseRunMounts, planRun } from './expand.js'
export {
  type GlobalArgsOptions,
  type StageArgOptions,
  predefinedArgs,
  resolveGlobalArgs,
  resolveStageArg,
} from './args.js'
export {
  type ResolvedStage,
  type StageBase,
  type StageSource,
  buildOrder,
  findStage,
  instructionSources,
  resolveStages,
  resolveTarget,
} from './stages.js'
export type * from './types.js'
