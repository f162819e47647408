/**
 * The template executor: walks parse trees over plain JS data as Go's
 * text/template walks Go values. undefined is Go's invalid value (a missing
 * map entry, printed "<no value>"); null is nil. A function-valued property
 * is a method: it is called, with the command's arguments when it ends one.
 */
import { TemplateError } from './error.js'
import { formatValue, goQuote, isIntNumber, isMapLike, sortedEntries, typeName } from './fmt.js'
import { ArgTypeError, type TemplateFunc, builtins, isTrue, mapGet } from './funcs.js'
import {
  type AnyNode,
  type ArgNode,
  type ChainNode,
  type CommandNode,
  type FieldNode,
  type IdentifierNode,
  type ListNode,
  type Node,
  type NumberNode,
  type PipeNode,
  type RangeNode,
  type TemplateNode,
  type VariableNode,
  nodeString,
} from './parser.js'

/** Go's limit is 100000; a JS stack holds fewer frames. */
export const maxTemplateDepth = 1000
/** Bounds work on hostile templates (nested ranges over large integers). */
export const maxSteps = 10_000_000
/** Bounds output before it outgrows a JS string. */
export const maxOutput = 256 * 1024 * 1024

/** The final argument slot of a command when no pipeline value feeds it. */
const MISSING: unique symbol = Symbol('missing')
type Final = unknown

type Signal = 'break' | 'continue' | null

interface Variable {
  name: string
  value: unknown
}

export interface ExecEnv {
  text: string
  parseName: string
  trees: ReadonlyMap<string, ListNode>
  funcs: Readonly<Record<string, TemplateFunc>>
  /** Go's Option("missingkey=error"): a missing map key fails instead of printing <no value>. */
  missingKey?: 'default' | 'error'
}

class Output {
  chunks: string[] = []
  length = 0
  steps = 0
}

class State {
  private node: AnyNode | null = null

  constructor(
    private readonly env: ExecEnv,
    private readonly out: Output,
    private readonly name: string,
    private readonly vars: Variable[],
    private readonly depth: number,
  ) {}

  // ---- errors

  private at(node: AnyNode): void {
    this.node = node
  }

  private errorf(msg: string, cause?: unknown): never {
    const opts = cause === undefined ? undefined : { cause }
    if (!this.node) throw new TemplateError(`template: ${this.name}: ${msg}`, opts)
    const before = this.env.text.slice(0, this.node.pos)
    const nl = before.lastIndexOf('\n')
    const line = before.split('\n').length
    const col = Buffer.byteLength(before.slice(nl + 1), 'utf8')
    const location = `${this.env.parseName}:${line}:${col}`
    const context = nodeString(this.node)
    throw new TemplateError(`template: ${location}: executing ${goQuote(this.name)} at <${context}>: ${msg}`, opts)
  }

  private tick(): void {
    if (++this.out.steps > maxSteps) this.errorf(`exceeded maximum execution steps (${maxSteps})`)
  }

  private write(s: string): void {
    this.out.length += s.length
    if (this.out.length > maxOutput) this.errorf(`output exceeds ${maxOutput} characters`)
    this.out.chunks.push(s)
  }

  // ---- variables

  private varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i]
      if (v?.name === name) return v.value
    }
    this.errorf(`undefined variable: ${name}`)
  }

  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i]
      if (v?.name === name) {
        v.value = value
        return
      }
    }
    this.errorf(`undefined variable: ${name}`)
  }

  private setTopVar(n: number, value: unknown): void {
    const v = this.vars[this.vars.length - n]
    if (v) v.value = value
  }

  // ---- walking

  walk(dot: unknown, node: Node): Signal {
    this.at(node)
    this.tick()
    switch (node.type) {
      case 'action': {
        const val = this.evalPipeline(dot, node.pipe)
        if (node.pipe.decl.length === 0) this.printValue(node, val)
        return null
      }
      case 'break':
        return 'break'
      case 'continue':
        return 'continue'
      case 'if':
      case 'with': {
        const mark = this.vars.length
        try {
          const val = this.evalPipeline(dot, node.pipe)
          if (isTrue(val)) return this.walk(node.type === 'with' ? val : dot, node.list)
          if (node.elseList) return this.walk(dot, node.elseList)
          return null
        } finally {
          this.vars.length = mark
        }
      }
      case 'list':
        for (const n of node.nodes) {
          const signal = this.walk(dot, n)
          if (signal) return signal
        }
        return null
      case 'range':
        this.walkRange(dot, node)
        return null
      case 'template':
        this.walkTemplate(dot, node)
        return null
      case 'text':
        this.write(node.text)
        return null
    }
  }

  private walkRange(dot: unknown, r: RangeNode): void {
    this.at(r)
    const mark = this.vars.length
    try {
      const val = this.evalPipeline(dot, r.pipe)
      const bodyMark = this.vars.length
      const decl = r.pipe.decl
      const one = (index: unknown, elem: unknown): Signal => {
        if (decl.length > 0) {
          if (r.pipe.isAssign) this.setVar(decl[0]?.ident[0] ?? '', decl.length > 1 ? index : elem)
          else this.setTopVar(1, elem)
        }
        if (decl.length > 1) {
          if (r.pipe.isAssign) this.setVar(decl[1]?.ident[0] ?? '', elem)
          else this.setTopVar(2, index)
        }
        try {
          return this.walk(elem, r.list)
        } finally {
          this.vars.length = bodyMark
        }
      }
      let ran = false
      if (Array.isArray(val)) {
        for (let i = 0; i < val.length; i++) {
          ran = true
          if (one(i, val[i]) === 'break') break
        }
      } else if (isMapLike(val)) {
        for (const [k, v] of sortedEntries(val)) {
          ran = true
          if (one(k, v) === 'break') break
        }
      } else if (isIntNumber(val) || typeof val === 'bigint') {
        if (decl.length > 1) this.errorf(`can't use ${formatValue(val)} to iterate over more than one variable`)
        for (let i = 0; i < val; i++) {
          ran = true
          if (one(i, i) === 'break') break
        }
      } else if (val !== undefined && val !== null) {
        this.errorf(`range can't iterate over ${formatValue(val)}`)
      }
      if (!ran && r.elseList) this.walk(dot, r.elseList)
    } finally {
      this.vars.length = mark
    }
  }

  private walkTemplate(dot: unknown, t: TemplateNode): void {
    this.at(t)
    const tree = this.env.trees.get(t.name)
    if (!tree) this.errorf(`template ${goQuote(t.name)} not defined`)
    if (this.depth >= maxTemplateDepth) this.errorf(`exceeded maximum template depth (${maxTemplateDepth})`)
    const newDot = t.pipe ? this.evalPipeline(dot, t.pipe) : undefined
    // No dynamic scoping: the called template sees only $.
    new State(this.env, this.out, t.name, [{ name: '$', value: newDot }], this.depth + 1).walk(newDot, tree)
  }

  private printValue(node: AnyNode, v: unknown): void {
    this.at(node)
    if (v === undefined) {
      this.write('<no value>')
      return
    }
    if (typeof v === 'function') this.errorf(`can't print ${nodeString(node)} of type ${typeName(v)}`)
    this.write(formatValue(v))
  }

  // ---- evaluation

  private evalPipeline(dot: unknown, pipe: PipeNode): unknown {
    this.at(pipe)
    let value: unknown = MISSING
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value)
    for (const v of pipe.decl) {
      const name = v.ident[0] ?? ''
      if (pipe.isAssign) this.setVar(name, value)
      else this.vars.push({ name, value })
    }
    return value
  }

  private notAFunction(args: readonly ArgNode[] | null, final: Final): void {
    if ((args && args.length > 1) || final !== MISSING) {
      this.errorf(`can't give argument to non-function ${args?.[0] ? nodeString(args[0]) : ''}`)
    }
  }

  private evalCommand(dot: unknown, cmd: CommandNode, final: Final): unknown {
    this.tick()
    const first = cmd.args[0]
    if (!first) this.errorf('empty command')
    switch (first.type) {
      case 'field':
        return this.evalFieldNode(dot, first, cmd.args, final)
      case 'chain':
        return this.evalChainNode(dot, first, cmd.args, final)
      case 'identifier':
        return this.evalFunction(dot, first, cmd, cmd.args, final)
      case 'pipe':
        this.notAFunction(cmd.args, final)
        return this.evalPipeline(dot, first)
      case 'variable':
        return this.evalVariableNode(dot, first, cmd.args, final)
    }
    this.at(first)
    this.notAFunction(cmd.args, final)
    switch (first.type) {
      case 'bool':
        return first.value
      case 'dot':
        return dot
      case 'nil':
        return this.errorf('nil is not a command')
      case 'number':
        return this.idealConstant(first)
      case 'string':
        return first.text
    }
  }

  private idealConstant(n: NumberNode): unknown {
    this.at(n)
    return n.value
  }

  private evalFieldNode(dot: unknown, field: FieldNode, args: readonly ArgNode[] | null, final: Final): unknown {
    this.at(field)
    return this.evalFieldChain(dot, dot, field, field.ident, args, final)
  }

  private evalChainNode(dot: unknown, chain: ChainNode, args: readonly ArgNode[] | null, final: Final): unknown {
    this.at(chain)
    if (chain.node.type === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`)
    const pipe = this.evalArg(dot, chain.node)
    return this.evalFieldChain(dot, pipe, chain, chain.field, args, final)
  }

  private evalVariableNode(dot: unknown, v: VariableNode, args: readonly ArgNode[] | null, final: Final): unknown {
    this.at(v)
    const value = this.varValue(v.ident[0] ?? '')
    if (v.ident.length === 1) {
      this.notAFunction(args, final)
      return value
    }
    return this.evalFieldChain(dot, value, v, v.ident.slice(1), args, final)
  }

  private evalFieldChain(
    dot: unknown,
    receiver: unknown,
    node: AnyNode,
    ident: readonly string[],
    args: readonly ArgNode[] | null,
    final: Final,
  ): unknown {
    const n = ident.length
    for (let i = 0; i < n - 1; i++) receiver = this.evalField(dot, ident[i] ?? '', node, null, MISSING, receiver)
    return this.evalField(dot, ident[n - 1] ?? '', node, args, final, receiver)
  }

  private evalField(
    dot: unknown,
    name: string,
    node: AnyNode,
    args: readonly ArgNode[] | null,
    final: Final,
    receiver: unknown,
  ): unknown {
    if (receiver === undefined) return undefined
    if (receiver === null) this.errorf(`nil pointer evaluating interface {}.${name}`)
    const hasArgs = (args !== null && args.length > 1) || final !== MISSING
    if (typeof receiver === 'object' && !Array.isArray(receiver)) {
      const [found, value] = lookupField(receiver, name)
      if (typeof value === 'function') {
        return this.evalCall(dot, value as TemplateFunc, receiver, node, name, args, final)
      }
      if (hasArgs) this.errorf(`${name} is not a method but has arguments`)
      if (found) return value
      // A missing key of a map is Go's invalid value; a struct has no such field.
      if (isMapLike(receiver)) {
        if (this.env.missingKey === 'error') this.errorf(`map has no entry for key ${goQuote(name)}`)
        return undefined
      }
    }
    this.errorf(`can't evaluate field ${name} in type ${typeName(receiver)}`)
  }

  private evalFunction(
    dot: unknown,
    node: IdentifierNode,
    cmd: AnyNode,
    args: readonly ArgNode[] | null,
    final: Final,
  ): unknown {
    this.at(node)
    const name = node.ident
    const fn = Object.hasOwn(this.env.funcs, name) ? this.env.funcs[name] : undefined
    if (fn) return this.evalCall(dot, fn, undefined, cmd, name, args, final)
    const builtin = builtins.get(name)
    if (!builtin) this.errorf(`${goQuote(name)} is not a defined function`)
    const argNodes = args ? args.slice(1) : []
    const numIn = argNodes.length + (final === MISSING ? 0 : 1)
    if (builtin.variadic) {
      if (numIn < builtin.arity) {
        this.errorf(`wrong number of args for ${name}: want at least ${builtin.arity} got ${argNodes.length}`)
      }
    } else if (numIn !== builtin.arity) {
      this.errorf(`wrong number of args for ${name}: want ${builtin.arity} got ${numIn}`)
    }
    if (name === 'and' || name === 'or') {
      // Short-circuit: the deciding value, or the last one.
      let v: unknown
      for (const a of argNodes) {
        v = this.evalArg(dot, a)
        if (isTrue(v) === (name === 'or')) return v
      }
      return final === MISSING ? v : final
    }
    const argv = argNodes.map((a) => this.evalArg(dot, a))
    if (final !== MISSING) argv.push(final)
    if (name === 'call') return this.callFunction(argNodes[0], argv, cmd)
    try {
      return builtin.fn(argv)
    } catch (err) {
      this.at(cmd)
      this.callError(name, err)
    }
  }

  /** The call builtin: its first argument must evaluate to a function. */
  private callFunction(fnNode: ArgNode | undefined, argv: unknown[], cmd: AnyNode): unknown {
    const [fn, ...rest] = argv
    this.at(cmd)
    if (fn === null || fn === undefined) this.errorf('error calling call: call of nil')
    if (typeof fn !== 'function') {
      const callee = fnNode ? nodeString(fnNode) : 'call'
      this.errorf(`error calling call: non-function ${callee} of type ${typeName(fn)}`)
    }
    try {
      return (fn as TemplateFunc)(...rest.map(nilArg))
    } catch (err) {
      this.callError('call', err)
    }
  }

  private callError(name: string, err: unknown): never {
    if (err instanceof TemplateError) throw err
    if (err instanceof ArgTypeError) this.errorf(err.message, err)
    const msg = err instanceof Error ? err.message : String(err)
    this.errorf(`error calling ${name}: ${msg}`, err)
  }

  private evalCall(
    dot: unknown,
    fn: TemplateFunc,
    receiver: unknown,
    node: AnyNode,
    name: string,
    args: readonly ArgNode[] | null,
    final: Final,
  ): unknown {
    const argv = (args ? args.slice(1) : []).map((a) => this.evalArg(dot, a))
    if (final !== MISSING) argv.push(final)
    try {
      return fn.apply(receiver, argv.map(nilArg))
    } catch (err) {
      this.at(node)
      this.callError(name, err)
    }
  }

  private evalArg(dot: unknown, n: ArgNode): unknown {
    this.at(n)
    switch (n.type) {
      case 'dot':
        return dot
      case 'nil':
        return null
      case 'field':
        return this.evalFieldNode(dot, n, [n], MISSING)
      case 'variable':
        return this.evalVariableNode(dot, n, null, MISSING)
      case 'pipe':
        return this.evalPipeline(dot, n)
      case 'identifier':
        return this.evalFunction(dot, n, n, null, MISSING)
      case 'chain':
        return this.evalChainNode(dot, n, null, MISSING)
      case 'bool':
        return n.value
      case 'number':
        return this.idealConstant(n)
      case 'string':
        return n.text
    }
  }
}

/** Go converts a missing value to nil when passing it to a function. */
const nilArg = (v: unknown) => (v === undefined ? null : v)

/**
 * A field of a map-like (own keys only) or of a class instance (own
 * properties, then methods up the prototype chain short of Object's).
 */
function lookupField(obj: object, name: string): [found: boolean, value: unknown] {
  if (obj instanceof Map) return [obj.has(name), obj.get(name)]
  if (isMapLike(obj)) return Object.hasOwn(obj, name) ? [true, mapGet(obj, name)] : [false, undefined]
  if (Object.hasOwn(obj, name)) return [true, (obj as Record<string, unknown>)[name]]
  if (name === 'constructor') return [false, undefined]
  for (let p: unknown = Object.getPrototypeOf(obj); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    if (Object.hasOwn(p, name)) return [true, Reflect.get(p as object, name, obj)]
  }
  return [false, undefined]
}

/** Executes the named template over data. */
export function execute(env: ExecEnv, name: string, data: unknown): string {
  const tree = env.trees.get(name)
  const out = new Output()
  const state = new State(env, out, name, [{ name: '$', value: data }], 0)
  if (!tree) throw new TemplateError(`template: ${name}: ${goQuote(name)} is an incomplete or empty template`)
  try {
    state.walk(data, tree)
  } catch (err) {
    if (err instanceof RangeError) {
      // The JS stack ran out before maxTemplateDepth: deep recursion all the same.
      const msg = /call stack/i.test(err.message)
      ? 'exceeded maximum template depth (call stack exhausted)'
      : err.message
      throw new TemplateError(`template: ${name}: ${msg}`, { cause: err })
    }
    throw err
  }
  return out.chunks.join('')
}
