/**
 * Variable substitution per instruction, as the build applies it when it
 * reaches the instruction (the environment then is the stage's ENV plus the
 * ARG values in effect). Which fields expand is buildkit's and docker's
 * choice, kept here in one place:
 *
 *   ENV, LABEL      keys and values
 *   ADD, COPY       sources, destination, --chown, --chmod, (ADD) --checksum;
 *                   heredoc files whose delimiter was unquoted, quotes kept
 *   WORKDIR, USER, STOPSIGNAL, VOLUME   their words
 *   EXPOSE          each word, which may become several ports
 *   RUN             only --mount values (parseRunMounts); the command is the shell's
 *
 * CMD, ENTRYPOINT, SHELL, HEALTHCHECK, ONBUILD and MAINTAINER never expand;
 * FROM expands with the global ARGs only (resolveStages); ARG defaults via
 * resolveStageArg; COPY --from never.
 */
import { atLine } from './errors.js'
import { chompHeredoc, parseHeredoc } from './heredoc.js'
import { type RunMount, parseRunMount } from './run-mount.js'
import { type EnvLookup, ShellLex } from './shell-lex.js'
import type { KeyValue, RunInstruction, SourcesAndDest, StageInstruction } from './types.js'

/**
 * A copy of the instruction with its expandable words substituted; throws
 * invalid-argument (with the instruction's lines) on a bad substitution.
 */
export function expandInstruction<T extends StageInstruction>(instr: T, env: EnvLookup, escapeToken = '\\'): T {
  const lex = new ShellLex({ escapeToken })
  const word = (w: string) => lex.processWord(w, env)
  try {
    return expand(instr, word, (w) => lex.processWords(w, env), env) as T
  } catch (err) {
    throw atLine(err, instr.line, instr.endLine, false)
  }
}

function expand(
  instr: StageInstruction,
  word: (w: string) => string,
  words: (w: string) => string[],
  env: EnvLookup,
): StageInstruction {
  const pairs = (kvs: KeyValue[]) => kvs.map((kv) => ({ key: word(kv.key), value: word(kv.value) }))
  const optional = (v: string | undefined) => (v === undefined ? undefined : word(v))
  switch (instr.kind) {
    case 'env':
    case 'label':
      return { ...instr, pairs: pairs(instr.pairs) }
    case 'workdir':
      return { ...instr, path: word(instr.path) }
    case 'user':
      return { ...instr, user: word(instr.user) }
    case 'stopsignal':
      return { ...instr, signal: word(instr.signal) }
    case 'volume':
      return { ...instr, volumes: instr.volumes.map(word) }
    case 'expose':
      return { ...instr, ports: instr.ports.flatMap(words) }
    case 'copy':
      return {
        ...instr,
        ...sources(instr, word, env),
        ...defined('chown', optional(instr.chown)),
        ...defined('chmod', optional(instr.chmod)),
      }
    case 'add':
      return {
        ...instr,
        ...sources(instr, word, env),
        ...defined('chown', optional(instr.chown)),
        ...defined('chmod', optional(instr.chmod)),
        ...defined('checksum', optional(instr.checksum)),
      }
  }
  return instr
}

function defined<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string }
}

function sources(s: SourcesAndDest, word: (w: string) => string, env: EnvLookup): Pick<SourcesAndDest, 'sources' | 'dest' | 'contents'> {
  // Heredoc bodies expand like a shell would see them: quotes are text, the escape is always \.
  const body = new ShellLex({ skipProcessQuotes: true })
  return {
    sources: s.sources.map(word),
    dest: word(s.dest),
    contents: s.contents.map((c) => (c.expand ? { ...c, data: body.processWord(c.data, env) } : c)),
  }
}

/** The RUN's --mount values parsed with variables substituted. */
export function parseRunMounts(run: RunInstruction, env: EnvLookup, escapeToken = '\\'): RunMount[] {
  const lex = new ShellLex({ escapeToken })
  try {
    return run.mounts.map((spec) => parseRunMount(spec, (w) => lex.processWord(w, env)))
  } catch (err) {
    throw atLine(err, run.line, run.endLine, false)
  }
}

/** How a RUN runs once its heredocs are applied (planRun). */
export interface RunPlan {
  /** argv for exec form; one string for the stage's shell otherwise. */
  cmdLine: string[]
  prependShell: boolean
  /** A script to place at /dev/pipes/<name> when cmdLine runs it. */
  script?: { name: string; data: string }
}

/**
 * What a RUN executes, heredocs applied as buildkit applies them. A RUN that
 * is exactly one heredoc runs its body: as a script file (mode 0755, to be
 * mounted read-only under /dev/pipes/) when the body starts with `#!`,
 * otherwise as the shell command. Anything more elaborate (`RUN <<EOF
 * python3`, several heredocs) hands the shell the line with the bodies and
 * terminators appended, so the shell does the heredoc itself.
 */
export function planRun(run: RunInstruction): RunPlan {
  if (run.files.length === 0) return { cmdLine: run.cmdLine, prependShell: run.prependShell }
  const line = run.cmdLine[0] ?? ''
  let only: ReturnType<typeof parseHeredoc>
  try {
    only = parseHeredoc(line)
  } catch {
    only = undefined
  }
  if (only) {
    const file = run.files[0]
    const data = file.chomp ? chompHeredoc(file.data) : file.data
    if (data.startsWith('#!')) {
      // Still through the shell: `/bin/sh -c /dev/pipes/EOF`, as buildkit runs it.
      return { cmdLine: [`/dev/pipes/${file.name}`], prependShell: true, script: { name: file.name, data } }
    }
    return { cmdLine: [data], prependShell: true }
  }
  let script = line
  for (const f of run.files) script += `\n${f.data}${f.name}`
  return { cmdLine: [script], prependShell: true }
}
