/**
 * parseDockerfile: text → directives, nodes, typed instructions, stages.
 * ARGs before the first FROM are the global (meta) args; every other
 * instruction belongs to the stage the last FROM opened.
 */
import { invalidArgument } from '../../errors/index.js'
import { parseAst } from './ast.js'
import { DockerfileError } from './errors.js'
import { parseInstruction } from './instructions.js'
import type { ArgInstruction, Dockerfile, Stage, StageInstruction } from './types.js'

/** Parses a whole Dockerfile; throws DockerfileError (invalid-argument) naming the line at fault. */
export function parseDockerfile(text: string): Dockerfile {
  const ast = parseAst(text)
  const metaArgs: ArgInstruction[] = []
  const stages: Stage[] = []
  const warnings = [...ast.warnings]
  for (const node of ast.nodes) {
    const instr = parseInstruction(node)
    if (instr.kind === 'from') {
      if (instr.stageName !== undefined && stages.some((s) => s.name === instr.stageName)) {
        warnings.push({
          message: `Duplicate stage name ${JSON.stringify(instr.stageName)}, stage names should be unique`,
          line: instr.line,
        })
      }
      stages.push({ index: stages.length, ...(instr.stageName !== undefined && { name: instr.stageName }), from: instr, instructions: [] })
      continue
    }
    const current = stages[stages.length - 1]
    if (current) current.instructions.push(instr)
    else if (instr.kind === 'arg') metaArgs.push(instr)
    else throw new DockerfileError('no build stage in current context', instr.line, instr.endLine, { prefix: false })
  }
  if (stages.length === 0) throw invalidArgument('dockerfile contains no stages to build')
  return { escapeToken: ast.escapeToken, directives: ast.directives, metaArgs, stages, warnings }
}

/**
 * An ONBUILD trigger from a base image's config, as the instruction a build
 * running it executes. Throws if the trigger is not an instruction a stage
 * may run (FROM, ONBUILD and MAINTAINER are not).
 */
export function parseTrigger(expression: string): StageInstruction {
  const node = parseAst(expression).nodes[0]
  const instr = parseInstruction(node)
  switch (instr.kind) {
    case 'from':
    case 'onbuild':
    case 'maintainer':
      throw new DockerfileError(`${instr.kind.toUpperCase()} isn't allowed as an ONBUILD trigger`)
  }
  return instr
}
