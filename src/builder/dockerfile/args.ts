/**
 * Build arguments: the global ARGs before the first FROM, and the value an
 * ARG inside a stage takes, as buildkit resolves them (--build-arg beats the
 * default; a bare `ARG name` in a stage inherits the global value).
 */
import { type EnvLookup, ShellLex } from './shell-lex.js'
import { atLine } from './errors.js'
import type { ArgDefinition, ArgInstruction } from './types.js'

/**
 * Build args docker accepts without an ARG: they reach RUN's environment
 * but are left out of the image and its history.
 */
export const predefinedArgs: readonly string[] = [
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy',
  'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
]

export interface GlobalArgsOptions {
  /** --build-arg values. */
  buildArgs?: ReadonlyMap<string, string>
  /** Values in scope before the first ARG (buildkit puts TARGETPLATFORM, BUILDPLATFORM... here). */
  initial?: ReadonlyMap<string, string>
  escapeToken?: string
}

/**
 * The global scope FROM lines expand in: each meta ARG in order takes its
 * --build-arg value, else its default expanded in the scope so far; an ARG
 * with neither stays unset.
 */
export function resolveGlobalArgs(metaArgs: readonly ArgInstruction[], opts: GlobalArgsOptions = {}): Map<string, string> {
  const scope = new Map(opts.initial ?? [])
  const lex = new ShellLex({ escapeToken: opts.escapeToken ?? '\\' })
  for (const arg of metaArgs) {
    for (const def of arg.args) {
      let value = opts.buildArgs?.get(def.key)
      if (value === undefined && def.value !== undefined) {
        try {
          value = lex.processWord(def.value, scope)
        } catch (err) {
          throw atLine(err, arg.line, arg.endLine, false)
        }
      }
      if (value !== undefined) scope.set(def.key, value)
    }
  }
  return scope
}

export interface StageArgOptions {
  buildArgs?: ReadonlyMap<string, string>
  /** From resolveGlobalArgs. */
  globalArgs?: EnvLookup
  /** The stage's environment at this ARG (image env, earlier ARGs and ENVs). */
  env: EnvLookup
  escapeToken?: string
}

/**
 * The value one `ARG key[=default]` in a stage takes: the --build-arg value,
 * else the default expanded in the stage's environment, else (no default)
 * the global value; undefined when it has none of these.
 */
export function resolveStageArg(def: ArgDefinition, opts: StageArgOptions): string | undefined {
  const given = opts.buildArgs?.get(def.key)
  if (given !== undefined) return given
  if (def.value !== undefined) return new ShellLex({ escapeToken: opts.escapeToken ?? '\\' }).processWord(def.value, opts.env)
  return opts.globalArgs?.get(def.key)
}
