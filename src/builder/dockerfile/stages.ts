/**
 * Stages after parsing: `--target` and `COPY --from` lookup (a stage name,
 * case-insensitive, or an index), each stage's base resolved with the global
 * ARGs (scratch, an earlier stage, or an image), the stages a stage needs,
 * cycle detection, and the stages a target needs in build order.
 */
import { invalidArgument } from '../../errors/index.js'
import { DockerfileError, atLine, suggestion } from './errors.js'
import { csvFields } from './run-mount.js'
import { type EnvLookup, ShellLex } from './shell-lex.js'
import type { Dockerfile, Instruction, Stage } from './types.js'

/** The stage `ref` names: an index ("0") or a name, case-insensitive; undefined if none does. */
export function findStage(stages: readonly Stage[], ref: string): Stage | undefined {
  if (/^[+-]?\d+$/.test(ref)) return stages[Number(ref)]
  const name = ref.toLowerCase()
  return stages.find((s) => s.name === name)
}

/** The stage to build: the one --target names, or the last. */
export function resolveTarget(stages: readonly Stage[], target?: string): Stage {
  if (target === undefined || target === '') return stages[stages.length - 1]
  const stage = findStage(stages, target)
  if (!stage) {
    const names = stages.flatMap((s) => (s.name ? [s.name] : []))
    throw invalidArgument(`target stage ${JSON.stringify(target)} could not be found${suggestion(target, names, true)}`)
  }
  return stage
}

/** What a stage starts from. */
export type StageBase =
  | { kind: 'scratch' }
  | { kind: 'stage'; index: number }
  | { kind: 'image'; ref: string }

/** Where COPY --from or RUN --mount from= reads. */
export type StageSource = { kind: 'stage'; index: number } | { kind: 'image'; ref: string }

export interface ResolvedStage {
  stage: Stage
  /** docker's name for it in messages: the AS name, or stage-N. */
  displayName: string
  /** FROM's base with the global ARGs expanded. */
  baseName: string
  base: StageBase
  /** --platform with the global ARGs expanded. */
  platform?: string
  /** Indexes of the stages this one needs (its base, COPY --from, RUN --mount from=), in order of first use. */
  deps: number[]
}

/**
 * Resolves every stage's base and dependencies. FROM may name only an earlier
 * stage; COPY --from any stage. Throws on a blank base, a variable in
 * --from, a bad stage index, or a cycle ("circular dependency detected on
 * stage: a").
 */
export function resolveStages(df: Dockerfile, globalArgs: EnvLookup): ResolvedStage[] {
  const lex = new ShellLex({ escapeToken: df.escapeToken })
  const resolved = df.stages.map((stage): ResolvedStage => {
    const { from } = stage
    const expand = (word: string) => {
      try {
        return lex.processWord(word, globalArgs)
      } catch (err) {
        throw atLine(err, from.line, from.endLine, false)
      }
    }
    const baseName = expand(from.image)
    if (baseName === '') {
      throw new DockerfileError(`base name (${from.image}) should not be blank`, from.line, from.endLine, { prefix: false })
    }
    const r: ResolvedStage = {
      stage,
      displayName: stage.name ?? `stage-${stage.index}`,
      baseName,
      base: stageBase(df.stages, stage, baseName),
      deps: [],
    }
    if (from.platform !== undefined) {
      const platform = expand(from.platform)
      if (platform === '') {
        throw new DockerfileError(`empty platform value from expression ${from.platform}`, from.line, from.endLine, {
          prefix: false,
        })
      }
      r.platform = platform
    }
    const deps = new Set<number>()
    if (r.base.kind === 'stage') deps.add(r.base.index)
    for (const instr of stage.instructions) {
      for (const src of instructionSources(df.stages, instr)) if (src.kind === 'stage') deps.add(src.index)
    }
    r.deps = [...deps]
    return r
  })
  checkCycles(resolved)
  return resolved
}

function stageBase(stages: readonly Stage[], stage: Stage, baseName: string): StageBase {
  const lower = baseName.toLowerCase()
  if (lower === 'scratch') return { kind: 'scratch' }
  const earlier = stages.slice(0, stage.index).findLast((s) => s.name === lower)
  return earlier ? { kind: 'stage', index: earlier.index } : { kind: 'image', ref: baseName }
}

/** Where an instruction reads from other than the context: COPY --from and RUN --mount from=. */
export function instructionSources(stages: readonly Stage[], instr: Instruction): StageSource[] {
  const refs: string[] = []
  if (instr.kind === 'copy' && instr.from !== undefined) {
    if (new ShellLex().processWord(instr.from, new Map()) !== instr.from) {
      throw new DockerfileError(
        'variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround',
        instr.line,
        instr.endLine,
        { prefix: false },
      )
    }
    refs.push(instr.from)
  }
  if (instr.kind === 'run') {
    for (const spec of instr.mounts) {
      for (const field of csvFields(spec)) {
        const eq = field.indexOf('=')
        if (eq > 0 && field.slice(0, eq).toLowerCase() === 'from') refs.push(field.slice(eq + 1))
      }
    }
  }
  return refs.map((ref) => stageSource(stages, ref, instr))
}

function stageSource(stages: readonly Stage[], ref: string, instr: Instruction): StageSource {
  if (/^[+-]?\d+$/.test(ref)) {
    const stage = stages[Number(ref)]
    if (!stage) throw new DockerfileError(`invalid stage index ${Number(ref)}`, instr.line, instr.endLine, { prefix: false })
    return { kind: 'stage', index: stage.index }
  }
  const stage = findStage(stages, ref)
  return stage ? { kind: 'stage', index: stage.index } : { kind: 'image', ref }
}

/** buildkit's check: a depth-first walk from each stage in order; the error names the walk's start. */
function checkCycles(stages: readonly ResolvedStage[]): void {
  const visited = new Set<number>()
  const path = new Set<number>()
  const visit = (i: number): boolean => {
    if (visited.has(i)) return false
    visited.add(i)
    path.add(i)
    for (const dep of stages[i].deps) {
      if (path.has(dep) || visit(dep)) return true
    }
    path.delete(i)
    return false
  }
  for (const s of stages) {
    if (visit(s.stage.index)) {
      const { from } = s.stage
      throw new DockerfileError(`circular dependency detected on stage: ${s.displayName}`, from.line, from.endLine, {
        prefix: false,
      })
    }
  }
}

/** The stages building `target` needs, dependencies before dependents, ending with target. */
export function buildOrder(stages: readonly ResolvedStage[], target: number): number[] {
  const order: number[] = []
  const seen = new Set<number>()
  const visit = (i: number) => {
    if (seen.has(i)) return
    seen.add(i)
    for (const dep of stages[i].deps) visit(dep)
    order.push(i)
  }
  visit(target)
  return order
}
